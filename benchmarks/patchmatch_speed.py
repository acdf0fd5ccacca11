"""The PatchMatch fill (``renderer.fill.patchmatch``) on a 1280x720 plate with a fixed
216x180 box hole, against Telea: seconds per frame on one core, hole PSNR and detail.

    .venv/bin/python benchmarks/patchmatch_speed.py CLIP [FRAMES [START]]

CLIP is a video file (8-bit display sRGB, e.g. the 640x272 bikes.mp4); its frames are
scaled to 1280x720 (cubic, in display sRGB) and converted to scene-linear with the
inverse sRGB transfer. The hole is a 216 wide, 180 high box in the middle of the frame,
the same in every frame. Prints the first frame alone (best of two runs), then the
FRAMES-frame video (default 48, from frame START, default 0): seconds per frame (wall,
and CPU seconds of the process, which is what a frame costs one core when the machine is
shared) and the hole PSNR and detail of ``renderer.evaluate.metrics`` (display sRGB) for
both fills.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core: the target is per core

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from renderer.colour import srgb_to_linear
from renderer.evaluate import metrics
from renderer.fill import telea
from renderer.fill.patchmatch import patchmatch_frame, patchmatch_video

WIDTH, HEIGHT = 1280, 720
HOLE_WIDTH, HOLE_HEIGHT = 216, 180


def read_plate(path: str, count: int, start: int) -> np.ndarray:
    """``count`` frames from ``start`` of a video, as scene-linear float32 (F, 720, 1280, 3)."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {path}")
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        big = np.clip(cv2.resize(rgb, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        frames.append(srgb_to_linear(big))
    capture.release()
    if not frames:
        raise SystemExit(f"no frames in {path} from {start}")
    return np.stack(frames)


def box_holes(count: int) -> np.ndarray:
    holes = np.zeros((count, HEIGHT, WIDTH), bool)
    y0, x0 = (HEIGHT - HOLE_HEIGHT) // 2, (WIDTH - HOLE_WIDTH) // 2
    holes[:, y0:y0 + HOLE_HEIGHT, x0:x0 + HOLE_WIDTH] = True
    return holes


def timed(fn):
    """(fn(), wall seconds, CPU seconds of this process): on a shared machine the CPU
    seconds are what the work costs one core."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - start, time.process_time() - cpu


def scores(out: np.ndarray, plate: np.ndarray, holes: np.ndarray) -> str:
    shown, truth = metrics.to_display(out), metrics.to_display(plate)
    return (f"hole PSNR {metrics.hole_psnr(shown, truth, holes):6.2f} dB, "
            f"detail {metrics.detail(shown, truth, holes):5.3f}")


def main(path: str, count: int = 48, start: int = 0) -> None:
    cv2.setNumThreads(1)
    plate = read_plate(path, count, start)
    holes = box_holes(plate.shape[0])
    print(f"{os.path.basename(path)}: {plate.shape[0]} frames from {start}, {WIDTH}x{HEIGHT}, "
          f"hole {HOLE_WIDTH}x{HOLE_HEIGHT}")

    runs = [timed(lambda: patchmatch_frame(plate[0], holes[0])[0]) for _ in range(2)]
    one, wall, cpu = runs[0][0], min(r[1] for r in runs), min(r[2] for r in runs)
    flat, flat_wall, flat_cpu = timed(lambda: telea(plate[:1], holes[:1]))
    print(f"frame 0  patchmatch {wall:6.2f} s/frame wall, {cpu:6.2f} CPU, {scores(one[None], plate[:1], holes[:1])}")
    print(f"frame 0  telea      {flat_wall:6.2f} s/frame wall, {flat_cpu:6.2f} CPU, "
          f"{scores(flat, plate[:1], holes[:1])}")

    n = plate.shape[0]
    video, wall, cpu = timed(lambda: patchmatch_video(plate, holes))
    print(f"video    patchmatch {wall / n:6.2f} s/frame wall, {cpu / n:6.2f} CPU ({wall:6.1f} s in all), "
          f"{scores(video, plate, holes)}")
    flat, wall, cpu = timed(lambda: telea(plate, holes))
    print(f"video    telea      {wall / n:6.2f} s/frame wall, {cpu / n:6.2f} CPU ({wall:6.1f} s in all), "
          f"{scores(flat, plate, holes)}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1], *(int(v) for v in sys.argv[2:4]))
