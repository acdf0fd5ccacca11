"""Run every method on every shot, measure it, and keep what the report needs.

``run_evaluation(config, on_event=...)`` is the whole harness without files; the
report module writes its result. Shots are prepared once (clip, matte, the ground
truth's flow for the warping error) and every method sees the same arrays.
"""

from __future__ import annotations

import math
import os
import platform
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import metrics
from .clips import Clip, load_clip, load_matte_sequence
from .errors import EvaluationError, MatteSpecError
from .mattes import MATTES, synthetic_matte
from .methods import check_output, make_method
from .resources import measure


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True)
class ShotSpec:
    """One shot: a clip (video or sequence), where it starts, and a matte kind from
    ``MATTES`` or a matte sequence pattern."""

    clip: str
    start: int = 0
    matte: str = "blob"
    matte_seed: int = 0
    name: str | None = None

    @property
    def label(self) -> str:
        clip = self.name or os.path.basename(self.clip).split(".")[0]
        matte = self.matte if self.matte in MATTES else os.path.basename(self.matte).split(".")[0]
        return f"{clip}/{matte}"


@dataclass(frozen=True)
class EvaluationConfig:
    """What to run. ``steps`` maps a method name to its step count; the key ``"*"`` applies
    to every learning method without its own entry (None: the preset's default)."""

    shots: tuple[ShotSpec, ...]
    methods: tuple[str, ...]
    frames: int = 24
    height: int = 96
    width: int = 192
    steps: dict = field(default_factory=dict)
    snapshot_every: int = 50
    device: str = "cpu"
    seed: int = 0
    contact_frames: int = 3
    cuda_graphs: bool = True

    def steps_for(self, method: str) -> int | None:
        return self.steps.get(method, self.steps.get("*"))

    def check(self) -> None:
        if not self.shots:
            raise EvaluationError("no shots to evaluate: give at least one clip and one matte")
        if not self.methods:
            raise EvaluationError("no methods to evaluate")
        if self.frames < 2:
            raise EvaluationError(f"need at least 2 frames per shot, got {self.frames}")
        if self.height < 16 or self.width < 16:
            raise EvaluationError(f"size {self.height}x{self.width} is too small (16x16 at least)")
        for m in self.methods:  # fail before any work on an unknown name
            make_method(m)


# ---------------------------------------------------------------- prepared data
@dataclass
class Shot:
    """A prepared shot: ground truth (= the method's input) and holes, and the reference
    motion for the warping error."""

    spec: ShotSpec
    clip: Clip
    holes: np.ndarray
    warp_ref: metrics.WarpReference

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def frames(self) -> np.ndarray:
        return self.clip.frames


def contact_indices(n_frames: int, count: int) -> list[int]:
    """``count`` frame indices spread over the shot, avoiding the first and last frames."""
    count = max(1, min(count, n_frames))
    return sorted({int(round((k + 0.5) * n_frames / count - 0.5)) for k in range(count)})


def prepare_shot(spec: ShotSpec, config: EvaluationConfig) -> Shot:
    """Load the clip at the configured size, build or load the matte, and compute the
    ground truth's flow once."""
    clip = load_clip(spec.clip, start=spec.start, count=config.frames, height=config.height,
                     width=config.width, name=spec.name)
    if spec.matte in MATTES:
        holes = synthetic_matte(spec.matte, config.frames, config.height, config.width, spec.matte_seed)
    else:
        holes = load_matte_sequence(spec.matte, start=spec.start, count=config.frames, height=config.height,
                                    width=config.width)
    if not holes.any(axis=(1, 2)).any():
        raise MatteSpecError(f"{spec.label}: the matte is empty")
    ref = metrics.warp_reference(metrics.to_display(clip.frames))
    return Shot(spec=spec, clip=clip, holes=holes, warp_ref=ref)


# ---------------------------------------------------------------- results
@dataclass
class CurvePoint:
    step: int
    seconds: float
    hole_psnr: float


