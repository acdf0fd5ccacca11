"""The training loop: owns iteration, checkpoints and callbacks, and nothing else.

What to train on (``method.prepare``), how one step trains (``method.step``,
``method.graphs``), and what becomes of the network afterwards (``pipeline``) live
elsewhere; ``inpaint.inpaint_arrays`` wires them together.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from . import checkpoint, distributed
from .callbacks import Callbacks, Progress
from .errors import Cancelled, ConfigError
from .method.graphs import GraphedForward, GraphedSteps, capturable_adam, conform_optimizer, graphable
from .method.model import SkipNet
from .method.prepare import Prepared, input_channels
from .method.schedule import Segment, plan, step_lookup
from .method.step import infer, train_step
from .presets import Preset
from .stages import StageClock

VALIDATIONS = 6  # held-out checks per run, for early stopping

# (indices or None for every frame, input configuration) -> the network's fill, encoded (B, 3, h, w)
Infer = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class Checkpointing:
    """Where and how often a run writes its checkpoint, and what it must match to resume."""

    path: str
    shot_fingerprint: str
    settings: str
    minutes: float = 3.0


def lr_at(preset: Preset, step: int, total: int) -> float:
    """The learning rate at ``step`` of ``total``: the preset's, cosine-decayed to
    ``lr_final_fraction`` of it where the preset asks."""
    if preset.lr_final_fraction >= 1.0 or total <= 1:
        return preset.lr
    t = step / (total - 1)
    lo = preset.lr * preset.lr_final_fraction
    return lo + 0.5 * (preset.lr - lo) * (1.0 + math.cos(math.pi * t))


class TrainingLoop:
    """One run of training: ``restore`` a checkpoint's state, ``run`` to the end.

    ``early_stopping(infer) -> error``: a validation error of the network (its fills
    made by ``infer``), measured ``VALIDATIONS`` times a run; the weights with the lowest
    are kept. ``give_up(errors, remaining) -> str | None``: given the validation errors so
    far and the validations left, a reason to stop training now (the run then counts as
    finished, with the best weights so far), or None to go on.
    ``over_budget(train_seconds) -> bool``: whether training has taken its share of the
    run's time; the first time it has, a validation runs there and then, and
    ``budget_verdict(infer) -> str | None`` gives a reason to stop, or None to go on (one
    process only: data-parallel ranks would each judge by their own clock).
    ``compose(learned, indices) -> frames``: the composited frames that previews and
    snapshots show, given the network's fill ``learned``; previews are keyed by
    ``frame_numbers``.
    """

    def __init__(self, prep: Prepared, preset: Preset, total: int, *, seed: int, device: torch.device,
                 callbacks: Callbacks, vgg=None, checkpointing: Checkpointing | None = None,
                 cuda_graphs: bool = True, early_stopping: Callable[[Infer], float] | None = None,
                 compose: Callable[[Infer, list[int] | None], np.ndarray] | None = None,
                 frame_numbers: list[int] | None = None, clock: StageClock | None = None,
                 give_up: Callable[[list[float], int], str | None] | None = None,
                 over_budget: Callable[[float], bool] | None = None,
                 budget_verdict: Callable[[Infer], str | None] | None = None):
        self.prep, self.preset, self.total, self.seed, self.dev = prep, preset, total, seed, device
        self.cb, self.vgg, self.checkpointing = callbacks, vgg, checkpointing
        self.early_stopping, self.compose = early_stopping, compose
        self.frame_numbers = list(frame_numbers) if frame_numbers is not None else list(range(prep.n_frames))
        self.clock = clock or StageClock()
        self.rng = np.random.default_rng(seed + 1)
        self.step = 0
        self.train_seconds = 0.0
        self.last_loss = float("nan")
        self._last_parts = None
        n = prep.n_frames
        if preset.per_frame:
            base = total // n
            self.frame_steps = [base + (1 if i < total - base * n else 0) for i in range(n)]
            self.best_fill = torch.zeros(n, 3, prep.box[2], prep.box[3], device=device)
            self.best_loss = [math.inf] * n
        self.distributed = distributed.start(device)
        self.rank = distributed.world()[0]
        if self.distributed and preset.per_frame:
            raise ConfigError(f"preset {preset.name} trains one network per frame and cannot run data-parallel; "
                              f"run it without torchrun")
        self.graphed = cuda_graphs and graphable(device, preset, self.distributed)
        self.segments = self._segments()
        self.starts = step_lookup(self.segments)
        self.model, self.optimizer = self._fresh_model(0)
        self.train_configs = list(range(1, 1 + preset.extra_hole_configs)) if prep.cfg_rgb is not None else []
        self.validate_every = max(total // VALIDATIONS, 1) if early_stopping is not None else 0
        self.best_error, self.best_state = math.inf, None
        self.give_up, self.errors = give_up, []
        self.stopped_at: int | None = None  # the step early stopping ended training at
        self.over_budget, self.budget_verdict, self.budget_checked = over_budget, budget_verdict, False
        self.checked_at: list[int] = []  # the step of each validation, for the log
        self._memo: tuple[int, torch.Tensor] | None = None  # (config, the whole shot's fill) of these weights
        self._best_is_current = False  # whether ``best_state`` holds the weights the network has now

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
        self._weights_changed()
        self.net = net  # the bare module: checkpoints and inference use it, DDP or not
        self.inference = GraphedForward(net, log=self.cb.note) if self.graphed else net
        model = distributed.wrap(net, self.dev) if self.distributed else net
        if self.graphed:
            return model, capturable_adam(net.parameters(), self.preset.lr)
        return model, torch.optim.Adam(net.parameters(), lr=self.preset.lr)

    # -- the network's fill ------------------------------------------------------------------
    def infer(self, indices: list[int] | None = None, config: int = 0) -> torch.Tensor:
        """The network's fill of ``indices`` (None: every frame) under input configuration
        ``config``, encoded (B, 3, h, w) at working size. The whole shot's fill is kept until
        the weights change: where the time budget stops training, the validation, the
        budget's verdict and the final choice each ask for the same one (inference is a pure
        function of the weights: batch statistics, no running ones)."""
        if indices is not None:
            return infer(self.inference, self.prep, self.preset, indices, config=config)
        if self._memo is None or self._memo[0] != config:
            self._memo = (config, infer(self.inference, self.prep, self.preset, None, config=config))
        return self._memo[1]

    def _weights_changed(self) -> None:
        self._memo, self._best_is_current = None, False

    def learned(self, indices: list[int] | None) -> torch.Tensor:
        """What training made of the real hole: the network's fill, or for a preset with a
        network per frame, each frame's best fill."""
        if self.preset.per_frame:
            idx = list(range(self.prep.n_frames)) if indices is None else indices
            return self.best_fill[idx]
        return self.infer(indices)

    # -- checkpoints -------------------------------------------------------------------------
    def restore(self, state: dict | None) -> int:
        """Take up a checkpoint's state; returns the step it was made at (0 for none)."""
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
        self._weights_changed()
        self.optimizer.load_state_dict(state["optimizer"])
        conform_optimizer(self.optimizer, capturable=self.graphed)  # it may come from the other kind of run
        torch.set_rng_state(state["torch_rng"])
        self.rng.bit_generator.state = json.loads(state["np_rng"])
        if "best_state" in state:
            self.best_state = state["best_state"]
            self.best_error = float(state["best_error"])
        return self.step

    def save(self) -> None:
        if self.checkpointing is None or self.rank != 0:  # rank 0 alone writes checkpoints
            return
        state = {"shot_fingerprint": self.checkpointing.shot_fingerprint, "settings": self.checkpointing.settings,
                 "step": self.step, "rank": self.rank, "train_seconds": self.train_seconds,
                 "model": self.net.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "torch_rng": torch.get_rng_state(), "np_rng": json.dumps(self.rng.bit_generator.state)}
        if self.best_state is not None:
            state["best_state"] = self.best_state
            state["best_error"] = self.best_error
        if self.preset.per_frame:
            state["best_fill"] = self.best_fill.cpu()
            state["best_loss"] = torch.tensor(self.best_loss, dtype=torch.float64)
        checkpoint.save(self.checkpointing.path, state)

    def _segment_at(self, step: int) -> int:
        for k, start in enumerate(self.starts):
            if start <= step < start + self.segments[k].steps:
                return k
        return len(self.segments)

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        """Train to the last step (checkpoints, progress, previews and early stopping on
        the way), then keep the weights early stopping chose."""
        cb, preset = self.cb, self.preset
        interval = 60.0 * (self.checkpointing.minutes if self.checkpointing else 3.0)
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
            lr = lr_at(preset, self.step, self.total)
            if graphed is not None:
                parts = graphed(self.prep, seg, config, lr)
            else:
                parts = train_step(self.model, self.optimizer, self.prep, seg, preset, vgg=self.vgg, config=config,
                                   lr=lr)
            self._last_parts = parts
            self._weights_changed()
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
            if self.checkpointing and now - last_ckpt >= interval:
                self.save()
                last_ckpt = time.monotonic()
            self._side_outputs()
            due = bool(self.validate_every) and self.step % self.validate_every == 0
            spent = bool(self.validate_every) and not self.budget_checked and not self.distributed \
                and self.over_budget is not None and self.budget_verdict is not None \
                and self.over_budget(self.train_seconds)
            if due or spent:
                reason = None
                with self.clock("held-out checks"):
                    self._validate()
                    if spent:
                        self.budget_checked = True
                        reason = self.budget_verdict(self.infer)
                if reason is None and self.give_up is not None:
                    reason = self.give_up(self.errors, (self.total - self.step) // self.validate_every)
                if reason:
                    cb.note(f"training stopped at step {self.step} of {self.total}: {reason}")
                    self.stopped_at, self.step = self.step, self.total  # finished: a later inference run uses it
                    self._progress()  # the bar shows training done
                    break
            tick = time.monotonic()
        self.clock.add("training", self.train_seconds - first_seconds)
        if self.errors:
            cb.note("held-out error by step: " + ", ".join(f"{step} {error:.5f}"
                                                          for step, error in zip(self.checked_at, self.errors)))
        if graphed is not None and graphed.replays + graphed.eager:
            cb.note(f"CUDA graphs: {len(graphed.graphs)} captured, {graphed.replays} steps replayed, "
                    f"{graphed.eager} eager")
        if self.checkpointing and self.step > first_step:  # a finished run reloaded for inference writes nothing
            self.save()
        if self.best_state is not None and not self._best_is_current:
            self.net.load_state_dict(self.best_state)
            self._weights_changed()

    @property
    def trained_to(self) -> int:
        """The last step trained: where early stopping ended training, else the loop's step."""
        return self.step if self.stopped_at is None else self.stopped_at

    def snapshot(self) -> None:
        """The last snapshot, of the output as it will be written."""
        if self.cb.on_snapshot is not None and self.cb.snapshot_every and self.compose is not None:
            self.cb.on_snapshot(self.step, self.train_seconds, self.compose(self.learned, None))

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
        if self.compose is None:
            return
        if cb.on_preview is not None and cb.preview_every and self.step % cb.preview_every == 0:
            n = self.prep.n_frames
            picks = sorted({round(k * (n - 1) / max(cb.preview_frames - 1, 1)) for k in range(cb.preview_frames)})
            frames = self.compose(self.learned, picks)
            cb.on_preview(self.step, {self.frame_numbers[i]: frames[k] for k, i in enumerate(picks)})
        if cb.on_snapshot is not None and cb.snapshot_every and self.step % cb.snapshot_every == 0 \
                and self.step < self.total:
            cb.on_snapshot(self.step, self.train_seconds, self.compose(self.learned, None))

    def _keep_best(self, frame: int, loss: float) -> None:
        if loss < self.best_loss[frame]:
            self.best_loss[frame] = loss
            self.best_fill[frame] = self.infer([frame])[0]

    def _validate(self) -> None:
        """Early stopping: remember the weights with the lowest validation error."""
        error = self.early_stopping(self.infer)
        self.errors.append(error)
        self.checked_at.append(self.step)
        if error < self.best_error:
            self.best_error = error
            self.best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            self._best_is_current = True
