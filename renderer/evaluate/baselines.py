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
  pixel position; the "static camera" reference (``renderer.fill.still``).
* ``patchmatch``: the classical synthesis baseline, exemplar-based completion of each
  frame from its own known pixels (PatchMatch and Wexler voting, coarse to fine,
  ``renderer.fill.patchmatch.patchmatch_video``): texture where the others smear.
"""

from __future__ import annotations

import numpy as np

from renderer.fill import flow_propagation, seamed_propagation, telea
from renderer.fill.still import NO_FRAME, nearest_known_source, still_copy  # noqa: F401 - re-exported
from renderer.fill.patchmatch import patchmatch_video

from .errors import MethodError



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


def temporal_nearest(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: every hole
    pixel is the same position's value, unchanged, in the nearest frame where it is known
    (``renderer.fill.still.still_copy``); pixels no frame shows are filled by Telea. Exact
    on a static camera wherever some frame shows the background; any motion shows up as a
    misplaced copy."""
    _check_inputs(frames, holes, "temporal-nearest")
    return still_copy(np.asarray(frames, dtype=np.float32), holes)


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