@dataclass
class MethodResult:
    """Every number about one method on one shot (plain data, see ``as_dict``)."""

    shot: str
    method: str
    kind: str
    steps: int | None = None
    wall_seconds: float | None = None
    train_seconds: float | None = None
    kept: str | None = None  # a preset's output: "network", "blend" or the baseline it kept
    peak_rss_mib: float | None = None
    peak_rss_delta_mib: float | None = None
    cuda_peak_mib: float | None = None
    memory_probe: str = ""
    quality: dict = field(default_factory=dict)
    curve: list[CurvePoint] = field(default_factory=list)
    error: str | None = None
    contact: np.ndarray | None = None  # (k, H, W, 3) scene-linear frames for the contact sheet

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k not in ("contact", "curve", "quality")}
        d.update(self.quality)
        d["curve"] = [p.__dict__ for p in self.curve]
        return d


@dataclass
class EvaluationResults:
    config: EvaluationConfig
    shots: list[Shot]
    results: list[MethodResult]
    environment: dict
    started: float
    finished: float

    def result(self, shot: str, method: str) -> MethodResult | None:
        for r in self.results:
            if r.shot == shot and r.method == method:
                return r
        return None

    @property
    def failures(self) -> list[MethodResult]:
        return [r for r in self.results if r.error]


# ---------------------------------------------------------------- progress and ETA
@dataclass(frozen=True)
class RunEvent:
    """A progress report. ``fraction`` is of the current method (None if unknown);
    ``method_eta``/``total_eta`` are seconds left (None until they can be told)."""

    shot_index: int
    shots: int
    shot: str
    method_index: int
    methods: int
    method: str
    fraction: float | None
    method_eta: float | None
    total_eta: float | None
    message: str = ""


# seconds per (step x frame x pixel) for learning methods, per (frame x pixel) for baselines,
# from the calibration prototype on this 2-core CPU; replaced by measurements as they come
_PRIOR_PER_UNIT = {"preset": 0.3 / (5 * 96 * 192), "telea": 0.01 / (96 * 192), "flowprop": 0.15 / (96 * 192),
                   "propagation": 0.08 / (96 * 192), "temporal-nearest": 0.005 / (96 * 192),
                   "patchmatch": 0.1 / (96 * 192)}


class EtaModel:
    """Predicts a method's run time from what earlier runs of it took (per unit of work)."""

    def __init__(self) -> None:
        self._rate: dict[str, float] = {}

    @staticmethod
    def units(method, frames: int, pixels: int) -> float:
        steps = method.expected_steps()
        if steps is None:
            return float(frames * pixels)
        return float(steps * min(frames, 5) * pixels)

    def record(self, name: str, seconds: float, units: float) -> None:
        if units > 0 and seconds > 0:
            self._rate[name] = seconds / units

    def predict(self, method, frames: int, pixels: int) -> float:
        rate = self._rate.get(method.name)
        if rate is None:
            rate = _PRIOR_PER_UNIT.get(method.name, _PRIOR_PER_UNIT["preset"] if method.kind == "preset"
                                       else 0.05 / (96 * 192))
        return rate * self.units(method, frames, pixels)


# ---------------------------------------------------------------- the run
def environment(device: str) -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "device": device}
    try:
        import cv2

        env["opencv"] = cv2.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            env["cuda_device"] = torch.cuda.get_device_name()
    except ImportError:  # pragma: no cover
        pass
    return env


def run_method(method, shot: Shot, *, contact: list[int], on_progress=None) -> MethodResult:
    """Run one method on one shot: time it, measure memory, compute every metric, and keep
    the contact-sheet frames. An error inside the method is recorded in ``.error`` (the run
    goes on with the next method); only ``Cancelled`` propagates."""
    from renderer.errors import Cancelled, RendererError

    result = MethodResult(shot=shot.label, method=method.name, kind=method.kind)
    gt_display = metrics.to_display(shot.frames)

    def on_snapshot(step: int, seconds: float, frames: np.ndarray) -> None:
        out = metrics.to_display(np.asarray(frames, dtype=np.float32))
        per = metrics.hole_psnr_per_frame(out, gt_display, shot.holes)
        result.curve.append(CurvePoint(step=int(step), seconds=float(seconds),
                                       hole_psnr=float(np.nanmean(per))))

    cuda = getattr(method, "device", "cpu").startswith("cuda")
    try:
        with measure(cuda=cuda) as usage:
            output = method.run(shot.frames.copy(), shot.holes.copy(), on_snapshot=on_snapshot,
                                on_progress=on_progress)
    except Cancelled:
        raise
    except RendererError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    except Exception as exc:  # a crash in one method must not lose the others' results
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if f"{os.sep}renderer{os.sep}" in f.filename]
        where = (ours or frames)[-1]
        result.error = f"{type(exc).__name__}: {exc} (at {os.path.basename(where.filename)}:{where.lineno})"
        return result
    frames = check_output(method.name, output.frames, shot.frames)
    result.wall_seconds = usage.wall_seconds
    result.peak_rss_mib = usage.peak_rss_mib
    result.peak_rss_delta_mib = usage.peak_rss_delta_mib
    result.cuda_peak_mib = usage.cuda_peak_mib
    result.memory_probe = usage.method
    result.steps = output.steps
    result.train_seconds = output.train_seconds
    result.kept = output.kept
    result.quality = metrics.quality(frames, shot.frames, shot.frames, shot.holes, shot.warp_ref)
    if not result.curve or (output.steps is not None and result.curve[-1].step != output.steps):
        seconds = output.train_seconds if output.train_seconds is not None else usage.wall_seconds
        result.curve.append(CurvePoint(step=int(output.steps or 0), seconds=float(seconds),
                                       hole_psnr=result.quality["hole_psnr"]))
    result.contact = frames[contact].copy()
    return result


