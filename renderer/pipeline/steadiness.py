"""Steadiness on the held-out holes: how much a fill changes along the plate's own motion
beyond what the footage changes there.

This is the report's warping error (``renderer evaluate``) measured where the truth is
known. For each pair of frames (t, t+1) the plate's motion F(t->t+1) is measured once
(DIS both ways, checked forward-backward) and the pixels counted are those held out in
frame t or landing on held-out pixels in frame t+1, as the report counts the hole's.
Where one end of the motion is known footage and the other the fill, a fill that is not
the footage jumps when the hole comes or goes; where both ends are the fill, a fill that
shimmers changes more than the footage does. A smooth guess that looks steady while the
held-out holes stay put pays at their edges in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..colour import display_like
from ..errors import ShapeError
from ..method.flow import dis_flow, fb_valid, sample, to_gray8


@dataclass(frozen=True)
class PlateMotion:
    """The plate's motion between consecutive frames, for the steadiness of held-out fills.

    ``forward`` (F-1, H, W, 2): F(t->t+1), (dx, dy), with plate_t(x) ~ plate_{t+1}(x + F(x));
    ``usable`` bool (F-1, H, W): the forward-backward check passed, the landing is inside the
    frame, and neither end is on the real hole (whose pixels are what the artist removes);
    ``plate`` (F, H, W, 3): the plate in ``colour.display_like`` values, which every fill is
    laid into."""

    forward: np.ndarray
    usable: np.ndarray
    plate: np.ndarray


def plate_motion(frames_linear: np.ndarray, real: np.ndarray) -> PlateMotion:
    """``PlateMotion`` of (F, H, W, 3) scene-linear frames whose real hole is bool (F, H, W)
    ``real``: DIS (medium preset) both ways between consecutive frames of display grey, as
    ``method.flow.reference_flow`` measures its stride 1. Not through it: its pairs run on
    ``parallel.map_frames``, whose count the fill stage's progress expects
    (``holdout.prefill_calls``), and these 0.5 s for 48 working-size frames are not one."""
    if frames_linear.ndim != 4 or frames_linear.shape[-1] != 3 or real.shape != frames_linear.shape[:3]:
        raise ShapeError(f"plate_motion needs (F, H, W, 3) frames and an (F, H, W) hole, got "
                         f"{frames_linear.shape} and {real.shape}")
    n, h, w = real.shape
    grey = [to_gray8(f) for f in frames_linear]
    forward = np.zeros((max(n - 1, 0), h, w, 2), np.float32)
    usable = np.zeros((max(n - 1, 0), h, w), bool)
    for t in range(n - 1):
        ahead, back = dis_flow(grey[t], grey[t + 1]), dis_flow(grey[t + 1], grey[t])
        lands_on_hole = sample(real[t + 1].astype(np.float32), ahead) > 0
        forward[t], usable[t] = ahead, fb_valid(ahead, back) & ~real[t] & ~lands_on_hole
    return PlateMotion(forward, usable, display_like(frames_linear))


def held_out_flicker(held: np.ndarray, filled: np.ndarray, motion: PlateMotion) -> float:
    """How much ``filled`` (F, H, W, 3) scene-linear changes along ``motion`` on the held-out
    pixels ``held`` (bool (F, H, W), known in the plate), beyond the plate's own change
    there: the mean over those pixels and the 3 channels of the squared change of the
    output (the plate with ``filled`` on ``held``) less that of the plate, in
    ``colour.display_like`` values, floored at 0. 0 where no pixel counts."""
    plate = motion.plate
    if filled.shape != plate.shape or held.shape != plate.shape[:3]:
        raise ShapeError(f"held_out_flicker needs the plate's shape {plate.shape} for the fill and "
                         f"{plate.shape[:3]} for the held-out pixels, got {filled.shape}, {held.shape}")
    output = np.where(held[..., None], display_like(filled), plate)
    change, count = 0.0, 0
    for t in range(len(held) - 1):
        flow = motion.forward[t]
        landing_held = sample(held[t + 1].astype(np.float32), flow) > 0
        region = (held[t] | landing_held) & motion.usable[t]
        if not region.any():
            continue
        for sign, video in ((1.0, output), (-1.0, plate)):
            moved = sample(video[t + 1], flow)[region]
            change += sign * float(((video[t][region] - moved) ** 2).sum(dtype=np.float64))
        count += 3 * int(region.sum())
    return max(change / count, 0.0) if count else 0.0
