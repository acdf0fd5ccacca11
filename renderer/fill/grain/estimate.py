"""Grain estimation: the shot's grain read from its flattest and stillest known blocks
(the package's docstring says how)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ...colour import linear_to_acescct
from ...errors import ConfigError, ShapeError
from ...parallel import map_frames
from .model import CLEAN_STD, MAX_SIZE, GrainModel, check_frames, check_mask, gaussian_kernel

MAX_SAMPLES = 4_000_000  # pixels (all three channels each) read by ``estimate_grain`` by default
MAX_FRAMES = 12  # frames (each with its next) ``estimate_grain`` reads at most, spread over the shot
BLOCK = 16  # px: the side of the blocks whose flatness and stillness are judged
BIN = 0.05  # encoded units: the width of a brightness bin
MIN_BLOCKS = 6  # blocks a bin needs to be measured
FLAT_FRACTION = 0.25  # the share of a bin's blocks each reading uses (the flattest; the stillest)
BRIGHTNESS_SIGMA = 3.0  # px: the blur that gives a block's brightness and structure
BRIGHTNESS_RADIUS = 9  # px: that blur's kernel radius (3 sigma)
MARGIN = BRIGHTNESS_RADIUS + 1  # px every pixel a block's figures read is from unknown pixels and the frame's edge
MAD_TO_STD = 1.0 / 0.6744897501960817  # Gaussian: sd = median(|x|) / 0.6745

_D1 = np.array([1.0, -2.0, 1.0])  # second difference, lag 1
_D2 = np.array([1.0, 0.0, -2.0, 0.0, 1.0])  # second difference, lag 2
_SLOPE = np.array([-0.5, 0.0, 0.5])  # first difference, central
_SMOOTH = np.array([0.25, 0.5, 0.25])  # the smoothing across a Sobel derivative


# ---------------------------------------------------------------- the grain's size from its responses
def _response_gain(sigma: float, d: np.ndarray) -> float:
    """Variance of the separable mask d x d applied to unit-variance grain of ``sigma``:
    (||d * k||^2 / ||k||^2)^2 for the 1-D kernel k (everything separates)."""
    k = gaussian_kernel(sigma)
    return float((np.sum(np.convolve(d, k) ** 2) / np.sum(k ** 2)) ** 2)


_SIZES = np.linspace(0.0, MAX_SIZE, 201)
_GAIN1 = np.array([_response_gain(s, _D1) for s in _SIZES])
_RATIO = _GAIN1 / np.array([_response_gain(s, _D2) for s in _SIZES])  # 1 at s = 0, decreasing


def size_from_ratio(ratio: float) -> float:
    """Grain sigma (px) whose lag-1 / lag-2 response-variance ratio is ``ratio``
    (1 or more: white noise, 0; below the table's end: ``MAX_SIZE``)."""
    if not math.isfinite(ratio) or ratio >= 1.0:
        return 0.0
    return float(np.interp(ratio, _RATIO[::-1], _SIZES[::-1]))


def lag1_gain(sigma: float) -> float:
    """Variance of the lag-1 response (3x3 mask [1 -2 1] x [1 -2 1]) of unit grain of ``sigma``."""
    return float(np.interp(sigma, _SIZES, _GAIN1))


# ---------------------------------------------------------------- estimation
def _encoded(frame: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(encoded frame, uint8 mask of the pixels whose every filter tap is known)."""
    finite = np.isfinite(frame).all(axis=-1)
    y = linear_to_acescct(np.where(finite[..., None], frame, 0.0))
    usable = (known & finite).astype(np.uint8)
    return y, cv2.erode(usable, np.ones((2 * MARGIN + 1, 2 * MARGIN + 1), np.uint8), borderValue=0)


def _responses(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(brightness blur, curvature of that blur, r1, r2) of an encoded (H, W, 3) frame."""
    mu = cv2.GaussianBlur(y, (2 * BRIGHTNESS_RADIUS + 1,) * 2, BRIGHTNESS_SIGMA)
    fxx = cv2.sepFilter2D(mu, cv2.CV_32F, _D1, _SMOOTH)
    fyy = cv2.sepFilter2D(mu, cv2.CV_32F, _SMOOTH, _D1)
    fxy = cv2.sepFilter2D(mu, cv2.CV_32F, _SLOPE, _SLOPE)
    return (mu, fxx * fxx + 2.0 * fxy * fxy + fyy * fyy,
            cv2.sepFilter2D(y, cv2.CV_32F, _D1, _D1), cv2.sepFilter2D(y, cv2.CV_32F, _D2, _D2))


def _frame_blocks(frame: np.ndarray, known: np.ndarray, other: np.ndarray | None, other_known: np.ndarray | None):
    """One frame (and a neighbouring one, or None) -> per usable block, as a tuple:
    brightness (n, 3), structure (n, 3), |r1| and |r2| (n, B*B, 3) (spatial), change (n, 3)
    (the mean squared difference of the two frames' brightness blurs; inf where the
    neighbour is not usable), |r1 - r1'| / sqrt 2 and |r2 - r2'| / sqrt 2 (n, B*B, 3)
    (temporal: the grain alone where the scene is still, as grain is fresh every frame)."""
    h, w = known.shape
    y, usable = _encoded(frame, known)
    mu, curve, r1, r2 = _responses(y)
    nby, nbx = h // BLOCK, w // BLOCK
    hh, ww = nby * BLOCK, nbx * BLOCK

    def blocks(a):  # (H, W, C) -> (nby * nbx, BLOCK * BLOCK, C)
        c = a.shape[-1] if a.ndim == 3 else 1
        return (a[:hh, :ww].reshape(nby, BLOCK, nbx, BLOCK, c).transpose(0, 2, 1, 3, 4)
                .reshape(nby * nbx, BLOCK * BLOCK, c))

    ok = blocks(usable).all(axis=(1, 2))
    if not ok.any():
        return None
    n = int(ok.sum())
    change = np.full((n, 3), np.inf, np.float32)
    t1 = t2 = np.zeros((n, BLOCK * BLOCK, 3), np.float32)
    if other is not None:
        y2, usable2 = _encoded(other, other_known)
        mu2, _, q1, q2 = _responses(y2)
        both = blocks(usable2)[ok].all(axis=(1, 2))
        change[both] = blocks((mu - mu2) ** 2)[ok][both].mean(axis=1)
        t1 = np.abs(blocks(r1 - q1)[ok]) * np.float32(math.sqrt(0.5))
        t2 = np.abs(blocks(r2 - q2)[ok]) * np.float32(math.sqrt(0.5))
    return (blocks(mu)[ok].mean(axis=1), blocks(curve)[ok].mean(axis=1), np.abs(blocks(r1)[ok]),
            np.abs(blocks(r2)[ok]), change, t1, t2)


def _sample_frames(shape: tuple[int, int, int], max_samples: int) -> tuple[list[tuple[int, int | None]], int]:
    """([(frame, its neighbour or None)] spread over the shot, rows to read from each: a central band).
    Each pair reads two frames."""
    f, h, w = shape
    per_pick = h * w * (2 if f > 1 else 1)
    count = int(min(f, MAX_FRAMES, max(1, max_samples // per_pick)))
    rows = int(min(h, max(BLOCK + 2 * MARGIN + 4, max_samples // (w * (2 if f > 1 else 1)))))
    if count >= f:
        picks = list(range(f))
    else:
        picks = sorted(set(np.round(np.linspace(0, f - 1, count + 2)[1:-1]).astype(int).tolist()))
    return [(t, t + 1 if t + 1 < f else (t - 1 if t > 0 else None)) for t in picks], rows


def _bin_point(idx: np.ndarray, order_by: np.ndarray, r1: np.ndarray, r2: np.ndarray, c: int):
    """(sd(r1), sd(r2), the blocks used): over the ``FLAT_FRACTION`` of blocks ``idx`` lowest in ``order_by``."""
    keep = max(MIN_BLOCKS, int(math.ceil(FLAT_FRACTION * idx.size)))
    chosen = idx[np.argsort(order_by[idx], kind="stable")[:keep]]
    return (float(np.median(r1[chosen, :, c])) * MAD_TO_STD, float(np.median(r2[chosen, :, c])) * MAD_TO_STD,
            chosen)


def estimate_grain(frames_linear: np.ndarray, known: np.ndarray, *, max_samples: int = MAX_SAMPLES,
                   clean_below: float = CLEAN_STD) -> GrainModel:
    """The shot's grain, from its known pixels (the package's docstring says how).

    frames_linear: scene-linear (F, H, W, 3) float; known: bool (F, H, W), True = usable
    (not in a hole, not a matte's garbage). Reads at most ``max_samples`` pixels: up to
    ``MAX_FRAMES`` frames spread over the shot, each with the frame after it (before it,
    for the last), or a band across the middle when one pair holds more. A plate with too
    few known pixels to measure gives a model with no levels (clean: nothing added) and
    ``samples`` 0. ``samples`` counts the pixels of the blocks measured (the channel with most)."""
    check_frames(frames_linear)
    check_mask(known, frames_linear.shape[:3], "known")
    if isinstance(max_samples, bool) or not isinstance(max_samples, (int, np.integer)) or max_samples < 4096:
        raise ConfigError(f"max_samples must be an integer of at least 4096 pixels, got {max_samples!r}")
    f, h, w = known.shape
    if h < BLOCK + 2 * MARGIN + 4 or w < BLOCK + 2 * MARGIN + 4:
        raise ShapeError(f"frames of {h}x{w} px are too small to measure grain: at least "
                         f"{BLOCK + 2 * MARGIN + 4}x{BLOCK + 2 * MARGIN + 4} px are needed")
    pairs, rows = _sample_frames((f, h, w), int(max_samples))
    y0 = (h - rows) // 2

    def band(t):
        return (np.ascontiguousarray(frames_linear[t, y0:y0 + rows], dtype=np.float32),
                np.ascontiguousarray(known[t, y0:y0 + rows]))

    def one(i):
        t, u = pairs[i]
        return _frame_blocks(*band(t), *(band(u) if u is not None else (None, None)))

    parts = [p for p in map_frames(one, len(pairs)) if p is not None]
    if not parts:
        return GrainModel(clean_below=clean_below)
    bright, struct, a1, a2, change, t1, t2 = (np.concatenate([p[k] for p in parts]) for k in range(7))

    edges = np.arange(0.0, 1.0 + BIN, BIN)
    sizes, tables = [], []
    for c in range(3):
        which = np.clip(np.digitize(bright[:, c], edges) - 1, 0, len(edges) - 2)
        points = []  # (bin, brightness, sd(r1), sd(r2), blocks)
        for b in np.unique(which):
            idx = np.flatnonzero(which == b)
            if idx.size < MIN_BLOCKS:
                continue
            s1, s2, chosen = _bin_point(idx, struct[:, c], a1, a2, c)  # the flattest blocks
            still = idx[np.isfinite(change[idx, c])]
            if still.size >= MIN_BLOCKS:  # the stillest blocks, frame to frame: texture cancels
                u1, u2, chosen_t = _bin_point(still, change[:, c], t1, t2, c)
                if u1 < s1:
                    s1, s2, chosen = u1, u2, chosen_t
            # a bin whose lag-1 / lag-2 ratio is below that of the largest grain holds texture, not grain
            if s2 > 0 and (s1 / s2) ** 2 <= _RATIO[-1]:
                continue
            points.append((int(b), float(bright[chosen, c].mean()), s1, s2, int(chosen.size)))
        grainy = [p for p in points if p[3] > 0]
        ratio = np.average([(p[2] / p[3]) ** 2 for p in grainy], weights=[p[4] for p in grainy]) if grainy else 1.0
        size = size_from_ratio(float(ratio))
        gain = math.sqrt(lag1_gain(size))
        tables.append({p[0]: (p[1], p[2] / gain, p[4]) for p in points})
        sizes.append(size)

    bins = sorted(set().union(*tables))
    if not bins:
        return GrainModel(clean_below=clean_below)
    # one level per bin: the mean brightness of the channels measured there
    levels = np.array([np.mean([t[b][0] for t in tables if b in t]) for b in bins])
    std = np.zeros((levels.size, 3))
    for c, table in enumerate(tables):
        if table:
            xs, ys, _ = np.array([table[b] for b in sorted(table)]).T
            std[:, c] = np.interp(levels, xs, ys)
    blocks_used = max(sum(v[2] for v in table.values()) for table in tables)
    return GrainModel(levels=tuple(levels), std=tuple(map(tuple, std)), size=tuple(sizes),
                      samples=int(blocks_used * BLOCK * BLOCK), clean_below=clean_below)
