"""``fill.chains`` on the device: every hole pixel of every frame follows its chain of flow
at once, one gather per step of distance (``follow``), and the two directions' landings
are blended (``blend_hits``). ``fill.device`` builds propagation on these.

Layout: images are flattened channels last, (F * H * W, C), frames stacked; a chain is a
point (frame, y, x), given as three (N,) tensors.
"""

from __future__ import annotations

import torch

from .chains import LANDING_SLACK_PX, LANDING_SLACK_SHARE

COMPACT_EVERY = 4  # steps of distance between drops of finished chains in ``follow``


def _bilinear(flat: torch.Tensor, shape: tuple[int, int, int], f: torch.Tensor, x: torch.Tensor, y: torch.Tensor
              ) -> torch.Tensor:
    """Sample the images ``flat`` (F * H * W, C) (channels last, frames stacked) of
    ``shape`` (F, H, W) at frame ``f`` (N,) and float points (x, y) (N,), border replicated -> (N, C)."""
    _, h, w = shape
    x = x.clamp(0, w - 1)
    y = y.clamp(0, h - 1)
    xf, yf = x.floor(), y.floor()
    ax, ay = (x - xf)[:, None], (y - yf)[:, None]
    x0, y0 = xf.long(), yf.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    base = f * (h * w)
    return ((flat[base + y0 * w + x0] * (1 - ax) + flat[base + y0 * w + x1] * ax) * (1 - ay)
            + (flat[base + y1 * w + x0] * (1 - ax) + flat[base + y1 * w + x1] * ax) * ay)


CUBIC_A = -0.75  # OpenCV's bicubic kernel


def _cubic_weights(t: torch.Tensor) -> list[torch.Tensor]:
    """The four bicubic tap weights (OpenCV's kernel) for the fractions t (N,) -> 4 x (N,)."""
    a = CUBIC_A
    w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a
    w1 = ((a + 2) * t - (a + 3)) * t * t + 1
    w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1
    return [w0, w1, w2, 1 - w0 - w1 - w2]


def _landing_sample(flat: torch.Tensor, shape: tuple[int, int, int], f: torch.Tensor, x: torch.Tensor,
                    y: torch.Tensor) -> torch.Tensor:
    """``chains.landing_sample`` on the images ``flat`` (F * H * W, C) of ``shape`` (F, H, W)
    at frame ``f`` (N,) and float points (x, y) (N,) -> (N, C): bicubic from 16 gathers,
    clamped to the range of the four bilinear neighbours, border replicated."""
    _, h, w = shape
    x = x.clamp(0, w - 1)
    y = y.clamp(0, h - 1)
    xf, yf = x.floor(), y.floor()
    wx, wy = _cubic_weights(x - xf), _cubic_weights(y - yf)
    x0, y0 = xf.long(), yf.long()
    base = f * (h * w)
    out = 0.0
    low = high = None
    for j in range(4):
        row = base + (y0 + j - 1).clamp(0, h - 1) * w
        across = 0.0
        for i in range(4):
            v = flat[row + (x0 + i - 1).clamp(0, w - 1)]
            across = across + v * wx[i][:, None]
            if 1 <= i <= 2 and 1 <= j <= 2:
                low = v if low is None else torch.minimum(low, v)
                high = v if high is None else torch.maximum(high, v)
        out = out + across * wy[j][:, None]
    return torch.minimum(torch.maximum(out, low), high)


def moves_on(arrived: torch.Tensor, onward: torch.Tensor) -> torch.Tensor:
    """``chains.moves_on`` on the device: bool (N,) from two (N, 2) flows in px."""
    slack = LANDING_SLACK_PX + LANDING_SLACK_SHARE * arrived.norm(dim=1)
    return (onward - arrived).norm(dim=1) <= slack


