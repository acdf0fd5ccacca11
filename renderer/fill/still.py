"""Copying from the nearest frame that shows the pixel, without flow: the fill for a still
camera.

Where the camera does not move, the background behind a hole is the same pixel in the
frames where the hole has moved away. Following DIS flow there adds its noise: chains
drift past the still-chain snap (``fill.propagate``), sample bilinearly and land on the
wrong content near moving people. On a near-still stretch of bikes.mp4 (48 frames at
272x640, people-shaped holes) this copy scored 27.48 dB against seamed propagation's
24.71. It is what ``renderer evaluate``'s ``temporal-nearest`` measures; as a candidate
pre-fill of the held-out check it was dropped (docs/decisions/0021): over a moving camera
any motion shows up as a misplaced copy, and the check's holes, which move with the
frame, could not tell where it wins.
"""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from .classical import check_video, telea_frame

NO_FRAME = -1  # index of the source frame where no frame shows the pixel


def nearest_known_source(holes: np.ndarray) -> np.ndarray:
    """bool (F, H, W) holes -> int32 (F, H, W): for each pixel, the index of the nearest
    frame in time where that pixel position is known (not in the hole); ties go to the
    earlier frame; a known pixel is its own source; ``NO_FRAME`` where no frame shows it.

    Two scans over the frames (one (H, W) step each) instead of a search per frame, so the
    cost does not grow with how long a pixel stays covered."""
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.ndim != 3:
        raise ShapeError(f"holes must be bool (F, H, W), got {getattr(holes, 'dtype', type(holes))} "
                         f"{getattr(holes, 'shape', '')}")
    n = holes.shape[0]
    source = np.empty(holes.shape, np.int32)
    last = np.full(holes.shape[1:], NO_FRAME, np.int32)
    for t in range(n):  # the latest known frame at or before t
        last = np.where(holes[t], last, t)
        source[t] = last
    upcoming = np.full(holes.shape[1:], NO_FRAME, np.int32)
    for t in range(n - 1, -1, -1):  # the earliest known frame at or after t, against the earlier one
        upcoming = np.where(holes[t], upcoming, t)
        before = source[t]
        later_is_nearer = (upcoming != NO_FRAME) & ((before == NO_FRAME) | (upcoming - t < t - before))
        source[t] = np.where(later_is_nearer, upcoming, before)
    return source


def still_copy(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: every hole
    pixel is the same position's value, unchanged, in the nearest frame where it is known
    (``nearest_known_source``); pixels no frame shows are filled by Telea on the frame that
    already holds the copied pixels. Known pixels are the input's."""
    check_video(frames, holes)
    frames = np.asarray(frames, dtype=np.float32)
    source = nearest_known_source(holes)
    out = frames.copy()
    out[holes] = 0.0  # nothing of the truth under the hole can reach the Telea fallback
    for t in range(frames.shape[0]):
        if not holes[t].any():
            continue
        ys, xs = np.nonzero(holes[t])
        src = source[t, ys, xs]
        shown = src != NO_FRAME
        out[t, ys[shown], xs[shown]] = frames[src[shown], ys[shown], xs[shown]]
        if not shown.all():
            unseen = np.zeros(holes.shape[1:], bool)
            unseen[ys[~shown], xs[~shown]] = True
            out[t] = telea_frame(out[t], unseen)
    return np.where(holes[..., None], out, frames)
