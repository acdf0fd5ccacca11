"""One shot, arrays in and arrays out: the default pipeline wrapped around the training loop.

``inpaint_arrays`` is the array-level entry point (``renderer.api.inpaint``). It finds
the cuts in the frames (``pipeline.cuts``) and fills each side as its own shot with
``inpaint_set_up``, which plans the region (``pipeline.region``), makes the pre-fill and
the held-out holes (``pipeline.holdout``), prepares the paper's inputs
(``method.prepare``), runs the training loop (``loop``), chooses the fill
(``pipeline.selection``) and brings it back to plate resolution (``pipeline.output``).
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from . import checkpoint, distributed
from .callbacks import Callbacks
from .errors import CheckpointError, ConfigError, DeviceError, ShapeError
from .fill.chains import chain_sources
from .fill.classical import finite_frames
from .fill.grain import GrainModel, estimate_grain
from .fill.propagate import propagation_calls
from .io.config import GRAIN_MODES
from .loop import Checkpointing, TrainingLoop
from .method.flow import cached_reference_flow, fingerprint_arrays
from .method.losses import VGGFeatures
from .method.prepare import prepare
from .pipeline.cuts import find_cuts, sides
from .pipeline.finish import SMOOTH_PREFILLS, Finish, fine_detail
from .pipeline.holdout import input_configurations, judged_in_place, prefill_calls, thin_hole
from .pipeline.output import Output
from .pipeline.payoff import measures_reach, plan_learning
from .pipeline.plate import plate_fills
from .pipeline.region import Region, plan_context, plan_region, work_box
from .pipeline.selection import HeldOutCheck
from .pipeline.sourcemap import painted_map, plate_source_map, source_map
from .presets import Preset
from .stages import StageClock, ticking


@dataclass
class InpaintResult:
    """frames: composited scene-linear float32 (F, H, W, 3); known pixels are the input's."""

    frames: np.ndarray
    steps: int
    train_seconds: float
    # steps trained by this call: fewer than ``steps`` where early stopping ended training (the
    # checkpoint still counts ``steps``, finished), none where a finished checkpoint was loaded
    steps_trained: int = 0
    resumed_from: int = 0
    final_loss: float = float("nan")
    # wall seconds of each stage of this call, in the order they ran (``stages.StageClock``)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    # (B, H, W, 5) the source map of the frames returned (``pipeline.sourcemap``), when asked for
    source_map: np.ndarray | None = None
    # the fill the output is: "network", "blend" or a baseline's name ("propagation", ...); None where
    # there was nothing to fill
    kept: str | None = None


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


