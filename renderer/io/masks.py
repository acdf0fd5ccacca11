"""From the artist's matte to the hole we fill and the alpha we composite with.

The hole is where the matte is > 0.5, grown by ``expand`` pixels. ``feather``
adds a soft ramp *outside* the grown hole, so that the fill blends into the
plate; pixels past the ramp keep alpha exactly 0 and are copied bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ShapeError

THRESHOLD = 0.5


def hole_from_matte(matte: np.ndarray, expand: int = 0) -> np.ndarray:
    """matte float (H, W) -> bool hole (H, W): value > 0.5, dilated by ``expand`` px (a disc)."""
    if matte.ndim != 2:
        raise ShapeError(f"matte must be (H, W), got {matte.shape}")
    hole = matte > THRESHOLD
    if expand > 0 and hole.any():
        hole = dilated(hole, expand)
    return hole


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """bool (H, W) ``mask`` grown by a disc of ``radius`` px (OpenCV's elliptical kernel of
    side 2 radius + 1) -> bool (H, W); ``mask`` itself where radius is 0 or less."""
    if mask.ndim != 2:
        raise ShapeError(f"mask must be (H, W), got {mask.shape}")
    if radius <= 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def depth_inside(mask: np.ndarray) -> np.ndarray:
    """float32 (H, W): each pixel of bool (H, W) ``mask``'s Euclidean distance to the nearest
    pixel outside it, 0 outside; past the frame's edge counts as outside, so a strip along
    the edge is as thin as its width."""
    if mask.ndim != 2:
        raise ShapeError(f"mask must be (H, W), got {mask.shape}")
    return cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def composite_alpha(hole: np.ndarray, feather: int = 0) -> np.ndarray:
    """bool hole (H, W) -> float32 alpha (H, W): 1 in the hole, a linear ramp over
    ``feather`` px outside it, exactly 0 beyond."""
    if hole.ndim != 2:
        raise ShapeError(f"hole must be (H, W), got {hole.shape}")
    alpha = hole.astype(np.float32)
    if feather > 0 and hole.any() and not hole.all():
        dist = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5)
        ramp = np.clip(1.0 - dist / (feather + 1.0), 0.0, 1.0)
        alpha = np.maximum(alpha, ramp.astype(np.float32))
    return alpha


def composite(source: np.ndarray, fill: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``fill`` into ``source`` (both (H, W, C)) with ``alpha`` (H, W).

    Where alpha == 0 the result is ``source`` itself, bit for bit. Where alpha is above 0
    and the source pixel is not a number (NaN, infinity), the result is ``fill``: a dead
    pixel under the matte is what the artist asked to replace, and NaN times 0 is NaN.
    """
    if source.shape != fill.shape or source.shape[:2] != alpha.shape:
        raise ShapeError(f"composite: source {source.shape}, fill {fill.shape}, alpha {alpha.shape} disagree")
    a = alpha[..., None]
    with np.errstate(invalid="ignore"):
        blended = np.where(np.isfinite(source).all(axis=-1, keepdims=True), source * (1.0 - a) + fill * a, fill)
    return np.where(a > 0, blended, source).astype(source.dtype)


def box_around(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, x0, y1, x1) around bool (H, W) ``mask``'s pixels; None when it has none."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def union_box(boxes) -> tuple[int, int, int, int] | None:
    """The box around every box of ``boxes`` (None ones left out); None when there is none."""
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)
