"""Frame sequence patterns: ``####`` (4 digits, as in Nuke), ``%04d``, ``$F4``, ``@``."""

from __future__ import annotations

import os

import fileseq

from .errors import ConfigError


def frame_path(pattern: str, frame: int) -> str:
    """The file for ``frame`` in ``pattern``. A pattern with no frame token is a single file."""
    try:
        seq = fileseq.FileSequence(pattern, pad_style=fileseq.PAD_STYLE_HASH1)
    except fileseq.ParseException as exc:  # pragma: no cover - fileseq accepts almost anything
        raise ConfigError(f"cannot parse sequence pattern {pattern!r}: {exc}") from None
    if not seq.padding():
        return pattern
    return seq.frame(frame)


def has_frame_token(pattern: str) -> bool:
    seq = fileseq.FileSequence(pattern, pad_style=fileseq.PAD_STYLE_HASH1)
    return bool(seq.padding())


def frames_on_disk(pattern: str) -> list[int]:
    """Frame numbers present on disk for ``pattern`` (empty if none)."""
    try:
        seq = fileseq.findSequenceOnDisk(pattern, pad_style=fileseq.PAD_STYLE_HASH1)
    except (fileseq.FileSeqException, OSError):
        return []
    return list(seq.frameSet() or [])


def same_file(a: str, b: str) -> bool:
    """True when two paths name the same file (after resolving links)."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.realpath(a) == os.path.realpath(b)
