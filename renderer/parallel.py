"""Per-frame work on a thread per core.

The renderer's CPU work before training (DIS flow, flow completion, propagation,
Telea) is OpenCV and NumPy, which release the GIL, and each frame's result depends
on its own inputs alone: threads speed it up without changing a bit of it.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

_finished = [0]  # calls ``map_frames`` has finished in this process: what stage progress counts
_lock = threading.Lock()


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS has one, as on Linux)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def map_frames(fn, count: int) -> list:
    """``[fn(0), ..., fn(count - 1)]``, on one thread per usable core; the first
    exception a call raises is raised here."""
    def counted(i: int):
        out = fn(i)
        with _lock:
            _finished[0] += 1
        return out

    workers = min(count, usable_cores())
    if workers <= 1:
        return [counted(i) for i in range(count)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(counted, range(count)))


def count_finished(calls: int = 1) -> None:
    """Count ``calls`` units of work finished outside ``map_frames`` (the rounds of one
    long single-frame job), so a stage's progress moves during it too."""
    with _lock:
        _finished[0] += calls


def frames_finished() -> int:
    """How many per-frame calls ``map_frames`` has finished in this process so far."""
    with _lock:
        return _finished[0]
