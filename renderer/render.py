"""A shot from disk to disk: validate, train, write the EXR sequence."""

from __future__ import annotations

import os
import time

from dataclasses import dataclass, field, replace

import numpy as np
import OpenImageIO as oiio

from . import distributed
from .callbacks import Callbacks, Progress
from .errors import ConfigError, InputError
from .inpaint import inpaint_arrays
from .io.config import ShotConfig, work_dir
from .io.exrio import read_image, rgb_indices, write_image
from .io.sequences import frame_path
from .io.shot import ShotWindow, load_shot_window, validate_shot
from .pipeline.region import region_around, work_box
from .pipeline.sourcemap import CHANNELS as SOURCE_MAP_CHANNELS
from .presets import get_preset
from .windows import (blend_windows, memory_available, plan_windows, plan_windows_within, read_plan, window_weights,
                      write_plan)


@dataclass
class RenderResult:
    """What a render did. ``frames_written`` excludes frames skipped because they existed."""

    output_paths: dict[int, str] = field(default_factory=dict)
    frames_written: list[str] = field(default_factory=list)
    frames_skipped: list[str] = field(default_factory=list)
    steps: int = 0
    steps_trained: int = 0  # over every window, as ``InpaintResult.steps_trained``
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    resumed_from: int = 0


def _reading(cb: Callbacks, started: float):
    """``load_shot_window``'s progress as the "read" stage."""
    if cb.on_progress is None:
        return None
    return lambda done, total: cb.on_progress(Progress(done, total, float("nan"), time.monotonic() - started, None,
                                                       "read", "reading plates and mattes"))


def _on_whole_frames(cb: Callbacks, data: ShotWindow) -> Callbacks:
    """``cb`` with its previews and snapshots, which the work makes inside the window's box,
    shown on whole frames (the plate's RGB around the box)."""
    if cb.on_preview is None and cb.on_snapshot is None:
        return cb

    def whole(frame: int, rgb: np.ndarray) -> np.ndarray:
        plate = read_image(data.plate_paths[frame]).pixels[..., list(data.rgb_index)]
        y0, x0, y1, x1 = data.box
        plate[y0:y1, x0:x1] = rgb
        return plate

    preview = None if cb.on_preview is None else (
        lambda step, frames: cb.on_preview(step, {f: whole(f, rgb) for f, rgb in frames.items()}))
    snapshot = None if cb.on_snapshot is None else (
        lambda step, seconds, frames: cb.on_snapshot(
            step, seconds, np.stack([whole(f, rgb) for f, rgb in zip(data.plate_paths, frames)])))
    return replace(cb, on_preview=preview, on_snapshot=snapshot)


def read_references(shot: ShotConfig, frames_w, data: ShotWindow) -> dict[int, np.ndarray]:
    """The shot's painted reference frames that fall in this window: index in the window ->
    (h, w, 3) scene-linear, cut to the window's box like the plates."""
    out = {}
    for ref in shot.references:
        if ref.frame not in frames_w:
            continue
        image = read_image(ref.path)  # a missing or unreadable file is an InputError naming it
        if image.pixels.shape[:2] != tuple(data.frame_size):
            raise InputError(f"reference frame {ref.frame} ({ref.path}) is {image.pixels.shape[1]}x"
                             f"{image.pixels.shape[0]}, the plate {data.frame_size[1]}x{data.frame_size[0]}: "
                             f"paint on a frame of the plate's size")
        y0, x0, y1, x1 = data.box
        rgb = image.pixels[..., list(rgb_indices(image.channels, image.path))]
        out[list(frames_w).index(ref.frame)] = np.ascontiguousarray(rgb[y0:y1, x0:x1], dtype=np.float32)
    return out


def write_source_map(path: str, plate, part, compression: str) -> None:
    """Frame ``path`` of the source map (``pipeline.sourcemap``): the plate's data window
    and metadata, the map's channels in half float; ``part`` (box, (h, w, 5) map) or None
    where the frame had nothing to fill."""
    h, w = plate.pixels.shape[:2]
    pixels = np.zeros((h, w, len(SOURCE_MAP_CHANNELS)), np.float32)
    pixels[..., SOURCE_MAP_CHANNELS.index("A")] = 1.0
    if part is not None:
        (y0, x0, y1, x1), box_map = part
        pixels[y0:y1, x0:x1] = box_map
    spec = oiio.ImageSpec(plate.spec)
    spec.nchannels = len(SOURCE_MAP_CHANNELS)
    spec.channelnames = SOURCE_MAP_CHANNELS
    spec.alpha_channel = SOURCE_MAP_CHANNELS.index("A")
    write_image(path, pixels, spec, datatype="half", compression=compression)


