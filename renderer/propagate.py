"""Flow-guided temporal propagation of known pixels into the hole: the priors of the
``standard`` preset. ``seamed_propagation`` pre-fills the holes; with ``guarded=True``
(``guarded_propagation``) it is the pre-fill for holes over a moving subject. Below plate
resolution both run at plate resolution too, for the output (``renderer.roi.PlateFills``).

Plain propagation (``renderer.evaluate.baselines.flow_propagation``) completes the
flow inside the hole by diffusion from its border, so over a fast-moving
foreground it follows the background's motion and drags background pixels (car
lights onto a jacket) into the fill. The guarded variant follows each hole pixel
forward and backward separately; it keeps the propagated colour only where the two
directions agree (or where a single direction lands close by), and everything else
is filled by Telea from the trusted pixels around it. It is a pre-fill only where it
wins the held-out check by a margin (``renderer.selfsup.PREFILL_MARGIN``).

Both correct plain propagation in two ways, measured on held-out-style shots (16
frames, 160x96, a drone like ``examples/city``'s moving over bikes.mp4 and
cityCC0.mpg) and on the four development shots:

* Still chains are snapped: a chain that lands less than ``STILL_SNAP`` px from
  where it started copies that pixel rather than a bilinear sample of it. DIS flow
  over a still background is noise of a few tenths of a pixel, and a bilinear
  sample at such an offset blurs fine texture: +2.2, +1.0 and +3.2 dB on the three
  locked-off city shots, -0.03 to 0.00 dB on panning ones (0.5 px: -0.21 dB there).
* Seams are matched: a ring of ``SEAM_RING`` px of known pixels around the hole is
  propagated too; there the propagated colour can be compared with the frame's own,
  and the smoothed difference (in ACEScct, so a gain in linear light), diffused into
  the hole, is added to every moving chain's colour. Exposure and shading change
  between the frame a colour comes from and the frame it lands in: +0.2 to +0.5 dB
  on the panning shots, +0.02 to +0.13 dB on the development shots. Still chains are
  left alone: their seam is only noise (-0.1 to -0.2 dB when corrected).

Then both steady the fill along the flow (``smooth_along_flow``): each frame's chains
land in different frames, so neighbouring fills disagree by their seams, noise and
drift, which the eye sees as flicker. Each hole pixel is averaged with the pixels it
moves to in the frames before and after, in two sweeps, each neighbour first brought to
the frame's exposure (``exposure_gain``). Flow shorter than ``STILL_SNAP`` counts as
zero here too: without that the filter cost the held-out-style city shots 0.7 to
2.1 dB (a bilinear sample at DIS's noise blurs fine texture).
"""

from __future__ import annotations

import cv2
import numpy as np

from .colour import decode, encode
from .errors import ShapeError
from .parallel import map_frames

AGREEMENT = 0.15  # max |forward - backward| in the training space (ACEScct) to trust a blend
NEAR = 3  # frames: a single direction that lands this close is trusted on its own
FLOW_DILATE = 2  # px: diffuse the flow only this far beyond the hole (the guard does the rest)
STILL_SNAP = 0.35  # px: a chain that ends this close to its start copies the pixel itself
SEAM_RING = 2  # px of known pixels around the hole whose propagated colour measures the seam
SEAM_SIGMA = 1.0  # px: smoothing of the measured seam along the ring (it carries noise)
INSIDE = 0.999  # a bilinear sample counts as inside the frame when its weight inside exceeds this
# how hole pixels that no chain reaches are filled from the pixels around them: keyed by
# ``guarded``, see ``baselines.place_fill``. Diffusion (a harmonic fill) rather than Telea
# from the propagated pixels: +1.82 dB on bikes/logo, where no chain reaches 40 % of the
# hole. Then the mean of diffusion and Telea from the hole's true border blended into the
# propagated pixels (``baselines.blended_telea``) rather than diffusion alone: +0.64 dB
# there, +1.53 dB at 192x384 (49 % unreached), -0.03 to +0.05 on the city shots at 96x192,
# -0.09 and -0.06 at 192x384. The blend alone gained more on bikes/logo (+0.76, +2.92) and
# lost up to 0.37 dB on the city shots: Telea draws a night street's lights as streaks.
# No change on the held-out-style shots (every chain lands there). The guarded variant
# keeps Telea: there diffusion lost 1.2 dB on bikes/logo and 0.4 on bikes/blob, and the
# blend 0.98 on bikes/blob.
LEFTOVER = {False: "telea-diffusion-mean", True: "telea"}
# sweeps of the temporal filter over the fill (``smooth_along_flow``). Seamed propagation alone,
# two sweeps against none: +0.25 / +0.01 / +0.17 / +0.11 dB and 16 / 59 / 31 / 57 % less warp
# error on the development shots, +0.06 to +0.60 dB on the six held-out-style ones. One sweep:
# less warp gain, and no more PSNR on any shot but b1 (0.16 dB more there); three: b1 falls
# 0.15 dB below no filter at all (a pan blurs along a flow that drifts).
TEMPORAL_SWEEPS = 2


