"""The grain model (``GrainModel``), the Gaussian that shapes grain, and the package's guards."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError, ShapeError

# encoded (ACEScct) std below which a plate counts as clean: 2/3 of an 8-bit sRGB code value at mid grey
CLEAN_STD = 0.001
MAX_SIZE = 3.0  # px: the largest grain size the model holds


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


# ---------------------------------------------------------------- guards
def check_frames(frames: np.ndarray, name: str = "frames_linear") -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError(f"{name} must be a scene-linear (F, H, W, 3) array, "
                         f"got {getattr(frames, 'shape', type(frames))}")
    if not np.issubdtype(frames.dtype, np.floating):
        raise ShapeError(f"{name} must be floating point (scene-linear float32), got {frames.dtype}")


def check_mask(mask, shape, name: str) -> None:
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != tuple(shape):
        raise ShapeError(f"{name} must be bool {tuple(shape)} (one per pixel of each frame), got "
                         f"{getattr(mask, 'dtype', type(mask))} {getattr(mask, 'shape', '')}")


def check_model(model) -> None:
    if not isinstance(model, GrainModel):
        raise ConfigError(f"model must be a GrainModel (from estimate_grain or GrainModel.clean()), "
                          f"got {type(model).__name__}")
