"""Non-learning baselines a user could reach for today, as pure functions.

Each is ``(frames, holes) -> frames``:

* frames: float32 (F, H, W, 3), scene-linear (any non-negative float works)
* holes:  bool (F, H, W), True = fill
* result: float32 (F, H, W, 3); known pixels are the input's, bit for bit

``telea``: OpenCV's Telea fast-marching inpainting, frame by frame.
``flow_propagation``: classic flow-guided temporal propagation (in the spirit of
Huang et al. 2016 / Xu et al. 2019 without learned flow): DIS flow between
consecutive masked frames, flow completed inside the hole by diffusion from its
border, pixels followed along the chained flow to the nearest frames where they
land on known pixels, the nearer source weighted more, Telea for the rest.
The renderer can reuse ``flow_propagation`` as a prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from renderer.colour import linear_to_srgb
from renderer.parallel import map_frames

from .errors import MetricInputError

TELEA_RADIUS = 5
TELEA_SCALE = 255.0
FLOW_DILATE = 8  # px: flow this close to the hole is replaced too: DIS patches there overlap the fill
# (chosen among 2-16 px on the development shots: 2 px loses up to 6 dB where a fixed box covers a moving scene)


def _check(frames: np.ndarray, holes: np.ndarray) -> None:
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise MetricInputError(f"frames must be (F, H, W, 3), got {getattr(frames, 'shape', type(frames))}")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != frames.shape[:3]:
        raise MetricInputError(f"holes must be bool {frames.shape[:3]}, got "
                               f"{getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")


def telea_frame(frame: np.ndarray, hole: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """One frame: (H, W, C) float, bool (H, W) -> (H, W, C) float32 with the hole filled by
    ``cv2.inpaint(..., INPAINT_TELEA)`` run per channel on float32 (no 8-bit rounding).

    OpenCV's float Telea assumes 8-bit-like magnitudes (on [0, 1] data it overshoots to
    about [-1, 2]), so values are scaled by 255 around the call and back after."""
    frame = np.asarray(frame, dtype=np.float32)
    if not hole.any():
        return frame.copy()
    mask = hole.astype(np.uint8)
    channels = [cv2.inpaint(np.ascontiguousarray(frame[..., c] * TELEA_SCALE), mask, radius, cv2.INPAINT_TELEA)
                for c in range(frame.shape[-1])]
    filled = np.stack(channels, axis=-1) / TELEA_SCALE
    return np.where(hole[..., None], filled, frame).astype(np.float32)


def telea(frames: np.ndarray, holes: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """Per-frame Telea inpainting of (F, H, W, 3) with holes (F, H, W) -> (F, H, W, 3) float32."""
    _check(frames, holes)
    return np.stack(map_frames(lambda t: telea_frame(frames[t], holes[t], radius), len(frames)))


_FOUR = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def diffuse_into(field: np.ndarray, region: np.ndarray, iterations: int = 300) -> np.ndarray:
    """Replace ``field`` (H, W, C) float inside bool ``region`` (H, W) by diffusion from the
    region's border: an approximate solution of Laplace's equation (harmonic fill).

    Start: the known values averaged with Gaussian weights at growing scales (the smallest
    scale that reaches a pixel wins), then ``iterations`` Jacobi sweeps of the 4-neighbour
    mean inside the region, with the known pixels held fixed. All zeros if nothing is known.
    """
    field = np.asarray(field, dtype=np.float32)
    if field.ndim != 3 or region.shape != field.shape[:2]:
        raise MetricInputError(f"diffuse_into needs (H, W, C) and (H, W), got {field.shape}, {region.shape}")
    if not region.any():
        return field.copy()
    if region.all():
        return np.zeros_like(field)
    known = (~region).astype(np.float32)
    value = field * known[..., None]
    out = value.copy()
    todo = region.copy()
    sigma = 1.0
    while todo.any():
        wsum = cv2.GaussianBlur(known, (0, 0), sigma)
        vsum = cv2.GaussianBlur(value, (0, 0), sigma).reshape(field.shape)
        reach = todo & (wsum > 1e-3)
        out[reach] = vsum[reach] / wsum[reach][:, None]
        todo &= ~reach
        sigma *= 2.0
        if sigma > 4 * max(field.shape[:2]):
            out[todo] = value.sum(axis=(0, 1)) / known.sum()
            break
    # the sweeps change only the region, and read one pixel beyond it: run them on the region's
    # box grown by one pixel (the same sums, so the same result, at a fraction of the frame's cost)
    ys, xs = np.nonzero(region)
    box = (slice(max(ys.min() - 1, 0), ys.max() + 2), slice(max(xs.min() - 1, 0), xs.max() + 2))
    sub = np.ascontiguousarray(out[box])
    sub = sub.reshape(sub.shape[:2]) if sub.shape[2] == 1 else sub  # OpenCV's own one-channel shape
    inside = region[box].astype(np.uint8)
    for _ in range(iterations):
        cv2.copyTo(cv2.filter2D(sub, -1, _FOUR, borderType=cv2.BORDER_REPLICATE), inside, sub)
    out[box] = sub.reshape(out[box].shape)
    return out


@dataclass(frozen=True)
class CompletedFlow:
    """Consecutive-frame flows with the hole completed.

    ``forward[t]``: F(t -> t+1) for t < F-1 (the last entry is zero);
    ``backward[t]``: F(t -> t-1) for t > 0 (the first entry is zero). (F, H, W, 2) each,
    (dx, dy) in pixels, frame_t(x) ~ frame_{t+-1}(x + F(x)).
    """

    forward: np.ndarray
    backward: np.ndarray


def masked_flow(frames: np.ndarray, holes: np.ndarray, dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
                ) -> tuple[np.ndarray, np.ndarray]:
    """DIS flow between consecutive *masked* frames: each hole pre-filled with Telea first,
    so DIS's patches see no object there. Returns (forward, backward), (F, H, W, 2) each,
    laid out as ``CompletedFlow``'s, with nothing completed yet."""
    _check(frames, holes)
    n, h, w = holes.shape
    prefilled = telea(frames, holes)
    grey = [np.clip(linear_to_srgb(f) @ np.array([0.2126, 0.7152, 0.0722], np.float32) * 255 + 0.5, 0, 255)
            .astype(np.uint8) for f in prefilled]
    forward = np.zeros((n, h, w, 2), np.float32)
    backward = np.zeros((n, h, w, 2), np.float32)

    def pair(t: int) -> None:
        dis = cv2.DISOpticalFlow_create(dis_preset)  # one per thread: a DIS object is not shareable
        forward[t] = dis.calc(grey[t], grey[t + 1], None)
        backward[t + 1] = dis.calc(grey[t + 1], grey[t], None)

    map_frames(pair, n - 1)
    return forward, backward


