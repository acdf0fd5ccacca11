"""A temporal filter of a fill along its flow, so that it does not flicker.

Each frame's propagation chains land in different frames, so neighbouring fills
disagree by their seams, noise and drift, which the eye sees as flicker. Each hole pixel
is averaged with the pixels it moves to in the frames before and after, each neighbour
first brought to the frame's exposure (``exposure_gain``). Flow shorter than
``STILL_SNAP`` counts as zero: without that the filter cost the held-out-style city
shots 0.7 to 2.1 dB (a bilinear sample at DIS's noise blurs fine texture).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ShapeError
from ..io.masks import box_around
from ..method.flow import sample
from ..method.warp import INBOUNDS_THRESHOLD
from ..parallel import map_frames
from .chains import STILL_SNAP

# sweeps of the temporal filter over the fill (``smooth_along_flow``). Chosen at the plate sizes
# the product is for (48 frames, 768x576 people and bikes@140 people; decision 0028): one sweep
# against two, seamed propagation alone, +0.41 and +0.09 dB, detail 0.81 -> 0.84, warp error
# 1.20 -> 1.17 on the moving camera; measured only, the 2K drone +0.55 dB. Two sweeps were
# chosen on 96x192 and 160x96 shots (decision 0012); on the 160x96 thumbnails they still score
# 0.05 dB more on average.
TEMPORAL_SWEEPS = 1
# pixels ``exposure_gain`` sums at least of a large frame: a grid of every ``gain_stride``-th
# pixel and row. Over every pixel of a 674x3520 box at 4K it took 19.5 s of each 76 s pass
# of propagation (28 frames, one core); 65,536 pixels estimate the same ratio of sums.
# Frames under four times the count (every working-size fill) sum every pixel still
# (decision 0041)
GAIN_SAMPLES = 1 << 16


def still_flow(flow: np.ndarray) -> np.ndarray:
    """(..., 2) flow with every vector shorter than ``STILL_SNAP`` px set to zero: DIS's
    noise over a still background, which a bilinear sample would turn into blur."""
    flow = np.asarray(flow, dtype=np.float32)
    return np.where((np.hypot(flow[..., 0], flow[..., 1]) < STILL_SNAP)[..., None], 0.0, flow).astype(np.float32)


def gain_stride(height: int, width: int, samples: int = GAIN_SAMPLES) -> int:
    """The grid step (px) at which ``exposure_gain`` sums a height x width frame: the
    largest integer not above sqrt(height * width / samples), so that its grid keeps at
    least ``samples`` pixels (1, every pixel, for frames under four times that)."""
    return max(1, int(np.sqrt(height * width / samples)))


def exposure_gain(frame: np.ndarray, hole: np.ndarray, other: np.ndarray, other_hole: np.ndarray,
                  flow: np.ndarray, stride: int | None = None) -> np.ndarray:
    """(3,) gain that brings ``other``'s light to ``frame``'s: the ratio of the two frames'
    sums over the known pixels of ``frame`` that ``flow`` (frame -> other) carries onto
    known pixels of ``other``, inside it. 1 where nothing qualifies.

    frame, other (H, W, 3) scene-linear; hole, other_hole bool (H, W); flow (H, W, 2).
    Measured over the whole frame: near the hole the flow is the completed one, and a gain
    measured on a ring there cost 0.05 to 0.16 dB on the panning shots. The sums are over
    every ``stride``-th pixel of every ``stride``-th row (default ``gain_stride``; 1: every
    pixel)."""
    h, w = hole.shape
    stride = gain_stride(h, w) if stride is None else stride
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ShapeError(f"exposure_gain needs a stride >= 1, got {stride!r}")
    near = np.ascontiguousarray(flow[::stride, ::stride], dtype=np.float32)
    gx, gy = np.meshgrid(np.arange(0, w, stride, dtype=np.float32), np.arange(0, h, stride, dtype=np.float32))
    mx, my = gx + near[..., 0], gy + near[..., 1]

    def at_grid(image: np.ndarray) -> np.ndarray:  # ``sample`` at the grid's pixels alone
        return cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    both = ~hole[::stride, ::stride] & (at_grid(other_hole.astype(np.float32)) == 0) \
        & (at_grid(np.ones(hole.shape, np.float32)) > INBOUNDS_THRESHOLD)
    if not both.any():
        return np.ones(3, np.float32)
    mine = frame[::stride, ::stride][both].sum(axis=0)
    theirs = at_grid(np.ascontiguousarray(other, dtype=np.float32))[both].sum(axis=0)
    return np.where(theirs > 1e-6, mine / np.maximum(theirs, 1e-6), 1.0).astype(np.float32)


def smooth_along_flow(fill: np.ndarray, holes: np.ndarray, forward: np.ndarray, backward: np.ndarray,
                      sweeps: int = TEMPORAL_SWEEPS) -> np.ndarray:
    """A temporal filter of a fill along its flow: each sweep replaces every hole pixel by
    the mean of its own value and those of the pixels it moves to in the frames before and
    after (bilinear, read from the previous sweep; a neighbour outside the frame does not
    count), each neighbour brought to the frame's light by ``exposure_gain``. One sweep
    weighs frames t-1..t+1 equally; two weigh t-2..t+2 as 1, 2, 3, 2, 1.

    fill (F, H, W, 3) scene-linear, known pixels the frames' own; holes bool (F, H, W);
    forward, backward (F, H, W, 2) as ``fill.flow.CompletedFlow``'s. Flow shorter than
    ``STILL_SNAP`` counts as zero. Returns (F, H, W, 3) float32, ``fill`` outside the holes."""
    fill = np.asarray(fill, dtype=np.float32)
    if fill.ndim != 4 or holes.shape != fill.shape[:3] or forward.shape != fill.shape[:3] + (2,) \
            or backward.shape != forward.shape:
        raise ShapeError(f"smooth_along_flow needs (F, H, W, 3), (F, H, W) and two (F, H, W, 2), got "
                         f"{fill.shape}, {holes.shape}, {forward.shape}, {backward.shape}")
    n = len(fill)
    if n < 2 or sweeps < 1 or not holes.any():
        return fill
    neighbours = [[(forward, t + 1)] * (t + 1 < n) + [(backward, t - 1)] * (t > 0) for t in range(n)]
    boxes = [box_around(hole) for hole in holes]  # only the hole's box changes: the sweeps work there

    def links(t: int) -> list:  # (neighbour, gain, flow and weight in the box) of frame t's neighbours
        if boxes[t] is None:
            return []
        y0, x0, y1, x1 = boxes[t]
        out = []
        for flows, s in neighbours[t]:
            flow = still_flow(flows[t])
            gain = exposure_gain(fill[t], holes[t], fill[s], holes[s], flow)
            near = np.ascontiguousarray(flow[y0:y1, x0:x1])
            out.append((s, gain, near, sample(np.ones(holes.shape[1:], np.float32), near, (y0, x0))))
        return out

    steps = map_frames(links, n)
    # each sweep changes only the holes' boxes: it is kept as those patches over ``fill``
    patches: list = [None] * n
    for _ in range(sweeps):
        before = patches

        def frame_before(s: int) -> np.ndarray:
            if before[s] is None:
                return fill[s]
            y0, x0, y1, x1 = boxes[s]
            whole = fill[s].copy()
            whole[y0:y1, x0:x1] = before[s]
            return whole

        def sweep(t: int):
            if not steps[t]:
                return None
            y0, x0, y1, x1 = boxes[t]
            own = fill[t, y0:y1, x0:x1] if before[t] is None else before[t]
            total, weight = own.copy(), np.ones((y1 - y0, x1 - x0), np.float32)
            for s, gain, flow, inside in steps[t]:
                total += sample(frame_before(s), flow, (y0, x0)) * gain
                weight += inside
            return np.where(holes[t, y0:y1, x0:x1][..., None], total / weight[..., None], fill[t, y0:y1, x0:x1])

        patches = map_frames(sweep, n)
    out = fill.copy()
    for t, patch in enumerate(patches):
        if patch is not None:
            y0, x0, y1, x1 = boxes[t]
            out[t, y0:y1, x0:x1] = patch
    return out

