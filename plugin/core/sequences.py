"""Frame-sequence paths as artists type them, without third-party modules.

Patterns follow Nuke: ``####`` is 4 digits (one ``#`` per digit, like
``fileseq.PAD_STYLE_HASH1``), and ``%04d``, ``$F4`` and ``@@@@`` mean the same.
Only the last token in the file name counts; a path with none is one file.
"""

from __future__ import annotations

import os
import re

from bridge.sequence import frame_path, padding, to_hash

__all__ = ["frame_path", "padding", "to_hash", "pattern_from_file", "missing_frames", "describe_frames", "exr_channel"]

_NUMBER = re.compile(r"(\d+)(?!.*\d)")
_NUKE_CHANNELS = {"red": "R", "green": "G", "blue": "B", "alpha": "A"}


def pattern_from_file(path: str) -> tuple[str, int | None]:
    """A concrete frame file (``plate.1001.exr``) as (``plate.####.exr``, 1001).

    A name without digits is a single file: (path, None).
    """
    head, tail = os.path.split(path)
    stem, ext = os.path.splitext(tail)
    match = _NUMBER.search(stem)
    if match is None:
        return path, None
    digits = match.group(1)
    hashed = stem[:match.start()] + "#" * len(digits) + stem[match.end():]
    return os.path.join(head, hashed + ext), int(digits)


def missing_frames(pattern: str, frames) -> list[int]:
    """The frames of ``frames`` whose file is not on disk."""
    return [f for f in frames if not os.path.isfile(frame_path(pattern, f))]


def describe_frames(frames) -> str:
    """``[1001, 1002, 1003, 1005]`` -> ``'1001-1003, 1005'`` (for messages)."""
    frames = sorted(set(frames))
    runs: list[str] = []
    start = prev = None
    for f in frames + [None]:
        if start is not None and (f is None or f != prev + 1):
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if f is not None and start is None:
            start = f
        prev = f
    return ", ".join(runs)


def exr_channel(name: str) -> str:
    """A host channel name as the renderer reads it from an EXR.

    Nuke's ``rgba.alpha`` is written to EXR as ``A``; ``mask.a`` stays ``mask.a``
    (the renderer matches channel names without regard to case).
    """
    name = name.strip()
    layer, _, chan = name.rpartition(".")
    if layer in ("", "rgba", "rgb") and chan.lower() in _NUKE_CHANNELS:
        return _NUKE_CHANNELS[chan.lower()]
    if layer in ("", "rgba", "rgb") and chan.upper() in "RGBA" and len(chan) == 1:
        return chan.upper()
    return name
