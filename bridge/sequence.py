"""Frame-numbered paths: ``plate.####.exr``, ``plate.%04d.exr``, ``plate.$F4.exr``.

Nuke style: each ``#`` (or ``@``) is one digit of padding (``####`` = 4 digits, as
``fileseq.PAD_STYLE_HASH1``); ``%04d``, ``$F4`` and ``@@@@`` mean the same. Only the
last token in the file name counts. Frame numbers are kept as they are (1001 stays 1001).
"""

from __future__ import annotations

import os
import re

# the last frame token of the file name (a token in a folder name is part of the folder)
_TOKEN = re.compile(r"(#+|@+|%0?(\d*)d|\$F(\d*))(?!.*(#|@|%0?\d*d|\$F\d*))")


def padding(pattern: str) -> int | None:
    """Digits of the frame token in ``pattern``'s file name, or None when it has none."""
    match = _TOKEN.search(os.path.basename(pattern))
    if match is None:
        return None
    token = match.group(1)
    if token[0] in "#@":
        return len(token)
    digits = match.group(2) if token.startswith("%") else match.group(3)
    return int(digits) if digits else 1


def has_frame_token(pattern: str) -> bool:
    """True if ``pattern``'s file name contains a frame-number token."""
    return padding(pattern) is not None


def frame_path(pattern: str, frame: int) -> str:
    """``pattern`` with its frame token replaced by ``frame``, padded (``pattern`` itself
    when it has no token: one file for every frame). The one implementation that the
    renderer, the server and the plugins share."""
    pad = padding(pattern)
    if pad is None:
        return pattern
    head, tail = os.path.split(pattern)
    number = f"-{abs(frame):0{pad}d}" if frame < 0 else f"{frame:0{pad}d}"
    return os.path.join(head, _TOKEN.sub(number, tail, count=1))


def to_hash(pattern: str) -> str:
    """``pattern`` with its frame token written as ``#`` (one per digit)."""
    pad = padding(pattern)
    if pad is None:
        return pattern
    head, tail = os.path.split(pattern)
    return os.path.join(head, _TOKEN.sub("#" * pad, tail, count=1))


def parse_frames(value, limit: int = 100_000) -> list[int]:
    """'1001-1016', '1001-1016x2', '1001,1003', 1001 or a list of ints -> sorted frames.
    More than ``limit`` frames is an error (checked before any list is built)."""
    if isinstance(value, bool):
        raise ValueError(f"bad frame range {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValueError(f"bad frame list {value!r}: frames are whole numbers")
        if len(value) > limit:
            raise ValueError(f"{len(value)} frames is over the limit of {limit}")
        return sorted(set(value))
    if not isinstance(value, str):
        raise ValueError(f"bad frame range {value!r}: write it as FIRST-LAST, e.g. 1001-1016")
    frames: set[int] = set()
    for part in value.replace(" ", "").split(","):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", part)
        if not m:
            raise ValueError(f"bad frame range {value!r}: write it as FIRST-LAST, e.g. 1001-1016")
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        step = int(m.group(3) or 1)
        if last < first or step < 1:
            raise ValueError(f"bad frame range {part!r}: FIRST must be <= LAST")
        if len(frames) + (last - first) // step + 1 > limit:
            raise ValueError(f"frame range {value[:40]!r} is over the limit of {limit} frames")
        frames.update(range(first, last + 1, step))
    return sorted(frames)