def inpaint_arrays(frames: np.ndarray, holes: np.ndarray, *, callbacks: Callbacks | None = None,
                   work_dir: str | os.PathLike | None = None, alpha: np.ndarray | None = None,
                   frame_numbers: list[int] | None = None, mode: str = "both", indices: list[int] | None = None,
                   references: dict[int, np.ndarray] | None = None, **settings) -> InpaintResult:
    """Train on (frames, holes) and return the composited frames: ``inpaint_set_up`` (whose
    arguments these are) on each side of every cut in the frames (``pipeline.cuts``), each
    side as its own shot, its checkpoints in a folder of ``work_dir`` named after its frames."""
    frames, holes = np.asarray(frames, dtype=np.float32), np.asarray(holes, dtype=bool)
    cb = callbacks or Callbacks()
    shaped = frames.ndim == 4 and frames.shape[-1] == 3 and holes.shape == frames.shape[:3]
    parts = sides(len(frames), find_cuts(frames, holes)) if shaped and holes.any() else [(0, len(frames))]
    given = dict(callbacks=cb, work_dir=work_dir, alpha=alpha, frame_numbers=frame_numbers, mode=mode,
                 indices=indices, references=references)
    if len(parts) == 1:
        return inpaint_set_up(frames, holes, **given, **settings)
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(frames)))
    idx = list(range(len(frames))) if indices is None else list(indices)
    cb.note("cuts in the plate: before frame " + ", ".join(str(numbers[a]) for a, _ in parts[1:])
            + f"; each of the {len(parts)} sides is filled as its own shot")
    results: list[tuple[tuple[int, int], list[int], InpaintResult]] = []
    for a, b in parts:
        wanted = [i - a for i in idx if a <= i < b]
        if mode != "train" and not wanted:
            continue
        side = dict(callbacks=side_callbacks(cb, frames, a, b),
                    work_dir=os.path.join(str(work_dir), f"frames-{numbers[a]}-{numbers[b - 1]}") if work_dir else None,
                    alpha=None if alpha is None else np.asarray(alpha, dtype=np.float32)[a:b],
                    frame_numbers=numbers[a:b], mode=mode, indices=wanted,
                    references={t - a: r for t, r in (references or {}).items() if a <= t < b})
        results.append(((a, b), wanted, inpaint_set_up(frames[a:b], holes[a:b], **side, **settings)))
    if not results:  # no frame asked for
        return InpaintResult(frames=frames[:0].copy(), steps=0, train_seconds=0.0)
    clock = StageClock()
    for _, _, r in results:
        for stage, seconds in r.stage_seconds.items():
            clock.add(stage, seconds)
    cb.note(f"time: {clock.summary()} (all sides)")
    return joined_results(results, idx, mode, clock.seconds)


def side_callbacks(cb: Callbacks, frames: np.ndarray, a: int, b: int) -> Callbacks:
    """``cb`` for the side [a, b) of a shot's ``frames``: its snapshots, which show every
    frame, show the plate on the other sides."""
    if cb.on_snapshot is None:
        return cb
    whole = frames.copy()

    def snapshot(step: int, seconds: float, part: np.ndarray) -> None:
        whole[a:b] = part
        cb.on_snapshot(step, seconds, whole)

    return replace(cb, on_snapshot=snapshot)


def joined_results(results: list, idx: list[int], mode: str, stage_seconds: dict[str, float]) -> InpaintResult:
    """One ``InpaintResult`` from each side's ``((a, b), wanted, result)``: the frames (and
    source maps) in the order of ``idx``, the training summed, every choice named."""
    where = {a + i: (k, p) for k, ((a, _), wanted, _) in enumerate(results) for p, i in enumerate(wanted)}
    parts = [r for _, _, r in results]
    frames = np.stack([parts[where[i][0]].frames[where[i][1]] for i in idx]) if mode != "train" else np.empty((0,))
    maps = None
    if mode != "train" and all(r.source_map is not None for r in parts):
        maps = np.stack([parts[where[i][0]].source_map[where[i][1]] for i in idx])
    kept = sorted({r.kept for r in parts if r.kept is not None})
    losses = [r.final_loss for r in parts if np.isfinite(r.final_loss)]
    return InpaintResult(frames=frames, steps=max(r.steps for r in parts),
                         train_seconds=sum(r.train_seconds for r in parts),
                         steps_trained=sum(r.steps_trained for r in parts),
                         resumed_from=max(r.resumed_from for r in parts),
                         final_loss=losses[-1] if losses else float("nan"),
                         stage_seconds=stage_seconds, source_map=maps, kept=" and ".join(kept) if kept else None)


