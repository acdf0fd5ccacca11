"""Per-frame work on a thread per core.

The renderer's CPU work before training (DIS flow, flow completion, propagation,
Telea) is OpenCV and NumPy, which release the GIL, and each frame's result depends
on its own inputs alone: threads speed it up without changing a bit of it.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS has one, as on Linux)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def map_frames(fn, count: int) -> list:
    """``[fn(0), ..., fn(count - 1)]``, on one thread per usable core; the first
    exception a call raises is raised here."""
    workers = min(count, usable_cores())
    if workers <= 1:
        return [fn(i) for i in range(count)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(count)))
