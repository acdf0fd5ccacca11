"""The training loop: owns iteration, checkpoints, callbacks and the final fill.

``inpaint_arrays`` is the array-level entry point (``renderer.api.inpaint``):
frames and holes in, composited frames out. The maths lives in ``step``,
``losses`` and ``model``; this module only drives them.
"""

from __future__ import annotations

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from . import checkpoint
from .callbacks import Callbacks, Progress
from .colour import decode
from . import distributed
from .errors import Cancelled, CheckpointError, ConfigError, DeviceError, ShapeError
from .flow import cached_reference_flow, fingerprint_arrays
from .graphs import GraphedForward, GraphedSteps, capturable_adam, conform_optimizer, graphable
from .heldout import HeldOutCheck
from .masks import composite
from .model import SkipNet
from .prepare import input_channels, prepare
from .presets import Preset
from .roi import Region, plan_context, plan_region, plate_fills
from .schedule import Segment, plan, step_lookup
from .selfsup import baseline_fills, input_configurations
from .stages import StageClock
from .step import infer, train_step


VALIDATIONS = 6  # held-out checks per run, for early stopping


@dataclass
class InpaintResult:
    """frames: composited scene-linear float32 (F, H, W, 3); known pixels are the input's."""

    frames: np.ndarray
    steps: int
    train_seconds: float
    resumed_from: int = 0
    final_loss: float = float("nan")
    # wall seconds of each stage of this call, in the order they ran (``stages.StageClock``)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("device 'cuda' asked for, but this machine has no usable CUDA GPU; "
                          "use --device cpu or --device auto")
    if name not in ("cpu", "cuda"):
        raise DeviceError(f"unknown device {name!r}; use cpu, cuda or auto")
    return torch.device(name)


def _lr_at(preset: Preset, step: int, total: int) -> float:
    if preset.lr_final_fraction >= 1.0 or total <= 1:
        return preset.lr
    t = step / (total - 1)
    lo = preset.lr * preset.lr_final_fraction
    return lo + 0.5 * (preset.lr - lo) * (1.0 + math.cos(math.pi * t))


def _settings(preset: Preset, total: int, seed: int, region: Region) -> str:
    return json.dumps({"preset": preset.name, "steps": total, "seed": seed, "work": list(region.working_size)},
                      sort_keys=True)


