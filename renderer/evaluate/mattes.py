"""Synthetic mattes over real footage, so that the original frames are the ground truth.

Each generator is ``(frames, height, width, seed) -> bool (F, H, W)``, True = hole:

* ``blob``: an object-like shape (an ellipse with a wobbly outline that slowly changes)
  moving across the frame at about 2 px/frame at 96 px height, about 12 % of the frame.
* ``logo``: a fixed box (a broadcaster's bug or a logo), about 10 % of the frame.
* ``wire``: a thin line across the frame (a wire or a boom pole), slightly slanted and
  sagging, 3 px thick at 96 px height, drifting a little each frame.

Sizes scale with the frame, so a matte kind means the same thing at any resolution.
"""

from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np

from .errors import MatteSpecError


def _check_size(frames: int, height: int, width: int) -> None:
    if frames < 1 or height < 16 or width < 16:
        raise MatteSpecError(f"synthetic mattes need >= 1 frame of at least 16x16 px, got {frames} x {height}x{width}")


def blob(frames: int, height: int, width: int, seed: int = 0, area: float = 0.12,
         speed: float = 2.0 / 96.0) -> np.ndarray:
    """A moving object-like blob. ``area``: fraction of the frame covered; ``speed``: motion per
    frame as a fraction of the height. The path starts left of centre and moves right and a
    little down, bouncing off a margin so the blob stays inside the frame."""
    _check_size(frames, height, width)
    rng = np.random.default_rng(seed)
    ry = math.sqrt(area * height * width / math.pi / 1.6)  # an ellipse 1.6x wider than tall
    rx = 1.6 * ry
    ry, rx = min(ry, 0.45 * height), min(rx, 0.45 * width)
    angle = rng.uniform(0, 2 * math.pi)
    v = speed * height
    vx, vy = v * math.cos(0.25 * math.sin(angle)), v * 0.35 * math.sin(angle)
    cx, cy = width * rng.uniform(0.3, 0.45), height * rng.uniform(0.4, 0.6)
    harmonics = [(k, rng.uniform(0.04, 0.1) / k ** 0.5, rng.uniform(0, 2 * math.pi), rng.uniform(-0.05, 0.05))
                 for k in (2, 3, 5)]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = np.zeros((frames, height, width), bool)
    for t in range(frames):
        dx, dy = (xx - cx) / rx, (yy - cy) / ry
        theta = np.arctan2(dy, dx)
        radius = np.ones_like(theta)
        for k, amp, phase, drift in harmonics:
            radius += amp * np.cos(k * theta + phase + drift * t)
        out[t] = np.hypot(dx, dy) <= radius
        cx, cy = cx + vx, cy + vy
        if not (rx < cx < width - rx):
            vx = -vx
            cx = float(np.clip(cx, rx, width - rx))
        if not (ry < cy < height - ry):
            vy = -vy
            cy = float(np.clip(cy, ry, height - ry))
    return out


def logo(frames: int, height: int, width: int, seed: int = 0, area: float = 0.10) -> np.ndarray:
    """A fixed box with the frame's aspect ratio, in the lower right, ``area`` of the frame
    (the seed is not used: a logo does not move)."""
    _check_size(frames, height, width)
    bh, bw = round(height * math.sqrt(area)), round(width * math.sqrt(area))
    y0, x0 = round(height * 0.88) - bh, round(width * 0.92) - bw
    out = np.zeros((frames, height, width), bool)
    out[:, y0:y0 + bh, x0:x0 + bw] = True
    return out


def wire(frames: int, height: int, width: int, seed: int = 0, thickness: float = 3.0 / 96.0,
         drift: float = 0.5 / 96.0) -> np.ndarray:
    """A thin sagging line from the left edge to the right edge, slanted by up to 10 % of the
    height, ``thickness`` and ``drift`` per frame as fractions of the height."""
    _check_size(frames, height, width)
    rng = np.random.default_rng(seed)
    px = max(1, round(thickness * height))
    y_left = height * rng.uniform(0.3, 0.45)
    slant = height * rng.uniform(-0.1, 0.1)
    sag = height * rng.uniform(0.04, 0.1)
    d = drift * height * (1 if rng.random() < 0.5 else -1)
    xs = np.linspace(0, width - 1, 64)
    s = xs / (width - 1)
    out = np.zeros((frames, height, width), bool)
    for t in range(frames):
        ys = y_left + d * t + slant * s + 4 * sag * s * (1 - s)
        pts = np.round(np.stack([xs, ys], axis=1) * 16).astype(np.int32)  # 4 fractional bits
        canvas = np.zeros((height, width), np.uint8)
        cv2.polylines(canvas, [pts], False, 1, thickness=px, lineType=cv2.LINE_8, shift=4)
        out[t] = canvas > 0
    return out


MATTES: dict[str, Callable[..., np.ndarray]] = {
    "blob": blob,
    "logo": logo,
    "wire": wire,
}


def synthetic_matte(kind: str, frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """The ``kind`` matte (one of ``MATTES``) -> bool (F, H, W)."""
    try:
        generator = MATTES[kind]
    except KeyError:
        raise MatteSpecError(f"unknown matte kind {kind!r}; choose one of {', '.join(MATTES)} "
                             f"or give a matte sequence path") from None
    holes = generator(frames, height, width, seed)
    if not holes.any(axis=(1, 2)).all():
        raise MatteSpecError(f"matte {kind!r} is empty on some frame at {height}x{width}")  # pragma: no cover
    return holes
