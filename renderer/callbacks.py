"""What a running job tells its caller, and how the caller stops it.

The CLI, the server and the evaluation harness all pass a ``Callbacks``; the
training loop calls whichever hooks are set. Hooks run on the training thread:
keep them quick (hand heavy work to another thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np


@dataclass(frozen=True)
class Progress:
    """One progress event. ``eta`` is seconds left, None until it can be told."""

    step: int
    total: int
    loss: float
    elapsed: float
    eta: float | None
    stage: str = "train"  # "read", "fill", "train", "write"
    message: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.step / self.total)


@dataclass
class Callbacks:
    """Optional hooks. All default to doing nothing.

    on_progress(Progress): about once a second while training, and at stage changes.
    on_preview(step, frames): every ``preview_every`` steps; ``frames`` maps the
        shot's frame number to a composited scene-linear float32 (H, W, 3) array.
    on_snapshot(step, train_seconds, frames): every ``snapshot_every`` steps (and at
        the end) with every frame composited, as a float32 (F, H, W, 3) array;
        ``train_seconds`` excludes time spent in snapshots (for quality-vs-time curves).
    should_stop(): polled every step; True cancels the job (raises ``Cancelled``)
        after saving a checkpoint.
    log(str): human-readable notes (which loss is off and why, resumed from ...).
    """

    on_progress: Callable[[Progress], None] | None = None
    on_preview: Callable[[int, Mapping[int, np.ndarray]], None] | None = None
    preview_every: int = 0
    preview_frames: int = 3
    on_snapshot: Callable[[int, float, np.ndarray], None] | None = None
    snapshot_every: int = 0
    should_stop: Callable[[], bool] | None = None
    log: Callable[[str], None] | None = None
    progress_interval: float = 1.0

    def note(self, text: str) -> None:
        if self.log is not None:
            self.log(text)