def inpaint_arrays(frames: np.ndarray, holes: np.ndarray, *, preset: Preset, steps: int | None = None,
                   device: str = "cpu", seed: int = 0, callbacks: Callbacks | None = None,
                   work_dir: str | os.PathLike | None = None, fresh: bool = True,
                   perceptual_weights: str | None = None, alpha: np.ndarray | None = None,
                   frame_numbers: list[int] | None = None, mode: str = "both",
                   indices: list[int] | None = None, checkpoint_minutes: float = 3.0,
                   cuda_graphs: bool = True) -> InpaintResult:
    """Train on (frames, holes) and return the composited frames.

    frames float32 (F, H, W, 3) scene-linear; holes bool (F, H, W), True = fill;
    alpha float32 (F, H, W) compositing weight (default: the holes); work_dir holds
    the flow cache and checkpoints (None: no checkpoints); fresh=False resumes.
    mode "both" trains (or resumes) then infers; "train" stops after training;
    "infer" needs a finished checkpoint and retrains nothing. ``indices`` limits
    the frames returned (the result then holds only those, in that order).
    ``cuda_graphs``: on a CUDA device, replay each kind of training step from a CUDA graph
    (``graphs``); False trains eagerly, the same maths with ~900 launches per step.
    """
    cb = callbacks or Callbacks()
    frames = np.asarray(frames, dtype=np.float32)
    holes = np.asarray(holes, dtype=bool)
    if frames.ndim != 4 or frames.shape[-1] != 3 or holes.shape != frames.shape[:3]:
        raise ShapeError(f"inpaint needs frames (F, H, W, 3) and holes (F, H, W); got {frames.shape}, {holes.shape}")
    alpha = holes.astype(np.float32) if alpha is None else np.asarray(alpha, dtype=np.float32)
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(frames)))
    total = preset.steps(steps)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    clock = StageClock()
    region = plan_region(alpha > 0, holes, preset)
    work_frames, work_holes = region.crop(frames), region.crop_holes(holes)
    context = plan_context(region, frames) if preset.propagation_prior else None
    # the reference flow and the plate-resolution fill are mostly OpenCV work, which releases the GIL:
    # they run on a thread beside the pre-fill (their notes are passed on from this thread)
    notes: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="beside-prefill") as beside:
        ref_job = beside.submit(clock.timed("reference flow", cached_reference_flow), work_frames, preset.strides,
                                str(work_dir) if work_dir else None, log=notes.append) if preset.use_flow else None
        plate_job = beside.submit(clock.timed("plate-resolution fill", plate_fills), frames, holes, region, preset,
                                  device=dev)
        with clock("pre-fill"):
            configs, baseline_errors, prefill_name = input_configurations(work_frames, work_holes, preset, seed, cb,
                                                                          context=context, device=dev)
        if ref_job is not None:
            cb.on_progress and cb.on_progress(Progress(0, total, float("nan"), 0.0, None, "flow", "reference flow"))
        with clock("waiting for flow and plate fill"):
            ref = ref_job.result() if ref_job is not None else None
            plate = plate_job.result()
    for text in notes:
        cb.note(text)
    # the held-out holes' pixels are never a training target: the network has not seen them
    # when the final check compares it with the baselines there
    held_out = configs[-1].extra(work_holes) if configs and preset.select_on_validation and len(configs) > 1 else None
    with clock("to device"):
        prep = prepare(work_frames, work_holes, preset, ref, dev, seed, configs=configs, held_out=held_out)
    if preset.w_perceptual > 0 and perceptual_weights:
        from .losses import VGGFeatures

        vgg = VGGFeatures.from_file(perceptual_weights).to(dev)
        cb.note(f"perceptual loss: on (VGG16 weights from {perceptual_weights})")
    else:
        vgg = None
        cb.note("perceptual loss: off (no local VGG16 weights file named; set perceptual_weights to use it)")

    settings = _settings(preset, total, seed, region)
    shot_fp = fingerprint_arrays(work_frames, work_holes)
    ckpt_path = os.path.join(str(work_dir), checkpoint.FILENAME) if work_dir else None
    state = None if (fresh or ckpt_path is None) else checkpoint.load(ckpt_path, shot_fingerprint=shot_fp,
                                                                      settings=settings)
    loop = _Loop(prep, preset, total, seed, dev, cb, vgg, ckpt_path, shot_fp, settings, region, frames, alpha,
                 numbers, checkpoint_minutes, cuda_graphs)
    loop.configs, loop.work_frames, loop.clock = configs, work_frames, clock
    loop.prefill_name, loop.context = prefill_name, context
    if configs:
        loop.check = HeldOutCheck(configs, work_frames, baseline_errors, prefill_name, dev)
    loop.plate_fills = plate
    resumed = loop.restore(state)
    if mode == "infer" and resumed < total:
        raise CheckpointError(f"no finished training for this shot in {work_dir} (at step {resumed} of {total}); "
                              f"run 'renderer train' first, or 'renderer render' without --frames")
    if resumed:
        cb.note(f"resumed from step {resumed} of {total} ({ckpt_path})")
    loop.run()
    result = InpaintResult(frames=np.empty((0,)), steps=total, train_seconds=loop.train_seconds,
                           resumed_from=resumed, final_loss=loop.last_loss, stage_seconds=clock.seconds)
    if mode != "train" and distributed.is_main():
        idx = list(range(len(frames))) if indices is None else list(indices)
        with clock("output"):
            result.frames = loop.finish(loop.fill(idx), idx)
    cb.note(f"time: {clock.summary()}")
    return result


