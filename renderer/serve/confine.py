"""Shared-mode path confinement: reads and writes stay under configured roots.

A path is refused when it contains ``..``, starts with ``~``, uses an
environment variable, or resolves (symlinks followed) outside every root.
Relative paths are taken relative to the first root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from bridge.errors import PathRefused
from bridge.sequence import frame_path

_VAR = re.compile(r"\$(?!F\d*)")  # any $ that is not a $F / $F4 frame token


def real_roots(roots) -> tuple[str, ...]:
    return tuple(os.path.realpath(r) for r in roots)


def confine(path: str, roots: tuple[str, ...], what: str) -> str:
    """The real absolute path of ``path`` if it lies under one of ``roots``
    (already real paths); ``PathRefused`` otherwise."""
    shown = ", ".join(roots) or "none configured"
    if not roots:
        raise PathRefused(f"{what}: this server has no shared roots, so shared mode is off; "
                          "use --mode stream, or start the server with --shared-root DIR")
    if not isinstance(path, str) or not path or "\x00" in path or len(path) > 4096:
        raise PathRefused(f"{what}: not a usable path")
    if ".." in PurePosixPath(path).parts or ".." in Path(path).parts:
        raise PathRefused(f"{what} {path!r} contains '..'; give a path under the shared roots ({shown})")
    if path.startswith("~") or _VAR.search(path):
        raise PathRefused(f"{what} {path!r} uses ~ or $VARIABLES; give a plain path under the shared roots "
                          f"({shown})")
    p = Path(path)
    if not p.is_absolute():
        p = Path(roots[0]) / p
    try:
        real = os.path.realpath(p)
    except (OSError, ValueError):
        raise PathRefused(f"{what} {path!r} cannot be resolved") from None
    for root in roots:
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return real
    raise PathRefused(f"{what} {path!r} resolves to {real}, outside the shared roots ({shown}); "
                      "put the files under a shared root (symlinks out of it are refused too)")


def confine_frames(pattern: str, frames, roots: tuple[str, ...], what: str) -> str:
    """Confine a frame pattern and every existing frame file it names (a frame
    file may itself be a symlink out of the roots)."""
    real = confine(pattern, roots, what)
    for frame in frames:
        path = frame_path(real, frame)
        if os.path.lexists(path):
            confine(path, roots, f"{what} frame {frame}")
    return real
