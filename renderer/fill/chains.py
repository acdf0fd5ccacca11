"""Chains of flow: each hole pixel followed frame to frame until it lands on known pixels,
and the landed colours placed in the hole.

``flow_propagation`` is classic flow-guided temporal propagation (in the spirit of
Huang et al. 2016 / Xu et al. 2019 without learned flow): DIS flow between consecutive
masked frames, completed inside the hole (``fill.flow``), pixels followed along the
chained flow to the nearest frames where they land on known pixels, the nearer source
weighted more, Telea for the rest. The ``standard`` preset's pre-fill
(``fill.propagate``) refines it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ConfigError, ShapeError
from ..parallel import map_frames
from .classical import blended_telea, check_video, diffuse_into, telea_frame
from .flow import CompletedFlow, ScaledFlow, completed_flow

REMAP_COLUMNS = 16384  # points per row of a remap map (OpenCV's limit is 32,767)
STILL_SNAP = 0.35  # px: a chain that ends this close to its start copies the pixel itself
# "telea-diffusion-mean": Telea's weight (1: Telea, 0: diffusion) where every pixel around
# the leftover was filled by a chain; it falls with the share of them that are known
# (``telea_weight``)
TELEA_WEIGHT = 0.5
NEIGHBOURS_8 = np.ones((3, 3), np.uint8)
# A chain that crossed more than LANDING_TRUST frames of completed flow lands only where the
# footage moves on as the chain arrived: the flow at the landing, onward, within
# LANDING_SLACK_PX + LANDING_SLACK_SHARE x the arriving step's length of that step.
# Where a walker passes beside a fixed box, DIS flow around them reaches 60-150 px a
# frame, the completion carries it into the box, and chains jump tens of pixels a frame
# to land on the walker. Shorter chains are trusted as the guarded fill trusts a single
# direction (``fill.propagate.NEAR``, this very length): on a moving camera the flow beside a walking
# hole differs from the completed flow by several pixels a frame, and testing those
# landings cost the 768x576 people plate 0.2 dB (decision 0053)
LANDING_TRUST = 3
LANDING_SLACK_PX = 3.0
LANDING_SLACK_SHARE = 0.5


def remap_points(image: np.ndarray, xs: np.ndarray, ys: np.ndarray, interpolation: int) -> np.ndarray:
    """Sample (H, W[, C]) at float points (N,) -> (N[, C]) with OpenCV's ``interpolation``
    and border replication.

    The points are laid out as rows of at most ``REMAP_COLUMNS`` for OpenCV's remap, which
    refuses maps of 32,767 (SHRT_MAX) columns or more; each point's sample does not depend
    on the layout."""
    n = xs.shape[0]
    channels = image.shape[2:]
    if n == 0:
        return np.zeros((0,) + channels, np.float32)
    cols = min(n, REMAP_COLUMNS)
    rows = -(-n // cols)
    mx = np.zeros(rows * cols, np.float32)
    my = np.zeros(rows * cols, np.float32)
    mx[:n], my[:n] = xs, ys
    out = cv2.remap(np.ascontiguousarray(image), mx.reshape(rows, cols), my.reshape(rows, cols), interpolation,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape((rows * cols,) + channels)[:n]


def bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Sample (H, W[, C]) at float points (N,) -> (N[, C]), bilinear (``remap_points``)."""
    return remap_points(image, xs, ys, cv2.INTER_LINEAR)


