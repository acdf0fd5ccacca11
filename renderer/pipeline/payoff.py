"""Whether learning can pay on this shot, decided before any training.

Flow-guided propagation copies every hole pixel that some chain of flow reaches from
footage; there the network can only refine a copy. Measured on the development and
held-out-style shots, the held-out check kept the propagation in 11 of 16 shots after
training, and where the network was kept it added 0.1-0.2 dB, for most of the run's
time. What learning exists for is the rest: the pixels no other frame shows
(``fill.chains.unreached``), where propagation can only smooth the border in. So the
``standard`` preset trains only when a share of the hole of at least
``Preset.learn_min_unreached`` is out of every chain's reach, and otherwise finishes in
the time the fills take, with the pre-fill as its output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..presets import Preset


@dataclass(frozen=True)
class LearningPlan:
    """unreached_fraction: the share of the hole's pixels (over all frames) that no chain
    reaches; learn: whether to train; threshold: the preset's ``learn_min_unreached``."""

    unreached_fraction: float
    learn: bool
    threshold: float

    def line(self, prefill_name: str | None) -> str:
        """The log's line for this decision."""
        reached = 100.0 * (1.0 - self.unreached_fraction)
        if self.learn:
            return (f"learning: on; {100.0 * self.unreached_fraction:.1f} % of the hole is shown by no other frame "
                    f"(training starts at {100.0 * self.threshold:.1f} %)")
        return (f"learning: skipped; other frames show {reached:.1f} % of the hole, the network would decide "
                f"{100.0 * self.unreached_fraction:.1f} % (training starts at {100.0 * self.threshold:.1f} %); "
                f"keeping {prefill_name}")


def measures_reach(preset: Preset) -> bool:
    """Whether ``plan_learning`` needs the chains' reach for ``preset``: a preset whose
    ``learn_min_unreached`` is 0, or without a propagation pre-fill, always learns."""
    return preset.learn_min_unreached > 0.0 and preset.propagation_prior


def plan_learning(distance: np.ndarray | None, holes: np.ndarray, preset: Preset) -> LearningPlan:
    """``distance`` int (F, H, W): ``fill.chains.chain_sources``' distances (0 where no
    chain lands; None where ``measures_reach`` is False) and holes bool (F, H, W), at the
    working size."""
    if distance is None or not measures_reach(preset) or not holes.any():
        return LearningPlan(unreached_fraction=float("nan"), learn=True, threshold=preset.learn_min_unreached)
    fraction = float((holes & (distance == 0)).sum()) / float(holes.sum())
    return LearningPlan(unreached_fraction=fraction, learn=fraction >= preset.learn_min_unreached,
                        threshold=preset.learn_min_unreached)
