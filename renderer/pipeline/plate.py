"""The non-learning fills at plate resolution, for a fill trained below it.

Below plate resolution the output is the chosen baseline made at plate resolution,
plus the network's correction scaled up where the network is kept (``Region.uncrop``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..presets import Preset
from .holdout import baseline_fills
from .region import Region, plan_context


class PlateFills:
    """The non-learning fills (``holdout.baseline_fills``) of the training crop at plate
    resolution, for a fill trained below it; each is made when first asked for, and kept.
    Like the working-size fills they look at a box wider than the crop (``plan_context``).
    With a CUDA ``device`` the propagation runs there."""

    def __init__(self, frames: np.ndarray, holes: np.ndarray, region: Region, device=None,
                 references: frozenset = frozenset()):
        y0, x0, y1, x1 = region.box
        self.frames = np.ascontiguousarray(frames[:, y0:y1, x0:x1])
        self.holes = np.ascontiguousarray(holes[:, y0:y1, x0:x1])
        self._fills = baseline_fills(plan_context(replace(region, working_size=region.crop_size), frames), device,
                                     references)
        self._made: dict[str, np.ndarray] = {}

    def __call__(self, name: str) -> np.ndarray:
        """(F, ch, cw, 3) scene-linear: the crop filled by baseline ``name`` at plate resolution."""
        if name not in self._made:
            self._made[name] = self._fills[name](self.frames, self.holes)
        return self._made[name]


def plate_fills(frames: np.ndarray, holes: np.ndarray, region: Region, preset: Preset, device=None,
                references: frozenset = frozenset()) -> PlateFills | None:
    """``PlateFills`` with the default pre-fill made, when training runs below plate
    resolution with a propagation prior; otherwise None."""
    if not region.scaled or not preset.propagation_prior:
        return None
    fills = PlateFills(frames, holes, region, device, references)
    fills("propagation")
    return fills
