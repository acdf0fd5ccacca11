"""Make a development shot at production scale from a clip: plates (scene-linear
half-float EXR, RGBA), the roto matte, the clean frames in ``truth/``, and shot.yaml.

    .venv/bin/python benchmarks/production/make_shot.py CLIP START COUNT WIDTHxHEIGHT KIND OUT_DIR [SEED]
        [--people-from OTHER_CLIP@START] [--grain SIGMA]

The clip's frames are cropped to the plate's aspect and scaled to WIDTHxHEIGHT (cubic);
a shot longer than what is left of the clip runs it back and forth. KIND is the hole:

- ``drone``: a dark drone with a bright LED (4.0, above 1.0) flying across, about a
  ninth of the frame's width (as ``benchmarks/heldout``'s, scaled to the plate);
- ``box``: a fixed rig box, 14 % x 30 % of the frame, over whatever passes under it;
- ``large``: a fixed box of a third of the frame (58 % x 58 %);
- ``people``: moving silhouettes taken by background subtraction from another stretch of
  the clip (half its length on), or of ``--people-from``'s clip from its frame, laid over these
  frames with the pixels they came with, as DAVIS-style shots are made; their matte grows
  them by 1 % of the frame's height;
- ``dot``: a 3x3 px dust spot, fixed.

``--grain SIGMA`` adds fresh Gaussian noise of SIGMA (display sRGB) to every frame, the
truth's too, as film grain or sensor noise is part of the footage.

Nothing here is tuned on: the shots are for measuring cost and for tuning on the clips
the development set allows (bikes.mp4, cityCC0.mpg).
"""

from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from make_example import srgb_to_linear, write  # noqa: E402

KINDS = ("drone", "box", "large", "people", "dot")