def inpaint_set_up(frames: np.ndarray, holes: np.ndarray, *, preset: Preset, steps: int | None = None,
                   device: str = "cpu", seed: int = 0, callbacks: Callbacks | None = None,
                   work_dir: str | os.PathLike | None = None, fresh: bool = True,
                   perceptual_weights: str | None = None, alpha: np.ndarray | None = None,
                   frame_numbers: list[int] | None = None, mode: str = "both",
                   indices: list[int] | None = None, checkpoint_minutes: float = 3.0,
                   cuda_graphs: bool = True, references: dict[int, np.ndarray] | None = None,
                   want_source_map: bool = False, grain: str = "match") -> InpaintResult:
    """Train on (frames, holes) of one camera set-up and return the composited frames.

    frames float32 (F, H, W, 3) scene-linear; holes bool (F, H, W), True = fill;
    alpha float32 (F, H, W) compositing weight (default: the holes); work_dir holds
    the flow cache and checkpoints (None: no checkpoints); fresh=False resumes.
    mode "both" trains (or resumes) then infers; "train" stops after training;
    "infer" needs a finished checkpoint and retrains nothing. ``indices`` limits
    the frames returned (the result then holds only those, in that order).
    ``cuda_graphs``: on a CUDA device, replay each kind of training step from a CUDA graph
    (``method.graphs``); False trains eagerly, the same maths with ~900 launches per step.
    ``references``: frame index -> (H, W, 3) scene-linear, a clean frame the artist painted;
    its hole's pixels are that frame's output, and carried to the others (``paint_references``).
    ``want_source_map``: also return where each pixel came from (``InpaintResult.source_map``).
    ``grain``: "match" adds grain like the plate's to the pixels no frame shows (``fill.grain``);
    "off" leaves the fill clean.
    """
    started = time.monotonic()
    cb = callbacks or Callbacks()
    if grain not in GRAIN_MODES:
        raise ConfigError(f"grain must be one of {', '.join(GRAIN_MODES)}, got {grain!r}")
    frames = np.asarray(frames, dtype=np.float32)
    holes = np.asarray(holes, dtype=bool)
    if frames.ndim != 4 or frames.shape[-1] != 3 or holes.shape != frames.shape[:3]:
        raise ShapeError(f"inpaint needs frames (F, H, W, 3) and holes (F, H, W); got {frames.shape}, {holes.shape}")
    alpha = holes.astype(np.float32) if alpha is None else np.asarray(alpha, dtype=np.float32)
    numbers = list(frame_numbers) if frame_numbers is not None else list(range(len(frames)))
    drawn = holes  # the artist's hole, painted frames included, for the source map
    frames, holes, painted = paint_references(frames, holes, references)
    idx = list(range(len(frames))) if indices is None else list(indices)
    total = preset.steps(steps)
    if not alpha.any() or not holes.any():  # nothing to fill: nothing to learn, the frames come back as they are
        cb.note("nothing to fill in these frames: they are returned unchanged" if not painted else
                "every hole is painted by a reference: the paintings are the fill")
        kept = frames if indices is None else frames[list(indices)]
        empty = np.zeros(holes.shape, np.int16)
        return InpaintResult(frames=kept.copy() if mode != "train" else np.empty((0,)), steps=0, train_seconds=0.0,
                             source_map=painted_map(source_map(holes, empty, holes)[idx], drawn, painted,
                                                    idx) if want_source_map else None)
    # the plate as given is what known pixels are composited from; every fill reads a copy
    # whose pixels that are not numbers (NaN, infinity) are replaced from around them
    given, (frames, unusable) = frames, finite_frames(frames)
    if unusable.any():
        cb.note(unusable_note(unusable, numbers))
    dev = resolve_device(device)
    torch.manual_seed(seed)
    clock = StageClock()
    region = plan_region(alpha > 0, holes, preset)
    work_frames, work_holes = region.crop(frames), region.crop_holes(holes)
    context = plan_context(region, frames) if preset.propagation_prior else None
    with clock("reach"):
        distance, from_painting = chain_sources(work_frames, work_holes, painted) \
            if measures_reach(preset) or want_source_map or grain == "match" else (None, None)
        plan = plan_learning(distance, work_holes, preset)
    map_of = None if distance is None else (
        lambda index: painted_map(plate_source_map(region, holes, source_map(work_holes, distance, from_painting),
                                                   index), drawn, painted, index))
    # the grain and the detail layer look at the work box alone, as every other stage does, so
    # that whole frames give what a render gives, which reads only that box (decision 0039)
    seen = work_box(region)
    with clock("grain"):
        model = grain_of(within(frames, seen), within(holes, seen), cb) if grain == "match" else None
    finish = Finish(map_of if want_source_map else None, model, seed, numbers,
                    paintings={t: (drawn[t], frames[t]) for t in painted})
    finish.lay(*fine_detail(frames, holes, region, work_holes, distance, preset, seed, model, clock, cb), map_of)
    if not plan.learn:  # no training configurations to pre-fill: only the real hole and the held-out one
        preset = replace(preset, extra_hole_configs=0)
    # the reference flow and the plate-resolution fill are mostly OpenCV work, which releases the GIL:
    # they run on a thread beside the pre-fill (their notes are passed on from this thread)
    notes: list[str] = []
    n = len(frames)
    # a smooth fill competes where the network may learn, on a hole thin enough to fill from its
    # rim, and on one that stays put, whose held-out copies stay put too (docs/decisions/0062)
    smooth_rival = plan.learn or thin_hole(work_holes) or judged_in_place(work_holes, painted)
    expected = prefill_calls(preset, n, smooth_rival=smooth_rival) \
        + (propagation_calls(n) if region.scaled and preset.propagation_prior else 0) \
        + (sum(max(n - s, 0) for s in preset.strides) if preset.use_flow and plan.learn else 0)
    with ticking(cb, "fill", expected, "flow and pre-fill"), \
            ThreadPoolExecutor(1, thread_name_prefix="beside-prefill") as beside:
        ref_job = beside.submit(clock.timed("reference flow", cached_reference_flow), work_frames, preset.strides,
                                str(work_dir) if work_dir else None, log=notes.append) \
            if preset.use_flow and plan.learn else None
        plate_job = beside.submit(clock.timed("plate-resolution fill", plate_fills), frames, holes, region, preset,
                                  device=dev, references=painted)
        with clock("pre-fill"):
            configs, baseline_errors, prefill_name = input_configurations(work_frames, work_holes, preset, seed, cb,
                                                                          context=context, device=dev,
                                                                          references=painted,
                                                                          smooth_rival=smooth_rival)
        with clock("waiting for flow and plate fill"):
            ref = ref_job.result() if ref_job is not None else None
            plate = plate_job.result()
    for text in notes:
        cb.note(text)
    if prefill_name in SMOOTH_PREFILLS and distance is not None:
        # a per-frame smooth pre-fill carries nothing from other frames: every hole pixel is
        # synthesised, in the source map and for the detail layer
        distance[...], from_painting[...] = 0, False
        finish.lay(*fine_detail(frames, holes, region, work_holes, distance, preset, seed, model, clock, None),
                   map_of)
    if not plan.learn:
        cb.note(plan.line(prefill_name))
        return without_learning(Output(given, alpha, region, configs=configs, work_frames=work_frames,
                                       prefill_name=prefill_name, context=context, device=dev, plate_fills=plate,
                                       references=painted),
                                clock, cb, mode, indices, finish)
    if plan.learn and plan.threshold > 0:
        cb.note(plan.line(prefill_name))
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
    output = Output(given, alpha, region, configs=configs, work_frames=work_frames, prefill_name=prefill_name,
                    context=context, device=dev, plate_fills=plate, references=painted)
    check = HeldOutCheck(configs, work_frames, baseline_errors, prefill_name, dev, started) if configs else None
    selecting = preset.select_on_validation and preset.input_mode == "masked"
    loop = TrainingLoop(prep, preset, total, seed=seed, device=dev, callbacks=cb, vgg=vgg,
                        checkpointing=checkpointing, cuda_graphs=cuda_graphs,
                        early_stopping=check.validation_error if selecting else None,
                        compose=output.frames_for, frame_numbers=numbers, clock=clock,
                        give_up=check.give_up if selecting and check is not None else None,
                        over_budget=check.over_budget if selecting and check is not None else None,
                        budget_verdict=check.budget_verdict if selecting and check is not None else None)
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
                           steps_trained=max(loop.trained_to - resumed, 0),
                           resumed_from=resumed, final_loss=loop.last_loss, stage_seconds=clock.seconds,
                           kept=output.choice)
    if mode != "train" and distributed.is_main():
        with clock("output"):
            finish(result, output.frames_for(loop.learned, idx), idx)
    cb.note(f"time: {clock.summary()}")
    return result


