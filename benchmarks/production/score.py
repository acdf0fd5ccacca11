"""Score a rendered production shot (made by ``make_shot.py``, rendered by ``run.py``)
against the per-frame baselines, as ``renderer evaluate`` scores methods.

    .venv/bin/python benchmarks/production/score.py SHOT_DIR [SHOT_DIR ...]

For each shot: hole PSNR, SSIM, detail and warp error (display space, the definitions of
``docs/evaluation.md``) of the render in ``out/``, of per-frame Telea and of the copy from
the nearest frame that shows each pixel (``temporal-nearest``), both made here on the
plates; the footage's own warp error; and the render's choice and training lines from
``render.log``. Prints one Markdown row per shot and method.
"""

from __future__ import annotations

import glob
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from renderer.evaluate import metrics  # noqa: E402
from renderer.fill.classical import telea  # noqa: E402
from renderer.fill.still import still_copy  # noqa: E402
from renderer.io.exrio import read_image  # noqa: E402


def load(pattern: str) -> np.ndarray:
    paths = sorted(glob.glob(pattern))
    if not paths:
        sys.exit(f"nothing matches {pattern}")
    return np.stack([read_image(p).pixels for p in paths])


def log_lines(shot_dir: str) -> list[str]:
    """The render's held-out, training and time lines, as its log has them."""
    path = os.path.join(shot_dir, "render.log")
    if not os.path.isfile(path):
        return []
    wanted = ("learning:", "training stopped", "held-out check", "held-out error by step", "time:")
    text = open(path).read()
    return [m.group(1) for m in re.finditer(r"openjd_status: (.*)", text) if m.group(1).startswith(wanted)]


def main(shots: list[str]) -> None:
    print("| shot | fill | hole PSNR dB | SSIM | detail | warp ×10⁻³ (footage's) |\n|---|---|---|---|---|---|")
    for shot_dir in shots:
        name = os.path.basename(shot_dir.rstrip("/"))
        plates = np.maximum(load(f"{shot_dir}/plates/*.exr")[..., :3], 0.0)
        holes = load(f"{shot_dir}/roto/*.exr")[..., 0] > 0.5
        truth = load(f"{shot_dir}/truth/*.exr")[..., :3]
        fills = {"render": load(f"{shot_dir}/out/*.exr")[..., :3]}
        fills["telea"] = telea(plates, holes)
        fills["temporal-nearest"] = still_copy(plates, holes)
        reference = metrics.warp_reference(metrics.to_display(truth))
        floor = metrics.warp_error(metrics.to_display(truth), holes, reference)
        for fill, out in fills.items():
            q = metrics.quality(out, truth, plates, holes, reference)
            print(f"| {name} | {fill} | {q['hole_psnr']:.2f} | {q['hole_ssim']:.3f} | {q['detail']:.2f} "
                  f"| {1e3 * q['warp_error']:.2f} ({1e3 * floor:.2f}) |", flush=True)
        for line in log_lines(shot_dir):
            print(f"<!-- {name}: {line[:400]} -->")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
