"""Grain out and in: ``degrain`` (a denoised plate for the fills to read) and
``synthesize_grain`` / ``regrain`` (fresh grain like the plate's on the fill)."""

from __future__ import annotations

import cv2
import numpy as np

from ...colour import acescct_to_linear, linear_to_acescct
from ...errors import ConfigError, ShapeError
from ...parallel import map_frames
from .model import GrainModel, check_frames, check_mask, check_model, gaussian_kernel

DEGRAIN_WINDOW = 2.0  # px: the Lee filter's Gaussian window for white grain
DEGRAIN_WINDOW_PER_PX = 2.0  # px of window per px of grain size
DEGRAIN_MARGIN = 2.0  # local variance up to this many times the grain's counts as grain


# ---------------------------------------------------------------- degrain
def degrain(frames_linear: np.ndarray, model: GrainModel, holes: np.ndarray | None = None) -> np.ndarray:
    """A denoised copy of the plate, for the fills to read: (F, H, W, 3) float32.

    Per frame and channel, in the encoded space, a local Wiener (Lee) filter: with m and v
    the mean and variance of the known pixels in a Gaussian window (sigma ``DEGRAIN_WINDOW``
    + ``DEGRAIN_WINDOW_PER_PX`` x size: 2 + 2 x size px) and n the model's grain variance at m,
    out = m + max(0, v - k n) / v x (x - m), k = ``DEGRAIN_MARGIN`` (2). Flat areas become
    their local mean (about a quarter of the grain's std is left, at a coarser scale); edges
    and texture (v well above n) are kept, with their grain. Hole pixels are not read and
    come back as they were (the fill replaces them); so do values the encoding cannot hold
    (below linear -0.0069 or above 222). A clean model returns a copy.

    Known pixels of the result are NOT the plate's: the caller returns the plate's own there."""
    check_frames(frames_linear)
    check_model(model)
    if holes is not None:
        check_mask(holes, frames_linear.shape[:3], "holes")
    frames = np.asarray(frames_linear, dtype=np.float32)
    if model.is_clean:
        return frames.copy()
    window = DEGRAIN_WINDOW + DEGRAIN_WINDOW_PER_PX * max(model.size)

    def one(t):
        x = frames[t]
        y = linear_to_acescct(x)
        ok = np.isfinite(y).all(axis=-1) & (y >= 0.0).all(axis=-1) & (y <= 1.0).all(axis=-1)
        if holes is not None:
            ok &= ~holes[t]
        w = ok.astype(np.float32)
        yw = np.where(ok[..., None], y, 0.0).astype(np.float32)
        norm = np.maximum(cv2.GaussianBlur(w, (0, 0), window), 1e-6)[..., None]
        m = cv2.GaussianBlur(yw, (0, 0), window) / norm
        v = np.maximum(cv2.GaussianBlur(yw * yw, (0, 0), window) / norm - m * m, 0.0)
        n = model.std_at(np.clip(m, 0.0, 1.0)) ** 2
        gain = np.where(v > 0, np.maximum(v - DEGRAIN_MARGIN * n, 0.0) / np.maximum(v, 1e-12), 0.0)
        out = acescct_to_linear(m + gain * (y - m))
        return np.where(ok[..., None], out, x).astype(np.float32)

    return np.stack(map_frames(one, frames.shape[0]))


# ---------------------------------------------------------------- synthesis
def synthesize_grain(brightness_encoded: np.ndarray, model: GrainModel, rng: np.random.Generator) -> np.ndarray:
    """Additive grain (H, W, 3) float32 in the encoded space for a picture of that
    ``brightness_encoded`` (H, W, 3): per channel, white Gaussian noise filtered by the
    channel's Gaussian (``model.size``), scaled to unit variance, times ``model.std_at``.
    Noise is drawn on a margin around the picture, so its edges look like its middle."""
    b = brightness_encoded
    if not isinstance(b, np.ndarray) or b.ndim != 3 or b.shape[-1] != 3:
        raise ShapeError(f"brightness_encoded must be (H, W, 3), got {getattr(b, 'shape', type(b))}")
    if not np.issubdtype(b.dtype, np.floating):
        raise ShapeError(f"brightness_encoded must be floating point (encoded values), got {b.dtype}")
    check_model(model)
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    h, w, _ = b.shape
    if not model.levels or h == 0 or w == 0:
        return np.zeros(b.shape, np.float32)
    unit = np.empty((h, w, 3), np.float32)
    for c in range(3):
        k = gaussian_kernel(model.size[c])
        r = k.size // 2
        noise = rng.standard_normal((h + 2 * r, w + 2 * r), dtype=np.float32)
        if r:
            scale = 1.0 / float(np.sum(k ** 2))  # the 2-D kernel's L2 norm is sum(k^2)
            noise = cv2.sepFilter2D(noise, cv2.CV_32F, k, k, borderType=cv2.BORDER_REFLECT_101) * scale
        unit[..., c] = noise[r:r + h, r:r + w]
    return (unit * model.std_at(np.clip(b, 0.0, 1.0))).astype(np.float32)


def _check_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def regrain(fill_linear: np.ndarray, where: np.ndarray, model: GrainModel, seed: int, frame_number: int) -> np.ndarray:
    """``fill_linear`` (H, W, 3) scene-linear with fresh grain added to the pixels of ``where``.

    where: (H, W) bool, or float weights in [0, 1] (grain times the weight: a soft edge);
    pixels where it is False / 0 come back bit for bit, in the input's dtype. The grain is
    made on the bounding box of ``where`` only (cost follows the hole), in the encoded space,
    at each pixel's own brightness; its pattern is fixed by (seed, frame_number) and the
    box, and differs from frame to frame. A clean model returns a copy."""
    x = fill_linear
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[-1] != 3 or not np.issubdtype(x.dtype, np.floating):
        raise ShapeError(f"fill_linear must be a scene-linear float (H, W, 3) frame, got "
                         f"{getattr(x, 'dtype', type(x))} {getattr(x, 'shape', '')}")
    if not isinstance(where, np.ndarray) or where.shape != x.shape[:2]:
        raise ShapeError(f"where must be (H, W) = {x.shape[:2]}, bool or float weights, got "
                         f"{getattr(where, 'shape', type(where))}")
    if where.dtype == bool:
        weight = None
    elif np.issubdtype(where.dtype, np.floating):
        if not np.isfinite(where).all() or where.min(initial=0.0) < 0 or where.max(initial=0.0) > 1:
            raise ShapeError("float where must hold weights in [0, 1]; clip it or pass a bool mask")
        weight = where
    else:
        raise ShapeError(f"where must be bool or float weights in [0, 1], got {where.dtype}")
    check_model(model)
    seed, frame_number = _check_int(seed, "seed"), _check_int(frame_number, "frame_number")
    out = x.copy()
    on = where if weight is None else weight > 0
    if model.is_clean or not on.any():
        return out
    ys, xs = np.flatnonzero(on.any(axis=1)), np.flatnonzero(on.any(axis=0))
    y0, y1, x0, x1 = ys[0], ys[-1] + 1, xs[0], xs[-1] + 1
    crop = np.asarray(x[y0:y1, x0:x1], dtype=np.float32)
    enc = linear_to_acescct(crop)
    rng = np.random.default_rng([seed, frame_number])
    grain = synthesize_grain(enc, model, rng)
    if weight is not None:
        grain *= weight[y0:y1, x0:x1, None].astype(np.float32)
    grainy = acescct_to_linear(enc + grain).astype(x.dtype)
    box = out[y0:y1, x0:x1]
    mask = on[y0:y1, x0:x1]
    box[mask] = grainy[mask]
    return out
