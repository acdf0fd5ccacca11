"""The non-learning baselines a user could reach for today, by name, for the harness.

Each is ``(frames, holes) -> frames`` on scene-linear float32 (F, H, W, 3) frames and
bool (F, H, W) holes, known pixels returned bit for bit:

* ``telea``: OpenCV's Telea frame by frame (``renderer.fill.classical``).
* ``flowprop``: classic flow-guided temporal propagation with a Telea fallback
  (``renderer.fill.chains.flow_propagation``).
* ``propagation``: the ``standard`` preset's own pre-fill alone
  (``renderer.fill.propagate.seamed_propagation``), so a table shows what the network
  adds over the fill it starts from.
* ``temporal-nearest``: each hole pixel copied from the nearest frame that shows the same
  pixel position; the "static camera" reference. It exists only for measuring, so it
  lives here rather than in ``renderer.fill``.
* ``patchmatch``: the classical synthesis baseline, exemplar-based completion of each
  frame from its own known pixels (PatchMatch and Wexler voting, coarse to fine,
  ``renderer.fill.patchmatch.patchmatch_video``): texture where the others smear.
"""

from __future__ import annotations

import numpy as np

from renderer.fill import flow_propagation, seamed_propagation, telea
from renderer.fill.classical import telea_frame
from renderer.fill.patchmatch import patchmatch_video

from .errors import MethodError

NO_FRAME = -1  # index of the source frame where no frame shows the pixel


def _check_inputs(frames: np.ndarray, holes: np.ndarray, name: str) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise MethodError(f"{name}: frames must be (F, H, W, 3), got {getattr(frames, 'shape', type(frames))}")
    if not np.issubdtype(frames.dtype, np.floating):
        raise MethodError(f"{name}: frames must be floating point, got {frames.dtype}")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != frames.shape[:3]:
        raise MethodError(f"{name}: holes must be bool {frames.shape[:3]}, got "
                          f"{getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")


def propagation(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: the
    ``standard`` preset's pre-fill (seamed flow propagation) with nothing learned on top."""
    _check_inputs(frames, holes, "propagation")
    frames = np.asarray(frames, dtype=np.float32)
    filled = seamed_propagation(frames, holes)
    # the fill clamps negative scene-linear values; the known pixels must stay the input's
    return np.where(holes[..., None], filled, frames).astype(np.float32, copy=False)


def nearest_known_source(holes: np.ndarray) -> np.ndarray:
    """bool (F, H, W) holes -> int32 (F, H, W): for each pixel, the index of the nearest
    frame in time where that pixel position is known (not in the hole); ties go to the
    earlier frame; a known pixel is its own source; ``NO_FRAME`` where no frame shows it.

    Two scans over the frames (one (H, W) step each) instead of a search per frame, so the
    cost does not grow with how long a pixel stays covered."""
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.ndim != 3:
        raise MethodError(f"holes must be bool (F, H, W), got {getattr(holes, 'dtype', type(holes))} "
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


def temporal_nearest(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: every hole
    pixel is the same position's value, unchanged, in the nearest frame where it is known
    (``nearest_known_source``); pixels no frame shows are filled by Telea on the frame that
    already holds the copied pixels. Exact on a static camera wherever some frame shows
    the background; any motion shows up as a misplaced copy."""
    _check_inputs(frames, holes, "temporal-nearest")
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
    return out


def patchmatch(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: every
    frame's hole synthesised from that frame's known pixels (``patchmatch_video``, seed 0),
    each frame starting from the previous frame's matches where they still fit."""
    _check_inputs(frames, holes, "patchmatch")
    frames = np.asarray(frames, dtype=np.float32)
    return np.where(holes[..., None], patchmatch_video(frames, holes), frames).astype(np.float32, copy=False)


BASELINES = {
    "telea": telea,
    "flowprop": flow_propagation,
    "propagation": propagation,
    "temporal-nearest": temporal_nearest,
    "patchmatch": patchmatch,
}
