"""The held-out check of the ``standard`` preset: a validation signal on known pixels.

The last input configuration's extra holes lie over pixels the plate knows and no loss
sees (``holdout``). The network's fill there is measured twice: during training, to keep
the weights that do best (early stopping, by mean squared error), and at the end, to
choose between the network, its average with the pre-fill and the non-learning fills
(by ``holdout.held_out_score``: the error with the fill's flicker added, raised for a
smear, as a viewer would judge).
"""

from __future__ import annotations

import time
from functools import cached_property

import numpy as np
import torch

from ..colour import decode, encode
from ..colour_torch import decode as decode_on_device, display_like, encode as encode_on_device
from .holdout import Configuration, held_out_error, held_out_score

SELECT_MARGIN = 0.03  # a learned fill must beat every baseline by this much on held-out pixels
# held-out checks before training may stop for want of progress (``HeldOutCheck.give_up``):
# two of six, a third of the steps; the network's error falls fastest early on
GIVE_UP_AFTER = 2
# "blend": the network's fill and the pre-fill, each this much, averaged in the training space
BLEND_WEIGHT = 0.5
# the share of the run's wall time training may take while the final choice would still keep
# the pre-fill (``HeldOutCheck.over_budget``, ``budget_verdict``): where the output is the
# pre-fill, the time spent training is the user's loss (docs/decisions/0025)
TRAIN_SHARE = 0.25


def held_out_error_on_device(fill_enc, region, target) -> float:
    """``held_out_error`` of a fill that is on a torch device, computed there.

    fill_enc (F, 3, H, W) in the training space; region bool (F, H, W) the held-out pixels
    (``Configuration.extra``); target (N, 3): ``display_like`` of the plate's pixels there,
    in ``region``'s order (``colour_torch.display_like``); all on one device."""
    if target.shape[0] == 0:
        return 0.0
    got = display_like(decode_on_device(fill_enc.float().permute(0, 2, 3, 1)[region]))
    return float(((got - target) ** 2).mean())