def seam_offset(frame_enc: np.ndarray, ring: np.ndarray, propagated_enc: np.ndarray, hole: np.ndarray
                ) -> np.ndarray:
    """The seam a propagated fill leaves, spread over the hole.

    frame_enc (H, W, 3) the frame in the training space; ring bool (H, W) known pixels
    with a propagated colour; propagated_enc (H, W, 3) that colour (used on ``ring``);
    hole bool (H, W). Returns (H, W, 3): on the ring the difference frame - propagated,
    smoothed along the ring, and inside the hole its harmonic interpolation."""
    from .evaluate.baselines import diffuse_into

    if frame_enc.shape != propagated_enc.shape or ring.shape != frame_enc.shape[:2] or hole.shape != ring.shape:
        raise ShapeError(f"seam_offset needs (H, W, 3) twice and (H, W) twice, got {frame_enc.shape}, "
                         f"{propagated_enc.shape}, {ring.shape}, {hole.shape}")
    out = np.zeros_like(frame_enc)
    if not ring.any():
        return out
    ys, xs = np.nonzero(ring | hole)  # only the box around the hole: the rest is never read
    pad = 4 * SEAM_RING
    y0, x0 = max(ys.min() - pad, 0), max(xs.min() - pad, 0)
    y1, x1 = min(ys.max() + pad + 1, ring.shape[0]), min(xs.max() + pad + 1, ring.shape[1])
    ring_box = ring[y0:y1, x0:x1]
    weight = ring_box.astype(np.float32)
    diff = (frame_enc[y0:y1, x0:x1] - propagated_enc[y0:y1, x0:x1]) * weight[..., None]
    num = cv2.GaussianBlur(diff, (0, 0), SEAM_SIGMA).reshape(diff.shape)
    den = cv2.GaussianBlur(weight, (0, 0), SEAM_SIGMA)
    measured = np.where(ring_box[..., None], num / np.maximum(den, 1e-6)[..., None], 0.0).astype(np.float32)
    out[y0:y1, x0:x1] = diffuse_into(measured, ~ring_box)
    return out


