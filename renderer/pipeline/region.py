"""Region of interest: make the cost follow the hole, not the plate.

A preset with ``roi`` trains only on a crop around the union of the hole over
the shot plus a context margin (``roi_margin`` times the hole's extent on each
side, at least 16 px), and, when that crop is still large, at a capped working
resolution (``max_working_pixels``). The fill is then brought back to plate
resolution on top of the same non-learning fill made there (``plate.PlateFills``,
``Region.uncrop``): a fill that is that baseline comes out as the baseline at plate
resolution, and a network's correction is scaled up and added to it. It is composited
into the full frame, so every known pixel stays the plate's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..io.masks import box_around
from ..presets import Preset

MIN_MARGIN = 16
CONTEXT_PIXELS = 4 * 128 * 256  # the largest box the non-learning fills look at (per frame)


@dataclass(frozen=True)
class Region:
    """Crop box (y0, x0, y1, x1) in the frame and the working size (h, w) it is trained at."""

    box: tuple[int, int, int, int]
    working_size: tuple[int, int]
    frame_size: tuple[int, int]

    @property
    def crop_size(self) -> tuple[int, int]:
        y0, x0, y1, x1 = self.box
        return y1 - y0, x1 - x0

    @property
    def scaled(self) -> bool:
        return self.working_size != self.crop_size

    def crop(self, frames: np.ndarray) -> np.ndarray:
        """(F, H, W, C) -> (F, h, w, C) at working size."""
        y0, x0, y1, x1 = self.box
        out = frames[:, y0:y1, x0:x1]
        if not self.scaled:
            return np.ascontiguousarray(out)
        h, w = self.working_size
        return np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in out])

    def crop_holes(self, holes: np.ndarray) -> np.ndarray:
        """bool (F, H, W) -> bool (F, h, w); a working pixel is a hole if any of its source pixels is."""
        y0, x0, y1, x1 = self.box
        out = holes[:, y0:y1, x0:x1]
        if not self.scaled:
            return np.ascontiguousarray(out)
        h, w = self.working_size
        return np.stack([cv2.resize(f.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0 for f in out])

    def uncrop(self, fill: np.ndarray, frames: np.ndarray, indices: list[int], plate_fill: np.ndarray | None = None,
               work_fill: np.ndarray | None = None) -> np.ndarray:
        """Fill (B, h, w, 3) at working size -> (B, H, W, 3) full frames (plate outside the box).

        Trained below plate resolution, the fill is scaled up; given a non-learning fill of
        the crop at plate resolution (``plate_fill`` (F, ch, cw, 3)) and the same fill at
        working size (``work_fill`` (F, h, w, 3)), the result is ``plate_fill`` plus the
        scaled-up difference ``fill - work_fill``: exactly ``plate_fill`` where the fill is
        that baseline, and its detail under a network's correction otherwise."""
        y0, x0, y1, x1 = self.box
        ch, cw = self.crop_size
        out = frames.copy()
        for k in range(len(fill)):
            f = fill[k]
            if self.scaled:
                if plate_fill is not None:
                    f = plate_fill[indices[k]] + cv2.resize(f - work_fill[indices[k]], (cw, ch),
                                                            interpolation=cv2.INTER_CUBIC)
                else:
                    f = cv2.resize(f, (cw, ch), interpolation=cv2.INTER_CUBIC)
            out[k, y0:y1, x0:x1] = f
        return out


def plan_region(alpha_support: np.ndarray, holes: np.ndarray, preset: Preset) -> Region:
    """Choose the crop and working size for bool (F, H, W) pixels that need a fill."""
    return region_around(box_around(alpha_support.any(axis=0)), holes.shape[1:], preset)


def region_around(box: tuple[int, int, int, int] | None, frame_size: tuple[int, int], preset: Preset) -> Region:
    """The crop and working size for the pixels in ``box`` (``io.masks.box_around``) of frames of
    ``frame_size`` (H, W): the box grown by the preset's margin, at a capped working size."""
    H, W = frame_size
    full = Region((0, 0, H, W), (H, W), (H, W))
    if not preset.roi or box is None:
        return full
    y0, x0, y1, x1 = box
    my = max(MIN_MARGIN, int(math.ceil(preset.roi_margin * (y1 - y0))))
    mx = max(MIN_MARGIN, int(math.ceil(preset.roi_margin * (x1 - x0))))
    y0, y1 = max(0, y0 - my), min(H, y1 + my)
    x0, x1 = max(0, x0 - mx), min(W, x1 + mx)
    ch, cw = y1 - y0, x1 - x0
    wh, ww = ch, cw
    cap = preset.max_working_pixels
    if cap and ch * cw > cap:
        scale = math.sqrt(cap / (ch * cw))
        wh, ww = max(8, int(round(ch * scale))), max(8, int(round(cw * scale)))
    ch, cw, wh, ww = int(ch), int(cw), int(wh), int(ww)
    return Region((int(y0), int(x0), int(y1), int(x1)), (wh, ww), (int(H), int(W)))


