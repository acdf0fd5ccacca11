"""Where a long chain of flow may land: only where the footage moves on as the chain
arrived (``renderer.fill.chains.moves_on``, decision 0053), on the host and the device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.errors import ShapeError
from renderer.fill import chains
from renderer.fill import device_chains as pt
from renderer.fill.flow import CompletedFlow

N, H, W = 8, 12, 48
HOLE = slice(10, 30)  # columns of a fixed box
STEP = 4.0  # px a frame: the flow the chains cross the box on


def stepping_shot(onward_at_landing: float):
    """A fixed box over columns 10-29 of every frame; the flow is STEP px a frame to the right
    everywhere, except frame 5 (where a chain from column 12 of frame 0 lands, at column 32)
    moves on at ``onward_at_landing`` px a frame. Frames: each pixel's colour is its column."""
    frames = np.repeat(np.arange(W, dtype=np.float32)[None, None, :, None] / W, N, axis=0)
    frames = np.broadcast_to(frames, (N, H, W, 3)).copy()
    holes = np.zeros((N, H, W), bool)
    holes[:, :, HOLE] = True
    flows = np.zeros((N, H, W, 2), np.float32)
    flows[:-1, ..., 0] = STEP
    flows[5, ..., 0] = onward_at_landing
    return frames, holes, flows


def start_at_column_12():
    starts = np.zeros((H, W), bool)
    starts[6, 12] = True
    return starts


def test_moves_on_allows_the_slack_and_no_more():
    arrived = np.array([[4.0, 0.0], [4.0, 0.0], [0.0, 0.0], [30.0, 0.0]], np.float32)
    onward = np.array([[8.9, 0.0], [9.1, 0.0], [0.0, 2.9], [45.0, 0.0]], np.float32)
    # slack 3 + 0.5 x |arrived|: 5, 5, 3, 18 px
    assert chains.moves_on(arrived, onward).tolist() == [True, False, True, True]
    on_device = pt.moves_on(torch.from_numpy(arrived), torch.from_numpy(onward))
    assert on_device.tolist() == [True, False, True, True]
    with pytest.raises(ShapeError):
        chains.moves_on(arrived, onward[:, :1])


@pytest.mark.parametrize("onward, trust, lands", [
    (STEP, chains.LANDING_TRUST, True),  # the footage moves on as the chain arrived
    (STEP + 40.0, None, True),  # no test asked for: the plain chains of flow_propagation
    (STEP + 40.0, chains.LANDING_TRUST, False),  # five frames of completed flow onto a walker
    (STEP + 40.0, 5, True),  # a chain of five frames trusted
])
def test_a_long_chain_lands_only_where_the_footage_moves_on_as_it_arrived(onward, trust, lands):
    frames, holes, flows = stepping_shot(onward)
    ys, xs, colours, distance, _ = chains.follow(frames, holes, flows, 0, +1, N - 1, starts=start_at_column_12(),
                                                 trust=trust)
    assert distance.tolist() == ([5] if lands else [0])
    if lands:
        assert colours[0, 0] == pytest.approx(32 / W)  # column 12 + 5 steps of 4 px


def test_a_landing_in_the_last_frame_is_kept_where_no_flow_leaves_it():
    frames, holes, flows = stepping_shot(STEP)
    holes[1:-1, :, 10:] = True  # the chain from column 12 lands first in the last frame, at column 40
    flows[-1, ..., 0] = STEP + 40.0  # what the last frame's entry would say, were it asked
    _, _, colours, distance, _ = chains.follow(frames, holes, flows, 0, +1, N - 1, starts=start_at_column_12(),
                                               trust=chains.LANDING_TRUST)
    assert distance.tolist() == [N - 1]
    assert colours[0, 0] == pytest.approx(40 / W)


@pytest.mark.parametrize("onward", [STEP, STEP + 40.0])
def test_the_device_chains_land_where_the_host_chains_land(onward):
    frames, holes, flows = stepping_shot(onward)
    starts = holes[0].copy()
    ys, xs, colours, distance, still = chains.follow(frames, holes, flows, 0, +1, N - 1, starts=starts,
                                                     trust=chains.LANDING_TRUST)
    theirs = pt.follow(torch.from_numpy(frames).reshape(-1, 3), torch.from_numpy(holes).reshape(-1),
                       torch.from_numpy(flows).reshape(-1, 2), holes.shape, torch.zeros(ys.size, dtype=torch.long),
                       torch.from_numpy(ys), torch.from_numpy(xs), +1, trust=chains.LANDING_TRUST)
    assert np.array_equal(theirs[1].numpy(), distance)
    assert np.abs(theirs[0].numpy() - colours).max() < 2e-3
    # columns 10-13 land in frame 5 after five steps, the others sooner
    assert (distance[xs >= 14] > 0).all()
    assert (distance[xs < 14] > 0).all() == (onward == STEP)


def test_what_a_rejected_chain_would_have_brought_counts_as_unreached():
    frames, holes, flows = stepping_shot(STEP + 40.0)
    flow = CompletedFlow(forward=flows, backward=np.zeros_like(flows))
    distance, _ = chains.chain_sources(frames, holes, flow=flow)
    # frame 0's columns 10-13 reach footage only in frame 5, on the walker
    assert (distance[0, :, 10:14] == 0).all()
    assert (distance[0, :, 14:30] > 0).all()
    assert chains.unreached(frames, holes, flow=flow)[0, :, 10:14].all()
