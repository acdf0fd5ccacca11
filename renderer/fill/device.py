"""``fill.propagate``'s seamed and guarded propagation as batched torch ops, for a GPU.

On a GPU box the CPU work before training was most of a ``standard`` run: 100 frames
at 192x384 spent 33 s in seven propagation pre-fills on an H200's 16-core host, against
1.2-2.9 s of training. Here every hole pixel of every frame follows its chain at once
(one gather per step of distance), and the flow completion, the seam's spread and the
blend where no chain lands are Jacobi sweeps run as convolutions.

The same method and results to within 0.01 dB on the development and held-out-style
shots (benchmarks/README.md): the bilinear samples here are exact, OpenCV's are fixed
point (1/32 px), and the diffusion sweeps over one box around every frame's region.

What stays on the CPU: the Telea pre-fill DIS needs, DIS, the Telea blended in where
no chain lands, and the unmoved copy where the background is still (``fill.still``).
(Pre-filling by diffusion instead, or Telea on the grey image DIS sees, cost seamed
propagation 2.9 and 0.25 dB on bikes/blob: DIS's coarse levels see past the 8 px the
flow completion replaces.)

Layout: images are (F, C, H, W) on the device; a chain is a point (frame, y, x). The
chains themselves are followed in ``fill.device_chains``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..colour_torch import decode, display_like, encode, srgb_to_linear
from ..errors import ShapeError
from ..method.flow import fingerprint_arrays
from ..method.warp import INBOUNDS_THRESHOLD, warp
from ..parallel import map_frames
from .chains import LANDING_TRUST, STILL_SNAP, TELEA_WEIGHT
from .classical import telea_frame
from .device_chains import blend_hits, follow
from .device_ops import diffuse, dilate, gaussian_blur
from .flow import FLOW_DILATE, GUARDED_FLOW_DILATE, masked_flow
from .flow_regions import completion_plan, homography_motion
from .propagate import AGREEMENT, FLOW_PASSES, LEFTOVER, NEAR, SEAM_RING, SEAM_SIGMA
from .still import still_first
from .temporal import TEMPORAL_SWEEPS


# -- flow ---------------------------------------------------------------------------------------
FLOWS_KEPT = 2  # DIS flows a ``DevicePropagation`` keeps: seamed and guarded propagation of one hole share one


def completed_flows(frames_np: np.ndarray, hole_sets: list[np.ndarray], holes: torch.Tensor, grow: int,
                    kept: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """For each hole set, ``flow.masked_flow`` (on the CPU: Telea and DIS), replaced
    inside each hole grown by ``grow`` px (and the flow beside it that leaves the
    background's motion; on still pairs, the flat pixels connected to it:
    ``flow_regions.completion_plan``, on the CPU) by diffusion from around it, on the device, or
    by the background's homography where it predicts the flow around the region.
    frames_np (F, H, W, 3) scene-linear; hole_sets K bool (F, H, W); holes the same sets
    stacked on the device (K F, H, W) -> (forward, backward), (K F, 2, H, W) each: in each
    set, forward[t] is F(t -> t+1) (the last is zero), backward[t] is F(t -> t-1) (the
    first is zero), (dx, dy) in pixels. ``kept``: the last ``FLOWS_KEPT`` masked flows,
    by content, to reuse."""
    raws, flats, greys = [], [], []
    frames_key = fingerprint_arrays(frames_np) if kept is not None else None
    for holes_np in hole_sets:
        key = (frames_key, fingerprint_arrays(holes_np)) if kept is not None else None
        flows = kept.get(key) if kept is not None else None
        if flows is None:
            flows = masked_flow(frames_np, holes_np)
            if kept is not None:
                while len(kept) >= FLOWS_KEPT:
                    kept.pop(next(iter(kept)))
                kept[key] = flows
        raws.append(np.concatenate(flows[:2], axis=-1))
        flats.append(flows[2])
        greys.append(flows[3])
    raw = torch.from_numpy(np.concatenate(raws)).to(holes.device).permute(0, 3, 1, 2)
    grown = dilate(holes, grow)
    n = len(frames_np)
    # the flow that leaves the background's motion beside the hole and, on still pairs, the
    # flat pixels connected to it are replaced too (flow_regions.completion_plan)
    grown_np = grown.cpu().numpy()
    plans = [completion_plan(grown_np[k * n:(k + 1) * n], flat, raw_k[..., :2], backward=raw_k[..., 2:], grey=grey)
             for k, (flat, raw_k, grey) in enumerate(zip(flats, raws, greys))]
    region_f = torch.from_numpy(np.concatenate([p[0] for p in plans])).to(holes.device)
    region_b = torch.from_numpy(np.concatenate([p[1] for p in plans])).to(holes.device)
    done = torch.cat([diffuse(raw[:, :2], region_f), diffuse(raw[:, 2:], region_b)], dim=1)
    height, width = grown_np.shape[1:]
    for k, (_, _, planes_f, planes_b) in enumerate(plans):
        for channels, planes, region in ((slice(0, 2), planes_f, region_f), (slice(2, 4), planes_b, region_b)):
            for t, homography in enumerate(planes):
                if homography is not None:
                    motion = torch.from_numpy(homography_motion(homography, height, width)).to(holes.device)
                    at = k * n + t
                    done[at, channels] = torch.where(region[at], motion.permute(2, 0, 1), done[at, channels])
    done[n - 1::n, :2] = 0.0
    done[0::n, 2:] = 0.0
    return done[:, :2], done[:, 2:]


# -- propagation --------------------------------------------------------------------------------
def seam_offsets(frames_enc: torch.Tensor, ring: torch.Tensor, propagated_enc: torch.Tensor) -> torch.Tensor:
    """(F, 3, H, W) twice and bool (F, H, W) -> (F, 3, H, W): on the ring, frame - propagated
    smoothed along the ring; elsewhere its harmonic interpolation (``propagate.seam_offset``)."""
    weight = ring[:, None].float()
    num = gaussian_blur((frames_enc - propagated_enc) * weight, SEAM_SIGMA)
    den = gaussian_blur(weight, SEAM_SIGMA)
    measured = torch.where(ring[:, None], num / den.clamp(min=1e-6), torch.zeros_like(num))
    return diffuse(measured, ~ring)


def _boxes(mask: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """Per image of bool (F, H, W): the top-left corner (F,) y and x of one box size (h, w)
    that holds the image's pixels grown by ``pad``, clipped to the image (empty images: 0, 0)."""
    n, height, width = mask.shape
    rows, cols = mask.any(dim=2), mask.any(dim=1)
    idx_y, idx_x = torch.arange(height, device=mask.device), torch.arange(width, device=mask.device)
    top = torch.where(rows, idx_y, height).amin(dim=1)
    bottom = torch.where(rows, idx_y, -1).amax(dim=1)
    left = torch.where(cols, idx_x, width).amin(dim=1)
    right = torch.where(cols, idx_x, -1).amax(dim=1)
    some = rows.any(dim=1)
    h = min(int(((bottom - top + 1 + 2 * pad) * some).max()), height)
    w = min(int(((right - left + 1 + 2 * pad) * some).max()), width)
    y0 = torch.where(some, (top - pad).clamp(min=0), 0).clamp(max=height - h)
    x0 = torch.where(some, (left - pad).clamp(min=0), 0).clamp(max=width - w)
    return y0, x0, max(h, 1), max(w, 1)