def flow_at(flows, t: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Flow ``t`` of ``flows`` ((F, H, W, 2), or a ``ScaledFlow`` read at (H, W)) at float
    points (N,) of the full size -> (N, 2), bilinear.

    A ``ScaledFlow`` is sampled on its small size where each point lies (its pixel centres
    mapped as ``cv2.resize`` maps them) instead of scaled up whole for a few points: a
    chain step read a 674x3520 box's whole flow for its live points, 27.7 s of a 250 s
    4K fill (decision 0043). Bilinear of the small flow is not bit for bit bilinear of
    its bilinear enlargement: the two agree at whole pixels and differ inside a pixel by
    the flow's curvature there (and, within the outermost pixels, by where the edge's value
    is held)."""
    if isinstance(flows, ScaledFlow):
        sx, sy = float(flows.scale[0]), float(flows.scale[1])
        return bilinear(flows.small[t], (xs + 0.5) / sx - 0.5, (ys + 0.5) / sy - 0.5) * flows.scale
    return bilinear(flows[t], xs, ys)


def landing_sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Sample an (H, W, 3) frame at float points (N,) -> (N, 3): bicubic (OpenCV's, a = -0.75),
    clamped per channel to the range of the four bilinear neighbours, border replicated.

    A chain's colour is one sample of the frame it lands in. Bilinear there blurs pixel-scale
    texture by up to a quarter of its contrast at a half-pixel offset; bicubic keeps it, and
    the clamp keeps its overshoot from ringing at edges and from reaching past the four
    known neighbours into the hole. On the 16 drone thumbnails and 2 static ones
    (benchmarks/README.md), seamed propagation against a bilinear landing: +0.19 dB mean
    (-0.16 to +0.83), detail 0.835 -> 0.893; unclamped bicubic +0.12 dB, down to -0.39
    (docs/decisions/0026)."""
    out = remap_points(image, xs, ys, cv2.INTER_CUBIC)
    if xs.shape[0] == 0:
        return out
    h, w = image.shape[:2]
    x0 = np.clip(np.floor(xs), 0, w - 1).astype(np.int64)
    y0 = np.clip(np.floor(ys), 0, h - 1).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    corners = np.stack([image[y0, x0], image[y0, x1], image[y1, x0], image[y1, x1]])
    return np.clip(out, corners.min(axis=0), corners.max(axis=0))


def moves_on(arrived: np.ndarray, onward: np.ndarray) -> np.ndarray:
    """bool (N,): whether the footage at each landing moves on as its chain arrived: the
    flow there ``onward`` (N, 2) within ``LANDING_SLACK_PX`` + ``LANDING_SLACK_SHARE`` x the
    length of the step ``arrived`` (N, 2) of that step, both in px."""
    if arrived.shape != onward.shape or arrived.ndim != 2 or arrived.shape[1] != 2:
        raise ShapeError(f"moves_on needs two (N, 2) flows, got {arrived.shape} and {onward.shape}")
    slack = LANDING_SLACK_PX + LANDING_SLACK_SHARE * np.hypot(arrived[:, 0], arrived[:, 1])
    return np.hypot(*(onward - arrived).T) <= slack


def follow(frames, holes, flows, start, step, max_distance, snap=0.0, starts=None, trust=None):
    """Chain ``flows`` (forward: step=+1, backward: step=-1) from the pixels of bool (H, W)
    ``starts`` (default: the hole) of frame ``start``. A landing less than ``snap`` px from
    where the chain started samples that very pixel (see ``fill.propagate``). With
    ``trust`` (frames), a chain longer than that lands only where the footage moves on as
    it arrived (``moves_on``; the flow out of the last frame is not there to ask, so a
    landing there is kept); one that does not is ended unlanded, since the flow it would
    follow on is the very motion it disagrees with. Returns (ys, xs, colours (N, 3),
    distance (N,) with 0 = not found, still (N,) True = snapped)."""
    n, h, w = holes.shape
    ys, xs = np.nonzero(holes[start] if starts is None else starts)
    px, py = xs.astype(np.float32), ys.astype(np.float32)
    colours = np.zeros((ys.size, 3), np.float32)
    distance = np.zeros(ys.size, np.int32)
    still_at = np.zeros(ys.size, bool)
    alive = np.ones(ys.size, bool)
    t = start
    for d in range(1, max_distance + 1):
        if not alive.any():
            break
        nxt = t + step
        if nxt < 0 or nxt >= n:
            break
        idx = np.flatnonzero(alive)
        f = flow_at(flows, t, px[idx], py[idx])
        px[idx] += f[:, 0]
        py[idx] += f[:, 1]
        inside = (px[idx] >= 0) & (px[idx] <= w - 1) & (py[idx] >= 0) & (py[idx] <= h - 1)
        alive[idx[~inside]] = False
        idx = idx[inside]
        # a landing counts as known only if all four bilinear neighbours are known
        x0 = np.floor(px[idx]).astype(int)
        y0 = np.floor(py[idx]).astype(int)
        x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
        hole_n = holes[nxt]
        known = ~(hole_n[y0, x0] | hole_n[y0, x1] | hole_n[y1, x0] | hole_n[y1, x1])
        hit = idx[known]
        if hit.size and trust is not None and d > trust and 0 <= nxt + step < n:
            on = moves_on(f[inside][known], flow_at(flows, nxt, px[hit], py[hit]))
            alive[hit[~on]] = False
            hit = hit[on]
        if hit.size:
            qx, qy = px[hit], py[hit]
            if snap > 0:
                still = np.hypot(qx - xs[hit], qy - ys[hit]) < snap
                still_at[hit] = still
                qx = np.where(still, xs[hit], qx).astype(np.float32)
                qy = np.where(still, ys[hit], qy).astype(np.float32)
            colours[hit] = landing_sample(frames[nxt], qx, qy)
            distance[hit] = d
            alive[hit] = False
        t = nxt
    return ys, xs, colours, distance, still_at


