"""Flow-guided temporal propagation of known pixels into the hole: the priors of the
``standard`` preset. ``seamed_propagation`` pre-fills the holes; with ``guarded=True``
(``guarded_propagation``) it is the pre-fill for holes over a moving subject. Below plate
resolution both run at plate resolution too, for the output (``pipeline.plate.PlateFills``).

Plain propagation (``fill.chains.flow_propagation``) completes the
flow inside the hole by diffusion from its border, so over a fast-moving
foreground it follows the background's motion and drags background pixels (car
lights onto a jacket) into the fill. The guarded variant follows each hole pixel
forward and backward separately; it keeps the propagated colour only where the two
directions agree (or where a single direction lands close by), and everything else
is filled by Telea from the trusted pixels around it. It is a pre-fill only where it
wins the held-out check by a margin (``pipeline.holdout.PREFILL_MARGIN``).

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

Then both steady the fill along the flow (``fill.temporal``). Last, where the background
behind the hole is still, both copy each hole pixel unchanged from the nearest frame that
shows it (``fill.still.still_first``): no flow noise, no resampling blur. The guarded
variant, for holes over moving subjects, takes the copy only where the background's drift
over the frames around is small as well (``steady``, docs/decisions/0061).

Reference frames (``references``: frames whose hole the artist painted) are known frames
to the chains, so their painting is carried along the motion like footage. A still
chain from a painted frame would copy the painting unchanged, in the light of the frame
it was painted on; so its colour is brought to the frame it lands in: the difference
between that frame and the painted one on the ring of known pixels around the hole,
smoothed and diffused into the hole as the seam is (``reference_light``).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import decode, encode
from ..errors import ShapeError
from ..io.masks import dilated
from ..parallel import map_frames
from .chains import LANDING_TRUST, STILL_SNAP, blend_hits, follow, place_fill
from .classical import diffuse_into
from .flow import FLOW_DILATE, GUARDED_FLOW_DILATE, CompletedFlow, completed_flow, remeasured_flow
from .still import still_first
from .temporal import TEMPORAL_SWEEPS, smooth_along_flow

AGREEMENT = 0.15  # max |forward - backward| in the training space (ACEScct) to trust a blend
# frames: a single direction that lands this close is trusted on its own; the same length
# up to which a chain's landing goes untested (``chains.LANDING_TRUST``, decision 0053)
NEAR = LANDING_TRUST
# passes along the flow for the real hole: each after the first measures the flow inside
# the holes again, by DIS on the fill the pass before made (``flow.remeasured_flow``). On
# the 18 held-out-style thumbnails, seamed propagation alone +0.50 dB mean over frames (14
# of 18 up; c7 -0.29 the worst), guarded +1.34; a third pass cost the 768x576 people
# plate 0.22 dB pooled. The held-out check's holes take one pass: they jump every frame,
# and a second pass measured on their fill lost there what it gains in the real hole
# (decision 0040)
FLOW_PASSES = 2
SEAM_RING = 2  # px of known pixels around the hole whose propagated colour measures the seam
SEAM_SIGMA = 1.0  # px: smoothing of the measured seam along the ring (it carries noise)
# how hole pixels that no chain reaches are filled from the pixels around them: keyed by
# ``guarded``, see ``chains.place_fill``. Diffusion (a harmonic fill) rather than Telea
# from the propagated pixels: +1.82 dB on bikes/logo, where no chain reaches 40 % of the
# hole. Then the mean of diffusion and Telea from the hole's true border blended into the
# propagated pixels (``classical.blended_telea``) rather than diffusion alone: +0.64 dB
# there, +1.53 dB at 192x384 (49 % unreached), -0.03 to +0.05 on the city shots at 96x192,
# -0.09 and -0.06 at 192x384. The blend alone gained more on bikes/logo (+0.76, +2.92) and
# lost up to 0.37 dB on the city shots: Telea draws a night street's lights as streaks.
# No change on the held-out-style shots (every chain lands there). Telea's weight falls
# to 0 where the footage, not propagated pixels, surrounds what is left
# (``chains.telea_weight``, decision 0046). The guarded variant keeps Telea: there
# diffusion lost 1.2 dB on bikes/logo and 0.4 on bikes/blob, and the blend 0.98 on
# bikes/blob.
LEFTOVER = {False: "telea-diffusion-mean", True: "telea"}


def seam_offset(frame_enc: np.ndarray, ring: np.ndarray, propagated_enc: np.ndarray, hole: np.ndarray
                ) -> np.ndarray:
    """The seam a propagated fill leaves, spread over the hole.

    frame_enc (H, W, 3) the frame in the training space; ring bool (H, W) known pixels
    with a propagated colour; propagated_enc (H, W, 3) that colour (used on ``ring``);
    hole bool (H, W). Returns (H, W, 3): on the ring the difference frame - propagated,
    smoothed along the ring, and inside the hole its harmonic interpolation."""
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
                       near: int = NEAR, references: frozenset = frozenset(), still: bool = True,
                       passes: int = FLOW_PASSES) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F, H, W, 3): flow-guided propagation
    (as the ``flowprop`` baseline) with still chains snapped and seams matched (see the
    module docstring) and, where the background is still, the unmoved copy laid over it
    (``fill.still.still_first``); where no chain lands, ``LEFTOVER``; known pixels are the
    input's.

    ``guarded``: keep a propagated colour only where the forward and backward chains
    agree, or where one direction alone lands within ``near`` frames (see the module docstring).
    ``references``: indices of frames whose hole was painted (their ``holes`` are False).
    ``still=False`` leaves the unmoved copy out (as the held-out check's holes take it:
    ``pipeline.holdout.input_configurations``). ``passes``: each after the first follows
    the flow measured again inside the holes on the fill the one before made
    (``fill.flow.remeasured_flow``), except at the pixels from which no chain of the first
    pass lands; the held-out check's holes take one."""
    frames = np.maximum(np.asarray(frames_linear, dtype=np.float32), 0.0)
    if frames.ndim != 4 or frames.shape[-1] != 3 or holes.shape != frames.shape[:3]:
        raise ShapeError(f"seamed_propagation needs (F, H, W, 3) and (F, H, W), got {frames.shape}, {holes.shape}")
    if not isinstance(passes, (int, np.integer)) or passes < 1:
        raise ShapeError(f"seamed_propagation needs passes >= 1, got {passes!r}")
    if not holes.any():
        return frames
    grow = GUARDED_FLOW_DILATE if guarded else FLOW_DILATE
    flow = completed_flow(frames, holes, dilate=grow)
    del frames  # each pass makes its own: at plate resolution a copy of the shot less at the peaks
    reached = np.zeros_like(holes) if passes > 1 else None
    result = propagation_pass(frames_linear, holes, flow, guarded, near, references, still, reached)
    for _ in range(passes - 1):
        flow = remeasured_flow(result, holes, flow, dilate=grow, guessed=holes & ~reached)
        del result
        result = propagation_pass(frames_linear, holes, flow, guarded, near, references, still)
    return result