def _crop_index(y0: torch.Tensor, x0: torch.Tensor, h: int, w: int):
    """Advanced indices (frame, y, x), each broadcast to (F, h, w), of per-image boxes."""
    n = y0.shape[0]
    ys = y0[:, None, None] + torch.arange(h, device=y0.device)[None, :, None]
    xs = x0[:, None, None] + torch.arange(w, device=y0.device)[None, None, :]
    return torch.arange(n, device=y0.device)[:, None, None], ys, xs


def seamed_propagation(frames_linear: np.ndarray, holes: np.ndarray, guarded: bool = False, near: int = NEAR,
                       device: str | torch.device = "cuda", still: bool = True, passes: int = FLOW_PASSES
                       ) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F, H, W, 3), as
    ``propagate.seamed_propagation`` (with ``guarded``, as ``guarded_propagation``)
    but on ``device``; see the module docstring for how the two differ."""
    return propagate_sets(frames_linear, [holes], guarded, near, device, still=still, passes=passes)[0]


def propagate_sets(frames_linear: np.ndarray, hole_sets: list[np.ndarray], guarded: bool = False,
                   near: int = NEAR, device: str | torch.device = "cuda", kept: dict | None = None,
                   still: bool = True, passes: int = FLOW_PASSES) -> list[np.ndarray]:
    """``seamed_propagation`` of one shot for each of several hole sets (bool (F, H, W)
    each), in one batch: each step of the work launches once for every set. Returns one
    (F, H, W, 3) fill per set, in order. ``kept``: see ``completed_flows``; ``still`` and
    ``passes``: see ``propagate.seamed_propagation``."""
    frames_np = np.maximum(np.asarray(frames_linear, dtype=np.float32), 0.0)
    if frames_np.ndim != 4 or frames_np.shape[-1] != 3 or any(h.shape != frames_np.shape[:3] for h in hole_sets):
        raise ShapeError(f"seamed_propagation needs (F, H, W, 3) and (F, H, W), got {frames_np.shape}, "
                         f"{[h.shape for h in hole_sets]}")
    todo = [k for k, h in enumerate(hole_sets) if h.any()]
    results = [frames_np] * len(hole_sets)
    if not todo:
        return results
    dev = torch.device(device)
    sets = [np.ascontiguousarray(hole_sets[k]) for k in todo]
    frames = torch.from_numpy(frames_np).to(dev).permute(0, 3, 1, 2).repeat(len(sets), 1, 1, 1).contiguous()
    hole = torch.from_numpy(np.concatenate(sets)).to(dev)
    grow = GUARDED_FLOW_DILATE if guarded else FLOW_DILATE
    forward, backward = completed_flows(frames_np, sets, hole, grow, kept)
    reached = torch.zeros_like(hole) if passes > 1 else None
    filled = propagation_pass(frames_np, sets, frames, hole, forward, backward, guarded, near, still, reached)
    for _ in range(passes - 1):
        forward, backward = remeasured_flows(filled, sets, hole, forward, backward, grow, hole & ~reached)
        filled = propagation_pass(frames_np, sets, frames, hole, forward, backward, guarded, near, still)
    for j, k in enumerate(todo):
        results[k] = filled[j]
    return results


def remeasured_flows(filled: list[np.ndarray], sets: list[np.ndarray], hole: torch.Tensor, forward: torch.Tensor,
                     backward: torch.Tensor, grow: int, guessed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``flow.remeasured_flow`` of each set: inside each hole grown by ``grow`` px, except at
    the ``guessed`` pixels (bool, as ``hole``), the flows (laid out as
    ``completed_flows``'s) are replaced by DIS (on the host) between consecutive frames of
    that set's fill (``filled``, one (F, H, W, 3) per set)."""
    raws = [np.concatenate(masked_flow(fill, np.zeros_like(holes_np))[:2], axis=-1)
            for fill, holes_np in zip(filled, sets)]
    raw = torch.from_numpy(np.concatenate(raws)).to(hole.device).permute(0, 3, 1, 2)
    grown = (dilate(hole, grow) & ~guessed)[:, None]
    return torch.where(grown, raw[:, :2], forward), torch.where(grown, raw[:, 2:], backward)


