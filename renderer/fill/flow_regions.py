"""Where the raw flow of a shot with holes is replaced, and by what: the completion plan
that ``fill.flow.completed_flow`` carries out.

Each hole, grown by a few pixels, is replaced. Where a pair of frames is still, flat
regions that touch the hole are replaced too. DIS cannot measure motion where there is no
texture: on a locked-off night shot it put more than 1 px a frame into the flat sky beside
a moving hole (the Telea pre-fill moving with it), the diffusion carried that into the
hole, and chains drifted onto the buildings' edges (decision 0027).

Beside the grown hole, flow that leaves the background's motion (one homography fitted
farther out) where that motion matches the next frame at least as well is replaced too.
DIS's coarse levels drag the flow around a moving hole with it, farther than any fixed
growth: on a 2K drone shot the completed flow inside the hole was 3.6 px from the
footage's own, for 1-2 px of motion (decision 0029).

Beside each completed region, flow whose two directions disagree (the forward-backward
check) is replaced too: there DIS matched something the other frame does not show (the
hole's pre-fill, an occlusion, a blur), and the diffusion would carry that motion in from
the region's border (decision 0050).

Where the background's homography explains the flow around the completed region to within
a few hundredths of a pixel, the region takes the homography's motion instead of the
diffusion. Below the motion outliers' pixel, DIS still drags the border's flow with a
moving hole, by about a tenth of a pixel a frame, and the chains add that up over the
frames they cross (decision 0045).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..io.masks import dilated
from ..method.flow import fb_error, sample
from ..parallel import map_frames

# flat: the Gaussian-weighted (sigma FLAT_SIGMA px) mean squared gradient of the masked
# display grey (0-255, Sobel over 8) under FLAT_FRACTION of the frame's median: flat for
# this frame, so a soft plate is not all flat. On the 18 thumbnails of benchmarks/heldout,
# against no flat regions: +0.43 dB mean (c8 +5.80, worst c1 -0.06); 0.1: +0.48. An
# absolute limit (4 grey levels a pixel: +0.48) called 90 % of bikes.mp4 at 272x640 flat
# and cost its moving blob 0.11 dB (decision 0027)
FLAT_FRACTION = 0.05
FLAT_SIGMA = 2.0
# px a frame: a pair is still where the median flow of its textured known pixels is under
# this, the chains' still snap (``chains.STILL_SNAP``). Without the test a flat truck roof
# moving over a still road lost 0.63 dB (b1): there DIS carries the motion across the flat
STILL_MOTION = 0.35
# the ring beside the grown hole where flow that leaves the background's motion is replaced
# too (``motion_outliers``): DIS's coarse levels drag the flow around a moving hole (its
# Telea pre-fill moves with it) well past ``flow.FLOW_DILATE``. Chosen on the flow's error inside
# the hole against the footage's own flow (mean, at the flow's size: 768x576 people
# 7.8 -> 6.3 px; 2K drone, flow at half size, 1.75 -> 0.46), then checked on propagation
# (decision 0029). OUTLIER_RING and OUTLIER_GAP are px at full size; OUTLIER_MOTION px of
# the flow's own size, where DIS's error lives
OUTLIER_RING = 24  # how far past the grown hole the test looks (0: no test)
OUTLIER_GAP = 8  # the background's motion is fitted on pixels this far past the grown hole and beyond
OUTLIER_MOTION = 1.0
OUTLIER_TIE = 0.5  # grey levels (0-255): the background's motion is taken where it matches within this
FIT_POINTS = 20000  # pixels a homography fit samples at most
# where the background's homography predicts the flow within PLANAR_RING px (full size)
# around a completion region to within PLANAR_FIT px of the flow's own size (median over
# its textured pixels), the region takes the homography's motion (``planar_background``).
# The fit's residual on a near-still drone thumbnail is 0.03-0.07 px, where the diffusion
# drifted 0.1 px a frame along the hole's motion; on a 2K drone it is 0.45 and on moving
# people 1.9, and nothing changes there (decision 0045)
PLANAR_FIT = 0.15
PLANAR_RING = 8
# within FB_RING px of a completion region (connected to it), flow that the opposite flow,
# read where it lands, does not bring back within FB_CHECK px (both px at full size) is
# replaced too (``unchecked_flow``). Chosen on the 768x576 people plate (2, 4, 6 and 10 px;
# rings of 12 and 24 px); a test relative to the motion's length (Sundaram et al. 2010)
# gained less. Measured on six more plates and the 18 thumbnails (decision 0050)
FB_CHECK = 6.0
FB_RING = 12


def flat_mask(grey: np.ndarray) -> np.ndarray:
    """uint8 (H, W) display grey -> bool (H, W): where it has too little texture, against
    the rest of the frame, for DIS to measure motion (``FLAT_FRACTION``, ``FLAT_SIGMA``).
    Nothing is flat in a frame whose median pixel has no texture."""
    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    energy = cv2.GaussianBlur(gx * gx + gy * gy, (0, 0), FLAT_SIGMA)
    return energy < FLAT_FRACTION * float(np.median(energy))


def connected_reach(region: np.ndarray, grown: np.ndarray) -> np.ndarray:
    """bool (H, W) twice -> bool (H, W): the ``region`` pixels outside ``grown`` that are
    connected to it (8-neighbours) through region pixels."""
    joined = (region | grown).astype(np.uint8)
    _, labels = cv2.connectedComponents(joined, connectivity=8)
    touching = np.unique(labels[grown])
    return region & ~grown & np.isin(labels, touching[touching > 0])


def is_still(flow: np.ndarray, textured: np.ndarray, motion: float = STILL_MOTION) -> bool:
    """Whether the flow (H, W, 2) of a pair is under ``motion`` px (median length) over the
    ``textured`` pixels (bool (H, W)); False where fewer than 16 are textured."""
    if textured.sum() < 16:
        return False
    return float(np.median(np.hypot(flow[..., 0][textured], flow[..., 1][textured]))) < motion


def background_homography(flow: np.ndarray, usable: np.ndarray) -> np.ndarray | None:
    """The 3x3 homography fitted (RANSAC, 1 px) to the flow (H, W, 2) at the ``usable``
    pixels (bool (H, W)): the motion of a distant or flat background. None where fewer
    than 64 pixels are usable or no fit is found."""
    count = int(usable.sum())
    if count < 64:
        return None
    step = max(1, int(np.sqrt(count / FIT_POINTS)))
    sample = np.zeros_like(usable)
    sample[::step, ::step] = usable[::step, ::step]
    ys, xs = np.nonzero(sample)
    source = np.stack([xs, ys], -1).astype(np.float32)
    homography, _ = cv2.findHomography(source, source + flow[ys, xs], cv2.RANSAC, 1.0)
    return homography


def homography_motion(homography: np.ndarray, height: int, width: int) -> np.ndarray:
    """The flow (H, W, 2) of a 3x3 homography: where each pixel goes, less where it is."""
    grid = np.stack(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)), -1)
    moved = cv2.perspectiveTransform(grid.reshape(-1, 1, 2), homography).reshape(height, width, 2)
    return (moved - grid).astype(np.float32)


def background_motion(flow: np.ndarray, usable: np.ndarray) -> np.ndarray | None:
    """The flow (H, W, 2) of ``background_homography``; None where it finds none."""
    homography = background_homography(flow, usable)
    return None if homography is None else homography_motion(homography, *usable.shape)


def background_usable(grown: np.ndarray, flat: np.ndarray, factor: int = 1) -> np.ndarray:
    """bool (H, W): the pixels the background's motion is fitted on: not ``flat`` and more
    than ``OUTLIER_GAP`` px (full size; ``factor``: the flow's reduction) from the grown
    hole (bool (H, W)), where DIS's patches overlap what moves in it."""
    gap_px = max(OUTLIER_GAP // factor, 1)
    return ~dilated(grown, gap_px) & ~flat


def planar_background(flow: np.ndarray, region: np.ndarray, flat: np.ndarray, background: np.ndarray,
                      factor: int = 1) -> bool:
    """Whether ``background`` (H, W, 2, the background's motion) predicts the flow
    (H, W, 2) within ``PLANAR_FIT`` px (median) over the textured (not ``flat``) pixels
    within ``PLANAR_RING`` px (full size) of the completion ``region`` (bool (H, W)).
    False where fewer than 16 such pixels exist."""
    ring_px = max(PLANAR_RING // factor, 1)
    ring = dilated(region, ring_px) & ~region & ~flat
    if ring.sum() < 16:
        return False
    miss = np.hypot(*np.moveaxis(flow[ring] - background[ring], -1, 0))
    return float(np.median(miss)) < PLANAR_FIT


def motion_outliers(flow: np.ndarray, grown: np.ndarray, flat: np.ndarray, grey: np.ndarray,
                    grey_other: np.ndarray, grown_other: np.ndarray, factor: int = 1,
                    background: np.ndarray | None = None) -> np.ndarray:
    """bool (H, W): the pixels within ``OUTLIER_RING`` px of the grown hole (bool (H, W)),
    connected to it through such pixels, whose flow (H, W, 2) is more than
    ``OUTLIER_MOTION`` px from the background's motion (``background_motion``, fitted on
    the pixels more than ``OUTLIER_GAP`` px from the grown hole and not ``flat``), and
    where that motion matches ``grey_other`` (uint8 (H, W), the frame the flow points
    into) as well as the flow does, within ``OUTLIER_TIE`` grey levels (5x5 mean absolute
    difference from ``grey``, this frame), or lands in ``grown_other`` (bool (H, W), that
    frame's grown hole). A textured region that really moves keeps its flow: its own
    motion matches better. Nothing where no fit is found. ``factor``: the flow is of the
    frames scaled down by it. ``background``: that motion, where it is already fitted."""
    if OUTLIER_RING <= 0 or not grown.any():
        return np.zeros_like(grown)
    ring_px = max(OUTLIER_RING // factor, 1)
    if background is None:
        background = background_motion(flow, background_usable(grown, flat, factor))
    if background is None:
        return np.zeros_like(grown)
    ring = dilated(grown, ring_px)
    off = ring & ~grown & (np.hypot(*np.moveaxis(flow - background, -1, 0)) > OUTLIER_MOTION)
    if not off.any():
        return off
    own, other = grey.astype(np.float32), grey_other.astype(np.float32)
    miss_flow = cv2.blur(np.abs(own - sample(other, flow, border=cv2.BORDER_REPLICATE)), (5, 5))
    miss_background = cv2.blur(np.abs(own - sample(other, background, border=cv2.BORDER_REPLICATE)), (5, 5))
    # where the background's motion lands in the other frame's hole, the grey there is the
    # pre-fill: nothing judges it, and the background's motion is taken. (Taking flow that
    # lands there too cost 1.3 dB where a truck moves under a drone, decision 0029)
    unjudged = sample(grown_other.astype(np.float32), background, border=cv2.BORDER_REPLICATE) > 0
    off &= unjudged | (miss_background <= miss_flow + OUTLIER_TIE)
    return connected_reach(off, grown)


def unchecked_flow(flow: np.ndarray, other: np.ndarray, region: np.ndarray, factor: int = 1) -> np.ndarray:
    """bool (H, W): the pixels within ``FB_RING`` px of the completion ``region`` (bool
    (H, W)), connected to it through such pixels, where the flow (H, W, 2) and ``other``
    (H, W, 2: the opposite direction's flow, from the frame the flow points into) read at
    the flow's landing do not cancel to within ``FB_CHECK`` px. ``factor``: the flow is of
    the frames scaled down by it (both limits are px at full size)."""
    if FB_RING <= 0 or not region.any():
        return np.zeros_like(region)
    ring_px = max(FB_RING // factor, 1)
    near = dilated(region, ring_px)
    miss = fb_error(flow, other, border=cv2.BORDER_REPLICATE)
    return connected_reach(near & ~region & (miss > (FB_CHECK / factor) ** 2), region)


def completion_regions(grown: np.ndarray, flat: np.ndarray, forward: np.ndarray, factor: int = 1,
                       backward: np.ndarray | None = None, grey: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The regions of ``completion_plan``, without its planes."""
    regions_f, regions_b, _, _ = completion_plan(grown, flat, forward, factor, backward, grey)
    return regions_f, regions_b


def completion_plan(grown: np.ndarray, flat: np.ndarray, forward: np.ndarray, factor: int = 1,
                    backward: np.ndarray | None = None, grey: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Where the raw flow is replaced, and by what: bool (F, H, W) for the forward flows
    and for the backward ones, and for each flow the 3x3 homography whose motion fills its
    region, or None for diffusion. grown: the holes grown (F, H, W); flat: ``flat_mask``
    of each masked frame; forward: the raw forward flow (F, H, W, 2). Each region is the
    grown hole; with ``backward`` (F, H, W, 2) and ``grey`` (F, H, W) uint8, the masked
    frames' display grey, the ``motion_outliers`` of each flow, then the flow beside what
    that makes that fails the forward-backward check (``unchecked_flow``); and, for both
    flows of a still pair (t, t+1) (``is_still``, over frame t's textured pixels outside
    its grown hole), the flat pixels connected to it (``connected_reach``): forward[t] in
    frame t, backward[t+1] in frame t+1. With ``backward`` and ``grey``, a flow whose region the
    background's homography predicts around it (``planar_background``) is filled with
    that homography's motion. ``factor``: the flow is of the frames scaled down by it, in
    its pixels."""
    regions_f, regions_b = grown.copy(), grown.copy()
    planes_f: list = [None] * len(grown)
    planes_b: list = [None] * len(grown)

    def fitted(flow: np.ndarray, t: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        if not grown[t].any():
            return None, None
        homography = background_homography(flow, background_usable(grown[t], flat[t], factor))
        if homography is None:
            return None, None
        return homography, homography_motion(homography, *grown[t].shape)

    def pair(t: int) -> None:
        fits = None
        if backward is not None and grey is not None:
            fits = fitted(forward[t], t), fitted(backward[t + 1], t + 1)
            if fits[0][1] is not None:
                regions_f[t] |= motion_outliers(forward[t], grown[t], flat[t], grey[t], grey[t + 1], grown[t + 1],
                                                factor, fits[0][1])
            if fits[1][1] is not None:
                regions_b[t + 1] |= motion_outliers(backward[t + 1], grown[t + 1], flat[t + 1], grey[t + 1],
                                                    grey[t], grown[t], factor, fits[1][1])
            regions_f[t] |= unchecked_flow(forward[t], backward[t + 1], regions_f[t], factor)
            regions_b[t + 1] |= unchecked_flow(backward[t + 1], forward[t], regions_b[t + 1], factor)
        if is_still(forward[t], ~flat[t] & ~grown[t], STILL_MOTION / factor):
            regions_f[t] |= connected_reach(flat[t], grown[t])
            regions_b[t + 1] |= connected_reach(flat[t + 1], grown[t + 1])
        if fits is None:
            return
        (homography_f, motion_f), (homography_b, motion_b) = fits
        if motion_f is not None and planar_background(forward[t], regions_f[t], flat[t], motion_f, factor):
            planes_f[t] = homography_f
        if motion_b is not None and planar_background(backward[t + 1], regions_b[t + 1], flat[t + 1], motion_b,
                                                      factor):
            planes_b[t + 1] = homography_b

    map_frames(pair, len(grown) - 1)
    return regions_f, regions_b, planes_f, planes_b
