"""Progress for people and for farms.

On a terminal: a tqdm bar. Otherwise (a farm log): unbuffered lines a render
manager parses, ``openjd_progress: N`` (0-100) and ``openjd_status: text``,
the convention of Open Job Description / Deadline Cloud.
"""

from __future__ import annotations

import sys
import time

from .callbacks import Progress

# share of the bar each stage takes: reading the plates, the fine detail of the pixels no frame
# shows, the flow and the fills before training (the whole of a non-learning render's work on
# large plates), training, writing
_STAGES = {"read": (0.0, 4.0), "detail": (4.0, 6.0), "fill": (6.0, 30.0), "train": (30.0, 95.0),
           "write": (95.0, 100.0)}


def overall_percent(event: Progress) -> float:
    lo, hi = _STAGES.get(event.stage, (0.0, 100.0))
    return lo + (hi - lo) * event.fraction


class ProgressReporter:
    """Callable for ``Callbacks.on_progress``; ``log`` for ``Callbacks.log``."""

    def __init__(self, stream=None, tty: bool | None = None, min_interval: float = 2.0, quiet: bool = False):
        self.quiet = quiet
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.min_interval = min_interval
        self._bar = None
        self._last_line = 0.0
        self._last_stage = None

    def __call__(self, event: Progress) -> None:
        if self.quiet:
            return
        pct = overall_percent(event)
        if self.tty:
            self._tqdm(event, pct)
            return
        now = time.monotonic()
        if event.stage != self._last_stage:
            self._last_stage = event.stage
            self.status(_describe(event))
        if now - self._last_line >= self.min_interval or event.fraction >= 1.0:
            self._last_line = now
            self._emit(f"openjd_progress: {pct:.1f}")
            if event.stage == "train":
                eta = f", about {event.eta:.0f}s left" if event.eta is not None else ""
                self.status(f"training step {event.step}/{event.total}, loss {event.loss:.5f}{eta}")

    def _tqdm(self, event: Progress, pct: float) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=100.0, file=self.stream, unit="%",
                             bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}<{remaining}]{postfix}")
        self._bar.set_description(event.stage)
        self._bar.n = pct
        if event.stage == "train":
            self._bar.set_postfix_str(f"step {event.step}/{event.total} loss {event.loss:.4f}", refresh=False)
        self._bar.refresh()

    def status(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            if self._bar is not None:
                self._bar.write(text, file=self.stream)
            else:
                self._emit(text)
        else:
            self._emit(f"openjd_status: {text}")

    def log(self, text: str) -> None:
        self.status(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _emit(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def _describe(event: Progress) -> str:
    return {"read": "reading plates and mattes", "detail": "fine detail for the pixels no frame shows",
            "fill": "optical flow and pre-fill", "train": "training on the shot",
            "write": "writing frames"}.get(event.stage, event.stage)