class _Loop:
    """State of one run. ``run`` trains to the end and returns the encoded fill."""

    def __init__(self, prep, preset, total, seed, dev, cb, vgg, ckpt_path, shot_fp, settings, region, frames,
                 alpha, numbers, checkpoint_minutes, cuda_graphs=True):
        self.checkpoint_minutes = checkpoint_minutes
        self.prep, self.preset, self.total, self.seed, self.dev = prep, preset, total, seed, dev
        self.cb, self.vgg, self.ckpt_path = cb, vgg, ckpt_path
        self.shot_fp, self.settings, self.region = shot_fp, settings, region
        self.frames, self.alpha, self.numbers = frames, alpha, numbers
        self.rng = np.random.default_rng(seed + 1)
        self.step = 0
        self.train_seconds = 0.0
        self.last_loss = float("nan")
        self._last_parts = None
        n = prep.n_frames
        if preset.per_frame:
            base = total // n
            self.frame_steps = [base + (1 if i < total - base * n else 0) for i in range(n)]
            self.best_fill = torch.zeros(n, 3, prep.box[2], prep.box[3], device=dev)
            self.best_loss = [math.inf] * n
        self.distributed = distributed.start(dev)
        self.rank = distributed.world()[0]
        if self.distributed and preset.per_frame:
            raise ConfigError(f"preset {preset.name} trains one network per frame and cannot run data-parallel; "
                              f"run it without torchrun")
        self.graphed = cuda_graphs and graphable(dev, preset, self.distributed)
        self.segments = self._segments()
        self.starts = step_lookup(self.segments)
        self.model, self.optimizer = self._fresh_model(0)
        self.train_configs = list(range(1, 1 + preset.extra_hole_configs)) if prep.cfg_rgb is not None else []
        self.choice = "network"
        self.configs, self.work_frames, self.plate_fills = None, None, None
        self.prefill_name, self.context = None, None
        self._baseline_cache: dict[str, np.ndarray] = {}
        selecting = preset.select_on_validation and preset.input_mode == "masked"
        self.validate_every = max(total // VALIDATIONS, 1) if selecting else 0
        self.best_error, self.best_state = math.inf, None
        self.check: HeldOutCheck | None = None
        self.clock = StageClock()

    def _segments(self) -> list[Segment]:
        if not self.preset.per_frame:
            # each rank takes its own share of batches: its own shuffle of the plan
            return plan(self.prep.n_frames, self.preset, self.total, self.seed + 1000 * self.rank)
        return [Segment((i,), 1, 1, k) for i, k in enumerate(self.frame_steps) if k > 0]

    def _fresh_model(self, salt: int):
        torch.manual_seed(self.seed * 1000003 + salt)
        net = SkipNet(input_channels(self.preset), self.preset.channels, self.preset.skip_channels,
                      flow_head=self.preset.use_flow, residual=self.preset.residual).to(self.dev)
        if self.dev.type == "cuda":
            net = net.to(memory_format=torch.channels_last)
        self.net = net  # the bare module: checkpoints and inference use it, DDP or not
        self.inference = GraphedForward(net, log=self.cb.note) if self.graphed else net
        model = distributed.wrap(net, self.dev) if getattr(self, "distributed", False) else net
        if self.graphed:
            return model, capturable_adam(net.parameters(), self.preset.lr)
        return model, torch.optim.Adam(net.parameters(), lr=self.preset.lr)

    # -- checkpoints -------------------------------------------------------------------------
    def restore(self, state: dict | None) -> int:
        if not state:
            return 0
        self.step = int(state["step"])
        self.train_seconds = float(state.get("train_seconds", 0.0))
        if self.preset.per_frame:
            self.best_fill = state["best_fill"].to(self.dev)
            self.best_loss = list(state["best_loss"].tolist())
            seg_idx = self._segment_at(self.step)
            if seg_idx < len(self.segments):
                self.model, self.optimizer = self._fresh_model(self.segments[seg_idx].frames[0])
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        conform_optimizer(self.optimizer, capturable=self.graphed)  # it may come from the other kind of run
        torch.set_rng_state(state["torch_rng"])
        self.rng.bit_generator.state = json.loads(state["np_rng"])
        if "best_state" in state:
            self.best_state = state["best_state"]
            self.best_error = float(state["best_error"])
        return self.step

    def save(self) -> None:
        if not self.ckpt_path or self.rank != 0:  # rank 0 alone writes checkpoints
            return
        state = {"shot_fingerprint": self.shot_fp, "settings": self.settings, "step": self.step, "rank": self.rank,
                 "train_seconds": self.train_seconds, "model": self.net.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
                 "np_rng": json.dumps(self.rng.bit_generator.state)}
        if self.best_state is not None:
            state["best_state"] = self.best_state
            state["best_error"] = self.best_error
        if self.preset.per_frame:
            state["best_fill"] = self.best_fill.cpu()
            state["best_loss"] = torch.tensor(self.best_loss, dtype=torch.float64)
        checkpoint.save(self.ckpt_path, state)

    def _segment_at(self, step: int) -> int:
        for k, start in enumerate(self.starts):
            if start <= step < start + self.segments[k].steps:
                return k
        return len(self.segments)

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        cb, preset = self.cb, self.preset
        interval = 60.0 * self.checkpoint_minutes
        last_ckpt = last_progress = time.monotonic()
        seg_idx = self._segment_at(self.step)
        first_step, first_seconds = self.step, self.train_seconds
        tick = time.monotonic()
        self.model.train()
        graphed = GraphedSteps(self.model, self.optimizer, preset, vgg=self.vgg, log=cb.note) if self.graphed else None
        while self.step < self.total and seg_idx < len(self.segments):
            seg = self.segments[seg_idx]
            if preset.per_frame and self.step == self.starts[seg_idx] and self.step > 0:
                self.model, self.optimizer = self._fresh_model(seg.frames[0])
            config = int(self.rng.choice(self.train_configs)) if self.train_configs else 0
            lr = _lr_at(preset, self.step, self.total)
            if graphed is not None:
                parts = graphed(self.prep, seg, config, lr)
            else:
                parts = train_step(self.model, self.optimizer, self.prep, seg, preset, vgg=self.vgg, config=config,
                                   lr=lr)
            self._last_parts = parts
            if preset.per_frame:
                self._keep_best(seg.frames[0], float(parts["recon"]))
            self.step += 1
            now = time.monotonic()
            self.train_seconds += now - tick
            if self.step >= self.starts[seg_idx] + seg.steps:
                seg_idx += 1
            if cb.should_stop is not None and cb.should_stop():
                self.save()
                raise Cancelled(f"cancelled at step {self.step} of {self.total}; the checkpoint is kept, "
                                f"rerun to resume")
            if now - last_progress >= self.cb.progress_interval or self.step == self.total:
                last_progress = now
                self._progress()
            if self.ckpt_path and now - last_ckpt >= interval:
                self.save()
                last_ckpt = time.monotonic()
            self._side_outputs()
            if self.validate_every and self.step % self.validate_every == 0:
                with self.clock("held-out checks"):
                    self._validate()
            tick = time.monotonic()
        self.clock.add("training", self.train_seconds - first_seconds)
        if graphed is not None and graphed.replays + graphed.eager:
            cb.note(f"CUDA graphs: {len(graphed.graphs)} captured, {graphed.replays} steps replayed, "
                    f"{graphed.eager} eager")
        if self.ckpt_path and self.step > first_step:  # a finished run reloaded for inference writes nothing
            self.save()
        if self.preset.select_on_validation and self.configs:
            if self.best_state is not None:
                self.net.load_state_dict(self.best_state)
            with self.clock("selection"):
                self.choice = self._select()
        if self.cb.on_snapshot is not None and self.cb.snapshot_every:
            self.cb.on_snapshot(self.step, self.train_seconds, self.finish(self.fill(None), None))

    def _progress(self) -> None:
        parts = self._last_parts
        if parts is not None:
            self.last_loss = float(parts["total"])  # the one host sync, once per progress interval
        if self.cb.on_progress is None:
            return
        rate = self.train_seconds / max(self.step, 1)
        eta = rate * (self.total - self.step) if self.step else None
        self.cb.on_progress(Progress(self.step, self.total, self.last_loss, self.train_seconds, eta, "train"))

    def _side_outputs(self) -> None:
        cb = self.cb
        if cb.on_preview is not None and cb.preview_every and self.step % cb.preview_every == 0:
            n = self.prep.n_frames
            picks = sorted({round(k * (n - 1) / max(cb.preview_frames - 1, 1)) for k in range(cb.preview_frames)})
            fill = self.fill(picks)
            frames = self.finish(fill, picks)
            cb.on_preview(self.step, {self.numbers[i]: frames[k] for k, i in enumerate(picks)})
        if cb.on_snapshot is not None and cb.snapshot_every and self.step % cb.snapshot_every == 0 \
                and self.step < self.total:
            cb.on_snapshot(self.step, self.train_seconds, self.finish(self.fill(None), None))

    def _keep_best(self, frame: int, loss: float) -> None:
        if loss < self.best_loss[frame]:
            self.best_loss[frame] = loss
            self.best_fill[frame] = infer(self.inference, self.prep, self.preset, [frame])[0]

    def _held_out_errors(self, blend: bool) -> dict[str, float]:
        net = infer(self.inference, self.prep, self.preset, None, config=len(self.configs) - 1)
        return self.check.errors(net, blend)

    def _validate(self) -> None:
        """Early stopping on known pixels: remember the weights that do best on the held-out holes."""
        error = self._held_out_errors(blend=False)["network"]
        if error < self.best_error:
            self.best_error = error
            self.best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    def _select(self) -> str:
        """The network, its average with the pre-fill, or a baseline: see ``HeldOutCheck.choose``."""
        if not self.check.decisive:
            return "network"
        choice, line = self.check.choose(self._held_out_errors(blend=True))
        self.cb.note(line)
        return choice

    def fill(self, indices) -> torch.Tensor:
        if self.choice == "blend":
            return 0.5 * (infer(self.inference, self.prep, self.preset, indices).cpu()
                          + self._baseline_fill(indices, self.prefill_name))
        if self.choice != "network":
            return self._baseline_fill(indices, self.choice)
        if self.preset.per_frame:
            idx = list(range(self.prep.n_frames)) if indices is None else indices
            return self.best_fill[idx]
        return infer(self.inference, self.prep, self.preset, indices)

    def _baseline_fill(self, indices, name: str) -> torch.Tensor:
        from .colour import encode

        idx = list(range(self.prep.n_frames)) if indices is None else list(indices)
        return torch.from_numpy(encode(self._baseline_linear(name)[idx])).permute(0, 3, 1, 2)

    def _baseline_linear(self, name: str) -> np.ndarray:
        """(F, h, w, 3) scene-linear: baseline ``name`` at working size."""
        real = self.configs[0]
        if name == self.prefill_name:
            return real.prefill
        if name not in self._baseline_cache:  # computed once: the final snapshot and the output both ask for it
            fill = baseline_fills(self.context, self.dev)[name]
            self._baseline_cache[name] = fill(self.work_frames, real.holes)
        return self._baseline_cache[name]

    def finish(self, fill_enc: torch.Tensor, indices) -> np.ndarray:
        """Encoded fill (B, 3, h, w) at working size -> composited full frames (B, H, W, 3).
        Below plate resolution the fill lands on the plate-resolution fill of the chosen
        baseline, or of the pre-fill under a network's correction (``Region.uncrop``)."""
        idx = list(range(len(self.frames))) if indices is None else list(indices)
        fill = decode(fill_enc.permute(0, 2, 3, 1).float().cpu().numpy())
        plate_fill = work_fill = None
        base = self.prefill_name if self.choice in ("network", "blend") else self.choice
        if self.plate_fills is not None and base is not None:
            plate_fill, work_fill = self.plate_fills(base), self._baseline_linear(base)
            if self.choice == base:  # the baseline itself: at plate resolution, exactly
                fill = work_fill[idx]
        full = self.region.uncrop(fill, self.frames[idx], idx, plate_fill, work_fill)
        return np.stack([composite(self.frames[i], full[k], self.alpha[i]) for k, i in enumerate(idx)])
