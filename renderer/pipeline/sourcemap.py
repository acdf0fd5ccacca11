"""The source map: where each output pixel came from, for QC (docs/source_map.md).

Five channels per pixel, written as a sequence of its own beside the output:

* ``R`` 1 where the fill was carried from another frame of the footage,
* ``G`` 1 where it was synthesised (no frame shows it: the network's where it is kept,
  otherwise diffusion and Telea from around it),
* ``B`` 1 where it was carried from a frame the artist painted (a reference),
* ``A`` the confidence in [0, 1] (1 for known pixels),
* ``distance``: frames between the pixel and the frame it was carried from (0 where none).

Known pixels are (0, 0, 0, 1, 0). The kinds come from where the chains of flow land
(``fill.chains.chain_sources``) at the working size, scaled up (nearest) to the plate.
The confidence is a rule of thumb, not a measured probability: a carried pixel's falls
with the distance it travelled (halved every ``CARRIED_HALF_FRAMES`` frames; a painted
frame's, every ``PAINTED_HALF_FRAMES``); a synthesised pixel starts at
``SYNTHESISED_CONFIDENCE`` at the edge of what is known or carried and halves every
``SYNTHESISED_HALF_PIXELS`` pixels further in.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ShapeError
from .region import Region

CHANNELS = ("R", "G", "B", "A", "distance")
CARRIED_HALF_FRAMES = 16.0  # chains drift: a colour from 16 frames away is trusted half as much
PAINTED_HALF_FRAMES = 48.0  # a painting is the artist's answer: its light is matched along the way
SYNTHESISED_CONFIDENCE = 0.5
SYNTHESISED_HALF_PIXELS = 8.0


def source_map(holes: np.ndarray, distance: np.ndarray, painted: np.ndarray) -> np.ndarray:
    """holes bool (F, H, W); distance int (F, H, W) and painted bool (F, H, W) as
    ``fill.chains.chain_sources`` gives them, at the same size. Returns float32
    (F, H, W, 5): the channels of ``CHANNELS``."""
    if distance.shape != holes.shape or painted.shape != holes.shape:
        raise ShapeError(f"source_map needs three (F, H, W) arrays, got {holes.shape}, {distance.shape}, "
                         f"{painted.shape}")
    out = np.zeros(holes.shape + (len(CHANNELS),), np.float32)
    out[..., 3] = 1.0
    carried = holes & (distance > 0)
    synthesised = holes & (distance == 0)
    frames_away = distance.astype(np.float32)
    out[..., 0] = carried & ~painted
    out[..., 1] = synthesised
    out[..., 2] = carried & painted
    out[..., 4] = np.where(carried, frames_away, 0.0)
    half = np.where(painted, PAINTED_HALF_FRAMES, CARRIED_HALF_FRAMES)
    out[..., 3] = np.where(carried, 0.5 ** (frames_away / half), out[..., 3])
    for t in np.flatnonzero(synthesised.any(axis=(1, 2))):
        # pixels from the nearest known or carried pixel
        inside = cv2.distanceTransform(synthesised[t].astype(np.uint8), cv2.DIST_L2, 3)
        deeper = SYNTHESISED_CONFIDENCE * 0.5 ** ((inside - 1.0) / SYNTHESISED_HALF_PIXELS)
        out[t, ..., 3] = np.where(synthesised[t], deeper, out[t, ..., 3])
    return out


def plate_source_map(region: Region, holes: np.ndarray, work_map: np.ndarray, indices: list[int]) -> np.ndarray:
    """The working-size map ``work_map`` (F, h, w, 5) of ``region``'s crop, at plate size
    for ``indices``: (B, H, W, 5), scaled up (nearest) into the crop's box; outside the
    box and outside ``holes`` (F, H, W), known."""
    H, W = region.frame_size
    y0, x0, y1, x1 = region.box
    out = np.zeros((len(indices), H, W, len(CHANNELS)), np.float32)
    out[..., 3] = 1.0
    for k, t in enumerate(indices):
        box = work_map[t]
        if region.scaled:
            box = cv2.resize(box, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        inside = holes[t, y0:y1, x0:x1]
        out[k, y0:y1, x0:x1] = np.where(inside[..., None], box, out[k, y0:y1, x0:x1])
    # a hole pixel that the working size lost (thinner than a working pixel) is synthesised
    lost = holes[indices] & (out[..., :3].sum(axis=-1) == 0)
    out[..., 1] = np.where(lost, 1.0, out[..., 1])
    out[..., 3] = np.where(lost, SYNTHESISED_CONFIDENCE, out[..., 3])
    return out


def plate_mask(region: Region, work_mask: np.ndarray) -> np.ndarray:
    """bool (h, w) at ``region``'s working size -> bool (H, W) at plate size: scaled up
    (nearest) into the crop's box, False outside it."""
    H, W = region.frame_size
    y0, x0, y1, x1 = region.box
    out = np.zeros((H, W), bool)
    box = work_mask.astype(np.uint8)
    if region.scaled:
        box = cv2.resize(box, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    out[y0:y1, x0:x1] = box > 0
    return out


def painted_map(frames_map: np.ndarray, drawn: np.ndarray, painted: frozenset, indices: list[int]) -> np.ndarray:
    """``frames_map`` (B, H, W, 5) of ``indices`` with each painted frame's hole marked as
    taken from its reference, at full confidence."""
    for k, t in enumerate(indices):
        if t in painted:
            hole = drawn[t]
            frames_map[k][hole] = (0.0, 0.0, 1.0, 1.0, 0.0)
    return frames_map
