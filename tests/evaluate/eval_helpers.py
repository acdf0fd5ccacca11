"""Hand-made clips with known motion for the evaluation tests."""

from __future__ import annotations

import cv2
import numpy as np


def texture(height: int, width: int, seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    """Smooth random colour texture in [0.05, 0.95], float32 (H, W, 3) (display values)."""
    rng = np.random.default_rng(seed)
    t = cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), sigma)
    t = (t - t.min()) / (t.max() - t.min())
    return (0.05 + 0.9 * t).astype(np.float32)


def panning_clip(frames: int = 6, height: int = 48, width: int = 64, dx: int = 2, dy: int = 0,
                 seed: int = 0) -> np.ndarray:
    """A texture window moving by (dx, dy) px per frame: frame t shows big[y0 + t dy, x0 + t dx].
    So content moves by (-dx, -dy) on screen: frame_t(x) = frame_{t+1}(x - (dx, dy))."""
    pad = 8 + frames * max(abs(dx), abs(dy))
    big = texture(height + 2 * pad, width + 2 * pad, seed)
    out = [big[pad + t * dy:pad + t * dy + height, pad + t * dx:pad + t * dx + width] for t in range(frames)]
    return np.stack(out).astype(np.float32)


def box_holes(frames: int, height: int, width: int, y0: int, y1: int, x0: int, x1: int, step_x: int = 0):
    holes = np.zeros((frames, height, width), bool)
    for t in range(frames):
        holes[t, y0:y1, x0 + t * step_x:x1 + t * step_x] = True
    return holes
