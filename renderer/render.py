"""A shot from disk to disk: validate, train, write the EXR sequence."""

from __future__ import annotations

import os
import time

import numpy as np
from dataclasses import dataclass, field

from . import distributed
from .callbacks import Callbacks, Progress
from .config import ShotConfig, work_dir
from .engine import inpaint_arrays
from .errors import ConfigError
from .exrio import write_image
from .presets import get_preset
from .shot import load_shot_data, validate_shot


@dataclass
class RenderResult:
    """What a render did. ``frames_written`` excludes frames skipped because they existed."""

    output_paths: dict[int, str] = field(default_factory=dict)
    frames_written: list[str] = field(default_factory=list)
    frames_skipped: list[str] = field(default_factory=list)
    steps: int = 0
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    resumed_from: int = 0


def plan_windows(n_frames: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Split ``n_frames`` into windows [a, b) of at most ``size`` frames that overlap
    by ``overlap`` frames; one window when the shot fits."""
    if n_frames <= size:
        return [(0, n_frames)]
    count = -(-(n_frames - overlap) // (size - overlap))
    size = -(-(n_frames + (count - 1) * overlap) // count)  # balance the windows
    starts = [round(k * (n_frames - size) / (count - 1)) for k in range(count)]
    return [(a, a + size) for a in starts]


def window_weights(n_frames: int, windows: list[tuple[int, int]], w: int) -> list[float]:
    """Cross-fade weights of window ``w`` for every frame of the shot (0 outside it):
    a linear ramp across each overlap with a neighbouring window, 1 elsewhere."""
    a, b = windows[w]
    weights = [0.0] * n_frames
    for i in range(a, b):
        wt = 1.0
        if w > 0 and i < windows[w - 1][1]:
            span = windows[w - 1][1] - a
            wt = min(wt, (i - a + 1) / (span + 1))
        if w + 1 < len(windows) and i >= windows[w + 1][0]:
            span = b - windows[w + 1][0]
            wt = min(wt, (b - i) / (span + 1))
        weights[i] = wt
    return weights


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
    windows = plan_windows(len(shot.frames), shot.window_frames, shot.window_overlap)
    # one window: load_shot_data reads (and checks) every plate before anything is written;
    # several: a later window's plates are read only after earlier frames were written
    report = validate_shot(shot, read_pixels=len(windows) > 1)
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
        cb.note(f"long shot: {len(windows)} windows of up to {shot.window_frames} frames, "
                f"{shot.window_overlap} overlapping")
    pending: dict[int, list] = {}  # frame -> [weighted sum, weight, image] until every window has spoken
    needed = {f: [w for w, (a, b) in enumerate(windows) if a <= shot.frames.index(f) < b] for f in todo}
    written = 0
    for w, (a, b) in enumerate(windows):
        frames_w = shot.frames[a:b]
        todo_w = [f for f in todo if f in frames_w]
        if mode != "train" and not todo_w:
            continue
        data = load_shot_data(shot, frames_w)
        work = work_dir(shot) if len(windows) == 1 else work_dir(shot) / f"window-{frames_w[0]}-{frames_w[-1]}"
        index = {f: k for k, f in enumerate(frames_w)}
        out = inpaint_arrays(data.rgb, data.holes, alpha=data.alpha, preset=preset, steps=shot.steps,
                             device=shot.device, seed=shot.seed, callbacks=cb, work_dir=work, fresh=fresh,
                             perceptual_weights=shot.perceptual_weights, frame_numbers=list(frames_w), mode=mode,
                             indices=[index[f] for f in todo_w], checkpoint_minutes=shot.checkpoint_minutes)
        result.steps = out.steps
        result.train_seconds += out.train_seconds
        result.resumed_from = max(result.resumed_from, out.resumed_from)
        if mode == "train" or not distributed.is_main():
            continue
        weights = window_weights(len(shot.frames), windows, w)
        for k, f in enumerate(todo_w):
            entry = pending.setdefault(f, [0.0, 0.0, data.images[index[f]], data.alpha[index[f]]])
            wt = weights[a + index[f]]
            entry[0] = entry[0] + wt * out.frames[k]
            entry[1] += wt
            needed[f].remove(w)
            if needed[f]:
                continue
            total, weight, img, alpha = pending.pop(f)
            pixels = img.pixels.copy()
            source = pixels[..., list(data.rgb_index)]
            # blending two composites can round known pixels: take those from the plate itself
            pixels[..., list(data.rgb_index)] = np.where(alpha[..., None] > 0, total / weight, source)
            write_image(report.output_paths[f], pixels, img.spec, datatype=shot.output_datatype,
                        compression=shot.compression)
            result.frames_written.append(report.output_paths[f])
            written += 1
            if cb.on_progress is not None:
                cb.on_progress(Progress(written, len(todo), out.final_loss, time.monotonic() - started, None,
                                        "write", f"wrote {report.output_paths[f]}"))
    result.wall_seconds = time.monotonic() - started
    return result