class HeldOutCheck:
    """configs: the run's input configurations (the real hole first, the held-out one
    last); work_frames (F, H, W, 3) scene-linear at working size; baseline_errors: the
    non-learning fills' held-out errors (``holdout.choose_fill``); prefill_name: the fill
    the network refines; device: where the network's fills are."""

    def __init__(self, configs: list[Configuration], work_frames: np.ndarray, baseline_errors: dict,
                 prefill_name: str | None, device: torch.device, started: float | None = None):
        self.started = time.monotonic() if started is None else started  # when the run began
        self.held_out, self.real = configs[-1], configs[0].holes
        self.work_frames, self.baseline_errors, self.prefill_name = work_frames, baseline_errors, prefill_name
        self.device = device
        self.config = len(configs) - 1  # the held-out configuration's index, for the network's fill of it
        self._target = None  # on a GPU: the held-out pixels and the plate's values there, on the device

    @cached_property
    def decisive(self) -> bool:
        """Whether the final choice can be made: baselines were measured, and the held-out
        configuration blanks some known pixel. Found once: ``over_budget`` asks at every
        training step."""
        return bool(self.baseline_errors) and bool(self.held_out.extra(self.real).any())

    def errors(self, net_enc: torch.Tensor, blend: bool) -> dict[str, float]:
        """``held_out_error`` of the network's fill ``net_enc`` (F, 3, H, W) of the held-out
        configuration (training space) and, with ``blend``, of its average with the pre-fill."""
        if self.device.type == "cuda":  # where the network is: copying 100 frames to the host cost most of a check
            if self._target is None:
                region = torch.from_numpy(self.held_out.extra(self.real)).to(self.device)
                self._target = region, display_like(torch.from_numpy(self.work_frames).to(self.device)[region])
            errors = {"network": held_out_error_on_device(net_enc, *self._target)}
            if blend:
                prefill = torch.from_numpy(self.held_out.prefill).to(self.device).permute(0, 3, 1, 2)
                errors["blend"] = held_out_error_on_device(BLEND_WEIGHT * (net_enc.float() + encode_on_device(prefill)),
                                                           *self._target)
            return errors
        net = net_enc.permute(0, 2, 3, 1).float().cpu().numpy()
        union = self.held_out.holes
        errors = {"network": held_out_error(self.work_frames, self.real, union, decode(net))}
        if blend:
            errors["blend"] = held_out_error(self.work_frames, self.real, union,
                                             decode(BLEND_WEIGHT * (net + encode(self.held_out.prefill))))
        return errors

    def scores(self, net_enc: torch.Tensor) -> dict[str, float]:
        """``holdout.held_out_score`` (error, flicker and detail, as the baselines were judged) of the
        network's fill ``net_enc`` (F, 3, H, W) of the held-out configuration and of its
        average with the pre-fill: what the final choice compares."""
        net = net_enc.permute(0, 2, 3, 1).float().cpu().numpy()
        fills = {"network": decode(net), "blend": decode(BLEND_WEIGHT * (net + encode(self.held_out.prefill)))}
        return {name: held_out_score(self.work_frames, self.real, self.held_out.holes, fill, self.held_out.motion)
                for name, fill in fills.items()}

    def choose(self, learned: dict[str, float]) -> tuple[str, str]:
        """The fill to keep, given the learned fills' ``scores``: the best learned one only
        where it beats every baseline by ``SELECT_MARGIN``, otherwise the pre-fill (chosen
        with its own margin, ``holdout.PREFILL_MARGIN``). Returns (choice, a log line)."""
        errors = dict(self.baseline_errors, **learned)
        best_baseline = min(self.baseline_errors.values())
        best = min(learned, key=learned.get)
        choice = best if errors[best] <= best_baseline * (1.0 - SELECT_MARGIN) else self.prefill_name
        line = ("held-out check ((MSE + flicker) x detail penalty on known pixels under extra holes): "
                + ", ".join(f"{k} {v:.5f}" for k, v in errors.items()) + f"; keeping {choice}")
        return choice, line

    def over_budget(self, train_seconds: float) -> bool:
        """Whether training has taken ``TRAIN_SHARE`` of the run's wall time so far."""
        elapsed = time.monotonic() - self.started
        return train_seconds >= TRAIN_SHARE * max(elapsed, 1e-9) and self.decisive

    def budget_verdict(self, infer) -> str | None:
        """Once training has taken its share of the time (``over_budget``): why to stop, or
        None to go on. The final choice (``choose``) is made now on the network's fill by
        ``infer``; where it would keep the pre-fill, the rest of the schedule is time the
        user pays for a maybe. The same scores as the final choice, detail included: the
        network's plain error can lead while its smooth fill loses on the score."""
        if not self.decisive:
            return None
        learned = self.scores(infer(None, config=self.config))
        choice, _ = self.choose(learned)
        if choice in learned:
            return None
        best = min(learned, key=learned.get)
        return (f"training has taken {100 * TRAIN_SHARE:.0f} % of the run and on held-out holes the best learned "
                f"fill ({best} {learned[best]:.5f}) does not beat the best non-learning fill "
                f"({min(self.baseline_errors.values()):.5f}) by {100 * SELECT_MARGIN:.0f} %; "
                f"keeping {self.prefill_name}")

    def give_up(self, errors: list[float], remaining: int) -> str | None:
        """Why training cannot pay any more, or None. From the ``GIVE_UP_AFTER``-th
        validation on: the network's held-out error, carried on at its latest rate of
        improvement for the ``remaining`` validations, would still not beat the best
        non-learning fill's score by ``SELECT_MARGIN`` (its plain error is never above its
        score, so the final choice would keep the pre-fill)."""
        if not self.decisive or len(errors) < GIVE_UP_AFTER:
            return None
        target = min(self.baseline_errors.values()) * (1.0 - SELECT_MARGIN)
        best = min(errors)
        rate = max(errors[-2] - errors[-1], 0.0)
        if best - rate * remaining <= target:
            return None
        return (f"on held-out holes the network's error {best:.5f} would not reach {target:.5f} (the best "
                f"non-learning fill's, less {100 * SELECT_MARGIN:.0f} %) at its rate of improvement; "
                f"keeping {self.prefill_name}")

    def validation_error(self, infer) -> float:
        """The network's held-out error, its fill made by ``infer(indices, config)``: what
        early stopping watches."""
        return self.errors(infer(None, config=self.config), blend=False)["network"]

    def select(self, infer, log) -> str:
        """The fill to keep (``choose``), the network's made by ``infer``; the network
        where the check cannot decide. ``log`` takes the check's line."""
        if not self.decisive:
            return "network"
        choice, line = self.choose(self.scores(infer(None, config=self.config)))
        log(line)
        return choice
