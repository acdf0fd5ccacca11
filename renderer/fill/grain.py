"""Grain, matched: measure a plate's grain, take it out for the fills, put fresh grain back.

A fill made by diffusion, Telea or a network is clean; a clean patch in a grainy plate
shows at once. The VFX practice is "degrain, fill, regrain", and this module gives its
three parts on scene-linear float32 frames:

- ``estimate_grain(frames_linear, known) -> GrainModel``: the grain of the shot itself.
- ``degrain(frames_linear, model, holes)``: a denoised plate, only for the fills to read.
- ``regrain(fill_linear, where, model, seed, frame_number)``: fresh grain added to
  ``where`` only (``synthesize_grain`` makes it).

**Space.** Everything is measured and added in the encoded space, ACEScct
(``renderer.colour.linear_to_acescct``: the curve of ``encode`` without its [0, 1] clip,
so a round trip keeps highlights). Film grain is roughly constant in log exposure, which
is nearly constant there; a digital sensor's noise (roughly sqrt(signal) in linear)
falls with brightness there. The model holds a table, so it covers both.

**The model.** Per channel: the grain's standard deviation (encoded units) at a few
brightness levels (encoded), interpolated piecewise-linearly between them (monotone
between two levels, no overshoot) and held flat beyond the first and last; and the
grain's size, the sigma (px) of the Gaussian that, applied to white noise, gives noise
with the same correlation between neighbouring pixels as the plate's grain.

**How it is estimated.** From a few frames spread over the shot, each with its next
frame (at most ``max_samples`` pixels read in all), in the encoded space, per channel:

1. Two high-pass responses of the plate, both blind to flat, linear and bilinear
   shading: ``r1`` the 3x3 mask [1 -2 1] x [1 -2 1] (Immerkaer's noise estimator) and
   ``r2`` the same mask spread to a 5x5 (lag 2 px).
2. The frame is cut into 16x16 blocks. A block counts when every pixel it and its
   filters read is known (``known`` eroded by ``MARGIN`` = 10 px, frame borders left out).
   Its brightness is the mean of the plate blurred with sigma 3 px; its structure the
   mean curvature (fxx^2 + 2 fxy^2 + fyy^2) of that blur (texture and edges raise it,
   grain barely does, ramps not at all); its change the mean squared difference between
   that blur and the next frame's (motion raises it).
3. Blocks are binned by brightness (bins 0.05 wide). In each bin with at least
   ``MIN_BLOCKS`` blocks, two readings, each over a quarter of the bin's blocks
   (``MIN_BLOCKS`` at least), each the standard deviations of the responses read
   robustly as median(|r|) / 0.6745, so the texture left in a few pixels does not count:
   *spatial*, r1 and r2 over the flattest blocks (lowest structure); *temporal*, the
   frame-to-frame differences (r1 - r1') / sqrt 2 and (r2 - r2') / sqrt 2 over the
   stillest blocks (lowest change): grain is fresh every frame and a still scene's texture
   cancels, so a locked-off textured plate reads right. Texture and motion only add
   energy, so the bin keeps the lower of the two.
4. Size: for Gaussian-filtered white noise of sigma s, the variance ratio r1 / r2 is a
   known, decreasing function of s (1 for white noise); the ratio measured (pooled over
   the bins, weighted by blocks) is inverted on a table of s from 0 to ``MAX_SIZE`` px.
   A bin whose ratio is below that of grain of ``MAX_SIZE`` holds smooth texture, not
   grain, and is dropped (a clean plate with soft texture reads clean, not as big grain).
5. Std: the r1 response of unit grain of that size is known, so each bin's std is
   sd(r1) / sd(r1 of unit grain). The table's levels are the bins measured, at the mean
   brightness of their blocks; a channel not measured at a level is interpolated there.

Measured (``docs/grain.md``): on synthetic grain of known std and size over smooth,
textured, finely textured (still) or moving textured pictures, the std at each pixel's
brightness within 5 % (median) and size within 3 %; on a real clip with film-like grain
added, std within 1.3 % (median; 4 % at the 90th percentile) and size 0.79 px for 0.8.
A 48-frame 1280x720 shot takes 0.3 to 1.0 s on 2 shared cores.

**How it is synthesised.** White Gaussian noise, filtered per channel by that channel's
Gaussian, scaled to unit variance, times the table's std at each pixel's own brightness;
added in the encoded space, a fresh pattern per frame from ``(seed, frame_number)``.

**Limits: what the model cannot represent.**
- Grain correlated across channels (real film grain and demosaiced sensor noise often
  are): the synthetic grain is independent per channel, so luma grain is somewhat weaker
  than the plate's when the plate's channels move together.
- Structured grain: film grain's clumps and non-Gaussian shape, fixed-pattern noise,
  banding, compression blocking and ringing (measured as if they were grain, of the
  wrong look), and noise that a codec has smoothed away in flat areas but kept in
  texture (then flat blocks read as cleaner than the plate).
- Grain that varies across the frame (vignetting-dependent noise, windows of other
  footage, different stocks comped together): one table per shot, by brightness only.
- Grain that changes over the shot (a push in exposure, a stock change mid-shot).
- Very large grain: above about 2 px sigma the high-pass responses hardly see it and it
  is hard to tell from soft texture (on textured pictures the std then reads high); grain
  beyond ``MAX_SIZE`` (3 px) reads as texture, i.e. not at all. Sizes below about 0.4 px
  read as white noise (0 to 0.4), which looks the same.
- Texture as fine as the grain, moving, with no flat area at some brightness (foliage,
  gravel, fabric at a distance, in every block of that level) reads as grain: the std
  there reads high (still texture is fine: the temporal reading cancels it). A level with
  too few known blocks is missing from the table and its neighbours' values are used.
- A codec's own noise and blocking are part of the plate and are measured with the
  grain (a clean 8-bit clip reads 0.0001 to 0.003 here; added grain reads about that much
  high, in quadrature).
- Clipped areas and areas a codec has flattened to one 8-bit code read as clean at their
  level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import acescct_to_linear, linear_to_acescct
from ..errors import ConfigError, ShapeError
from ..parallel import map_frames

# encoded (ACEScct) std below which a plate counts as clean: 2/3 of an 8-bit sRGB code value at mid grey
CLEAN_STD = 0.001
MAX_SAMPLES = 4_000_000  # pixels (all three channels each) read by ``estimate_grain`` by default
MAX_FRAMES = 12  # frames (each with its next) ``estimate_grain`` reads at most, spread over the shot
MAX_SIZE = 3.0  # px: the largest grain size the model holds
BLOCK = 16  # px: the side of the blocks whose flatness and stillness are judged
BIN = 0.05  # encoded units: the width of a brightness bin
MIN_BLOCKS = 6  # blocks a bin needs to be measured
FLAT_FRACTION = 0.25  # the share of a bin's blocks each reading uses (the flattest; the stillest)
BRIGHTNESS_SIGMA = 3.0  # px: the blur that gives a block's brightness and structure
BRIGHTNESS_RADIUS = 9  # px: that blur's kernel radius (3 sigma)
MARGIN = BRIGHTNESS_RADIUS + 1  # px every pixel a block's figures read is from unknown pixels and the frame's edge
DEGRAIN_WINDOW = 2.0  # px: the Lee filter's Gaussian window for white grain
DEGRAIN_WINDOW_PER_PX = 2.0  # px of window per px of grain size
DEGRAIN_MARGIN = 2.0  # local variance up to this many times the grain's counts as grain
MAD_TO_STD = 1.0 / 0.6744897501960817  # Gaussian: sd = median(|x|) / 0.6745

_D1 = np.array([1.0, -2.0, 1.0])  # second difference, lag 1
_D2 = np.array([1.0, 0.0, -2.0, 0.0, 1.0])  # second difference, lag 2
_SLOPE = np.array([-0.5, 0.0, 0.5])  # first difference, central
_SMOOTH = np.array([0.25, 0.5, 0.25])  # the smoothing across a Sobel derivative


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class GrainModel:
    """A shot's grain, per channel, in the encoded (ACEScct) space.

    levels: encoded brightness of the table's rows, strictly increasing (may be empty: no grain).
    std: per row, the grain's standard deviation in encoded units, one per channel (R, G, B);
        interpolated piecewise-linearly in brightness, held flat beyond the ends.
    size: the sigma (px) of the Gaussian that makes white noise look like each channel's grain.
    samples: pixels the estimate rests on (0 for a model made by hand or with nothing to read).
    clean_below: ``strength`` under which ``is_clean`` holds and nothing is added.
    """

    levels: tuple[float, ...] = ()
    std: tuple[tuple[float, float, float], ...] = ()
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    samples: int = 0
    clean_below: float = CLEAN_STD

    def __post_init__(self):
        levels = np.asarray(self.levels, dtype=np.float64).reshape(-1)
        std = np.asarray(self.std, dtype=np.float64)
        size = np.asarray(self.size, dtype=np.float64)
        if levels.size and (std.shape != (levels.size, 3)):
            raise ConfigError(f"grain std must have one (R, G, B) triple per level: {levels.size} levels, "
                              f"std of shape {std.shape}; give std as a list of [r, g, b] rows")
        if not levels.size and std.size:
            raise ConfigError("grain std is given without levels; give the brightness levels it belongs to")
        if not (np.isfinite(levels).all() and np.isfinite(std).all()) or (std < 0).any():
            raise ConfigError("grain levels and std must be finite and std >= 0")
        if levels.size > 1 and not (np.diff(levels) > 0).all():
            raise ConfigError(f"grain levels must be strictly increasing, got {levels.tolist()}")
        if size.shape != (3,) or not np.isfinite(size).all() or (size < 0).any() or (size > MAX_SIZE).any():
            raise ConfigError(f"grain size must be three sigmas in [0, {MAX_SIZE}] px, got {self.size}")
        if not (math.isfinite(self.clean_below) and self.clean_below >= 0):
            raise ConfigError(f"clean_below must be a finite value >= 0, got {self.clean_below}")
        object.__setattr__(self, "levels", tuple(float(v) for v in levels))
        object.__setattr__(self, "std", tuple(tuple(float(v) for v in row) for row in std))
        object.__setattr__(self, "size", tuple(float(v) for v in size))

    @classmethod
    def clean(cls) -> "GrainModel":
        """No grain: ``regrain`` returns its input, ``degrain`` a copy."""
        return cls()

    @property
    def strength(self) -> float:
        """One figure for logs: the median over levels of the std averaged over channels
        (encoded units; 0.01 is 0.18 stop, i.e. 13 % of the linear value)."""
        if not self.levels:
            return 0.0
        return float(np.median(np.asarray(self.std).mean(axis=1)))

    @property
    def is_clean(self) -> bool:
        """True when the grain is too weak to matter (a CG plate): nothing is added."""
        return self.strength < self.clean_below

    def std_at(self, brightness_encoded: np.ndarray) -> np.ndarray:
        """The grain's std (encoded units) at each pixel: (..., 3) encoded -> (..., 3) float32,
        channel c read from channel c's brightness."""
        b = np.asarray(brightness_encoded, dtype=np.float32)
        if b.ndim < 1 or b.shape[-1] != 3:
            raise ShapeError(f"brightness must be (..., 3) encoded values, got shape {b.shape}")
        if not self.levels:
            return np.zeros(b.shape, np.float32)
        table = np.asarray(self.std, dtype=np.float32)
        levels = np.asarray(self.levels, dtype=np.float32)
        return np.stack([np.interp(b[..., c], levels, table[:, c]).astype(np.float32) for c in range(3)], axis=-1)

    def as_dict(self) -> dict:
        """Plain data for logs and JSON."""
        return {"levels": list(self.levels), "std": [list(r) for r in self.std], "size": list(self.size),
                "samples": self.samples, "strength": self.strength, "is_clean": self.is_clean}


