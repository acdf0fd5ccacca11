"""Copying from the nearest frame that shows the pixel, without flow: the fill for a still
camera.

Where the camera does not move, the background behind a hole is the same pixel in the
frames where the hole has moved away. Following DIS flow there adds its noise: chains
drift past the still-chain snap (``fill.propagate``), resample and land on the wrong
content near moving people. On a near-still stretch of bikes.mp4 (48 frames at
272x640, people-shaped holes) this copy scored 27.48 dB against seamed propagation's
24.71. It is what ``renderer evaluate``'s ``temporal-nearest`` measures. As a candidate
pre-fill of the held-out check it was dropped (docs/decisions/0021): over a moving camera
any motion shows up as a misplaced copy, and the check's holes, which move with the
frame, could not tell where it wins.

So the copy is decided frame pair by frame pair, on the footage itself (``still_sources``,
docs/decisions/0024): frame t's hole takes the copy from frame s only where, on the ring
of pixels around t's hole that both frames know, s's pixels, unmoved, match t's within
``STILL_TOLERANCE`` times what one step of the flow leaves there, and better than s moved
by one pixel in any direction (``best_shift_is_zero``), and where the shift of s against t
measured on that ring is under the chains' own still snap (``ring_shift``,
docs/decisions/0061). Seamed and guarded propagation (``fill.propagate``) then lay the
copy over their own fill (``still_first``); the guarded fill's copy also needs the frames
around to hold still (``windowed_drift``).
"""

from __future__ import annotations

import numpy as np

from ..colour import encode
from ..errors import ShapeError
from ..io.masks import dilated
from ..parallel import map_frames
from .chains import STILL_SNAP, landing_sample
from .classical import check_video, telea_frame

NO_FRAME = -1  # index of the source frame where no frame shows the pixel
STILL_RING = 4  # px: the ring of known pixels around a frame's hole on which a copy is tested
# how much worse than one step of the flow an unmoved copy may match the ring. With the
# alignment test (``best_shift_is_zero``), chosen on three shots with people-shaped holes
# (hole PSNR of propagation with the copy, tolerance 1.5 / 2.0): bikes.mp4 from frame 140,
# still, 27.39 / 27.54 (24.71 without the copy); bikes' people over the still city with
# grain, 30.20 / 30.21 (28.30); bikes.mp4 from frame 10 at 768x576, a moving camera,
# 33.52 / 33.52 (33.47). Without the alignment test the moving camera lost 0.36 dB at 1.5
STILL_TOLERANCE = 2.0
STILL_MIN_RING = 16  # ring pixels known in both frames below which a copy is not trusted
# px: the largest shift of the source against the frame, measured on the ring
# (``ring_shift``), at which the copy is still taken: the chains' own snap. A background
# drifting 0.4 px a frame (cityCC0 from frame 20, tilting) passed the 1 px alignment test,
# and its unmoved copy scored 3.4 dB under the same frame moved by the drift
STILL_SHIFT = STILL_SNAP
# frames either side whose one-step ring shifts give a frame's drift (``windowed_drift``):
# for the guarded fill the copy from s is taken only where that drift times |t - s| is
# under STILL_SHIFT too. One pair's shift is measured on a few hundred ring pixels and
# misses the truth by about 0.1 px; on cityCC0 from frame 20, drifting 0.6 px a frame at
# the ring, one pair in five measured under STILL_SHIFT. Seamed propagation does without
# it: on bikes' people over the still city with grain it halved the copies and took the
# fill's detail from 0.92 to 0.71 (docs/decisions/0061)
DRIFT_WINDOW = 4


