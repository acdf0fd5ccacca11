"""Hole PSNR (as ``renderer evaluate`` computes it) of a shot made by make_shot.py:
Telea, the flowprop baseline, and each output folder named.

    .venv/bin/python benchmarks/heldout/score.py SHOT_DIR [OUTPUT_SUBDIR ...]   (default: out)
"""

from __future__ import annotations

import glob
import sys

import numpy as np

from renderer.evaluate import metrics
from renderer.fill import flow_propagation, telea
from renderer.io.exrio import read_image


def load(root: str, pattern: str) -> np.ndarray:
    return np.stack([read_image(p).pixels for p in sorted(glob.glob(f"{root}/{pattern}"))])


def hole_psnr(out, truth, holes) -> float:
    return metrics.hole_psnr(metrics.to_display(out), metrics.to_display(truth), holes)


def main(root: str, outputs: list[str]) -> None:
    plates = np.maximum(load(root, "plates/*.exr")[..., :3], 0.0)
    holes = load(root, "roto/*.exr")[..., 0] > 0.5
    truth = load(root, "truth/*.exr")[..., :3]
    row = {"telea": hole_psnr(telea(plates, holes), truth, holes),
           "flowprop": hole_psnr(flow_propagation(plates, holes), truth, holes)}
    for name in outputs:
        row[name] = hole_psnr(load(root, f"{name}/*.exr")[..., :3], truth, holes)
    print(root, " ".join(f"{k} {v:.2f}" for k, v in row.items()))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:] or ["out"])
