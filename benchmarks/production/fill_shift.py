"""How much of a render's hole error a small shift would remove: the misregistration of
carried content, measured against the truth (decision 0055).

    .venv/bin/python benchmarks/production/fill_shift.py SHOT_DIR OUTPUT_DIR [--pattern '*.exr'] [--min-pixels 400]

SHOT_DIR is a shot made by ``make_shot.py`` (``truth/``, ``roto/``); OUTPUT_DIR holds the
render's frames (``renderer render`` with ``output:`` there; ``--pattern`` picks them out
where a source map was written beside them). For every connected component of every
frame's hole, the fill is shifted (bicubic) by each offset on a quarter-pixel grid up to
``--reach`` px, and the offset that brings it closest to the truth inside the component
(eroded by 2 px, so the shift does not read the known pixels around it) is kept. Prints
the median and pixel-weighted gain in hole PSNR, and the share of components whose best
shift is a quarter pixel or more. An oracle: it says how much a registration of the
carried content could win, not how to find the shift without the truth. A fill that
copies nothing (a smooth or invented one) gains a little from any shift too, by fitting
its error.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from renderer.evaluate import metrics  # noqa: E402
from renderer.io.exrio import read_image  # noqa: E402

STEP_PX = 0.25


def _paths(folder: str, pattern: str) -> list[str]:
    paths = sorted(glob.glob(os.path.join(folder, pattern)))
    if not paths:
        sys.exit(f"no files match {os.path.join(folder, pattern)}")
    return paths


def best_shift(fill: np.ndarray, truth: np.ndarray, inner: np.ndarray,
               reach: float) -> tuple[float, float, float, float]:
    """(mse unshifted, best mse, dy, dx) of ``fill`` (h, w, 3) display against ``truth`` on
    bool (h, w) ``inner``, over shifts on a ``STEP_PX`` grid within ``reach`` px."""
    start = float(np.mean((fill[inner] - truth[inner]) ** 2))
    best = (start, 0.0, 0.0)
    grid = np.arange(-reach, reach + STEP_PX / 2, STEP_PX)
    for dy in grid:
        for dx in grid:
            moved = cv2.warpAffine(fill, np.float32([[1, 0, dx], [0, 1, dy]]), (fill.shape[1], fill.shape[0]),
                                   flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
            error = float(np.mean((moved[inner] - truth[inner]) ** 2))
            if error < best[0]:
                best = (error, float(dy), float(dx))
    return (start, *best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shot")
    parser.add_argument("output")
    parser.add_argument("--pattern", default="*.exr", help="the render's frames in OUTPUT_DIR")
    parser.add_argument("--min-pixels", type=int, default=400, help="smaller components are skipped")
    parser.add_argument("--reach", type=float, default=1.5, help="px, the largest shift tried on each axis")
    args = parser.parse_args()
    truths, roto, outs = (_paths(args.shot, "truth/*.exr"), _paths(args.shot, "roto/*.exr"),
                          _paths(args.output, args.pattern))
    if not len(truths) == len(roto) == len(outs):
        sys.exit(f"{len(truths)} truth, {len(roto)} roto and {len(outs)} output frames: give the render of this "
                 f"shot, and --pattern where other files sit beside its frames")
    gains, sizes, moved = [], [], []
    for truth_path, roto_path, out_path in zip(truths, roto, outs):
        hole = read_image(roto_path).pixels[..., 0] > 0.5
        if not hole.any():
            continue
        truth = metrics.to_display(read_image(truth_path).pixels[..., :3]).astype(np.float32)
        out = metrics.to_display(read_image(out_path).pixels[..., :3]).astype(np.float32)
        count, labels = cv2.connectedComponents(hole.astype(np.uint8))
        for k in range(1, count):
            component = labels == k
            if component.sum() < args.min_pixels:
                continue
            ys, xs = np.nonzero(component)
            y0, y1 = max(ys.min() - 4, 0), ys.max() + 5
            x0, x1 = max(xs.min() - 4, 0), xs.max() + 5
            inner = cv2.erode(component[y0:y1, x0:x1].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            if not inner.any():
                continue
            start, error, dy, dx = best_shift(out[y0:y1, x0:x1], truth[y0:y1, x0:x1], inner, args.reach)
            gains.append(10 * np.log10(start / error) if error > 0 else 0.0)
            sizes.append(int(component.sum()))
            moved.append(max(abs(dy), abs(dx)) >= STEP_PX)
    if not gains:
        sys.exit("no hole component is large enough: lower --min-pixels")
    gains, sizes = np.array(gains), np.array(sizes)
    print(f"{len(gains)} components: median gain {np.median(gains):.2f} dB, pixel-weighted "
          f"{(gains * sizes).sum() / sizes.sum():.2f} dB; best shift a quarter pixel or more in "
          f"{100 * np.mean(moved):.0f} %")


if __name__ == "__main__":
    main()