def propagation_pass(frames_np: np.ndarray, sets: list[np.ndarray], frames: torch.Tensor, hole: torch.Tensor,
                     forward: torch.Tensor, backward: torch.Tensor, guarded: bool, near: int, still: bool,
                     reached: torch.Tensor | None = None) -> list[np.ndarray]:
    """One pass of ``propagate_sets`` (as ``propagate.propagation_pass``) along the flows
    ``forward`` and ``backward``: frames (F, H, W, 3) scene-linear on the host and, stacked
    once per set, (K F, 3, H, W) on the device; ``hole`` the sets stacked (K F, H, W).
    Returns each set's fill (F, H, W, 3). ``reached`` (bool, as ``hole``): set True at the
    hole pixels from which a chain lands, as ``propagate.chain_fill``'s."""
    n = len(frames_np)
    shape = tuple(hole.shape)
    zone = dilate(hole, SEAM_RING)
    f, ys, xs = zone.nonzero(as_tuple=True)
    frames_flat = frames.permute(0, 2, 3, 1).reshape(-1, 3)
    holes_flat = hole.reshape(-1)
    c_f, d_f, s_f = follow(frames_flat, holes_flat, forward.permute(0, 2, 3, 1).reshape(-1, 2), shape, f, ys, xs,
                           +1, STILL_SNAP, period=n, trust=LANDING_TRUST)
    c_b, d_b, s_b = follow(frames_flat, holes_flat, backward.permute(0, 2, 3, 1).reshape(-1, 2), shape, f, ys, xs,
                           -1, STILL_SNAP, period=n, trust=LANDING_TRUST)
    lands = (d_f > 0) | (d_b > 0)  # on footage, whether or not the guard trusts it
    landed = lands
    if guarded:
        agree = (encode(c_f) - encode(c_b)).abs().amax(dim=1) < AGREEMENT
        landed = ((d_f > 0) & (d_b > 0) & agree) | ((d_f > 0) & (d_b == 0) & (d_f <= near)) \
            | ((d_b > 0) & (d_f == 0) & (d_b <= near))
    colours = blend_hits(c_f, d_f, c_b, d_b)
    in_hole = hole[f, ys, xs]
    ring = torch.zeros_like(hole)
    on_ring = ~in_hole & landed
    ring[f[on_ring], ys[on_ring], xs[on_ring]] = True
    propagated = torch.zeros_like(frames)
    propagated[f, :, ys, xs] = colours
    # the seam is spread over each frame's box around its ring and hole, grown as the CPU
    # version grows it: the diffusion's start looks no further (and costs no more) there
    y0, x0, bh, bw = _boxes(zone, 4 * SEAM_RING)
    fi, yi, xi = _crop_index(y0, x0, bh, bw)

    def crop(image: torch.Tensor) -> torch.Tensor:  # (F, C, H, W) -> (F, C, bh, bw)
        return image[fi, :, yi, xi].permute(0, 3, 1, 2)

    spread = torch.zeros_like(frames)
    spread[fi, :, yi, xi] = seam_offsets(crop(encode(frames)), ring[fi, yi, xi], crop(encode(propagated))
                                         ).permute(0, 2, 3, 1)
    offset = spread[f, :, ys, xs]
    moving = landed & ~s_f & ~s_b  # a snapped landing is still
    corrected = torch.where(moving[:, None], decode(encode(colours) + offset), colours)
    result = frames.clone()
    put = in_hole & landed
    result[f[put], :, ys[put], xs[put]] = corrected[put]
    if reached is not None:
        into = in_hole & lands
        reached[f[into], ys[into], xs[into]] = True
    rest = torch.zeros_like(hole)
    left = in_hole & ~landed
    rest[f[left], ys[left], xs[left]] = True
    leftover = LEFTOVER[guarded]
    if leftover == "diffusion" and bool(rest.any()):
        result = diffuse(result, rest)
    if leftover == "telea" and bool(rest.any()):
        result = _telea_on_host(result, rest)
    if leftover == "telea-diffusion-mean" and bool(rest.any()):
        result = _blended_telea(frames, hole, result, rest, weight=telea_weights(hole, rest))
    result = smooth_along_flow(result, hole, forward, backward, n, TEMPORAL_SWEEPS)
    out = result.permute(0, 2, 3, 1).cpu().numpy()
    filled = []
    for j, holes_np in enumerate(sets):
        fill = np.where(holes_np[..., None], out[j * n:(j + 1) * n], frames_np)
        if still:  # the unmoved copy where the background is still, on the host, as on the CPU
            fill = still_first(frames_np, holes_np, fill, _on_host(forward, j, n), _on_host(backward, j, n),
                               steady=guarded)
        filled.append(fill)
    return filled