def follow(frames_flat: torch.Tensor, holes_flat: torch.Tensor, flow_flat: torch.Tensor,
           shape: tuple[int, int, int], f: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, step: int,
           snap: float = 0.0, period: int | None = None, trust: int | None = None):
    """Chain the flow (forward: step = +1, backward: -1) from the points (f, ys, xs) (N,)
    until each lands on known pixels (all four bilinear neighbours outside the hole), leaves
    the frame or runs out of frames (``chains.follow`` for every frame at once).
    A landing less than ``snap`` px from its start samples the start pixel itself. With a
    ``period``, the frames are sets of that many, stacked, and a chain stays in its own set.
    With ``trust``, a chain longer than that lands only where the footage moves on as it
    arrived (``moves_on``), as ``chains.follow``'s.
    Returns colours (N, 3), distance (N,) int (0 = never landed), still (N,) bool (snapped)."""
    n, h, w = shape
    period = n if period is None else period
    count = f.shape[0]
    dev = f.device
    colours = torch.zeros(count, frames_flat.shape[1], device=dev)
    distance = torch.zeros(count, dtype=torch.int32, device=dev)
    still = torch.zeros(count, dtype=torch.bool, device=dev)
    idx = torch.arange(count, device=dev)
    t, px, py = f.clone(), xs.float(), ys.float()
    sx, sy = xs.float(), ys.float()
    first = torch.div(f, period, rounding_mode="floor") * period  # the first frame of the chain's set
    alive = torch.ones(count, dtype=torch.bool, device=dev)
    for d in range(1, period):
        if d % COMPACT_EVERY == 1:  # drop finished chains now and then: each drop waits for the device
            keep = alive.nonzero()[:, 0]
            if keep.numel() == 0:
                break
            idx, t, px, py, sx, sy, first, alive = (v[keep] for v in (idx, t, px, py, sx, sy, first, alive))
        nxt = t + step
        alive = alive & (nxt >= first) & (nxt < first + period)
        nxt = nxt.clamp(0, n - 1)
        moved = _bilinear(flow_flat, shape, t, px, py)
        px = torch.where(alive, px + moved[:, 0], px)
        py = torch.where(alive, py + moved[:, 1], py)
        alive = alive & (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
        x0, y0 = px.clamp(0, w - 1).floor().long(), py.clamp(0, h - 1).floor().long()
        x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
        base = nxt * (h * w)
        blocked = (holes_flat[base + y0 * w + x0] | holes_flat[base + y0 * w + x1]
                   | holes_flat[base + y1 * w + x0] | holes_flat[base + y1 * w + x1])
        hit = alive & ~blocked
        if trust is not None and d > trust:
            onward = _bilinear(flow_flat, shape, nxt, px, py)
            asked = (nxt + step >= first) & (nxt + step < first + period)  # a flow out of nxt in the set
            off = hit & asked & ~moves_on(moved, onward)
            alive, hit = alive & ~off, hit & ~off
        qx, qy = px, py
        if snap > 0:
            snapped = torch.hypot(px - sx, py - sy) < snap
            still[idx] = torch.where(hit, snapped, still[idx])
            qx, qy = torch.where(snapped, sx, px), torch.where(snapped, sy, py)
        sampled = _landing_sample(frames_flat, shape, nxt, qx, qy)
        colours[idx] = torch.where(hit[:, None], sampled, colours[idx])
        distance[idx] = torch.where(hit, d, distance[idx])
        alive = alive & ~hit
        t = nxt
    return colours, distance, still


def blend_hits(c_f, d_f, c_b, d_b):
    """Forward and backward landings weighted by 1 / distance (``chains.blend_hits``)."""
    w_f = torch.where(d_f > 0, 1.0 / d_f.clamp(min=1).float(), 0.0)
    w_b = torch.where(d_b > 0, 1.0 / d_b.clamp(min=1).float(), 0.0)
    return (c_f * w_f[:, None] + c_b * w_b[:, None]) / (w_f + w_b).clamp(min=1e-12)[:, None]