def propagation_pass(frames_linear: np.ndarray, holes: np.ndarray, flow: CompletedFlow, guarded: bool, near: int,
                     references: frozenset, still: bool, reached: np.ndarray | None = None) -> np.ndarray:
    """One pass of ``seamed_propagation`` along ``flow`` (``CompletedFlow``): the chains,
    the temporal filter and, unless not ``still``, the unmoved copy.
    ``reached``: bool (F, H, W), set where a chain lands (see ``chain_fill``)."""
    frames = np.maximum(np.asarray(frames_linear, dtype=np.float32), 0.0)
    result = chain_fill(frames, holes, flow, guarded, near, references, reached)
    del frames  # the filter reads the fill alone: at plate resolution a copy of the shot less at its peak
    result = smooth_along_flow(result, holes, flow.forward, flow.backward, TEMPORAL_SWEEPS)
    if not still:
        return result
    return still_first(frames_linear, holes, result, flow.forward, flow.backward, references, steady=guarded)


def reference_light(frame: np.ndarray, ring: np.ndarray, painted: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """(H, W, 3) in the training space: what to add to colours copied unmoved from the
    painted frame ``painted`` (H, W, 3) scene-linear into ``frame``'s ``hole``: their
    difference on ``ring`` (known pixels around the hole, at the same places in both),
    smoothed and diffused into the hole (``seam_offset``)."""
    return seam_offset(encode(frame), ring, encode(painted), hole)


def chain_fill(frames: np.ndarray, holes: np.ndarray, flow, guarded: bool, near: int,
               references: frozenset = frozenset(), reached: np.ndarray | None = None) -> np.ndarray:
    """The seamed (or guarded) fill before the temporal filter: each frame's hole filled from
    its own chains (see ``seamed_propagation``). frames (F, H, W, 3) non-negative
    scene-linear, holes bool (F, H, W), flow a ``fill.flow.CompletedFlow``. ``reached``:
    bool (F, H, W) set True at the hole pixels from which a chain, forward or backward,
    lands on footage, whether or not the guard trusts the landing: within the holes, the
    pixels ``fill.chains.unreached`` leaves out."""
    n = len(frames)
    result = frames.copy()

    def fill(t: int) -> None:  # one frame of the result, from that frame's chains alone
        if not holes[t].any():
            return
        zone = dilated(holes[t], SEAM_RING)
        ys, xs, c_f, d_f, s_f = follow(frames, holes, flow.forward, t, +1, n - 1, STILL_SNAP, starts=zone,
                                       trust=LANDING_TRUST)
        _, _, c_b, d_b, s_b = follow(frames, holes, flow.backward, t, -1, n - 1, STILL_SNAP, starts=zone,
                                     trust=LANDING_TRUST)
        lands = (d_f > 0) | (d_b > 0)  # on footage, whether or not the guard trusts it
        landed = lands
        if guarded:
            agree = np.abs(encode(c_f) - encode(c_b)).max(axis=1) < AGREEMENT
            landed = ((d_f > 0) & (d_b > 0) & agree) | ((d_f > 0) & (d_b == 0) & (d_f <= near)) \
                | ((d_b > 0) & (d_f == 0) & (d_b <= near))
        if references:
            c_f = lit_by_frame(c_f, d_f, s_f, t, +1)
            c_b = lit_by_frame(c_b, d_b, s_b, t, -1)
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
        if reached is not None:
            into = in_hole & lands
            reached[t, ys[into], xs[into]] = True

    def lit_by_frame(colours, distance, still, t: int, step: int):
        """Still chains that landed in a painted frame, brought to frame t's light."""
        source = t + step * distance
        from_painting = still & (distance > 0) & np.isin(source, list(references))
        if not from_painting.any():
            return colours
        ring = dilated(holes[t], SEAM_RING) & ~holes[t]
        out = colours.copy()
        ys, xs = np.nonzero(dilated(holes[t], SEAM_RING))
        for r in np.unique(source[from_painting]):
            pick = from_painting & (source == r)
            offset = reference_light(frames[t], ring, frames[r], holes[t])[ys[pick], xs[pick]]
            out[pick] = decode(encode(colours[pick]) + offset)
        return out

    map_frames(fill, len(frames))
    return result


def propagation_calls(n_frames: int, passes: int = FLOW_PASSES) -> int:
    """Per-frame calls (``parallel.map_frames``) one seamed or guarded propagation of
    ``n_frames`` makes, for progress: Telea, the flat mask and DIS before the flow, its
    still test and completion (``fill.flow.completed_flow``), the chains, and the temporal
    filter's links and ``TEMPORAL_SWEEPS`` sweeps; then, for each further one of
    ``passes``, the flow measured again (``fill.flow.remeasured_flow``: the grey, flat mask
    and DIS), the chains and the filter. The unmoved copy's test, a call a frame each
    pass, is not counted here."""
    later = (5 + TEMPORAL_SWEEPS) * n_frames - 1
    return (7 + TEMPORAL_SWEEPS) * n_frames - 3 + (passes - 1) * later


def guarded_propagation(frames_linear: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """``seamed_propagation`` with the guard on: for holes over a moving subject."""
    return seamed_propagation(frames_linear, holes, guarded=True)