def blend_hits(c_f: np.ndarray, d_f: np.ndarray, c_b: np.ndarray, d_b: np.ndarray) -> np.ndarray:
    """Forward and backward landings: colours (N, 3), distances (N,) with 0 = none ->
    (N, 3) float32, the two weighted by 1 / distance (zeros where neither landed)."""
    w_f = np.where(d_f > 0, 1.0 / np.maximum(d_f, 1), 0.0).astype(np.float32)
    w_b = np.where(d_b > 0, 1.0 / np.maximum(d_b, 1), 0.0).astype(np.float32)
    return (c_f * w_f[:, None] + c_b * w_b[:, None]) / np.maximum(w_f + w_b, 1e-12)[:, None]


def telea_weight(hole: np.ndarray, rest: np.ndarray) -> float:
    """Telea's weight in the fill of ``rest`` (bool (H, W), the hole pixels no chain filled,
    part of bool (H, W) ``hole``): ``TELEA_WEIGHT`` times the share of rest's ring (the
    pixels outside it among its 8 neighbours) that lies in the hole, filled by a chain.

    Telea is drawn from the hole's true border. It helps where the diffusion would start
    from propagated pixels, which carry the chains' error (decision 0011); where the ring
    is the true border itself (a fixed box that no frame shows), the diffusion starts from
    the footage too, and Telea adds only its streaks (decision 0046)."""
    if hole.shape != rest.shape or hole.ndim != 2:
        raise ShapeError(f"telea_weight needs two (H, W) masks, got {hole.shape} and {rest.shape}")
    ring = cv2.dilate(rest.astype(np.uint8), NEIGHBOURS_8).astype(bool) & ~rest
    count = int(ring.sum())
    if count == 0:  # nothing left, or the whole frame: no ring either way
        return TELEA_WEIGHT
    return TELEA_WEIGHT * int((ring & hole).sum()) / count


LEFTOVERS = ("telea", "diffusion", "telea-diffusion-mean")


def place_fill(frame: np.ndarray, hole: np.ndarray, ys: np.ndarray, xs: np.ndarray, colours: np.ndarray,
               use: np.ndarray, leftover: str = "telea") -> np.ndarray:
    """(H, W, 3) frame with ``colours[use]`` at hole pixels (ys, xs)[use], the hole's other
    pixels filled from around them (``leftover``: "telea", "diffusion" (``diffuse_into``)
    or "telea-diffusion-mean", ``blended_telea`` at ``telea_weight``), and
    every pixel outside ``hole`` the frame's own."""
    if leftover not in LEFTOVERS:
        raise ConfigError(f"leftover must be one of {', '.join(LEFTOVERS)}, got {leftover!r}")
    out = np.array(frame, dtype=np.float32, copy=True)
    out[ys[use], xs[use]] = colours[use]
    rest = np.zeros_like(hole)
    rest[ys[~use], xs[~use]] = True
    if rest.any():
        if leftover == "telea":
            out = telea_frame(out, rest)
        elif leftover == "diffusion":
            out = diffuse_into(out, rest)
        else:
            out = blended_telea(frame, hole, out, rest, weight=telea_weight(hole, rest))
    return np.where(hole[..., None], out, frame)