# ---------------------------------------------------------------- the grain's spatial shape
def gaussian_kernel(sigma: float) -> np.ndarray:
    """The 1-D sampled Gaussian of ``sigma`` px (radius ceil(3 sigma)), summing to 1;
    [1] below 0.05 px (white noise)."""
    if sigma < 0.05:
        return np.ones(1)
    radius = max(1, int(math.ceil(3.0 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


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


# ---------------------------------------------------------------- guards
def _check_frames(frames: np.ndarray, name: str = "frames_linear") -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError(f"{name} must be a scene-linear (F, H, W, 3) array, "
                         f"got {getattr(frames, 'shape', type(frames))}")
    if not np.issubdtype(frames.dtype, np.floating):
        raise ShapeError(f"{name} must be floating point (scene-linear float32), got {frames.dtype}")


def _check_mask(mask, shape, name: str) -> None:
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != tuple(shape):
        raise ShapeError(f"{name} must be bool {tuple(shape)} (one per pixel of each frame), got "
                         f"{getattr(mask, 'dtype', type(mask))} {getattr(mask, 'shape', '')}")


def _check_model(model) -> None:
    if not isinstance(model, GrainModel):
        raise ConfigError(f"model must be a GrainModel (from estimate_grain or GrainModel.clean()), "
                          f"got {type(model).__name__}")


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
    """The shot's grain, from its known pixels (see the module's docstring for how).

    frames_linear: scene-linear (F, H, W, 3) float; known: bool (F, H, W), True = usable
    (not in a hole, not a matte's garbage). Reads at most ``max_samples`` pixels: up to
    ``MAX_FRAMES`` frames spread over the shot, each with the frame after it (before it,
    for the last), or a band across the middle when one pair holds more. A plate with too
    few known pixels to measure gives a model with no levels (clean: nothing added) and
    ``samples`` 0. ``samples`` counts the pixels of the blocks measured (the channel with most)."""
    _check_frames(frames_linear)
    _check_mask(known, frames_linear.shape[:3], "known")
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
    _check_frames(frames_linear)
    _check_model(model)
    if holes is not None:
        _check_mask(holes, frames_linear.shape[:3], "holes")
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
    _check_model(model)
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
    _check_model(model)
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
