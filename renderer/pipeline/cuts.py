"""Cuts inside a shot: where the plate changes from one camera set-up to another.

A plate range can hold a cut (editorial handles, a sequence submitted whole). Flow across
a cut matches unrelated pictures, so chains, the temporal filter and the detail layer
would carry the other side's content into the hole. Each side is filled as its own shot
(``inpaint.inpaint_arrays``; decision 0060).

A cut is found by how well the next frame, moved by its flow, matches the frame: within a
set-up the residual after that motion stays near its neighbours' however fast the camera
moves; across a cut it jumps. Measured on the development clips (bikes.mp4, cityCC0.mpg,
every pair of their 440 frames at 192 px wide): the six cuts the clips hold gave 7.4 to
42 times the median of their neighbours' residual, no other pair more than 1.6.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import linear_to_srgb
from ..errors import ShapeError
from ..fill.patch_level import LUMA
from ..method.flow import dis_flow, sample

# px: frames are compared at this width (the height in proportion); a cut changes the
# whole picture, so a thumbnail shows it, and DIS at this size costs a few milliseconds
CUT_WIDTH = 192
# a pair's residual over the median of its neighbours' that makes it a cut: between the
# clips' highest pair within a set-up (1.6) and their lowest cut (7.4)
CUT_RATIO = 4.0
# the least residual (mean absolute display difference, 0-1) a cut has: on a near-still
# plate the neighbours' median is a few thousandths, and its noise alone can double it.
# The clips' cuts have 0.14 to 0.32, their pairs within a set-up up to 0.04
CUT_FLOOR = 0.05
NEIGHBOURS = 6  # pairs on each side whose median a pair's residual is compared with


def thumbnails(frames_linear: np.ndarray, holes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, h, CUT_WIDTH, 3) display sRGB (clipped to 0-1) and bool (F, h, CUT_WIDTH): the
    frames and their holes reduced for ``pair_residual``; frames narrower than that keep
    their size."""
    if frames_linear.ndim != 4 or frames_linear.shape[-1] != 3 or holes.shape != frames_linear.shape[:3]:
        raise ShapeError(f"cut detection needs frames (F, H, W, 3) and holes (F, H, W), got "
                         f"{frames_linear.shape} and {holes.shape}")
    height, width = frames_linear.shape[1:3]
    size = (min(CUT_WIDTH, width), max(1, round(height * min(CUT_WIDTH, width) / width)))
    small = np.stack([linear_to_srgb(cv2.resize(np.nan_to_num(f, nan=0.0, posinf=1.0, neginf=0.0), size,
                                                interpolation=cv2.INTER_AREA)) for f in frames_linear])
    # a pixel touched by the hole at full size is not the plate's
    covered = np.stack([cv2.resize(h.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0 for h in holes])
    return small, covered


def pair_residual(a: np.ndarray, b: np.ndarray, hole_a: np.ndarray, hole_b: np.ndarray) -> float:
    """Mean absolute difference between ``a`` and ``b`` moved onto it by their DIS flow,
    over the pixels known in both whose motion stays inside the frame; ``a``, ``b`` (h, w, 3)
    display sRGB in 0-1, holes bool (h, w). NaN where fewer than a tenth of the pixels count."""
    grey = [np.clip(x @ LUMA * 255 + 0.5, 0, 255).astype(np.uint8) for x in (a, b)]
    flow = dis_flow(grey[0], grey[1])
    moved = sample(np.ascontiguousarray(b), flow, border=cv2.BORDER_REPLICATE)
    # what enters the frame has no match in it however the camera moves
    inside = sample(np.ones(hole_a.shape, np.float32), flow) > 0.999
    known = ~hole_a & inside & (sample(hole_b.astype(np.float32), flow, border=cv2.BORDER_REPLICATE) == 0)
    if known.mean() < 0.1:
        return float("nan")
    return float(np.abs(a - moved)[known].mean())


def is_cut(residuals: np.ndarray, k: int) -> bool:
    """Whether pair ``k`` of ``residuals`` (F-1,) stands out as a cut: at least ``CUT_FLOOR``
    and ``CUT_RATIO`` times the median of up to ``NEIGHBOURS`` pairs on each side (at least
    two of them measured)."""
    value = residuals[k]
    around = np.concatenate([residuals[max(0, k - NEIGHBOURS):k], residuals[k + 1:k + 1 + NEIGHBOURS]])
    around = around[np.isfinite(around)]
    if not np.isfinite(value) or value < CUT_FLOOR or around.size < 2:
        return False
    return bool(value >= CUT_RATIO * max(float(np.median(around)), 1e-4))


def find_cuts(frames_linear: np.ndarray, holes: np.ndarray) -> list[int]:
    """The frames (indices, ascending) that start a new set-up: a cut lies between frame
    k - 1 and frame k. ``frames_linear`` (F, H, W, 3) scene-linear; ``holes`` bool (F, H, W),
    whose pixels are not compared.

    A single frame unlike its neighbours while they match each other (a flash of light) is
    no cut on either side of it: each end of a pair that stands out is compared with the
    frame past the other end too."""
    small, covered = thumbnails(frames_linear, holes)
    n = len(small)
    if n < 3:
        return []

    def matches(i: int, j: int) -> bool:  # frames i and j, both inside the shot, show one set-up
        if not (0 <= i < n and 0 <= j < n):
            return False
        residual = pair_residual(small[i], small[j], covered[i], covered[j])
        return bool(np.isfinite(residual) and residual < CUT_FLOOR)

    residuals = np.array([pair_residual(small[t], small[t + 1], covered[t], covered[t + 1]) for t in range(n - 1)])
    return [k + 1 for k in range(n - 1) if is_cut(residuals, k) and not matches(k, k + 2) and not matches(k - 1, k + 1)]


def sides(n_frames: int, cuts: list[int]) -> list[tuple[int, int]]:
    """The set-ups of a shot of ``n_frames`` frames cut before each of ``cuts``: half-open
    [a, b) index ranges in order, covering every frame."""
    bounds = [0, *sorted(c for c in cuts if 0 < c < n_frames), n_frames]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