def _on_host(flows: torch.Tensor, j: int, n: int) -> np.ndarray:
    """Set ``j``'s flows of a batch of ``n``-frame sets, (N, 2, H, W) -> (n, H, W, 2) on the host."""
    return flows[j * n:(j + 1) * n].permute(0, 2, 3, 1).cpu().numpy()


def _telea_on_host(result: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) with the pixels of bool (N, H, W) ``rest`` filled by OpenCV's Telea,
    frame by frame on the host's threads (there is no Telea on the device)."""
    out = result.permute(0, 2, 3, 1).cpu().numpy()
    rest_np = rest.cpu().numpy()
    frames_left = [t for t in range(len(out)) if rest_np[t].any()]
    filled = map_frames(lambda k: telea_frame(out[frames_left[k]], rest_np[frames_left[k]]), len(frames_left))
    for t, image in zip(frames_left, filled):
        out[t] = image
    return torch.from_numpy(out).to(result.device).permute(0, 3, 1, 2)


def telea_weights(hole: torch.Tensor, rest: torch.Tensor) -> torch.Tensor:
    """``chains.telea_weight`` of each frame of bool (N, H, W) ``hole`` and ``rest`` -> (N,)
    float32."""
    grown = torch.nn.functional.max_pool2d(rest[:, None].float(), 3, stride=1, padding=1)[:, 0] > 0
    ring = grown & ~rest
    count = ring.flatten(1).sum(dim=1)
    share = (ring & hole).flatten(1).sum(dim=1).double() / count.clamp(min=1).double()
    return torch.where(count > 0, TELEA_WEIGHT * share, TELEA_WEIGHT).float()