def seamed_propagation(frames_linear: np.ndarray, holes: np.ndarray, guarded: bool = False,
                       near: int = NEAR) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F, H, W, 3): flow-guided propagation
    (as the ``flowprop`` baseline) with still chains snapped and seams matched (see the
    module docstring); where no chain lands, ``LEFTOVER``; known pixels are the input's.

    ``guarded``: keep a propagated colour only where the forward and backward chains
    agree, or where one direction alone lands within ``near`` frames (see the module docstring)."""
    from .evaluate.baselines import _follow, blend_hits, completed_flow, place_fill

    frames = np.maximum(np.asarray(frames_linear, dtype=np.float32), 0.0)
    if frames.ndim != 4 or frames.shape[-1] != 3 or holes.shape != frames.shape[:3]:
        raise ShapeError(f"seamed_propagation needs (F, H, W, 3) and (F, H, W), got {frames.shape}, {holes.shape}")
    if not holes.any():
        return frames
    n = frames.shape[0]
    flow = completed_flow(frames, holes, dilate=FLOW_DILATE) if guarded else completed_flow(frames, holes)
    grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SEAM_RING + 1, 2 * SEAM_RING + 1))
    result = frames.copy()

    def fill(t: int) -> None:  # one frame of the result, from that frame's chains alone
        if not holes[t].any():
            return
        zone = cv2.dilate(holes[t].astype(np.uint8), grow) > 0
        ys, xs, c_f, d_f, s_f = _follow(frames, holes, flow.forward, t, +1, n - 1, STILL_SNAP, starts=zone)
        _, _, c_b, d_b, s_b = _follow(frames, holes, flow.backward, t, -1, n - 1, STILL_SNAP, starts=zone)
        landed = (d_f > 0) | (d_b > 0)
        if guarded:
            agree = np.abs(encode(c_f) - encode(c_b)).max(axis=1) < AGREEMENT
            landed = ((d_f > 0) & (d_b > 0) & agree) | ((d_f > 0) & (d_b == 0) & (d_f <= near)) \
                | ((d_b > 0) & (d_f == 0) & (d_b <= near))
        colours = blend_hits(c_f, d_f, c_b, d_b)
        in_hole = holes[t][ys, xs]
        ring = np.zeros_like(holes[t])
        ring[ys[~in_hole & landed], xs[~in_hole & landed]] = True
        propagated = np.zeros_like(frames[t])
        propagated[ys, xs] = colours
        offset = seam_offset(encode(frames[t]), ring, encode(propagated), holes[t])[ys, xs]
        moving = landed & ~s_f & ~s_b  # a snapped landing is still
        corrected = np.where(moving[:, None], decode(encode(colours) + offset), colours)
        result[t] = place_fill(frames[t], holes[t], ys[in_hole], xs[in_hole], corrected[in_hole], landed[in_hole],
                               LEFTOVER[guarded])

    map_frames(fill, n)
    return smooth_along_flow(result, holes, flow.forward, flow.backward, TEMPORAL_SWEEPS)


def still_flow(flow: np.ndarray) -> np.ndarray:
    """(..., 2) flow with every vector shorter than ``STILL_SNAP`` px set to zero: DIS's
    noise over a still background, which a bilinear sample would turn into blur."""
    flow = np.asarray(flow, dtype=np.float32)
    return np.where((np.hypot(flow[..., 0], flow[..., 1]) < STILL_SNAP)[..., None], 0.0, flow).astype(np.float32)


def exposure_gain(frame: np.ndarray, hole: np.ndarray, other: np.ndarray, other_hole: np.ndarray,
                  flow: np.ndarray) -> np.ndarray:
    """(3,) gain that brings ``other``'s light to ``frame``'s: the ratio of the two frames'
    sums over the known pixels of ``frame`` that ``flow`` (frame -> other) carries onto
    known pixels of ``other``, inside it. 1 where nothing qualifies.

    frame, other (H, W, 3) scene-linear; hole, other_hole bool (H, W); flow (H, W, 2).
    Measured over the whole frame: near the hole the flow is the completed one, and a gain
    measured on a ring there cost 0.05 to 0.16 dB on the panning shots."""
    from .flow import sample

    both = ~hole & (sample(other_hole.astype(np.float32), flow) == 0) \
        & (sample(np.ones(hole.shape, np.float32), flow) > INSIDE)
    if not both.any():
        return np.ones(3, np.float32)
    mine, theirs = frame[both].sum(axis=0), sample(other, flow)[both].sum(axis=0)
    return np.where(theirs > 1e-6, mine / np.maximum(theirs, 1e-6), 1.0).astype(np.float32)


def smooth_along_flow(fill: np.ndarray, holes: np.ndarray, forward: np.ndarray, backward: np.ndarray,
                      sweeps: int = TEMPORAL_SWEEPS) -> np.ndarray:
    """A temporal filter of a fill along its flow: each sweep replaces every hole pixel by
    the mean of its own value and those of the pixels it moves to in the frames before and
    after (bilinear, read from the previous sweep; a neighbour outside the frame does not
    count), each neighbour brought to the frame's light by ``exposure_gain``. Two sweeps
    weigh frames t-2..t+2 as 1, 2, 3, 2, 1.

    fill (F, H, W, 3) scene-linear, known pixels the frames' own; holes bool (F, H, W);
    forward, backward (F, H, W, 2) as ``baselines.CompletedFlow``'s. Flow shorter than
    ``STILL_SNAP`` counts as zero. Returns (F, H, W, 3) float32, ``fill`` outside the holes."""
    from .flow import sample

    fill = np.asarray(fill, dtype=np.float32)
    if fill.ndim != 4 or holes.shape != fill.shape[:3] or forward.shape != fill.shape[:3] + (2,) \
            or backward.shape != forward.shape:
        raise ShapeError(f"smooth_along_flow needs (F, H, W, 3), (F, H, W) and two (F, H, W, 2), got "
                         f"{fill.shape}, {holes.shape}, {forward.shape}, {backward.shape}")
    n = len(fill)
    if n < 2 or sweeps < 1 or not holes.any():
        return fill
    forward, backward = still_flow(forward), still_flow(backward)
    neighbours = [[(forward[t], t + 1)] * (t + 1 < n) + [(backward[t], t - 1)] * (t > 0) for t in range(n)]
    ones = np.ones(holes.shape[1:], np.float32)

    def links(t: int) -> list:  # (flow, neighbour, gain, weight) of frame t's neighbours
        return [(flow, s, exposure_gain(fill[t], holes[t], fill[s], holes[s], flow), sample(ones, flow))
                for flow, s in neighbours[t]] if holes[t].any() else []

    steps = map_frames(links, n)
    current = fill
    for _ in range(sweeps):
        before, current = current, fill.copy()

        def sweep(t: int) -> None:
            if not steps[t]:
                return
            total, weight = before[t].copy(), ones.copy()
            for flow, s, gain, inside in steps[t]:
                total += sample(before[s], flow) * gain
                weight += inside
            current[t] = np.where(holes[t][..., None], total / weight[..., None], fill[t])

        map_frames(sweep, n)
    return current


def guarded_propagation(frames_linear: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """``seamed_propagation`` with the guard on: for holes over a moving subject."""
    return seamed_propagation(frames_linear, holes, guarded=True)