def flow_propagation(frames: np.ndarray, holes: np.ndarray, *, max_distance: int | None = None,
                     flow: CompletedFlow | None = None) -> np.ndarray:
    """Flow-guided temporal propagation with Telea fallback (see the module docstring).

    For each hole pixel of frame t the completed flow is chained forward and backward
    up to ``max_distance`` frames (default: the whole clip). A chain stops when it leaves
    the frame, and succeeds at the first frame where it lands on known pixels; the colour is
    sampled there (``landing_sample``). Forward and backward hits are blended with weights 1/distance.
    Pixels no chain reaches are filled by Telea from the frame with the propagated pixels.
    """
    check_video(frames, holes)
    frames = np.asarray(frames, dtype=np.float32)
    n = frames.shape[0]
    max_distance = n - 1 if max_distance is None else int(max_distance)
    if flow is None:
        flow = completed_flow(frames, holes)
    result = frames.copy()

    def fill(t: int) -> None:
        if holes[t].any():
            ys, xs, c_f, d_f, _ = follow(frames, holes, flow.forward, t, +1, max_distance)
            _, _, c_b, d_b, _ = follow(frames, holes, flow.backward, t, -1, max_distance)
            result[t] = place_fill(frames[t], holes[t], ys, xs, blend_hits(c_f, d_f, c_b, d_b),
                                   (d_f > 0) | (d_b > 0))

    map_frames(fill, n)
    return result


def chain_sources(frames: np.ndarray, holes: np.ndarray, references: frozenset = frozenset(), *,
                  flow: CompletedFlow | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where the pre-fill's chains take each hole pixel from, over the whole clip:
    ``flow_propagation``'s, landing only where the footage moves on as a chain longer than
    ``LANDING_TRUST`` frames arrived (as ``fill.propagate``'s do).

    frames (F, H, W, 3) scene-linear, holes bool (F, H, W); ``references``: indices of
    frames whose hole was painted (known to the chains); ``flow``: the completed flow when
    it is already made. Returns (distance int16 (F, H, W): frames to the nearest landing,
    forward or backward, 0 where no chain lands or the pixel is known; painted bool
    (F, H, W): the nearest landing is on a painted frame)."""
    check_video(frames, holes)
    frames = np.asarray(frames, dtype=np.float32)
    n = frames.shape[0]
    if flow is None:
        flow = completed_flow(frames, holes)
    distance = np.zeros(holes.shape, np.int16)
    painted = np.zeros_like(holes)
    refs = np.array(sorted(references), dtype=np.int64)

    def mark(t: int) -> None:
        if holes[t].any():
            ys, xs, _, d_f, _ = follow(frames, holes, flow.forward, t, +1, n - 1, trust=LANDING_TRUST)
            _, _, _, d_b, _ = follow(frames, holes, flow.backward, t, -1, n - 1, trust=LANDING_TRUST)
            forward_first = (d_f > 0) & ((d_b == 0) | (d_f <= d_b))
            near = np.where(forward_first, d_f, d_b)
            source = np.where(forward_first, t + d_f, t - d_b)
            distance[t, ys, xs] = near
            painted[t, ys, xs] = (near > 0) & np.isin(source, refs)

    map_frames(mark, n)
    return distance, painted


def unreached(frames: np.ndarray, holes: np.ndarray, *, flow: CompletedFlow | None = None) -> np.ndarray:
    """bool (F, H, W): the hole pixels that no chain of ``chain_sources`` reaches, forward
    or backward, over the whole clip: what no other frame of the shot shows (a fixed box
    on a locked-off shot), or shows only past the frame's edge. Everything else a
    propagated fill copies from footage; these pixels it can only guess.

    frames (F, H, W, 3) scene-linear, holes bool (F, H, W); ``flow``: the completed flow
    when it is already made."""
    return holes & (chain_sources(frames, holes, flow=flow)[0] == 0)
