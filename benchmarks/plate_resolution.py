"""`standard` on a 2048x1080 plate with a small moving hole: the path that trains below
plate resolution and brings the fill back to it (``renderer.pipeline.region``). Prints the log's
held-out check and time line, wall seconds, peak RSS and hole PSNR against the clip.

    .venv/bin/python benchmarks/plate_resolution.py CLIP [STEPS]

CLIP: bikes.mp4 of the development clips; 300 steps by default; 16 frames from frame 10, a 150x200
box at (500, 900) moving 3 px a frame to the right (benchmarks/README.md, "A 2048x1080 plate").
"""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from renderer.callbacks import Callbacks
from renderer.inpaint import inpaint_arrays
from renderer.evaluate import metrics
from renderer.evaluate.clips import read_video
from renderer.presets import STANDARD

FRAMES, HEIGHT, WIDTH = 16, 1080, 2048


def moving_box(n: int) -> np.ndarray:
    holes = np.zeros((n, HEIGHT, WIDTH), bool)
    for t in range(n):
        holes[t, 500:650, 900 + 3 * t:1100 + 3 * t] = True
    return holes


def main(clip: str, steps: int) -> None:
    frames = read_video(clip, 10, FRAMES, HEIGHT, WIDTH)
    holes = moving_box(FRAMES)
    shown = ("held-out check", "time:")
    log = Callbacks(log=lambda line: print(line, flush=True) if line.startswith(shown) else None)
    start = time.perf_counter()
    result = inpaint_arrays(frames, holes, preset=STANDARD, steps=steps, callbacks=log)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    psnr = metrics.hole_psnr(metrics.to_display(result.frames), metrics.to_display(frames), holes)
    untouched = np.array_equal(result.frames[~holes], frames[~holes])
    print(f"wall {wall:.1f} s, peak RSS {peak:.0f} MiB, hole PSNR {psnr:.2f} dB, known pixels untouched: {untouched}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
