"""What a texture layer costs over a smooth fill, at the footage's own statistics: a bound
for the detail layer of a fixed box (decision 0054).

    .venv/bin/python benchmarks/production/layer_bound.py SHOT_DIR [--target 0.85] [--sigmas 0.6,1,2]

SHOT_DIR is a shot made by ``make_shot.py`` whose hole is the same box in every frame. The
layer is the truth's own high band (the display values minus their Gaussian blur of each
sigma) from a strip of the box's size beside it, laid uncorrelated over per-frame Telea
(``fill.classical.telea`` on the plates) and scaled until the fill's detail
(``metrics.detail``) reaches the target. Two ways: the strip's band frame by frame
("moving"), and the first frame's band on every frame ("still", as the pipeline lays its
layer). Prints the hole PSNR and what the layer cost; first, for each sigma, the still
band at the strip's own strength (gain 1), which needs nothing but known footage.
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
from renderer.fill import classical  # noqa: E402
from renderer.io.exrio import read_image  # noqa: E402

SEARCH_STEPS = 16  # halvings of the gain's interval
MAX_GAIN = 8.0


def _load(shot: str, pattern: str) -> np.ndarray:
    paths = sorted(glob.glob(os.path.join(shot, pattern)))
    if not paths:
        sys.exit(f"no files match {os.path.join(shot, pattern)}: give a shot made by make_shot.py")
    return np.stack([read_image(p).pixels for p in paths])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shot")
    parser.add_argument("--target", type=float, default=0.85, help="the detail the layer is scaled to")
    parser.add_argument("--sigmas", default="0.6,1,2", help="px, the blurs whose residue is the layer")
    args = parser.parse_args()
    holes = _load(args.shot, "roto/*.exr")[..., 0] > 0.5
    if not (holes == holes[:1]).all() or not holes[0].any():
        sys.exit("the hole must be the same non-empty box in every frame")
    truth = metrics.to_display(_load(args.shot, "truth/*.exr")[..., :3])
    n, h, w = holes.shape
    ys, xs = np.nonzero(holes[0])
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    side = x1 + 8 if x1 + 8 + (x1 - x0) <= w else x0 - 8 - (x1 - x0)
    if side < 0:
        sys.exit("the frame has no room for a strip of the box's width beside it")
    inside = holes[:, y0:y1, x0:x1, None]
    # per-frame Telea on the plates, as production/score.py makes it
    telea = metrics.to_display(classical.telea(np.maximum(_load(args.shot, "plates/*.exr")[..., :3], 0.0), holes))
    base_psnr = metrics.hole_psnr(telea, truth, holes)
    print(f"{os.path.basename(os.path.normpath(args.shot))}: box rows {y0}-{y1}, columns {x0}-{x1}; strip from "
          f"column {side}; Telea {base_psnr:.2f} dB, detail {metrics.detail(telea, truth, holes):.2f}")

    def laid(layer: np.ndarray, gain: float) -> np.ndarray:
        out = telea.copy()
        out[:, y0:y1, x0:x1] += gain * layer * inside
        return np.clip(out, 0.0, 1.0)

    for sigma in (float(s) for s in args.sigmas.split(",")):
        strip = truth[:, y0:y1, side:side + (x1 - x0)]
        band = np.stack([f - cv2.GaussianBlur(f, (0, 0), sigma) for f in strip])
        still = np.repeat(band[:1], n, axis=0)
        own = laid(still, 1.0)
        psnr = metrics.hole_psnr(own, truth, holes)
        print(f"  sigma {sigma:g} px, still, at the strip's own strength: detail "
              f"{metrics.detail(own, truth, holes):.2f}, {psnr:.2f} dB (cost {base_psnr - psnr:.2f})")
        for name, layer in (("moving", band), ("still", still)):
            lo, hi = 0.0, MAX_GAIN
            for _ in range(SEARCH_STEPS):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if metrics.detail(laid(layer, mid), truth, holes) < args.target else (lo, mid)
            out = laid(layer, hi)
            psnr = metrics.hole_psnr(out, truth, holes)
            print(f"  sigma {sigma:g} px, {name}: gain {hi:.2f}, detail {metrics.detail(out, truth, holes):.2f}, "
                  f"{psnr:.2f} dB (cost {base_psnr - psnr:.2f})")


if __name__ == "__main__":
    main()
