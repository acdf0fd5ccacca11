"""The choice that justifies training a network: the network, its average with the
pre-fill, or the pre-fill, judged on held-out holes over known pixels
(``pipeline.selection``), and the output each choice makes (``pipeline.output``)."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from renderer.colour import decode, encode
from renderer.pipeline.holdout import Configuration, held_out_error
from renderer.pipeline.output import Output
from renderer.pipeline.region import Region
from renderer.pipeline.selection import BLEND_WEIGHT, SELECT_MARGIN, TRAIN_SHARE, HeldOutCheck

from standard_kit import box_holes, smooth_video

BASELINES = {"propagation": 0.010, "guarded": 0.012, "telea": 0.020}


def check_with(baselines=BASELINES, prefill_name="propagation"):
    frames = smooth_video(4, 32, 48, speed=1)
    real = box_holes(4, 32, 48, 8, 12, 8, move=1)
    union = real | np.roll(real, 16, axis=2)
    configs = [Configuration(real, frames.copy()), Configuration(union, frames.copy())]
    return HeldOutCheck(configs, frames, dict(baselines), prefill_name, torch.device("cpu")), frames, configs


def test_the_network_is_kept_where_it_beats_every_baseline_by_the_margin():
    check, *_ = check_with()
    choice, line = check.choose({"network": 0.005, "blend": 0.007})
    assert choice == "network"
    assert "keeping network" in line and "telea 0.02000" in line


def test_the_blend_is_kept_where_it_is_the_best_learned_fill():
    check, *_ = check_with()
    assert check.choose({"network": 0.0095, "blend": 0.006})[0] == "blend"


def test_the_pre_fill_is_kept_where_learning_does_not_beat_the_best_baseline_by_the_margin():
    check, *_ = check_with()
    assert check.choose({"network": 0.0099, "blend": 0.0098})[0] == "propagation"
    # the pre-fill by name, even when another baseline is the best one measured
    check, *_ = check_with(dict(BASELINES, telea=0.008), prefill_name="telea")
    assert check.choose({"network": 0.0079})[0] == "telea"


def test_the_margin_edge():
    best = min(BASELINES.values())
    edge = best * (1.0 - SELECT_MARGIN)
    check, *_ = check_with()
    assert check.choose({"network": edge})[0] == "network"
    assert check.choose({"network": edge * (1 + 1e-9)})[0] == "propagation"
    assert SELECT_MARGIN == pytest.approx(0.03)


def test_select_measures_the_networks_real_fill_on_the_held_out_pixels():
    check, frames, configs = check_with()
    region = configs[1].extra(configs[0].holes)
    assert region.any() and check.decisive
    truth = torch.from_numpy(encode(frames)).permute(0, 3, 1, 2)
    lines = []
    # a network that draws the plate itself: error 0, kept
    assert check.select(lambda indices, config: truth, lines.append) == "network"
    assert check.config == 1 and "keeping network" in lines[-1]
    # a network that draws grey: far worse than every baseline, the pre-fill is kept
    grey = torch.full_like(truth, 0.3)
    assert check.select(lambda indices, config: grey, lines.append) == "propagation"
    error = check.validation_error(lambda indices, config: grey)
    assert error == pytest.approx(held_out_error(frames, configs[0].holes, configs[1].holes,
                                                 decode(np.full(frames.shape, 0.3, np.float32))), rel=1e-5)


def test_an_undecidable_check_keeps_the_network():
    check, *_ = check_with(baselines={})
    assert not check.decisive
    assert check.select(lambda indices, config: pytest.fail("nothing to measure"), print) == "network"


def test_the_output_of_each_choice():
    frames = smooth_video(3, 16, 24, speed=1)
    holes = box_holes(3, 16, 24, 4, 8, 6, move=1)
    prefill = np.where(holes[..., None], 0.25, frames).astype(np.float32)
    region = Region((0, 0, 16, 24), (16, 24), (16, 24))
    output = Output(frames, holes.astype(np.float32), region, configs=[Configuration(holes, prefill)],
                    work_frames=frames, prefill_name="propagation")
    net = torch.full((3, 3, 16, 24), 0.6)
    learned = lambda indices: net if indices is None else net[indices]  # noqa: E731
    encoded_prefill = torch.from_numpy(encode(prefill)).permute(0, 3, 1, 2)
    hole = torch.from_numpy(holes)[:, None].expand(-1, 3, -1, -1)
    expected = {"network": net, "blend": BLEND_WEIGHT * (net + encoded_prefill), "propagation": encoded_prefill}
    for choice, fill in expected.items():
        output.choice = choice
        assert torch.equal(output.fill(learned, None)[hole], fill[hole]), choice
        out = output.frames_for(learned, [2])
        assert np.array_equal(out[0][~holes[2]], frames[2][~holes[2]])  # known pixels are the plate's
        assert np.allclose(out[0][holes[2]], decode(fill[2].permute(1, 2, 0).numpy())[holes[2]], atol=1e-6)


def test_training_gives_up_only_when_the_network_cannot_reach_the_margin_at_its_pace():
    check = check_with()[0]
    target = min(BASELINES.values()) * (1 - SELECT_MARGIN)
    assert check.give_up([5 * target], 5) is None, "one check is too early to judge"
    assert check.give_up([3 * target, 2.8 * target], 4) is not None, "far behind, improving slowly"
    assert check.give_up([3 * target, 2 * target], 4) is None, "improving fast enough to get there"
    assert check.give_up([2 * target, 0.9 * target], 0) is None, "already ahead"
    assert "keeping propagation" in check.give_up([3 * target, 3 * target], 4)


def test_training_past_its_share_of_the_time_stops_unless_a_learned_fill_would_be_kept():
    check, frames, _ = check_with()

    def infer_with(fill_linear):
        return lambda indices, config=0: torch.from_numpy(encode(fill_linear)).permute(0, 3, 1, 2)

    reason = check.budget_verdict(infer_with(np.zeros_like(frames)))  # black: far behind
    assert reason is not None and f"{100 * TRAIN_SHARE:.0f} % of the run" in reason and "keeping propagation" in reason
    assert check.budget_verdict(infer_with(frames)) is None, "a network that fills the held-out pixels exactly pays"


def test_the_time_share_counts_from_the_start_of_the_run():
    frames = smooth_video(4, 32, 48, speed=1)
    real = box_holes(4, 32, 48, 8, 12, 8, move=1)
    configs = [Configuration(real, frames.copy()), Configuration(real | np.roll(real, 16, axis=2), frames.copy())]
    check = HeldOutCheck(configs, frames, dict(BASELINES), "propagation", torch.device("cpu"),
                         started=time.monotonic() - 100.0)
    assert not check.over_budget(0.8 * TRAIN_SHARE * 100.0)
    assert check.over_budget(1.2 * TRAIN_SHARE * 100.0)
    undecided = HeldOutCheck(configs[:1] + [Configuration(real, frames.copy())], frames, dict(BASELINES),
                             "propagation", torch.device("cpu"), started=time.monotonic() - 100.0)
    assert not undecided.over_budget(90.0), "without held-out pixels there is nothing to stop for"