def run_evaluation(config: EvaluationConfig, *, on_event: Callable[[RunEvent], None] | None = None,
                   log: Callable[[str], None] | None = None,
                   on_shot_done: Callable[[EvaluationResults], None] | None = None) -> EvaluationResults:
    """Prepare every shot, run every method on each, and collect the numbers.
    ``on_shot_done`` gets the results so far after each shot (to write a partial report)."""
    config.check()
    started = time.time()
    device = config.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    methods = [make_method(m, steps=config.steps_for(m), snapshot_every=config.snapshot_every,
                           device=device, seed=config.seed, cuda_graphs=config.cuda_graphs) for m in config.methods]
    eta = EtaModel()
    pixels = config.height * config.width
    shots: list[Shot] = []
    results: list[MethodResult] = []
    contact = contact_indices(config.frames, config.contact_frames)
    n_shots, n_methods = len(config.shots), len(methods)

    def remaining_after(shot_i: int, method_i: int) -> float:
        left = 0.0
        for si in range(shot_i, n_shots):
            for mi, m in enumerate(methods):
                if si == shot_i and mi <= method_i:
                    continue
                left += eta.predict(m, config.frames, pixels)
        return left

    for si, spec in enumerate(config.shots):
        if log:
            log(f"shot {si + 1}/{n_shots} {spec.label}: loading {config.frames} frames at "
                f"{config.height}x{config.width}")
        shot = prepare_shot(spec, config)
        shots.append(shot)
        for mi, method in enumerate(methods):
            t0 = time.perf_counter()
            predicted = eta.predict(method, config.frames, pixels)

            def emit(fraction, method_eta, message, si=si, mi=mi, method=method, predicted=predicted, t0=t0):
                if on_event is None:
                    return
                elapsed = time.perf_counter() - t0
                if method_eta is None:
                    method_eta = max(0.0, predicted - elapsed) if fraction is None else (
                        elapsed * (1 - fraction) / fraction if fraction > 0.02 else max(0.0, predicted - elapsed))
                on_event(RunEvent(shot_index=si, shots=n_shots, shot=shot.label, method_index=mi,
                                  methods=n_methods, method=method.name, fraction=fraction,
                                  method_eta=method_eta, total_eta=method_eta + remaining_after(si, mi),
                                  message=message))

            emit(0.0, None, "start")
            result = run_method(method, shot, contact=contact, on_progress=emit)
            results.append(result)
            if result.error is None:
                eta.record(method.name, time.perf_counter() - t0, eta.units(method, config.frames, pixels))
            emit(1.0, 0.0, "failed: " + result.error if result.error else
                 f"done in {time.perf_counter() - t0:.1f}s, hole PSNR {result.quality['hole_psnr']:.2f} dB")
        if on_shot_done is not None and si < n_shots - 1:
            on_shot_done(EvaluationResults(config=config, shots=list(shots), results=list(results),
                                           environment=environment(device), started=started,
                                           finished=time.time()))
    return EvaluationResults(config=config, shots=shots, results=results, environment=environment(device),
                             started=started, finished=time.time())


def finite_or_none(x):
    """JSON-safe number: None for NaN, the string 'inf' for infinities."""
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x
