"""The methods an evaluation runs side by side, behind one small interface.

A method takes a shot's frames (scene-linear float32 (F, H, W, 3)) and holes
(bool (F, H, W)) and returns filled frames. Learning methods also report
snapshots along the way (for quality-versus-time curves) and progress.

* baselines (``telea``, ``flowprop``, ``propagation``, ``temporal-nearest``, ``patchmatch``):
  ``renderer.evaluate.baselines`` functions
* presets (``paper``, ``dip-vid``, ``dip-frame``, ``standard``, ...): every name in
  ``renderer.presets.PRESETS`` runs through ``renderer.api.inpaint``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import baselines
from .errors import MethodError

# (step, train_seconds, frames) -> None
SnapshotFn = Callable[[int, float, np.ndarray], None]
# (fraction done in [0, 1] or None, seconds left for this method or None, message) -> None
ProgressFn = Callable[[float | None, float | None, str], None]


@dataclass
class MethodOutput:
    """What a method returned: composited frames, and for learning methods the steps
    trained and training seconds (excluding snapshot time)."""

    frames: np.ndarray
    steps: int | None = None
    train_seconds: float | None = None
    kept: str | None = None  # a preset's output: "network", "blend" or the baseline it kept


@dataclass(frozen=True)
class BaselineMethod:
    """A non-learning ``(frames, holes) -> frames`` function."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
    kind: str = "baseline"

    def expected_steps(self) -> int | None:
        return None

    def run(self, frames: np.ndarray, holes: np.ndarray, *, on_snapshot: SnapshotFn | None = None,
            on_progress: ProgressFn | None = None) -> MethodOutput:
        return MethodOutput(frames=self.fn(frames, holes))


@dataclass(frozen=True)
class PresetMethod:
    """An internal-learning preset, run through ``renderer.api.inpaint``."""

    name: str
    steps: int | None = None
    snapshot_every: int = 0
    device: str = "cpu"
    seed: int = 0
    kind: str = "preset"
    extra: dict = field(default_factory=dict)

    def expected_steps(self) -> int | None:
        from renderer.presets import get_preset

        return get_preset(self.name).steps(self.steps)

    def run(self, frames: np.ndarray, holes: np.ndarray, *, on_snapshot: SnapshotFn | None = None,
            on_progress: ProgressFn | None = None) -> MethodOutput:
        from renderer import api
        from renderer.callbacks import Callbacks

        def progress(p) -> None:
            if on_progress is not None:
                stage = f"{p.stage} {p.step}/{p.total}" if p.stage == "train" else p.stage
                on_progress(p.fraction if p.stage == "train" else None, p.eta, stage)

        callbacks = Callbacks(on_progress=progress, on_snapshot=on_snapshot,
                              snapshot_every=self.snapshot_every if on_snapshot is not None else 0)
        result = api.inpaint(frames, holes, preset=self.name, steps=self.steps, device=self.device,
                             seed=self.seed, callbacks=callbacks, **self.extra)
        return MethodOutput(frames=np.asarray(result.frames, dtype=np.float32), steps=result.steps,
                            train_seconds=result.train_seconds, kept=result.kept)


def method_names() -> list[str]:
    """Every method the harness knows, baselines first."""
    from renderer.presets import PRESETS

    return list(baselines.BASELINES) + list(PRESETS)


def make_method(name: str, *, steps: int | None = None, snapshot_every: int = 0, device: str = "cpu",
                seed: int = 0, cuda_graphs: bool = True):
    """The method called ``name`` (see ``method_names``)."""
    from renderer.presets import PRESETS

    if name in baselines.BASELINES:
        return BaselineMethod(name=name, fn=baselines.BASELINES[name])
    if name in PRESETS:
        return PresetMethod(name=name, steps=steps, snapshot_every=snapshot_every, device=device, seed=seed,
                            extra={} if cuda_graphs else {"cuda_graphs": False})
    raise MethodError(f"unknown method {name!r}; choose from {', '.join(method_names())}")


def check_output(name: str, out: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Guard the method contract: same shape, finite float values."""
    out = np.asarray(out)
    if out.shape != frames.shape:
        raise MethodError(f"{name} returned {out.shape}, expected {frames.shape}")
    if not np.issubdtype(out.dtype, np.floating):
        raise MethodError(f"{name} returned {out.dtype}, expected float frames")
    if not np.isfinite(out).all():
        raise MethodError(f"{name} returned non-finite values")
    return out.astype(np.float32, copy=False)
