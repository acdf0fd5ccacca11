"""Optical flow between consecutive frames of a shot with holes, completed inside them:
what flow-guided propagation follows.

DIS runs on the masked frames (each hole pre-filled with Telea, so DIS's patches see no
object there, and once more with each hole filled from the other frame of the pair, so
that the pre-fill moves as the background does: ``fill.flow_prefill``); inside each hole,
grown by a few pixels, the flow is replaced by diffusion from around it.

What else is replaced beside the hole, and whether by diffusion or by the background's
homography, is the completion plan (``fill.flow_regions``). Large frames have their flow
made at a power-of-two fraction of their size and read back at full size (``ScaledFlow``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import linear_to_srgb
from ..errors import ShapeError
from ..io.masks import dilated
from ..parallel import map_frames
from .classical import check_video, diffuse_into, telea_frame
from .flow_prefill import pair_flows
from .flow_regions import background_usable, completion_plan, flat_mask, homography_motion

FLOW_DILATE = 8  # px: flow this close to the hole is replaced too: DIS patches there overlap the fill
# (chosen among 2-16 px on the development shots: 2 px loses up to 6 dB where a fixed box covers a moving scene)
GUARDED_FLOW_DILATE = 2  # px: the guarded propagation diffuses the flow only this far (its guard does the rest)
# pixels per frame above which the flow is made on the frames scaled down by a power of two
# and scaled back up: DIS and the completion's sweeps cost in proportion to the pixels, and
# a background's motion is smooth. Below it the flow is made whole: at half size DIS loses
# the plate's finest texture, and on drones crossing 1080p and 2K plates (boxes of 1.1-1.4
# Mpx) the whole-size flow gained 0.42-1.08 dB of hole PSNR for 1.5-1.9 times the wall
# time; it lost 0.23 and 0.26 dB on 1440p and 4K plates scaled 3.6 and 6.4 times up from
# their clips (decision 0047)
FLOW_MAX_PIXELS = 1 << 21


def flow_factor(height: int, width: int, max_pixels: int = FLOW_MAX_PIXELS) -> int:
    """The power of two by which a (height, width) frame is scaled down for its flow."""
    factor = 1
    while height * width > max_pixels * factor * factor and min(height, width) >= 64 * factor:
        factor *= 2
    return factor


@dataclass(frozen=True)
class CompletedFlow:
    """Consecutive-frame flows with the hole completed.

    ``forward[t]``: F(t -> t+1) for t < F-1 (the last entry is zero);
    ``backward[t]``: F(t -> t-1) for t > 0 (the first entry is zero). (F, H, W, 2) each,
    (dx, dy) in pixels, frame_t(x) ~ frame_{t+-1}(x + F(x)).
    """

    forward: np.ndarray
    backward: np.ndarray


class ScaledFlow:
    """Consecutive-frame flows made at a fraction of the frames' size, read at full size:
    ``flows[t]`` is (H, W, 2) float32, scaled up (bilinear) when it is read, so a shot's
    flow takes the small size's memory (at 4K a drone's box held 3.8 GB of full-size flow).
    ``small`` (F, h, w, 2) in the small size's pixels; (height, width) the full size."""

    def __init__(self, small: np.ndarray, height: int, width: int):
        self.small, self.height, self.width = small, height, width
        self.scale = np.array([width / small.shape[2], height / small.shape[1]], np.float32)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (len(self.small), self.height, self.width, 2)

    def __len__(self) -> int:
        return len(self.small)

    def __getitem__(self, t: int) -> np.ndarray:
        return cv2.resize(self.small[t], (self.width, self.height), interpolation=cv2.INTER_LINEAR) * self.scale


