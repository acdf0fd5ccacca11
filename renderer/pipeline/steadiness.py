"""Steadiness on the held-out holes: how much more a fill changes from frame to frame than
the footage does there.

The held-out check (``holdout``) compares fills on pixels the plate knows, under extra
holes. Their squared error and their fine detail say how right and how sharp a fill is in
one frame; neither sees a fill that is right on average and shimmers from frame to frame,
which a viewer notices first in a moving image. So the check also follows the plate's own
motion from each held-out pixel of frame t to frame t+1: where it lands on a held-out pixel
again, both ends are the fill's, and the fill's change along the motion is compared with
the plate's. What the fill changes beyond the footage's own change is flicker it adds.

It is a squared display difference per pixel, like the check's error, so the two add: a
fill's score is its error plus its flicker (``holdout.held_out_score``). The check's extra
holes take a new offset every frame, so only a part of their pixels is held out in the
next frame too (13 % on a fixed 1280x720 box, 45 % under people at 768x576); the measure
is over that part. The offsets' jumps make every fill change more there than on a hole
that moves smoothly, for all fills alike: the measure ranks fills, it does not predict the
real hole's warp error.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import ShapeError
from ..method.flow import dis_flow, fb_valid, to_gray8
from ..parallel import map_frames

MOTION_MARGIN = 32  # px of footage around the held-out pixels that the flow is made on


@dataclass(frozen=True)
class HeldOutMotion:
    """The plate's own motion over the held-out pixels, in the box whose top-left pixel is
    ``origin`` (y, x): ``forward[t]`` (h, w, 2) the DIS flow F(t -> t+1) there, ``valid[t]``
    bool (h, w) where it passes the forward-backward check and lands inside the box.
    F - 1 entries each."""

    origin: tuple[int, int]
    forward: np.ndarray
    valid: np.ndarray

    @property
    def box(self) -> tuple[slice, slice]:
        """The (rows, columns) of the frames the motion covers."""
        (y0, x0), (h, w) = self.origin, self.forward.shape[1:3]
        return slice(y0, y0 + h), slice(x0, x0 + w)


def held_out_motion(frames_linear: np.ndarray, region: np.ndarray) -> HeldOutMotion | None:
    """The plate's motion (``HeldOutMotion``) over ``region``, bool (F, H, W), the held-out
    pixels, from the (F, H, W, 3) scene-linear frames: DIS both ways for each consecutive
    pair, on the box of every frame's region grown by ``MOTION_MARGIN``. None where the
    shot has one frame or the region is empty."""
    if frames_linear.ndim != 4 or frames_linear.shape[-1] != 3 or region.shape != frames_linear.shape[:3]:
        raise ShapeError(f"held_out_motion needs (F, H, W, 3) frames and a bool (F, H, W) region, "
                         f"got {frames_linear.shape} and {region.shape}")
    n, height, width = region.shape
    if n < 2 or not region.any():
        return None
    ys, xs = np.nonzero(region.any(axis=0))
    y0, x0 = max(int(ys.min()) - MOTION_MARGIN, 0), max(int(xs.min()) - MOTION_MARGIN, 0)
    y1 = min(int(ys.max()) + MOTION_MARGIN + 1, height)
    x1 = min(int(xs.max()) + MOTION_MARGIN + 1, width)
    grey = [to_gray8(np.maximum(f[y0:y1, x0:x1], 0.0)) for f in frames_linear]
    forward = np.zeros((n - 1, y1 - y0, x1 - x0, 2), np.float32)
    valid = np.zeros((n - 1, y1 - y0, x1 - x0), bool)

    def pair(t: int) -> None:
        if not region[t].any():
            return
        forward[t] = dis_flow(grey[t], grey[t + 1])
        valid[t] = fb_valid(forward[t], dis_flow(grey[t + 1], grey[t]))

    map_frames(pair, n - 1)
    return HeldOutMotion(origin=(y0, x0), forward=forward, valid=valid)


def change_along(frame: np.ndarray, following: np.ndarray, mx: np.ndarray, my: np.ndarray,
                 where: np.ndarray) -> float:
    """The summed squared difference, over bool (h, w) ``where``, between ``frame`` (h, w, 3)
    and ``following`` (h, w, 3) sampled bilinearly at (``mx``, ``my``), each (h, w)."""
    landed = cv2.remap(np.ascontiguousarray(following, dtype=np.float32), mx, my, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    return float(((frame[where] - landed[where]) ** 2).sum())


def held_out_flicker(display_frames: np.ndarray, display_fill: np.ndarray, region: np.ndarray,
                     motion: HeldOutMotion | None) -> float:
    """What ``display_fill`` changes along the plate's motion beyond what the footage
    changes: over every pixel x held out in frame t (``region``, bool (F, H, W)) whose
    landing x + F(x) in frame t+1 (``motion``) is valid and lies among frame t+1's held-out
    pixels, the mean of (fill_t(x) - fill_t+1(x + F))^2 less the same of the footage,
    floored at 0. 0 where no pixel qualifies or ``motion`` is None. ``display_frames``,
    ``display_fill``: (F, h, w, 3) display values of ``motion``'s box (``HeldOutMotion.box``),
    ``region`` of the same box."""
    if motion is None:
        return 0.0
    if display_fill.shape != display_frames.shape or region.shape != display_frames.shape[:3] \
            or display_frames.shape[1:3] != motion.forward.shape[1:3] or len(motion.forward) != len(region) - 1:
        raise ShapeError(f"held_out_flicker needs frames, fill and region of the motion's box "
                         f"{motion.forward.shape[1:3]} over {len(motion.forward) + 1} frames, got "
                         f"{display_frames.shape}, {display_fill.shape}, {region.shape}")
    h, w = region.shape[1:]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    fill_total, plate_total, count = 0.0, 0.0, 0
    for t in range(len(region) - 1):
        if not (region[t].any() and region[t + 1].any()):
            continue
        mx, my = gx + motion.forward[t][..., 0], gy + motion.forward[t][..., 1]
        # both ends the fill's: every pixel the bilinear landing mixes is held out in t+1
        lands_held_out = cv2.remap(region[t + 1].astype(np.float32), mx, my, cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0.999
        where = region[t] & motion.valid[t] & lands_held_out
        if not where.any():
            continue
        fill_total += change_along(display_fill[t], display_fill[t + 1], mx, my, where)
        plate_total += change_along(display_frames[t], display_frames[t + 1], mx, my, where)
        count += int(where.sum()) * 3
    if count == 0:
        return 0.0
    return max(fill_total - plate_total, 0.0) / count
