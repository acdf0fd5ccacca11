"""Fills of one frame from the pixels around its hole: OpenCV's Telea, a harmonic
(diffusion) fill, and Telea blended into pixels already filled (Poisson blending).

Images are float (H, W, C) scene-linear (any non-negative values), holes bool (H, W),
True = fill; known pixels come back as they were, bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ShapeError
from ..parallel import map_frames

TELEA_RADIUS = 5
TELEA_SCALE = 255.0
DIFFUSION_SWEEPS = 300  # Jacobi sweeps of ``diffuse_into``


def check_video(frames: np.ndarray, holes: np.ndarray) -> None:
    """Raise ``ShapeError`` unless frames is (F, H, W, 3) and holes bool (F, H, W)."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError(f"frames must be (F, H, W, 3), got {getattr(frames, 'shape', type(frames))}")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != frames.shape[:3]:
        raise ShapeError(f"holes must be bool {frames.shape[:3]}, got "
                         f"{getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")


def telea_frame(frame: np.ndarray, hole: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """One frame: (H, W, C) float, bool (H, W) -> (H, W, C) float32 with the hole filled by
    ``cv2.inpaint(..., INPAINT_TELEA)`` run per channel on float32 (no 8-bit rounding).

    OpenCV's float Telea assumes 8-bit-like magnitudes (on [0, 1] data it overshoots to
    about [-1, 2]), so values are scaled by 255 around the call and back after."""
    frame = np.asarray(frame, dtype=np.float32)
    if not hole.any():
        return frame.copy()
    mask = hole.astype(np.uint8)
    channels = [cv2.inpaint(np.ascontiguousarray(frame[..., c] * TELEA_SCALE), mask, radius, cv2.INPAINT_TELEA)
                for c in range(frame.shape[-1])]
    filled = np.stack(channels, axis=-1) / TELEA_SCALE
    return np.where(hole[..., None], filled, frame).astype(np.float32)


def telea(frames: np.ndarray, holes: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """Per-frame Telea inpainting of (F, H, W, 3) with holes (F, H, W) -> (F, H, W, 3) float32."""
    check_video(frames, holes)
    return np.stack(map_frames(lambda t: telea_frame(frames[t], holes[t], radius), len(frames)))


FOUR_NEIGHBOUR_MEAN = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def diffuse_into(field: np.ndarray, region: np.ndarray, iterations: int = DIFFUSION_SWEEPS) -> np.ndarray:
    """Replace ``field`` (H, W, C) float inside bool ``region`` (H, W) by diffusion from the
    region's border: an approximate solution of Laplace's equation (harmonic fill).

    Start: the known values averaged with Gaussian weights at growing scales (the smallest
    scale that reaches a pixel wins), then ``iterations`` Jacobi sweeps of the 4-neighbour
    mean inside the region, with the known pixels held fixed. All zeros if nothing is known.
    """
    field = np.asarray(field, dtype=np.float32)
    if field.ndim != 3 or region.shape != field.shape[:2]:
        raise ShapeError(f"diffuse_into needs (H, W, C) and (H, W), got {field.shape}, {region.shape}")
    if not region.any():
        return field.copy()
    if region.all():
        return np.zeros_like(field)
    known = (~region).astype(np.float32)
    value = field * known[..., None]
    out = value.copy()
    todo = region.copy()
    sigma = 1.0
    while todo.any():
        wsum = cv2.GaussianBlur(known, (0, 0), sigma)
        vsum = cv2.GaussianBlur(value, (0, 0), sigma).reshape(field.shape)
        reach = todo & (wsum > 1e-3)
        out[reach] = vsum[reach] / wsum[reach][:, None]
        todo &= ~reach
        sigma *= 2.0
        if sigma > 4 * max(field.shape[:2]):
            out[todo] = value.sum(axis=(0, 1)) / known.sum()
            break
    # the sweeps change only the region, and read one pixel beyond it: run them on the region's
    # box grown by one pixel (the same sums, so the same result, at a fraction of the frame's cost)
    ys, xs = np.nonzero(region)
    box = (slice(max(ys.min() - 1, 0), ys.max() + 2), slice(max(xs.min() - 1, 0), xs.max() + 2))
    sub = np.ascontiguousarray(out[box])
    sub = sub.reshape(sub.shape[:2]) if sub.shape[2] == 1 else sub  # OpenCV's own one-channel shape
    inside = region[box].astype(np.uint8)
    for _ in range(iterations):
        cv2.copyTo(cv2.filter2D(sub, -1, FOUR_NEIGHBOUR_MEAN, borderType=cv2.BORDER_REPLICATE), inside, sub)
    out[box] = sub.reshape(out[box].shape)
    return out


def blended_telea(frame: np.ndarray, hole: np.ndarray, filled: np.ndarray, rest: np.ndarray,
                  weight: float = 1.0) -> np.ndarray:
    """Telea from the hole's true border, blended into the pixels around ``rest``.

    frame (H, W, C) the plate; hole bool (H, W) its unknown pixels; filled (H, W, C) with
    every pixel outside bool ``rest`` (part of ``hole``) known or already filled ->
    (H, W, C) float32: ``filled`` with ``rest`` set to ``weight`` x Telea of the whole hole
    plus the harmonic interpolation (``diffuse_into``) of ``filled - weight x Telea`` from
    rest's border. At weight 1: the gradients of a fill drawn from real pixels, the values
    of the fill around it (Poisson blending, Pérez et al. 2003); where nothing around
    ``rest`` differs from Telea, this is Telea. At weight 0: ``diffuse_into(filled, rest)``.
    Diffusion is linear, so weight 0.5 is the mean of the two, for one diffusion."""
    if filled.shape != frame.shape or hole.shape != frame.shape[:2] or rest.shape != hole.shape:
        raise ShapeError(f"blended_telea needs (H, W, C) frame and fill and (H, W) masks, got "
                               f"{frame.shape}, {filled.shape}, {hole.shape}, {rest.shape}")
    base = weight * telea_frame(frame, hole)
    correction = diffuse_into(np.where(rest[..., None], 0.0, filled - base).astype(np.float32), rest)
    return np.where(rest[..., None], base + correction, filled).astype(np.float32)