def _blended_telea(frames: torch.Tensor, hole: torch.Tensor, filled: torch.Tensor, rest: torch.Tensor,
                   weight: torch.Tensor) -> torch.Tensor:
    """``classical.blended_telea`` of (N, 3, H, W) frames, bool (N, H, W) holes, the fill so
    far and its unfilled pixels ``rest``, with Telea's (N,) ``weight``: Telea of each frame's
    whole hole on the host (only frames with a pixel left and a weight), the correction
    diffused on the device; on display values, as on the CPU."""
    drawn = rest.flatten(1).any(dim=1) & (weight > 0)
    telea = display_like(_telea_on_host(frames, hole & drawn[:, None, None]))
    base = weight.to(frames.dtype)[:, None, None, None] * telea
    correction = diffuse(torch.where(rest[:, None], 0.0, display_like(filled) - base), rest)
    return torch.where(rest[:, None], srgb_to_linear(base + correction), filled)


def smooth_along_flow(fill: torch.Tensor, hole: torch.Tensor, forward: torch.Tensor, backward: torch.Tensor,
                      period: int, sweeps: int = TEMPORAL_SWEEPS) -> torch.Tensor:
    """``temporal.smooth_along_flow`` (with its ``exposure_gain``, summed here over every
    pixel, where the host sums a grid of them) of shots stacked ``period`` frames each:
    fill (N, 3, H, W), hole bool (N, H, W), forward and backward (N, 2, H, W) laid out as
    ``completed_flows``'s. A frame's neighbours are those of its own shot."""
    if fill.ndim != 4 or hole.shape != (fill.shape[0],) + fill.shape[2:] or forward.shape != backward.shape \
            or forward.shape != (fill.shape[0], 2) + fill.shape[2:] or fill.shape[0] % period:
        raise ShapeError(f"smooth_along_flow needs (N, 3, H, W), (N, H, W) and two (N, 2, H, W) with N a "
                         f"multiple of {period}, got {tuple(fill.shape)}, {tuple(hole.shape)}, "
                         f"{tuple(forward.shape)}, {tuple(backward.shape)}")
    if period < 2 or sweeps < 1 or not bool(hole.any()):
        return fill
    index = torch.arange(fill.shape[0], device=fill.device)
    ones = torch.ones_like(fill[:, :1])
    known = (~hole[:, None]).to(fill.dtype)
    links = []  # per direction: neighbour index, flow, gain x presence, weight
    for flow, other, present in ((forward, (index + 1).clamp(max=len(index) - 1), index % period < period - 1),
                                 (backward, (index - 1).clamp(min=0), index % period > 0)):
        flow = torch.where(flow.norm(dim=1, keepdim=True) < STILL_SNAP, torch.zeros_like(flow), flow)
        inside = warp(ones, flow)
        both = known * (warp(known[other], flow) > INBOUNDS_THRESHOLD) * (inside > INBOUNDS_THRESHOLD)
        mine, theirs = (fill * both).sum(dim=(2, 3)), (warp(fill[other], flow) * both).sum(dim=(2, 3))
        gain = torch.where(theirs > 1e-6, mine / theirs.clamp(min=1e-6), torch.ones_like(mine))
        scale = (gain * present[:, None])[..., None, None]
        links.append((other, flow, scale, inside * present[:, None, None, None]))
    weight = 1.0 + links[0][3] + links[1][3]
    current = fill
    for _ in range(sweeps):
        total = current + sum(warp(current[other], flow) * scale for other, flow, scale, _ in links)
        current = torch.where(hole[:, None], total / weight, fill)
    return current


class DevicePropagation:
    """Seamed (or guarded) propagation on a torch device as a fill ``(frames, holes) ->
    frames``; ``sets(frames, hole_sets)`` fills several hole sets of one shot in one batch.
    Fills made with one ``kept`` dict reuse each other's DIS flow (``completed_flows``)."""

    def __init__(self, device, guarded: bool = False, kept: dict | None = None, still: bool = True,
                 passes: int = FLOW_PASSES):
        self.device, self.guarded, self.kept, self.still, self.passes = device, guarded, kept, still, passes

    def __call__(self, frames_linear: np.ndarray, holes: np.ndarray) -> np.ndarray:
        return self.sets(frames_linear, [holes])[0]

    def sets(self, frames_linear: np.ndarray, hole_sets: list[np.ndarray]) -> list[np.ndarray]:
        return propagate_sets(frames_linear, hole_sets, self.guarded, device=self.device, kept=self.kept,
                              still=self.still, passes=self.passes)
