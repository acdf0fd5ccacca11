"""The output of the ``standard`` pipeline: the chosen fill, at plate resolution,
composited into the plate.

The choice (``selection.HeldOutCheck.choose``) is the network, its average with the
pre-fill ("blend"), or one of the non-learning fills by name. Below plate resolution the
chosen baseline is made at plate resolution and a network's correction lands on it
(``region.Region.uncrop``); known pixels are the plate's (``io.masks.composite``).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..colour import decode, encode
from ..io.masks import composite
from .holdout import Configuration, baseline_fills
from .plate import PlateFills
from .region import Context, Region
from .selection import BLEND_WEIGHT


class Output:
    """frames (F, H, W, 3) scene-linear and alpha (F, H, W) the compositing weight, at plate
    size; region: the training crop; configs, work_frames, prefill_name, context, device: the
    pre-fill's configurations, the frames at working size, the pre-fill's name, the wider box
    the fills look at and where they run (all None for a preset without a pre-fill);
    plate_fills: the fills at plate resolution (None at plate resolution)."""

    def __init__(self, frames: np.ndarray, alpha: np.ndarray, region: Region, *,
                 configs: list[Configuration] | None = None, work_frames: np.ndarray | None = None,
                 prefill_name: str | None = None, context: Context | None = None, device=None,
                 plate_fills: PlateFills | None = None, references: frozenset = frozenset()):
        self.frames, self.alpha, self.region = frames, alpha, region
        self.configs, self.work_frames, self.prefill_name = configs, work_frames, prefill_name
        self.context, self.device, self.plate_fills = context, device, plate_fills
        self.references = references
        self.choice = "network"
        self._baseline_cache: dict[str, np.ndarray] = {}

    def fill(self, learned: Callable, indices) -> torch.Tensor:
        """The chosen fill of ``indices`` (None: every frame), encoded (B, 3, h, w) at working
        size; ``learned(indices)`` gives the network's."""
        if self.choice == "blend":
            return BLEND_WEIGHT * (learned(indices).cpu() + self._baseline_fill(indices, self.prefill_name))
        if self.choice != "network":
            return self._baseline_fill(indices, self.choice)
        return learned(indices)

    def frames_for(self, learned: Callable, indices) -> np.ndarray:
        """The composited output frames (B, H, W, 3) of ``indices`` (None: every frame)."""
        return self.finish(self.fill(learned, indices), indices)

    def _baseline_fill(self, indices, name: str) -> torch.Tensor:
        idx = list(range(len(self.work_frames))) if indices is None else list(indices)
        return torch.from_numpy(encode(self._baseline_linear(name)[idx])).permute(0, 3, 1, 2)

    def _baseline_linear(self, name: str) -> np.ndarray:
        """(F, h, w, 3) scene-linear: baseline ``name`` at working size."""
        real = self.configs[0]
        if name == self.prefill_name:
            return real.prefill
        if name not in self._baseline_cache:  # computed once: the final snapshot and the output both ask for it
            fill = baseline_fills(self.context, self.device, self.references)[name]
            self._baseline_cache[name] = fill(self.work_frames, real.holes)
        return self._baseline_cache[name]

    def finish(self, fill_enc: torch.Tensor, indices) -> np.ndarray:
        """Encoded fill (B, 3, h, w) at working size -> composited full frames (B, H, W, 3).
        Below plate resolution the fill lands on the plate-resolution fill of the chosen
        baseline, or of the pre-fill under a network's correction (``Region.uncrop``)."""
        idx = list(range(len(self.frames))) if indices is None else list(indices)
        fill = decode(fill_enc.permute(0, 2, 3, 1).float().cpu().numpy())
        plate_fill = work_fill = None
        base = self.prefill_name if self.choice in ("network", "blend") else self.choice
        if self.plate_fills is not None and base is not None:
            plate_fill, work_fill = self.plate_fills(base), self._baseline_linear(base)
            if self.choice == base:  # the baseline itself: at plate resolution, exactly
                fill = work_fill[idx]
        out = np.empty((len(idx),) + self.frames.shape[1:], np.float32)
        for k, i in enumerate(idx):  # a frame at a time: one copy of the frames is the output itself
            full = self.region.uncrop(fill[k:k + 1], self.frames[i:i + 1], [i], plate_fill, work_fill)[0]
            out[k] = composite(self.frames[i], full, self.alpha[i])
        return out
