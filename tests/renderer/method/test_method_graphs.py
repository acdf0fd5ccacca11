"""CUDA-graph training steps (renderer.method.graphs): the static-buffer plumbing is checked on
the CPU, where a graph cannot be captured; the capture itself only where CUDA is."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from renderer.inpaint import inpaint_arrays
from renderer.method.flow import reference_flow
from renderer.method.graphs import GraphedForward, GraphedSteps, capturable_adam, conform_optimizer
from renderer.method.model import SkipNet
from renderer.method.prepare import input_channels, prepare
from renderer.presets import PAPER, STANDARD
from renderer.method.schedule import Segment
from renderer.pipeline.holdout import Configuration
from renderer.method.step import gather, step_on, train_step
from renderer_helpers import bits

CUDA = torch.cuda.is_available()
SEGMENTS = [Segment((0, 1, 2), 1, 1, 1), Segment((0, 3, 6), 3, -1, 1), Segment((2, 3, 4), 1, 1, 1),
            Segment((1, 4, 7), 3, -1, 1), Segment((3, 4, 5), 1, -1, 1), Segment((4, 5, 6), 1, 1, 1)]


def _shot(n=8, h=40, w=56):
    rng = np.random.default_rng(3)
    base = rng.random((h, w + 2 * n, 3)).astype(np.float32)
    frames = np.stack([base[:, 2 * t:2 * t + w] for t in range(n)]) ** 2.2
    holes = np.zeros((n, h, w), bool)
    for t in range(n):
        holes[t, 12:24, 16 + t:30 + t] = True
    return frames, holes


def _setup(preset, device="cpu", batch=3):
    from dataclasses import replace

    preset = replace(preset, batch_frames=batch, strides=(1, 3))
    frames, holes = _shot()
    ref = reference_flow(frames, preset.strides)
    configs = None
    if preset.input_mode == "masked":  # the real hole, and one with an extra hole beside it
        extra = holes | np.roll(holes, 14, axis=2)
        configs = [Configuration(h, np.where(h[..., None], frames.mean(), frames)) for h in (holes, extra)]
    prep = prepare(frames, holes, preset, ref, torch.device(device), 0, configs=configs)
    torch.manual_seed(0)
    net = SkipNet(input_channels(preset), preset.channels, preset.skip_channels, flow_head=True,
                  residual=preset.residual).to(device)
    return preset, prep, net


def test_batch_kind_tells_apart_what_a_graph_bakes_in():
    preset, prep, _ = _setup(PAPER)
    kinds = [gather(prep, seg, preset).kind for seg in SEGMENTS]
    # same stride and direction, other frames: one graph; another stride or direction: another
    assert kinds[0] == kinds[2] == kinds[5]
    assert kinds[1] == kinds[3]
    assert len({kinds[0], kinds[1], kinds[4]}) == 3


def test_steps_through_static_buffers_equal_eager_steps():
    """What a graph replays: each batch copied into its kind's buffers, the step run on
    those. On the CPU (same kernels, same order) the weights must match bit for bit."""
    preset, prep, net_a = _setup(PAPER)
    _, _, net_b = _setup(PAPER)
    opt_a = torch.optim.Adam(net_a.parameters(), lr=preset.lr)
    opt_b = torch.optim.Adam(net_b.parameters(), lr=preset.lr)
    statics = {}
    for seg in SEGMENTS * 2:
        train_step(net_a, opt_a, prep, seg, preset, lr=preset.lr)
        batch = gather(prep, seg, preset)
        static = statics.setdefault(batch.kind, batch.static_copy())
        batch.copy_into(static)
        step_on(net_b, opt_b, static, preset)
    assert len(statics) == 3
    for a, b in zip(net_a.parameters(), net_b.parameters()):
        assert torch.equal(a, b)


def test_static_buffers_do_not_alias_the_prepared_tensors():
    preset, prep, _ = _setup(STANDARD)
    before = prep.target.clone()
    batch = gather(prep, SEGMENTS[0], preset, config=1)
    static = batch.static_copy()
    assert static.extra is not None and static.flow_target is not None
    assert gather(prep, SEGMENTS[0], preset, config=0).kind != batch.kind  # no extra-hole loss: another graph
    gather(prep, SEGMENTS[2], preset, config=1).copy_into(static)
    assert torch.equal(prep.target, before)  # writing a graph's inputs leaves the shot alone


def test_restored_optimizer_from_a_graphed_run_steps_on_the_cpu():
    """A checkpoint written by a graphed run (capturable Adam, a learning rate on the device)
    resumed on a CPU box."""
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    state = opt.state_dict()
    for group in state["param_groups"]:
        group["capturable"], group["lr"] = True, torch.tensor(0.01)
    resumed = torch.optim.Adam(net.parameters(), lr=0.01)
    resumed.load_state_dict(state)
    net(torch.ones(1, 3)).sum().backward()
    with pytest.raises((RuntimeError, AssertionError)):
        resumed.step()  # what the resume would do without conforming
    conform_optimizer(resumed, capturable=False)
    before = [p.detach().clone() for p in net.parameters()]
    resumed.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    assert isinstance(resumed.param_groups[0]["lr"], float)


def _eager_twin(net, optimizer, lr):
    """A copy of ``net`` and of its (possibly capturable) Adam, as a plain eager Adam."""
    twin = copy.deepcopy(net)
    twin_opt = torch.optim.Adam(twin.parameters(), lr=lr)
    twin_opt.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    conform_optimizer(twin_opt, capturable=False)
    return twin, twin_opt


def _update(net, before):
    return torch.cat([(p.detach() - b).flatten() for p, b in zip(net.parameters(), before)])


def test_an_eager_twin_takes_the_same_step():
    """The yardstick of the CUDA test below, on the CPU: a twin made from the network and
    its optimiser state takes the very same step."""
    preset, prep, net = _setup(PAPER)
    opt = torch.optim.Adam(net.parameters(), lr=preset.lr)
    for seg in SEGMENTS:
        before = [p.detach().clone() for p in net.parameters()]
        twin, twin_opt = _eager_twin(net, opt, preset.lr)
        expected = train_step(twin, twin_opt, prep, seg, preset, lr=preset.lr)["total"]
        got = train_step(net, opt, prep, seg, preset, lr=preset.lr)["total"]
        assert torch.equal(got, expected)
        assert torch.equal(_update(net, before), _update(twin, before))


@pytest.mark.skipif(not CUDA, reason="CUDA graphs need a CUDA device")
def test_each_graphed_step_matches_an_eager_step_from_the_same_state_on_cuda():
    """Every replay computes the loss an eager step computes at the same weights, and moves
    the weights the same way (eager CUDA itself is not bit-exact: some backward kernels add
    with atomics, so the update is compared by direction)."""
    torch.backends.cudnn.deterministic = True
    try:
        preset, prep, net = _setup(PAPER, "cuda")
        opt = capturable_adam(net.parameters(), preset.lr)
        graphed = GraphedSteps(net, opt, preset, precision="fp32")
        for k, seg in enumerate(SEGMENTS * 2):
            lr = preset.lr * (1.0 - 0.02 * k)
            before = [p.detach().clone() for p in net.parameters()]
            twin, twin_opt = _eager_twin(net, opt, lr)
            expected = float(train_step(twin, twin_opt, prep, seg, preset, lr=lr, precision="fp32")["total"])
            got = float(graphed(prep, seg, 0, lr)["total"])
            assert got == pytest.approx(expected, rel=1e-4), k
            cos = torch.nn.functional.cosine_similarity(_update(net, before), _update(twin, before), dim=0)
            assert float(cos) > 0.99, k
        assert graphed.failure is None
        assert (len(graphed.graphs), graphed.eager, graphed.replays) == (3, 3, 9)
    finally:
        torch.backends.cudnn.deterministic = False


@pytest.mark.skipif(not CUDA, reason="CUDA graphs need a CUDA device")
def test_engine_trains_from_graphs_on_cuda_and_keeps_known_pixels():
    frames, holes = _shot()
    notes = []
    from renderer.callbacks import Callbacks

    res = inpaint_arrays(frames, holes, preset=STANDARD, steps=30, device="cuda",
                         callbacks=Callbacks(log=notes.append))
    assert any(n.startswith("CUDA graphs:") and "captured" in n for n in notes), notes
    assert not any("failed" in n for n in notes), notes  # neither training's capture nor inference's
    np.testing.assert_array_equal(bits(res.frames[~holes]), bits(frames[~holes]))
    assert np.isfinite(res.frames).all()


@pytest.mark.skipif(not CUDA, reason="CUDA graphs need a CUDA device")
def test_graphed_inference_replays_the_forward_and_sees_weight_updates_on_cuda():
    preset, prep, net = _setup(STANDARD, device="cuda")
    forward = GraphedForward(net)
    with torch.no_grad():
        for config in (0, 1, 0):  # the second window of a shape replays
            x = torch.cat([prep.cfg_rgb[config][:3], prep.cfg_hole[config][:3], prep.noise[:3]], dim=1)
            eager = net(x)[0].clone()
            torch.testing.assert_close(forward(x)[0], eager, rtol=1e-4, atol=1e-5)
        for p in net.parameters():  # an in-place update, as Adam's and load_state_dict's
            p.add_(0.01 * torch.randn_like(p))
        torch.testing.assert_close(forward(x)[0], net(x)[0], rtol=1e-4, atol=1e-5)
    assert len(forward.graphs) == 1 and forward.failure is None
