"""Self-supervised extra holes for the ``standard`` preset (after Ouyang et al. 2021).

A *configuration* blanks, in every frame, the real hole plus another frame's hole
shifted to a random place over known pixels. The blanked pixels are pre-filled
by flow-guided propagation exactly as the real hole is, so the network learns,
on this shot's own known pixels, how to correct propagation's mistakes. One
configuration is held out: on it we can measure, against pixels we know, whether
the trained network beats plain propagation and Telea, and keep whichever fill
is best (model selection on a known-pixel validation signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ShapeError


@dataclass
class Configuration:
    """holes bool (F, H, W) = real hole | extra; prefill (F, H, W, 3) scene-linear with
    every hole pixel filled by propagation."""

    holes: np.ndarray
    prefill: np.ndarray

    def extra(self, real: np.ndarray) -> np.ndarray:
        """Pixels blanked here that are known in the plate (where the truth is known)."""
        return self.holes & ~real


def extra_holes(holes: np.ndarray, rng: np.random.Generator, max_shift: float = 0.35) -> np.ndarray:
    """bool (F, H, W) -> bool (F, H, W): for every frame another frame's hole, shifted
    at random by up to ``max_shift`` of each side, placed to overlap the real hole little."""
    if holes.ndim != 3:
        raise ShapeError(f"holes must be (F, H, W), got {holes.shape}")
    n, h, w = holes.shape
    present = [k for k in range(n) if holes[k].any()]
    out = np.zeros_like(holes)
    if not present:
        return out
    for i in range(n):
        best, best_overlap = None, None
        for _ in range(6):
            j = int(rng.choice(present))
            dy = int(rng.integers(-int(max_shift * h), int(max_shift * h) + 1))
            dx = int(rng.integers(-int(max_shift * w), int(max_shift * w) + 1))
            cand = np.roll(holes[j], (dy, dx), axis=(0, 1))
            overlap = float((cand & holes[i]).sum()) / max(float(cand.sum()), 1.0)
            if best is None or overlap < best_overlap:
                best, best_overlap = cand, overlap
            if overlap < 0.1:
                break
        out[i] = best
    return out


def build_configurations(frames_linear: np.ndarray, holes: np.ndarray, count: int, seed: int, fill) -> list[Configuration]:
    """``count`` configurations; ``fill(frames, holes) -> frames`` pre-fills the holes."""
    rng = np.random.default_rng(seed + 7919)
    configs = []
    for _ in range(count):
        union = holes | extra_holes(holes, rng)
        configs.append(Configuration(holes=union, prefill=fill(frames_linear, union)))
    return configs