def nearest_known_source(holes: np.ndarray) -> np.ndarray:
    """bool (F, H, W) holes -> int32 (F, H, W): for each pixel, the index of the nearest
    frame in time where that pixel position is known (not in the hole); ties go to the
    earlier frame; a known pixel is its own source; ``NO_FRAME`` where no frame shows it.

    Two scans over the frames (one (H, W) step each) instead of a search per frame, so the
    cost does not grow with how long a pixel stays covered."""
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.ndim != 3:
        raise ShapeError(f"holes must be bool (F, H, W), got {getattr(holes, 'dtype', type(holes))} "
                         f"{getattr(holes, 'shape', '')}")
    n = holes.shape[0]
    source = np.empty(holes.shape, np.int32)
    last = np.full(holes.shape[1:], NO_FRAME, np.int32)
    for t in range(n):  # the latest known frame at or before t
        last = np.where(holes[t], last, t)
        source[t] = last
    upcoming = np.full(holes.shape[1:], NO_FRAME, np.int32)
    for t in range(n - 1, -1, -1):  # the earliest known frame at or after t, against the earlier one
        upcoming = np.where(holes[t], upcoming, t)
        before = source[t]
        later_is_nearer = (upcoming != NO_FRAME) & ((before == NO_FRAME) | (upcoming - t < t - before))
        source[t] = np.where(later_is_nearer, upcoming, before)
    return source


