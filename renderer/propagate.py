"""A propagation prior for the ``standard`` preset: classic flow-guided temporal
propagation of known pixels into the hole (Telea where nothing reaches).

The network starts from this fill instead of a blank hole and learns to correct
it; the algorithm itself lives with the evaluation baselines, where it is also
measured on its own.
"""

from __future__ import annotations

import numpy as np


def propagate(frames_linear: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear, bool (F, H, W) -> (F, H, W, 3) with the holes pre-filled."""
    from .evaluate.baselines import flow_propagation

    if not holes.any():
        return np.asarray(frames_linear, dtype=np.float32)
    return flow_propagation(np.maximum(frames_linear, 0.0), holes)