def unusable_note(unusable: np.ndarray, numbers: list[int]) -> str:
    """The log's line for bool (F, H, W) ``unusable``, the plate's pixels that are not
    numbers (``fill.classical.finite_frames``), in frames named by ``numbers``."""
    frames = [numbers[t] for t in np.flatnonzero(unusable.any(axis=(1, 2)))]
    return (f"the plate holds {int(unusable.sum())} pixel(s) that are not numbers (NaN or infinity) in "
            f"{len(frames)} frame(s), the first {frames[0]}: no fill reads them; outside the hole they are "
            f"written as they are, inside it they are filled (fix them upstream, or roto them in to replace them)")


def paint_references(frames: np.ndarray, holes: np.ndarray, references: dict[int, np.ndarray] | None
                     ) -> tuple[np.ndarray, np.ndarray, frozenset]:
    """The shot with each painted frame's hole replaced by its painting and no longer a
    hole: the fills and the network take it as footage (``fill.propagate``), and on its
    own frame the painting is the output. frames (F, H, W, 3), holes bool (F, H, W);
    ``references`` index -> (H, W, 3). Returns (frames, holes, the painted indices)."""
    if not references:
        return frames, holes, frozenset()
    frames, holes = frames.copy(), holes.copy()
    for index, painting in references.items():
        painting = np.asarray(painting, dtype=np.float32)
        if not 0 <= index < len(frames):
            raise ShapeError(f"reference for frame index {index}, but the shot has {len(frames)} frames")
        if painting.shape != frames.shape[1:]:
            raise ShapeError(f"reference for frame index {index} is {painting.shape[1]}x{painting.shape[0]}, "
                             f"the plate {frames.shape[2]}x{frames.shape[1]}: paint on a frame of the plate's size")
        frames[index] = np.where(holes[index][..., None], painting, frames[index])
        holes[index] = False
    return frames, holes, frozenset(references)


