"""Where a run's time goes: wall seconds per stage (pre-fill, reference flow, training, ...).

``inpaint.inpaint_arrays`` writes them in its last log line and returns them in ``InpaintResult``, so a
farm log or a TD's script sees which stage a slow shot spent its time in.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from .callbacks import Callbacks, Progress
from .parallel import frames_finished


class StageClock:
    """Wall seconds per stage, summed over the times a stage runs, in the order stages first end.
    Stages on other threads overlap: the seconds then add up to more than the wall time."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def timed(self, stage: str, fn):
        """``fn``, timed as ``stage`` on each call (for work handed to another thread)."""
        def run(*args, **kwargs):
            with self(stage):
                return fn(*args, **kwargs)

        return run

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def summary(self, least: float = 0.05) -> str:
        """``pre-fill 12.3 s, training 2.2 s, ...``; stages under ``least`` seconds are left out."""
        return ", ".join(f"{name} {s:.1f} s" for name, s in self.seconds.items() if s >= least)


@contextmanager
def ticking(cb: Callbacks, stage: str, expected: int, message: str = ""):
    """While the block runs, report ``stage``'s progress about every ``cb.progress_interval``
    seconds, counted in per-frame calls finished (``parallel.frames_finished``) against the
    ``expected`` count; the count is an estimate, so the bar holds short of the end until
    the block ends."""
    if cb.on_progress is None or expected <= 0:
        yield
        return
    start, began, stop = frames_finished(), time.monotonic(), threading.Event()

    def report(done: int) -> None:
        cb.on_progress(Progress(done, expected, float("nan"), time.monotonic() - began, None, stage, message))

    def tick() -> None:
        last = -1
        while not stop.wait(cb.progress_interval):
            done = min(frames_finished() - start, expected - 1)
            if done != last:
                last = done
                report(done)

    report(0)
    ticker = threading.Thread(target=tick, name=f"{stage}-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
    report(expected)
