"""A propagation prior for the ``standard`` preset: flow-guided temporal propagation
of known pixels into the hole, guarded against its classic failure.

Plain propagation (``renderer.evaluate.baselines.flow_propagation``) completes the
flow inside the hole by diffusion from its border, so over a fast-moving
foreground it follows the background's motion and drags background pixels (car
lights onto a jacket) into the fill. Here each hole pixel is followed forward and
backward separately; it keeps the propagated colour only where the two directions
agree (or where a single direction lands close by), and everything else is filled
by Telea from the trusted pixels around it.
"""

from __future__ import annotations

import numpy as np

from .colour import encode

AGREEMENT = 0.15  # max |forward - backward| in the training space (ACEScct) to trust a blend
NEAR = 3  # frames: a single direction that lands this close is trusted on its own
FLOW_DILATE = 2  # px: diffuse the flow only this far beyond the hole (the guard does the rest)


def propagate(frames_linear: np.ndarray, holes: np.ndarray, near: int = NEAR) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F, H, W, 3) with the holes pre-filled.

    ``near``: how far (in frames) a hit from one direction alone is trusted."""
    from .evaluate.baselines import _follow, blend_hits, completed_flow, place_fill

    frames = np.maximum(np.asarray(frames_linear, dtype=np.float32), 0.0)
    if not holes.any():
        return frames
    n = frames.shape[0]
    flow = completed_flow(frames, holes, dilate=FLOW_DILATE)
    result = frames.copy()
    for t in range(n):
        if not holes[t].any():
            continue
        ys, xs, c_f, d_f = _follow(frames, holes, flow.forward, t, +1, n - 1)
        _, _, c_b, d_b = _follow(frames, holes, flow.backward, t, -1, n - 1)
        both = (d_f > 0) & (d_b > 0)
        agree = np.abs(encode(c_f) - encode(c_b)).max(axis=1) < AGREEMENT
        single_f = (d_f > 0) & (d_b == 0) & (d_f <= near)
        single_b = (d_b > 0) & (d_f == 0) & (d_b <= near)
        trusted = (both & agree) | single_f | single_b
        result[t] = place_fill(frames[t], holes[t], ys, xs, blend_hits(c_f, d_f, c_b, d_b), trusted)
    return result