def grain_of(frames: np.ndarray, holes: np.ndarray, cb: Callbacks) -> GrainModel | None:
    """The plate's grain (``fill.grain.estimate_grain`` on its known pixels), said in the
    log; None where the frames are too small to measure it (then the fill stays clean)."""
    try:
        model = estimate_grain(frames, ~holes)
    except ShapeError as exc:
        cb.note(f"grain: not measured ({exc}); the fill is left clean")
        return None
    cb.note("grain: " + ("none found in the plate; the fill is left clean" if model.is_clean else
                         f"matched (strength {model.strength:.4f}, size {max(model.size):.2f} px)"))
    return model


def within(video: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """(F, H, W, ...) -> the frames cut to ``box`` (y0, x0, y1, x1), half-open; a view."""
    y0, x0, y1, x1 = box
    return video[:, y0:y1, x0:x1]


def without_learning(output: Output, clock: StageClock, cb: Callbacks, mode: str, indices,
                     finish: Finish) -> InpaintResult:
    """The result when nothing is trained (``pipeline.payoff``): the pre-fill, at plate
    resolution, composited. Nothing is checkpointed: a later ``infer`` call makes the same
    decision from the same frames."""
    output.choice = output.prefill_name
    result = InpaintResult(frames=np.empty((0,)), steps=0, train_seconds=0.0, stage_seconds=clock.seconds,
                           kept=output.choice)
    if mode != "train" and distributed.is_main():
        idx = list(range(len(output.frames))) if indices is None else list(indices)
        with clock("output"):
            finish(result, output.frames_for(None, idx), idx)
    cb.note(f"time: {clock.summary()}")
    return result