def render_shot(shot: ShotConfig, *, fresh: bool = False, callbacks: Callbacks | None = None,
                frames: tuple[int, ...] | None = None, mode: str = "both", skip_existing: bool = False
                ) -> RenderResult:
    """Train (or resume) on the whole shot, then write ``frames`` (default: all).

    mode "train" writes no frames; "infer" needs a finished checkpoint.
    skip_existing leaves frames whose output file already exists untouched.
    """
    started = time.monotonic()
    cb = callbacks or Callbacks()
    preset = get_preset(shot.preset)
    planned = plan_windows(len(shot.frames), shot.window_frames, shot.window_overlap)
    # one window: load_shot_window reads (and checks) every plate before anything is written;
    # several: a later window's plates are read only after earlier frames were written
    report = validate_shot(shot, read_pixels=len(planned) > 1)
    # a plan kept by an earlier run (train, or another machine) names the windows its checkpoints are in
    kept = None if fresh else read_plan(work_dir(shot), shot.frames)
    windows = kept or plan_windows_within(report, shot.frames, preset, shot.window_frames, shot.window_overlap,
                                          memory_available())
    if len(windows) > 1 and len(planned) == 1:
        validate_shot(shot, read_pixels=True)
    wanted = tuple(frames) if frames else shot.frames
    outside = [f for f in wanted if f not in shot.frames]
    if outside:
        raise ConfigError(f"--frames asks for {outside[0]}, outside the shot's frames {shot.frame_range}")
    todo = [f for f in wanted if not (skip_existing and os.path.isfile(report.output_paths[f]))]
    result = RenderResult(output_paths={f: report.output_paths[f] for f in wanted})
    result.frames_skipped = [report.output_paths[f] for f in wanted if f not in todo]
    if mode != "train" and not todo:
        cb.note(f"all {len(wanted)} frame(s) already written; nothing to do")
        return result
    if len(windows) > 1:
        sizes = [b - a for a, b in windows]
        cb.note(f"long shot: {len(windows)} windows of up to {max(sizes)} frames, "
                f"{max(windows[0][1] - windows[1][0], 0)} overlapping")
    pending: dict[int, list] = {}  # frame -> each window's (weight, box, fill, alpha), until all have spoken
    maps: dict[int, tuple] = {}  # frame -> (box, source map in the box), with shot.source_map
    needed = {f: [w for w, (a, b) in enumerate(windows) if a <= shot.frames.index(f) < b] for f in todo}
    written = 0
    for w, (a, b) in enumerate(windows):
        frames_w = shot.frames[a:b]
        todo_w = [f for f in todo if f in frames_w]
        if mode != "train" and not todo_w:
            continue
        weights = window_weights(len(shot.frames), windows, w)
        loss = float("nan")
        if all(report.support.get(f) is None for f in frames_w):  # nothing to fill: the plates pass through
            parts = {f: (weights[shot.frames.index(f)], None, None, None) for f in todo_w}
        else:
            # only the box the work reads is kept: memory follows the hole's region, not the plate
            data = load_shot_window(shot, frames_w,
                                    lambda support, size: work_box(region_around(support, size, preset)),
                                    progress=_reading(cb, started))
            if kept is None:  # the input is read and sound: from here on the work folder is written
                write_plan(work_dir(shot), shot.frames, windows)
                kept = windows
            work = work_dir(shot) if len(windows) == 1 else work_dir(shot) / f"window-{frames_w[0]}-{frames_w[-1]}"
            index = {f: k for k, f in enumerate(frames_w)}
            out = inpaint_arrays(data.rgb, data.holes, alpha=data.alpha, preset=preset, steps=shot.steps,
                                 references=read_references(shot, frames_w, data),
                                 device=shot.device, seed=shot.seed, callbacks=_on_whole_frames(cb, data),
                                 work_dir=work, fresh=fresh, perceptual_weights=shot.perceptual_weights,
                                 frame_numbers=list(frames_w), mode=mode, indices=[index[f] for f in todo_w],
                                 checkpoint_minutes=shot.checkpoint_minutes, want_source_map=bool(shot.source_map),
                                 grain=shot.grain)
            result.steps = out.steps
            result.steps_trained += out.steps_trained
            result.train_seconds += out.train_seconds
            result.resumed_from = max(result.resumed_from, out.resumed_from)
            loss = out.final_loss
            if mode != "train":
                parts = {f: (weights[a + index[f]], data.box, out.frames[k], data.alpha[index[f]])
                         for k, f in enumerate(todo_w)}
                if out.source_map is not None:  # the last window to render a frame gives its map
                    maps.update({f: (data.box, out.source_map[k]) for k, f in enumerate(todo_w)})
        if mode == "train" or not distributed.is_main():
            continue
        for f in todo_w:
            pending.setdefault(f, []).append(parts[f])
            needed[f].remove(w)
            if needed[f]:
                continue
            image = read_image(frame_path(shot.source, f))
            write_image(report.output_paths[f], blend_windows(image, rgb_indices(image.channels, image.path),
                                                              pending.pop(f)),
                        image.spec, datatype=shot.output_datatype, compression=shot.compression)
            result.frames_written.append(report.output_paths[f])
            if shot.source_map:
                write_source_map(frame_path(shot.source_map, f), image, maps.pop(f, None), shot.compression)
            written += 1
            if cb.on_progress is not None:
                cb.on_progress(Progress(written, len(todo), loss, time.monotonic() - started, None,
                                        "write", f"wrote {report.output_paths[f]}"))
    result.wall_seconds = time.monotonic() - started
    return result