@dataclass(frozen=True)
class Context:
    """A box wider than the training crop, for the non-learning fills (flow-guided
    propagation, Telea): DIS flow and the flow completion inside the hole need texture
    around it that a tight crop cuts off (on the development shots the crop alone cost
    propagation up to 0.3 dB). ``frames`` (F, h, w, 3) is the plate in ``box``; ``inner``
    is the training crop's place in it."""

    box: tuple[int, int, int, int]
    inner: tuple[int, int, int, int]
    frames: np.ndarray

    def wrap(self, fill):
        """A fill ``(frames, holes) -> frames`` on the training crop that runs on the context."""
        y0, x0, y1, x1 = self.inner
        whole = self.inner == (0, 0) + self.frames.shape[1:3]  # the crop is the box: no copy to make

        def frames_in(work_frames: np.ndarray) -> np.ndarray:
            if whole:
                return work_frames
            frames = self.frames.copy()
            frames[:, y0:y1, x0:x1] = work_frames
            return frames

        def holes_in(work_holes: np.ndarray) -> np.ndarray:
            if whole:
                return work_holes
            holes = np.zeros(self.frames.shape[:3], bool)
            holes[:, y0:y1, x0:x1] = work_holes
            return holes

        def crop(filled: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(filled[:, y0:y1, x0:x1])

        def in_context(work_frames: np.ndarray, work_holes: np.ndarray) -> np.ndarray:
            return crop(fill(frames_in(work_frames), holes_in(work_holes)))

        batched = getattr(fill, "sets", None)
        if batched is not None:  # keep the batch (``holdout.fill_sets``)
            in_context.sets = lambda work_frames, hole_sets: [
                crop(f) for f in batched(frames_in(work_frames), [holes_in(h) for h in hole_sets])]
        return in_context


def context_box(region: Region, max_pixels: int = CONTEXT_PIXELS) -> tuple[int, int, int, int]:
    """The training crop grown by half its size on every side (the whole frame when that
    fits in ``max_pixels``), or less to stay within ``max_pixels``."""
    H, W = region.frame_size
    y0, x0, y1, x1 = region.box
    if H * W <= max_pixels:
        return 0, 0, H, W
    ch, cw = y1 - y0, x1 - x0
    grow = 0.5
    spare = max_pixels / float(ch * cw)
    if spare < 4.0:  # (1 + 2 g)^2 = spare
        grow = max(0.0, (math.sqrt(spare) - 1.0) / 2.0)
    gy, gx = int(grow * ch), int(grow * cw)
    return max(0, y0 - gy), max(0, x0 - gx), min(H, y1 + gy), min(W, x1 + gx)


def plan_context(region: Region, frames: np.ndarray, max_pixels: int = CONTEXT_PIXELS) -> Context | None:
    """The frames in ``context_box``. None when the crop is already the frame, or is
    trained at a reduced size (then the fills run at working size)."""
    H, W = region.frame_size
    y0, x0, y1, x1 = region.box
    if region.scaled or region.box == (0, 0, H, W):
        return None
    box = context_box(region, max_pixels)
    cy0, cx0, cy1, cx1 = box
    inner = (y0 - cy0, x0 - cx0, y1 - cy0, x1 - cx0)
    return Context(box=box, inner=inner, frames=np.ascontiguousarray(frames[:, cy0:cy1, cx0:cx1]))


def work_box(region: Region) -> tuple[int, int, int, int]:
    """The part of the frame that any stage reads for ``region``: the box the fills look
    at, at plate resolution (``plate.PlateFills``' context), which holds the crop. Frames
    cut to it give the same fills and the same network as whole frames."""
    H, W = region.frame_size
    if region.box == (0, 0, H, W):
        return region.box
    return context_box(region)
