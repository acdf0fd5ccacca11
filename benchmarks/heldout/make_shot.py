"""Make one held-out-style shot like ``examples/city``: 16 frames at 160x96 from a clip,
a dark drone with a bright LED (a value above 1.0) flying across it, its roto matte,
and the clean frames in ``truth/``.

    .venv/bin/python benchmarks/heldout/make_shot.py CLIP START OUT_DIR SEED

The drone starts at a random place, speed and direction (from SEED). Reproduces the
six shots of benchmarks/README.md ("Issue 6"), for example:
``make_shot.py CLIPS/bikes.mp4 100 /tmp/h2/b2 2``.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from make_example import srgb_to_linear, write  # noqa: E402

W, H, COUNT = 160, 96, 16


def main(clip: str, start: int, root: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cap = cv2.VideoCapture(clip)
    frames = []
    for i in range(start + COUNT):
        ok, bgr = cap.read()
        if not ok:
            sys.exit(f"{clip} ended at frame {i}")
        if i >= start:
            h, w = bgr.shape[:2]
            ch = min(int(w * H / W), h)
            y0 = (h - ch) // 2
            small = cv2.resize(bgr[y0:y0 + ch], (W, H), interpolation=cv2.INTER_AREA)
            frames.append(srgb_to_linear(small[..., ::-1].astype(np.float32) / 255))
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    x0, y0 = rng.uniform(25, 50), rng.uniform(30, 60)
    vx, amp = rng.uniform(3.5, 5.5) * rng.choice([1, -1]), rng.uniform(5, 12)
    if vx < 0:
        x0 = W - x0
    for k, clean in enumerate(frames):
        cx, cy = x0 + vx * k, y0 + amp * np.sin(k / 6.0)
        body = ((xx - cx) / 11.0) ** 2 + ((yy - cy) / 5.0) ** 2 <= 1.0
        arms = (np.abs(yy - cy) <= 1.0) & (np.abs(xx - cx) <= 17.0)
        drone = cv2.GaussianBlur((body | arms).astype(np.float32), (3, 3), 0.6)
        plate = clean * (1 - drone[..., None]) + np.array([0.02, 0.018, 0.015], np.float32) * drone[..., None]
        plate[((xx - cx) ** 2 + (yy - cy + 2) ** 2) <= 2.0] = [4.0, 0.3, 0.2]
        matte = cv2.dilate((drone > 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
        n = 1001 + k
        write(f"{root}/plates/p.{n:04d}.exr", np.concatenate([plate, np.ones((H, W, 1), np.float32)], -1),
              ("R", "G", "B", "A"))
        write(f"{root}/roto/m.{n:04d}.exr", matte[..., None], ("A",))
        write(f"{root}/truth/p.{n:04d}.exr", clean, ("R", "G", "B"))
    with open(f"{root}/shot.yaml", "w") as fh:
        yaml.safe_dump({"source": "plates/p.####.exr", "mask": {"path": "roto/m.####.exr"},
                        "frames": f"1001-{1000 + COUNT}", "output": "out/o.####.exr"}, fh)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