def still_copy(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear float32, bool (F, H, W) -> (F, H, W, 3) float32: every hole
    pixel is the same position's value, unchanged, in the nearest frame where it is known
    (``nearest_known_source``); pixels no frame shows are filled by Telea on the frame that
    already holds the copied pixels. Known pixels are the input's."""
    check_video(frames, holes)
    frames = np.asarray(frames, dtype=np.float32)
    source = nearest_known_source(holes)
    out = frames.copy()
    out[holes] = 0.0  # nothing of the truth under the hole can reach the Telea fallback
    for t in range(frames.shape[0]):
        if not holes[t].any():
            continue
        ys, xs = np.nonzero(holes[t])
        src = source[t, ys, xs]
        shown = src != NO_FRAME
        out[t, ys[shown], xs[shown]] = frames[src[shown], ys[shown], xs[shown]]
        if not shown.all():
            unseen = np.zeros(holes.shape[1:], bool)
            unseen[ys[~shown], xs[~shown]] = True
            out[t] = telea_frame(out[t], unseen)
    return np.where(holes[..., None], out, frames)


def flow_ring_error(frames: np.ndarray, holes: np.ndarray, forward, backward, t: int, ys: np.ndarray,
                    xs: np.ndarray, frame_t_enc: np.ndarray) -> float:
    """The mean absolute difference, in the training space, between frame t's ring pixels
    (``ys``, ``xs``; their encoded values ``frame_t_enc`` (N, 3)) and what one step of the
    flow brings there from frame t+1 and t-1 (``chains.landing_sample``, or the pixel itself where
    the step is under ``STILL_SNAP``, as the chains take it), over the landings on known
    pixels. ``forward``/``backward``: ``fill.flow.CompletedFlow``'s. inf where none lands."""
    n, h, w = holes.shape
    errors = []
    for step, flows in ((1, forward), (-1, backward)):
        u = t + step
        if not 0 <= u < n:
            continue
        f = flows[t][ys, xs]
        still = np.hypot(f[:, 0], f[:, 1]) < STILL_SNAP
        px = np.where(still, xs, xs + f[:, 0]).astype(np.float32)
        py = np.where(still, ys, ys + f[:, 1]).astype(np.float32)
        iy = np.clip(np.rint(py).astype(np.int64), 0, h - 1)
        ix = np.clip(np.rint(px).astype(np.int64), 0, w - 1)
        known = ~holes[u][iy, ix]
        if known.any():
            got = encode(np.maximum(landing_sample(frames[u], px[known], py[known]), 0.0))
            errors.append(np.abs(got - frame_t_enc[known]).mean(axis=1))
    return float(np.concatenate(errors).mean()) if errors else float("inf")


SHIFTS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def known_around(holes: np.ndarray, s: int, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """bool (N,): the pixels (``ys``, ``xs``) whose 3x3 neighbourhood frame ``s`` knows."""
    h, w = holes.shape[1:]
    known = np.ones(ys.shape, bool)
    for dy, dx in SHIFTS:
        known &= ~holes[s, np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
    return known


def best_shift_is_zero(frames: np.ndarray, holes: np.ndarray, s: int, ys: np.ndarray, xs: np.ndarray,
                       ring_enc: np.ndarray) -> bool:
    """Whether frame ``s``, unmoved, matches the ring pixels (``ys``, ``xs``; their values in
    the frame tested, encoded, ``ring_enc``) at least as well as moved by one pixel in any
    of the eight directions, over the ring pixels every shift finds known in ``s``."""
    h, w = holes.shape[1:]
    known = known_around(holes, s, ys, xs)
    if known.sum() < STILL_MIN_RING:
        return False
    ys, xs, target = ys[known], xs[known], ring_enc[known]
    errors = {(dy, dx): float(np.abs(encode(np.maximum(frames[s, np.clip(ys + dy, 0, h - 1),
                                                                  np.clip(xs + dx, 0, w - 1)], 0.0)) - target).mean())
              for dy, dx in SHIFTS}
    return errors[(0, 0)] <= min(errors.values())


def ring_offset(frames: np.ndarray, holes: np.ndarray, s: int, ys: np.ndarray, xs: np.ndarray,
                ring_enc: np.ndarray) -> np.ndarray | None:
    """The shift (dx, dy) in px that best moves frame ``s`` onto the ring pixels (``ys``,
    ``xs``; their values in the frame tested, encoded, ``ring_enc`` (N, 3)): one least-squares
    step on the grey of ``s`` and its central differences (Lucas and Kanade), over the
    ring pixels whose neighbours ``s`` knows. None where fewer than ``STILL_MIN_RING`` are,
    or where the ring has no texture to tell a shift by. It measures what the 1 px test
    cannot: a drift of a fraction of a pixel a frame."""
    h, w = holes.shape[1:]
    known = known_around(holes, s, ys, xs)
    if known.sum() < STILL_MIN_RING:
        return None
    ys, xs = ys[known], xs[known]

    def grey(dy: int, dx: int) -> np.ndarray:
        at = frames[s, np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]
        return encode(np.maximum(at, 0.0)).mean(axis=1).astype(np.float64)

    gx, gy = 0.5 * (grey(0, 1) - grey(0, -1)), 0.5 * (grey(1, 0) - grey(-1, 0))
    diff = ring_enc[known].mean(axis=1) - grey(0, 0)
    normal = np.array([[gx @ gx, gx @ gy], [gx @ gy, gy @ gy]])
    if np.linalg.det(normal) <= 1e-12 * max(float(np.trace(normal)), 1e-12) ** 2:
        return None
    return np.linalg.solve(normal, np.array([gx @ diff, gy @ diff]))


def ring_shift(frames: np.ndarray, holes: np.ndarray, s: int, ys: np.ndarray, xs: np.ndarray,
               ring_enc: np.ndarray) -> float:
    """The length (px) of ``ring_offset``; inf where it has none."""
    offset = ring_offset(frames, holes, s, ys, xs, ring_enc)
    return float("inf") if offset is None else float(np.hypot(*offset))


def ring_around(hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bool (H, W) hole -> (ys, xs): its ring, the pixels within ``STILL_RING`` px outside it."""
    return np.nonzero(dilated(hole, STILL_RING) & ~hole)


def drift_rates(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F,) float: each frame's drift in px a
    frame, the mean of ``ring_shift`` to the frames before and after it on the ring around
    its hole; NaN where it has no hole or nothing to measure on. Grain and people beside
    the hole add to each measure's length, so a rate errs high: towards no copy."""
    n = holes.shape[0]
    rates = np.full(n, np.nan)

    def measure(t: int) -> None:
        if not holes[t].any():
            return
        ys, xs = ring_around(holes[t])
        ring_enc = encode(np.maximum(frames[t, ys, xs], 0.0))
        shifts = [ring_shift(frames, holes, u, ys, xs, ring_enc) for u in (t - 1, t + 1) if 0 <= u < n]
        shifts = [v for v in shifts if np.isfinite(v)]
        if shifts:
            rates[t] = float(np.mean(shifts))

    map_frames(measure, n)
    return rates


def windowed_drift(rates: np.ndarray, t: int) -> float:
    """The median of ``rates`` (``drift_rates``) over the ``DRIFT_WINDOW`` frames either side
    of ``t``; 0 where none was measured."""
    near = rates[max(t - DRIFT_WINDOW, 0):t + DRIFT_WINDOW + 1]
    near = near[np.isfinite(near)]
    return float(np.median(near)) if near.size else 0.0


def still_sources(frames: np.ndarray, holes: np.ndarray, forward, backward, references: frozenset = frozenset(),
                  steady: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(F, H, W, 3) scene-linear, bool (F, H, W) holes, their completed flow (``forward``,
    ``backward``: ``fill.flow.CompletedFlow``'s) -> for each frame, (ys, xs, sources): the
    hole pixels that take an unmoved copy and the frame each copies from. A pixel's source
    is the nearest frame that shows its position (``nearest_known_source``), taken where
    that frame, unmoved, matches this one on the ring of ``STILL_RING`` px of pixels both
    know around this frame's hole within ``STILL_TOLERANCE`` times as well as one step of
    the flow does (``flow_ring_error``), and at least as well as moved by a pixel
    (``best_shift_is_zero``: where people around the hole make the flow poor, the first
    test alone let a moving camera through), and where s's shift measured on that ring
    (``ring_shift``) is within ``STILL_SHIFT``; with ``steady`` (the guarded fill's copy),
    where the drift of the frames around t (``windowed_drift``) times |t - s| is too.
    Frames in ``references`` (painted by the artist, in their own light) are never a
    source. Only the box of positions some frame shows is
    scanned: a fixed hole that never moves has nothing to copy and costs nothing."""
    check_video(frames, holes)
    n = holes.shape[0]
    none = np.zeros(0, np.int64)
    out = [(none, none, none)] * n
    never = holes.all(axis=0)  # (H, W): positions no frame shows
    ys_all, xs_all = np.nonzero(holes.any(axis=0) & ~never)
    if ys_all.size == 0:
        return out
    grow = STILL_RING + 1
    y0, x0 = max(int(ys_all.min()) - grow, 0), max(int(xs_all.min()) - grow, 0)
    y1, x1 = min(int(ys_all.max()) + grow + 1, holes.shape[1]), min(int(xs_all.max()) + grow + 1, holes.shape[2])
    source = nearest_known_source(np.ascontiguousarray(holes[:, y0:y1, x0:x1]))
    rates = drift_rates(frames, holes) if steady else None

    def decide(t: int) -> None:
        hole = holes[t, y0:y1, x0:x1]
        if not (hole & ~never[y0:y1, x0:x1]).any():
            return
        rys, rxs = ring_around(hole)
        if rys.size < STILL_MIN_RING:
            return
        ring_enc = encode(np.maximum(frames[t, y0 + rys, x0 + rxs], 0.0))
        reference = flow_ring_error(frames, holes, forward, backward, t, y0 + rys, x0 + rxs, ring_enc)
        hys, hxs = np.nonzero(hole)
        sources = source[t, hys, hxs]
        taken = np.zeros(sources.shape, bool)
        drift = windowed_drift(rates, t) if rates is not None else 0.0
        for s in np.unique(sources[sources != NO_FRAME]):
            if int(s) in references or drift * abs(int(s) - t) > STILL_SHIFT:
                continue
            both = ~holes[s, y0 + rys, x0 + rxs]
            if both.sum() < STILL_MIN_RING:
                continue
            unmoved = encode(np.maximum(frames[s, y0 + rys[both], x0 + rxs[both]], 0.0))
            if np.abs(unmoved - ring_enc[both]).mean() <= STILL_TOLERANCE * reference \
                    and best_shift_is_zero(frames, holes, s, y0 + rys, x0 + rxs, ring_enc) \
                    and ring_shift(frames, holes, s, y0 + rys, x0 + rxs, ring_enc) <= STILL_SHIFT:
                taken |= sources == s
        out[t] = (y0 + hys[taken], x0 + hxs[taken], sources[taken].astype(np.int64))

    map_frames(decide, n)
    return out


def still_first(frames: np.ndarray, holes: np.ndarray, fill: np.ndarray, forward, backward,
                references: frozenset = frozenset(), steady: bool = False) -> np.ndarray:
    """``fill`` (F, H, W, 3) of ``holes`` with every hole pixel that ``still_sources`` gives a
    source copied from it unchanged (clipped at 0, as the propagation's frames are).
    ``steady``: see ``still_sources``."""
    picks = still_sources(frames, holes, forward, backward, references, steady)
    if not any(ys.size for ys, _, _ in picks):
        return fill
    out = fill.copy()
    for t, (ys, xs, sources) in enumerate(picks):
        out[t, ys, xs] = np.maximum(frames[sources, ys, xs], 0.0)
    return out
