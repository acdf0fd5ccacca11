"""Frame-sequence paths as artists type them, without third-party modules.

Patterns follow Nuke: ``####`` is 4 digits (one ``#`` per digit, like
``fileseq.PAD_STYLE_HASH1``), and ``%04d``, ``$F4`` and ``@@@@`` mean the same.
Only the last token in the file name counts; a path with none is one file.
"""

from __future__ import annotations

import os
import re

_TOKEN = re.compile(r"(#+|@+|%0?(\d*)d|\$F(\d*))(?!.*(#|@|%0?\d*d|\$F\d*))")
_NUMBER = re.compile(r"(\d+)(?!.*\d)")
_NUKE_CHANNELS = {"red": "R", "green": "G", "blue": "B", "alpha": "A"}


def padding(pattern: str) -> int | None:
    """Digits of the frame token in ``pattern``, or None when it has no token."""
    match = _TOKEN.search(os.path.basename(pattern))
    if match is None:
        return None
    token = match.group(1)
    if token[0] in "#@":
        return len(token)
    digits = match.group(2) if token.startswith("%") else match.group(3)
    return int(digits) if digits else 1


def to_hash(pattern: str) -> str:
    """``pattern`` with its frame token written as ``#`` (one per digit)."""
    pad = padding(pattern)
    if pad is None:
        return pattern
    head, tail = os.path.split(pattern)
    return os.path.join(head, _TOKEN.sub("#" * pad, tail, count=1))


def frame_path(pattern: str, frame: int) -> str:
    """The file of ``frame`` in ``pattern`` (``pattern`` itself when it has no token)."""
    pad = padding(pattern)
    if pad is None:
        return pattern
    head, tail = os.path.split(pattern)
    number = f"-{abs(frame):0{pad}d}" if frame < 0 else f"{frame:0{pad}d}"
    return os.path.join(head, _TOKEN.sub(number, tail, count=1))


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