def read_clip(clip: str, start: int, count: int, width: int, height: int) -> list[np.ndarray]:
    """``count`` frames from ``start``, cropped to the aspect and scaled, sRGB float in [0, 1];
    past the clip's end it runs back and forth."""
    cap = cv2.VideoCapture(clip)
    raw = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        raw.append(bgr)
    if start >= len(raw):
        sys.exit(f"{clip} has {len(raw)} frames; START {start} is past its end")
    span = raw[start:]
    order = [k % (2 * len(span) - 2) if len(span) > 1 else 0 for k in range(count)]
    order = [k if k < len(span) else 2 * len(span) - 2 - k for k in order]
    out = []
    for k in order:
        bgr = span[k]
        h, w = bgr.shape[:2]
        if w * height > h * width:  # wider than the plate: crop the sides
            cw = h * width // height
            bgr = bgr[:, (w - cw) // 2:(w - cw) // 2 + cw]
        else:
            ch = w * height // width
            bgr = bgr[(h - ch) // 2:(h - ch) // 2 + ch]
        big = cv2.resize(bgr, (width, height), interpolation=cv2.INTER_CUBIC)
        out.append(big[..., ::-1].astype(np.float32) / 255.0)
    return out


def silhouettes(clip: str, start: int, count: int, width: int, height: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Moving objects of the clip from ``start``: (mask bool (H, W), their pixels) per frame."""
    source = read_clip(clip, start, count + 30, width, height)
    mog = cv2.createBackgroundSubtractorMOG2(history=30, detectShadows=False)
    small = (max(width // 4, 8), max(height // 4, 8))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    out = []
    for k, frame in enumerate(source):
        fg = mog.apply(cv2.resize((frame * 255).astype(np.uint8), small, interpolation=cv2.INTER_AREA))
        if k < 30:
            continue
        fg = cv2.morphologyEx(cv2.morphologyEx((fg > 0).astype(np.uint8), cv2.MORPH_OPEN, kernel),
                              cv2.MORPH_CLOSE, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(fg)
        keep = np.zeros_like(fg)
        for label in range(1, n):  # people-sized blobs: at least 0.2 % of the frame
            if stats[label, cv2.CC_STAT_AREA] >= 0.002 * fg.size:
                keep[labels == label] = 1
        mask = cv2.resize(keep, (width, height), interpolation=cv2.INTER_NEAREST) > 0
        out.append((mask, frame))
    return out


def main(clip: str, start: int, count: int, size: str, kind: str, root: str, seed: int = 0,
         people_from: str | None = None, grain: float = 0.0) -> None:
    width, height = (int(v) for v in size.lower().split("x"))
    if kind not in KINDS:
        sys.exit(f"KIND must be one of {', '.join(KINDS)}")
    rng = np.random.default_rng(seed)
    frames = read_clip(clip, start, count, width, height)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    scale = width / 160.0
    x0, y0 = rng.uniform(0.15, 0.3) * width, rng.uniform(0.3, 0.6) * height
    vx, amp = rng.uniform(0.02, 0.035) * width * rng.choice([1, -1]), rng.uniform(0.05, 0.12) * height
    if vx < 0:
        x0 = width - x0
    bx0, by0 = int(rng.uniform(0.2, 0.6) * width), int(rng.uniform(0.2, 0.6) * height)
    if people_from:
        people_clip, people_start = people_from.rsplit("@", 1)
        people_start = int(people_start)
    else:
        people_clip = clip
        length = int(cv2.VideoCapture(clip).get(cv2.CAP_PROP_FRAME_COUNT))
        people_start = (start + length // 2) % max(length - 1, 1)
    people = silhouettes(people_clip, people_start, count, width, height) if kind == "people" else None
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(height // 100, 1) + 1,) * 2)
    noise = np.random.default_rng(seed + 1)
    for k, srgb in enumerate(frames):
        if grain > 0:
            srgb = np.clip(srgb + noise.normal(0.0, grain, srgb.shape).astype(np.float32), 0.0, 1.0)
        clean = srgb_to_linear(srgb)
        plate = clean.copy()
        if kind == "drone":
            cx, cy = x0 + vx * k, y0 + amp * np.sin(k / 6.0)
            body = ((xx - cx) / (11.0 * scale)) ** 2 + ((yy - cy) / (5.0 * scale)) ** 2 <= 1.0
            arms = (np.abs(yy - cy) <= scale) & (np.abs(xx - cx) <= 17.0 * scale)
            drone = cv2.GaussianBlur((body | arms).astype(np.float32), (0, 0), 0.6 * scale)
            plate = clean * (1 - drone[..., None]) + np.array([0.02, 0.018, 0.015], np.float32) * drone[..., None]
            plate[((xx - cx) ** 2 + (yy - cy + 2 * scale) ** 2) <= 2.0 * scale ** 2] = [4.0, 0.3, 0.2]
            matte = cv2.dilate((drone > 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
        elif kind in ("box", "large"):
            share = (0.30, 0.14) if kind == "box" else (0.58, 0.58)
            bh, bw = int(share[0] * height), int(share[1] * width)
            by0, bx0 = (by0, bx0) if kind == "box" else ((height - bh) // 2, (width - bw) // 2)
            matte = np.zeros((height, width), np.float32)
            matte[by0:by0 + bh, bx0:bx0 + bw] = 1.0
            plate[matte > 0] = [0.05, 0.05, 0.06]  # a grey rig
        elif kind == "people":
            mask, pixels = people[k]
            plate[mask] = srgb_to_linear(pixels)[mask]
            matte = cv2.dilate(mask.astype(np.uint8), grow).astype(np.float32)
        else:
            matte = np.zeros((height, width), np.float32)
            matte[height // 2:height // 2 + 3, width // 3:width // 3 + 3] = 1.0
            plate[matte > 0] = 0.0
        n = 1001 + k
        write(f"{root}/plates/p.{n:04d}.exr", np.concatenate([plate, np.ones((height, width, 1), np.float32)], -1),
              ("R", "G", "B", "A"))
        write(f"{root}/roto/m.{n:04d}.exr", matte[..., None], ("A",))
        write(f"{root}/truth/p.{n:04d}.exr", clean, ("R", "G", "B"))
    with open(f"{root}/shot.yaml", "w") as fh:
        yaml.safe_dump({"source": "plates/p.####.exr", "mask": {"path": "roto/m.####.exr"},
                        "frames": f"1001-{1000 + count}", "output": "out/o.####.exr"}, fh)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(usage=__doc__)
    for name in ("clip", "start", "count", "size", "kind", "root"):
        parser.add_argument(name)
    parser.add_argument("seed", nargs="?", type=int, default=0)
    parser.add_argument("--people-from", default=None)
    parser.add_argument("--grain", type=float, default=0.0)
    a = parser.parse_args()
    main(a.clip, int(a.start), int(a.count), a.size, a.kind, a.root, a.seed, a.people_from, a.grain)