def masked_flow(frames: np.ndarray, holes: np.ndarray, dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
                factor: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """DIS flow between consecutive *masked* frames: each hole pre-filled with Telea first,
    so DIS's patches see no object there; on a pair with a hole, fused with DIS on the
    pair with each hole filled from the other frame through the background's homography
    (``fill.flow_prefill.pair_flows``), a pre-fill that does not move with the hole.
    Returns (forward, backward), (F, H, W, 2) each, laid out as ``CompletedFlow``'s, with
    nothing completed yet; bool (F, H, W) the ``flat_mask`` of each masked frame; and
    uint8 (F, H, W) the masked frames' display grey with Telea's pre-fill. With
    ``factor`` > 1 the masked frames are scaled down by it (area average) and the flow
    is of that size, in its pixels."""
    check_video(frames, holes)
    n = holes.shape[0]
    h, w = -(-holes.shape[1] // factor), -(-holes.shape[2] // factor)

    def grey_of(t: int) -> np.ndarray:  # one frame at a time: no Telea copy of the whole shot is kept
        prefilled = telea_frame(frames[t], holes[t])
        grey = np.clip(linear_to_srgb(prefilled) @ np.array([0.2126, 0.7152, 0.0722], np.float32) * 255 + 0.5, 0,
                       255).astype(np.uint8)
        return grey if factor == 1 else cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)

    grey = map_frames(grey_of, n)
    flat = np.stack(map_frames(lambda t: flat_mask(grey[t]), n))
    forward = np.zeros((n, h, w, 2), np.float32)
    backward = np.zeros((n, h, w, 2), np.float32)
    # the holes at the flow's size, for the second pre-fill; the second pass (no holes) needs none
    any_hole = bool(holes.any())
    small = grown_holes(holes, factor, 0) if any_hole else None
    grown = grown_holes(holes, factor, FLOW_DILATE) if any_hole else None

    def pair(t: int) -> None:
        dis = cv2.DISOpticalFlow_create(dis_preset)  # one per thread: a DIS object is not shareable
        forward[t] = dis.calc(grey[t], grey[t + 1], None)
        backward[t + 1] = dis.calc(grey[t + 1], grey[t], None)
        if any_hole and (small[t].any() or small[t + 1].any()):
            usable = background_usable(grown[t] | grown[t + 1], flat[t], factor)
            forward[t], backward[t + 1] = pair_flows(dis, grey[t], grey[t + 1], small[t], small[t + 1],
                                                     forward[t], backward[t + 1], usable)

    map_frames(pair, n - 1)
    return forward, backward, flat, np.stack(grey)


def grown_holes(holes: np.ndarray, factor: int, dilate: int) -> np.ndarray:
    """bool (F, H, W) holes -> bool (F, h, w): each hole at the size its flow is made at
    (scaled down by ``factor``: every pixel it touches), grown by ``dilate`` px of the full
    size (at least one pixel of the small size)."""
    h, w = -(-holes.shape[1] // factor), -(-holes.shape[2] // factor)
    if factor > 1:
        small = [cv2.resize(hh.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0 for hh in holes]
        dilate = max(-(-dilate // factor), 1) if dilate > 0 else 0
    else:
        small = list(holes)
    return np.stack([dilated(hh, dilate) for hh in small])


def complete_field(flow: np.ndarray, region: np.ndarray, homography: np.ndarray | None) -> np.ndarray:
    """The flow (H, W, 2) with bool (H, W) ``region`` replaced by the motion of
    ``homography`` (3x3), or by diffusion from the region's border where it is None."""
    if homography is None:
        return diffuse_into(flow, region)
    return np.where(region[..., None], homography_motion(homography, *region.shape), flow).astype(np.float32)


def completed_flow(frames: np.ndarray, holes: np.ndarray, dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
                   dilate: int = FLOW_DILATE, max_pixels: int = FLOW_MAX_PIXELS) -> CompletedFlow:
    """``masked_flow``, then, inside each source frame's hole grown by ``dilate`` px (and
    the flow beside it that leaves the background's motion or fails the forward-backward
    check; on still pairs, the flat pixels connected to it: ``completion_plan``), the flow
    is replaced by diffusion from the region's border, or by the background's homography
    where it predicts the flow around the region (``complete_field``). Frames of more
    than ``max_pixels`` have their flow made and completed at a power-of-two fraction of
    their size (``flow_factor``; the hole: every pixel it touches) and scaled back up
    (bilinear) as each frame's flow is read (``ScaledFlow``)."""
    n, height, width = holes.shape
    factor = flow_factor(height, width, max_pixels)
    forward, backward, flat, grey = masked_flow(frames, holes, dis_preset, factor)
    grown = grown_holes(holes, factor, dilate)
    regions_f, regions_b, planes_f, planes_b = completion_plan(grown, flat, forward, factor, backward, grey)

    def pair(t: int) -> None:
        forward[t] = complete_field(forward[t], regions_f[t], planes_f[t])
        backward[t + 1] = complete_field(backward[t + 1], regions_b[t + 1], planes_b[t + 1])

    map_frames(pair, n - 1)
    if factor == 1:
        return CompletedFlow(forward=forward, backward=backward)
    return CompletedFlow(forward=ScaledFlow(forward, height, width), backward=ScaledFlow(backward, height, width))


def remeasured_flow(filled: np.ndarray, holes: np.ndarray, flow: CompletedFlow,
                    dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM, dilate: int = FLOW_DILATE,
                    max_pixels: int = FLOW_MAX_PIXELS, guessed: np.ndarray | None = None) -> CompletedFlow:
    """``flow`` (``completed_flow`` of bool (F, H, W) ``holes`` with the same ``dilate``
    and ``max_pixels``) with the flow inside each hole grown by ``dilate`` px measured
    again: DIS between consecutive frames of ``filled`` (F, H, W, 3) scene-linear, the shot
    with its holes filled along ``flow``. The diffusion only guesses the motion behind a
    hole from its border; the fill brings in the texture that moves there, so DIS can see
    it. Outside the grown holes the flow is ``flow``'s (decision 0040), and so it is at the
    ``guessed`` pixels (bool (F, H, W); at the flow's size, every pixel they touch): hole
    pixels from which no chain lands, so that the fill there is a guess. DIS would measure
    the guess's own motion, and chains following it reached footage that does not show
    what is behind a fixed box (decision 0042)."""
    n, height, width = holes.shape
    if filled.shape[:3] != holes.shape or len(flow.forward) != n:
        raise ShapeError(f"remeasured_flow needs (F, H, W, 3), (F, H, W) and its flow, got {filled.shape}, "
                         f"{holes.shape}, {len(flow.forward)} flows")
    factor = flow_factor(height, width, max_pixels)
    forward, backward, _, _ = masked_flow(filled, np.zeros_like(holes), dis_preset, factor)
    grown = grown_holes(holes, factor, dilate)
    if guessed is not None:
        if guessed.shape != holes.shape:
            raise ShapeError(f"remeasured_flow needs guessed pixels shaped as the holes {holes.shape}, "
                             f"got {guessed.shape}")
        grown &= ~grown_holes(guessed, factor, 0)
    grown = grown[..., None]
    scaled = isinstance(flow.forward, ScaledFlow)
    np.copyto(forward, flow.forward.small if scaled else flow.forward, where=~grown)
    np.copyto(backward, flow.backward.small if scaled else flow.backward, where=~grown)
    if not scaled:
        return CompletedFlow(forward=forward, backward=backward)
    return CompletedFlow(forward=ScaledFlow(forward, height, width), backward=ScaledFlow(backward, height, width))
