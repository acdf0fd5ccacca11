"""Optical flow between consecutive frames of a shot with holes, completed inside them:
what flow-guided propagation follows.

DIS runs on the masked frames (each hole pre-filled with Telea, so DIS's patches see no
object there); inside each hole, grown by a few pixels, the flow is replaced by diffusion
from around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import linear_to_srgb
from ..parallel import map_frames
from .classical import check_video, diffuse_into, telea_frame

FLOW_DILATE = 8  # px: flow this close to the hole is replaced too: DIS patches there overlap the fill
# (chosen among 2-16 px on the development shots: 2 px loses up to 6 dB where a fixed box covers a moving scene)
GUARDED_FLOW_DILATE = 2  # px: the guarded propagation diffuses the flow only this far (its guard does the rest)
# pixels per frame above which the flow is made on the frames scaled down by a power of two
# and scaled back up: DIS and the completion's sweeps cost in proportion to the pixels, and
# a background's motion is smooth. On a 48-frame 2048x1152 shot (a drone across the whole
# width: a 659x2048 box) the plate-resolution fill's flow took 115 of its 165 s at full size.
FLOW_MAX_PIXELS = 1 << 20


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
                factor: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """DIS flow between consecutive *masked* frames: each hole pre-filled with Telea first,
    so DIS's patches see no object there. Returns (forward, backward), (F, H, W, 2) each,
    laid out as ``CompletedFlow``'s, with nothing completed yet. With ``factor`` > 1 the
    masked frames are scaled down by it (area average) and the flow is of that size, in
    its pixels."""
    check_video(frames, holes)
    n = holes.shape[0]
    h, w = -(-holes.shape[1] // factor), -(-holes.shape[2] // factor)

    def grey_of(t: int) -> np.ndarray:  # one frame at a time: no Telea copy of the whole shot is kept
        prefilled = telea_frame(frames[t], holes[t])
        grey = np.clip(linear_to_srgb(prefilled) @ np.array([0.2126, 0.7152, 0.0722], np.float32) * 255 + 0.5, 0,
                       255).astype(np.uint8)
        return grey if factor == 1 else cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)

    grey = map_frames(grey_of, n)
    forward = np.zeros((n, h, w, 2), np.float32)
    backward = np.zeros((n, h, w, 2), np.float32)

    def pair(t: int) -> None:
        dis = cv2.DISOpticalFlow_create(dis_preset)  # one per thread: a DIS object is not shareable
        forward[t] = dis.calc(grey[t], grey[t + 1], None)
        backward[t + 1] = dis.calc(grey[t + 1], grey[t], None)

    map_frames(pair, n - 1)
    return forward, backward


def completed_flow(frames: np.ndarray, holes: np.ndarray, dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
                   dilate: int = FLOW_DILATE, max_pixels: int = FLOW_MAX_PIXELS) -> CompletedFlow:
    """``masked_flow``, then, inside each source frame's hole grown by ``dilate`` px, the
    flow is replaced by diffusion from the hole border. Frames of more than ``max_pixels``
    have their flow made and completed at a power-of-two fraction of their size
    (``flow_factor``; the hole: every pixel it touches) and scaled back up (bilinear) as
    each frame's flow is read (``ScaledFlow``)."""
    n, height, width = holes.shape
    factor = flow_factor(height, width, max_pixels)
    forward, backward = masked_flow(frames, holes, dis_preset, factor)
    h, w = forward.shape[1:3]
    if factor > 1:
        small = [cv2.resize(hh.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0 for hh in holes]
        dilate = max(-(-dilate // factor), 1) if dilate > 0 else 0
    else:
        small = list(holes)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
    grown = [cv2.dilate(hh.astype(np.uint8), kernel) > 0 if dilate > 0 else hh for hh in small]

    def pair(t: int) -> None:
        forward[t] = diffuse_into(forward[t], grown[t])
        backward[t + 1] = diffuse_into(backward[t + 1], grown[t + 1])

    map_frames(pair, n - 1)
    if factor == 1:
        return CompletedFlow(forward=forward, backward=backward)
    return CompletedFlow(forward=ScaledFlow(forward, height, width), backward=ScaledFlow(backward, height, width))
