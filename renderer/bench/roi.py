"""The region-of-interest rule, measured: a large plate with a small hole should
train about as fast as a plate the size of the hole's region alone.

Both shots are synthetic (a drifting smooth texture, a moving box hole of the same
size); the time per step is the training loop's own time divided by its steps, so
flow, propagation and I/O are left out, as is the first (warm-up) run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass
class RoiRow:
    plate: str
    hole: str
    working_size: str
    seconds_per_step: float
    total_seconds: float


def _shot(h: int, w: int, hole_hw: tuple[int, int], frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    small = rng.random((h // 8 + 2, w // 8 + frames + 2, 3)).astype(np.float32)
    big = cv2.resize(small, ((w // 8 + frames + 2) * 8, (h // 8 + 2) * 8), interpolation=cv2.INTER_CUBIC)
    rgb = np.stack([big[:h, 2 * k:2 * k + w] for k in range(frames)]).astype(np.float32)
    holes = np.zeros((frames, h, w), bool)
    hh, hw = hole_hw
    for k in range(frames):
        y, x = (h - hh) // 2, (w - hw) // 2 + k - frames // 2
        holes[k, y:y + hh, x:x + hw] = True
    return np.clip(rgb, 0, None), holes


def roi_rows(plate=(1080, 2048), hole=(150, 200), frames: int = 8, steps: int = 10, preset: str = "standard",
             device: str = "cpu") -> list[dict]:
    """Time per step on the big plate and on a plate cut to its region alone."""
    from ..inpaint import inpaint_arrays
    from ..presets import get_preset
    from ..pipeline.region import plan_region

    p = get_preset(preset)
    frames_big, holes_big = _shot(*plate, hole, frames)
    region = plan_region(holes_big, holes_big, p)
    y0, x0, y1, x1 = region.box
    cases = [("full plate", frames_big, holes_big),
             ("region alone", np.ascontiguousarray(frames_big[:, y0:y1, x0:x1]),
              np.ascontiguousarray(holes_big[:, y0:y1, x0:x1]))]
    rows = []
    for name, f, h in cases:
        started = time.monotonic()
        out = inpaint_arrays(f, h, preset=p, steps=steps, device=device, seed=0)
        work = plan_region(h, h, p).working_size
        rows.append(asdict(RoiRow(plate=f"{name} {f.shape[2]}x{f.shape[1]}", hole=f"{hole[1]}x{hole[0]}",
                                  working_size=f"{work[1]}x{work[0]}",
                                  seconds_per_step=round(out.train_seconds / steps, 4),
                                  total_seconds=round(time.monotonic() - started, 1))))
    return rows


if __name__ == "__main__":  # python -m renderer.bench.roi
    rows = roi_rows()
    print("| plate | hole | working size | s/step | total s |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['plate']} | {r['hole']} | {r['working_size']} | {r['seconds_per_step']} | {r['total_seconds']} |")
    print(f"ratio full/region: {rows[0]['seconds_per_step'] / rows[1]['seconds_per_step']:.2f}")
