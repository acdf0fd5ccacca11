"""Frame sequence patterns: ``####`` (4 digits, as in Nuke), ``%04d``, ``$F4``, ``@``.

A frame's path comes from ``bridge.sequence`` (one implementation for the renderer, the
server and the plugins); what is on disk comes from fileseq."""

from __future__ import annotations

import os

import fileseq

from bridge.sequence import frame_path, has_frame_token

__all__ = ["frame_path", "has_frame_token", "frames_on_disk", "same_file"]


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