def completed_flow(frames: np.ndarray, holes: np.ndarray, dis_preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
                   dilate: int = FLOW_DILATE) -> CompletedFlow:
    """``masked_flow``, then, inside each source frame's hole grown by ``dilate`` px, the
    flow is replaced by diffusion from the hole border."""
    forward, backward = masked_flow(frames, holes, dis_preset)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
    grown = [cv2.dilate(hh.astype(np.uint8), kernel) > 0 if dilate > 0 else hh for hh in holes]

    def pair(t: int) -> None:
        forward[t] = diffuse_into(forward[t], grown[t])
        backward[t + 1] = diffuse_into(backward[t + 1], grown[t + 1])

    map_frames(pair, len(holes) - 1)
    return CompletedFlow(forward=forward, backward=backward)


def _bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Sample (H, W[, C]) at float points (N,) -> (N[, C]) with border replication."""
    mx = xs.astype(np.float32).reshape(1, -1)
    my = ys.astype(np.float32).reshape(1, -1)
    out = cv2.remap(np.ascontiguousarray(image), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(xs.shape[0], -1) if image.ndim == 3 else out.reshape(-1)


def _follow(frames, holes, flows, start, step, max_distance, snap=0.0, starts=None):
    """Chain ``flows`` (forward: step=+1, backward: step=-1) from the pixels of bool (H, W)
    ``starts`` (default: the hole) of frame ``start``. A landing less than ``snap`` px from
    where the chain started samples that very pixel (see ``renderer.propagate``). Returns
    (ys, xs, colours (N, 3), distance (N,) with 0 = not found, still (N,) True = snapped)."""
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
        f = _bilinear(flows[t], px[idx], py[idx])
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
        if hit.size:
            qx, qy = px[hit], py[hit]
            if snap > 0:
                still = np.hypot(qx - xs[hit], qy - ys[hit]) < snap
                still_at[hit] = still
                qx = np.where(still, xs[hit], qx).astype(np.float32)
                qy = np.where(still, ys[hit], qy).astype(np.float32)
            colours[hit] = _bilinear(frames[nxt], qx, qy)
            distance[hit] = d
            alive[hit] = False
        t = nxt
    return ys, xs, colours, distance, still_at


def flow_propagation(frames: np.ndarray, holes: np.ndarray, *, max_distance: int | None = None,
                     flow: CompletedFlow | None = None) -> np.ndarray:
    """Flow-guided temporal propagation with Telea fallback (see the module docstring).

    For each hole pixel of frame t the completed flow is chained forward and backward
    up to ``max_distance`` frames (default: the whole clip). A chain stops when it leaves
    the frame, and succeeds at the first frame where it lands on known pixels; the colour is
    sampled there bilinearly. Forward and backward hits are blended with weights 1/distance.
    Pixels no chain reaches are filled by Telea from the frame with the propagated pixels.
    """
    _check(frames, holes)
    frames = np.asarray(frames, dtype=np.float32)
    n = frames.shape[0]
    max_distance = n - 1 if max_distance is None else int(max_distance)
    if flow is None:
        flow = completed_flow(frames, holes)
    result = frames.copy()

    def fill(t: int) -> None:
        if holes[t].any():
            ys, xs, c_f, d_f, _ = _follow(frames, holes, flow.forward, t, +1, max_distance)
            _, _, c_b, d_b, _ = _follow(frames, holes, flow.backward, t, -1, max_distance)
            result[t] = place_fill(frames[t], holes[t], ys, xs, blend_hits(c_f, d_f, c_b, d_b),
                                   (d_f > 0) | (d_b > 0))

    map_frames(fill, n)
    return result


def blend_hits(c_f: np.ndarray, d_f: np.ndarray, c_b: np.ndarray, d_b: np.ndarray) -> np.ndarray:
    """Forward and backward landings: colours (N, 3), distances (N,) with 0 = none ->
    (N, 3) float32, the two weighted by 1 / distance (zeros where neither landed)."""
    w_f = np.where(d_f > 0, 1.0 / np.maximum(d_f, 1), 0.0).astype(np.float32)
    w_b = np.where(d_b > 0, 1.0 / np.maximum(d_b, 1), 0.0).astype(np.float32)
    return (c_f * w_f[:, None] + c_b * w_b[:, None]) / np.maximum(w_f + w_b, 1e-12)[:, None]


def blended_telea(frame: np.ndarray, hole: np.ndarray, filled: np.ndarray, rest: np.ndarray,
                  weight: float = 1.0) -> np.ndarray:
    """Telea from the hole's true border, blended into the pixels around ``rest``.

    frame (H, W, C) the plate; hole bool (H, W) its unknown pixels; filled (H, W, C) with
    every pixel outside bool ``rest`` (part of ``hole``) known or already filled ->
    (H, W, C) float32: ``filled`` with ``rest`` set to ``weight`` x Telea of the whole hole
    plus the harmonic interpolation (``diffuse_into``) of ``filled - weight x Telea`` from
    rest's border. At weight 1: the gradients of a fill drawn from real pixels, the values
    of the fill around it (Poisson blending, Pérez et al. 2003); where nothing around
    ``rest`` differs from Telea, this is Telea. At weight 0: ``diffuse_into(filled, rest)``.
    Diffusion is linear, so weight 0.5 is the mean of the two, for one diffusion."""
    if filled.shape != frame.shape or hole.shape != frame.shape[:2] or rest.shape != hole.shape:
        raise MetricInputError(f"blended_telea needs (H, W, C) frame and fill and (H, W) masks, got "
                               f"{frame.shape}, {filled.shape}, {hole.shape}, {rest.shape}")
    base = weight * telea_frame(frame, hole)
    correction = diffuse_into(np.where(rest[..., None], 0.0, filled - base).astype(np.float32), rest)
    return np.where(rest[..., None], base + correction, filled).astype(np.float32)


LEFTOVERS = ("telea", "diffusion", "telea-diffusion-mean")


def place_fill(frame: np.ndarray, hole: np.ndarray, ys: np.ndarray, xs: np.ndarray, colours: np.ndarray,
               use: np.ndarray, leftover: str = "telea") -> np.ndarray:
    """(H, W, 3) frame with ``colours[use]`` at hole pixels (ys, xs)[use], the hole's other
    pixels filled from around them (``leftover``: "telea", "diffusion" (``diffuse_into``)
    or "telea-diffusion-mean", the mean of the two ``blended_telea`` ends, weight 0.5), and
    every pixel outside ``hole`` the frame's own."""
    if leftover not in LEFTOVERS:
        raise MetricInputError(f"leftover must be one of {', '.join(LEFTOVERS)}, got {leftover!r}")
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
            out = blended_telea(frame, hole, out, rest, weight=0.5)
    return np.where(hole[..., None], out, frame)


BASELINES = {
    "telea": telea,
    "flowprop": flow_propagation,
}
