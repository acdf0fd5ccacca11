"""A shot from disk to disk: validate, train, write the EXR sequence."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

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
    report = validate_shot(shot)
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
    data = load_shot_data(shot)
    index = {f: k for k, f in enumerate(shot.frames)}
    out = inpaint_arrays(data.rgb, data.holes, alpha=data.alpha, preset=preset, steps=shot.steps,
                         device=shot.device, seed=shot.seed, callbacks=cb, work_dir=work_dir(shot), fresh=fresh,
                         perceptual_weights=shot.perceptual_weights, frame_numbers=list(shot.frames), mode=mode,
                         indices=[index[f] for f in todo], checkpoint_minutes=shot.checkpoint_minutes)
    result.steps, result.train_seconds, result.resumed_from = out.steps, out.train_seconds, out.resumed_from
    if mode == "train":
        result.wall_seconds = time.monotonic() - started
        return result
    for k, f in enumerate(todo):
        img = data.images[index[f]]
        pixels = img.pixels.copy()
        pixels[..., list(data.rgb_index)] = out.frames[k]
        write_image(report.output_paths[f], pixels, img.spec, datatype=shot.output_datatype,
                    compression=shot.compression)
        result.frames_written.append(report.output_paths[f])
        if cb.on_progress is not None:
            cb.on_progress(Progress(k + 1, len(todo), out.final_loss, time.monotonic() - started, None, "write",
                                    f"wrote {report.output_paths[f]}"))
    result.wall_seconds = time.monotonic() - started
    return result
