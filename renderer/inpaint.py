"""One shot, arrays in and arrays out: the default pipeline wrapped around the training loop.

``inpaint_arrays`` is the array-level entry point (``renderer.api.inpaint``). It plans
the region (``pipeline.region``), makes the pre-fill and the held-out holes
(``pipeline.holdout``), prepares the paper's inputs (``method.prepare``), runs the
training loop (``loop``), chooses the fill (``pipeline.selection``) and brings it back
to plate resolution (``pipeline.output``).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import checkpoint, distributed
from .callbacks import Callbacks
from .errors import CheckpointError, DeviceError, ShapeError
from .fill.propagate import propagation_calls
from .loop import Checkpointing, TrainingLoop
from .method.flow import cached_reference_flow, fingerprint_arrays
from .method.losses import VGGFeatures
from .method.prepare import prepare
from .pipeline.holdout import input_configurations, prefill_calls
from .pipeline.output import Output
from .pipeline.plate import plate_fills
from .pipeline.region import Region, plan_context, plan_region
from .pipeline.selection import HeldOutCheck
from .presets import Preset
from .stages import StageClock, ticking


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


def run_settings(preset: Preset, total: int, seed: int, region: Region) -> str:
    """What a checkpoint must have been made with to be resumed."""
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
    (``method.graphs``); False trains eagerly, the same maths with ~900 launches per step.
    """
    cb = callbacks or Callbacks()
    frames = np.asarray(frames, dtype=np.float32)
    holes = np.asarray(holes, dtype=bool)
    if frames.ndim != 4 or frames.shape[-1] != 3 or holes.shape != frames.shape[:3]:
        raise ShapeError(f"inpaint needs frames (F, H, W, 3) and holes (F, H, W); got {frames.shape}, {holes.shape}")
    alpha = holes.astype(np.float32) if alpha is None else np.asarray(alpha, dtype=np.float32)
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(frames)))
    total = preset.steps(steps)
    if not alpha.any():  # nothing to fill: nothing to learn, the frames come back as they are
        cb.note("nothing to fill in these frames: they are returned unchanged")
        kept = frames if indices is None else frames[list(indices)]
        return InpaintResult(frames=kept.copy() if mode != "train" else np.empty((0,)), steps=0, train_seconds=0.0)
    dev = resolve_device(device)
    torch.manual_seed(seed)
    clock = StageClock()
    region = plan_region(alpha > 0, holes, preset)
    work_frames, work_holes = region.crop(frames), region.crop_holes(holes)
    context = plan_context(region, frames) if preset.propagation_prior else None
    # the reference flow and the plate-resolution fill are mostly OpenCV work, which releases the GIL:
    # they run on a thread beside the pre-fill (their notes are passed on from this thread)
    notes: list[str] = []
    n = len(frames)
    expected = prefill_calls(preset, n) + (propagation_calls(n) if region.scaled and preset.propagation_prior else 0) \
        + (sum(max(n - s, 0) for s in preset.strides) if preset.use_flow else 0)
    with ticking(cb, "fill", expected, "flow and pre-fill"), \
            ThreadPoolExecutor(1, thread_name_prefix="beside-prefill") as beside:
        ref_job = beside.submit(clock.timed("reference flow", cached_reference_flow), work_frames, preset.strides,
                                str(work_dir) if work_dir else None, log=notes.append) if preset.use_flow else None
        plate_job = beside.submit(clock.timed("plate-resolution fill", plate_fills), frames, holes, region, preset,
                                  device=dev)
        with clock("pre-fill"):
            configs, baseline_errors, prefill_name = input_configurations(work_frames, work_holes, preset, seed, cb,
                                                                          context=context, device=dev)
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
        vgg = VGGFeatures.from_file(perceptual_weights).to(dev)
        cb.note(f"perceptual loss: on (VGG16 weights from {perceptual_weights})")
    else:
        vgg = None
        cb.note("perceptual loss: off (no local VGG16 weights file named; set perceptual_weights to use it)")

    settings = run_settings(preset, total, seed, region)
    shot_fp = fingerprint_arrays(work_frames, work_holes)
    checkpointing = Checkpointing(os.path.join(str(work_dir), checkpoint.FILENAME), shot_fp, settings,
                                  checkpoint_minutes) if work_dir else None
    # inference trains nothing: a finished checkpoint serves whatever step count the command line carries
    state = None if (fresh or checkpointing is None) else checkpoint.load(checkpointing.path,
                                                                          shot_fingerprint=shot_fp,
                                                                          settings=settings,
                                                                          any_steps=mode == "infer")
    if mode == "infer" and state is not None and checkpoint.steps_of(state) != total:
        total = checkpoint.steps_of(state)
        settings = run_settings(preset, total, seed, region)
        checkpointing = replace(checkpointing, settings=settings)
    output = Output(frames, alpha, region, configs=configs, work_frames=work_frames, prefill_name=prefill_name,
                    context=context, device=dev, plate_fills=plate)
    check = HeldOutCheck(configs, work_frames, baseline_errors, prefill_name, dev) if configs else None
    selecting = preset.select_on_validation and preset.input_mode == "masked"
    loop = TrainingLoop(prep, preset, total, seed=seed, device=dev, callbacks=cb, vgg=vgg,
                        checkpointing=checkpointing, cuda_graphs=cuda_graphs,
                        early_stopping=check.validation_error if selecting else None,
                        compose=output.frames_for, frame_numbers=numbers, clock=clock)
    resumed = loop.restore(state)
    if mode == "infer" and resumed < total:
        raise CheckpointError(f"no finished training for this shot in {work_dir} (at step {resumed} of {total}); "
                              f"run 'renderer train' first, or 'renderer render' without --frames")
    if resumed:
        cb.note(f"resumed from step {resumed} of {total} ({checkpointing.path})")
    loop.run()
    if preset.select_on_validation and check is not None:
        with clock("selection"):
            output.choice = check.select(loop.infer, cb.note)
    loop.snapshot()
    result = InpaintResult(frames=np.empty((0,)), steps=total, train_seconds=loop.train_seconds,
                           resumed_from=resumed, final_loss=loop.last_loss, stage_seconds=clock.seconds)
    if mode != "train" and distributed.is_main():
        idx = list(range(len(frames))) if indices is None else list(indices)
        with clock("output"):
            result.frames = output.frames_for(loop.learned, idx)
    cb.note(f"time: {clock.summary()}")
    return result
