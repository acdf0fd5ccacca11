"""The propagation pre-fill ported to torch for GPU runs (``renderer.fill.device``),
checked on the CPU against the OpenCV version it must match, piece by piece and whole;
and the held-out check computed on the device (``pipeline.selection.held_out_error_on_device``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from renderer.colour import decode, srgb_to_linear
from renderer.colour import display_like as display_values
from renderer.colour_torch import display_like
from renderer.errors import ConfigError, ShapeError
from renderer.fill import chains, classical, device as pt, device_chains, device_ops as image_ops, propagate, temporal
from renderer.fill.flow import FLOW_DILATE, GUARDED_FLOW_DILATE, CompletedFlow, completed_flow
from renderer.fill.classical import diffuse_into
from renderer.pipeline.holdout import held_out_error
from renderer.pipeline.selection import held_out_error_on_device

from standard_kit import box_holes, smooth_video


@pytest.mark.parametrize("sigma", [1.0, 4.0, 16.0])  # 16: the kernel is wider than the image
def test_gaussian_blur_is_opencvs(sigma):
    rng = np.random.default_rng(0)
    image = rng.random((20, 36, 2)).astype(np.float32)
    ours = image_ops.gaussian_blur(torch.from_numpy(image).permute(2, 0, 1)[None], sigma)[0].permute(1, 2, 0).numpy()
    assert np.abs(ours - cv2.GaussianBlur(image, (0, 0), sigma)).max() < 1e-5


def test_diffuse_matches_diffuse_into_frame_by_frame():
    rng = np.random.default_rng(1)
    field = rng.random((3, 40, 56, 2)).astype(np.float32)
    region = np.zeros((3, 40, 56), bool)
    region[0, 10:30, 8:30] = True
    region[1, 2:12, 30:54] = True  # another box: the sweeps run on the union of the boxes
    ours = image_ops.diffuse(torch.from_numpy(field).permute(0, 3, 1, 2), torch.from_numpy(region))
    ours = ours.permute(0, 2, 3, 1).numpy()
    for k in range(3):
        assert np.abs(ours[k] - diffuse_into(field[k], region[k])).max() < 1e-4
    assert np.array_equal(ours[2], field[2])  # nothing to fill there
    everything = image_ops.diffuse(torch.ones(1, 1, 4, 4), torch.ones(1, 4, 4, dtype=torch.bool))
    assert torch.equal(everything, torch.zeros(1, 1, 4, 4))  # nothing known: zeros, as diffuse_into
    with pytest.raises(ShapeError):
        image_ops.diffuse(torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, 5, dtype=torch.bool))


def test_follow_lands_where_the_opencv_chains_land():
    frames = smooth_video(6, 32, 48, speed=2)
    holes = box_holes(6, 32, 48, 10, 12, 8, move=2)
    flow = completed_flow(frames, holes)
    t = 2
    ys, xs, colours, distance, still = chains.follow(frames, holes, flow.forward, t, +1, 5, 0.35)
    theirs = device_chains.follow(torch.from_numpy(frames).reshape(-1, 3), torch.from_numpy(holes).reshape(-1),
                       torch.from_numpy(flow.forward).reshape(-1, 2), holes.shape, torch.full((ys.size,), t),
                       torch.from_numpy(ys), torch.from_numpy(xs), +1, 0.35)
    assert (distance > 0).any()
    assert np.array_equal(theirs[1].numpy(), distance)
    assert np.array_equal(theirs[2].numpy(), still)
    assert np.abs(theirs[0].numpy() - colours).max() < 2e-3  # OpenCV samples at 1/32 px


def test_the_landing_sample_on_the_device_is_the_opencv_one():
    rng = np.random.default_rng(5)
    frames = (rng.random((2, 20, 24, 3)) * 2.0).astype(np.float32)
    count = 500
    f = rng.integers(0, 2, count)
    x = rng.uniform(-1.0, 24.0, count).astype(np.float32)  # past the edges too: the border is replicated
    y = rng.uniform(-1.0, 20.0, count).astype(np.float32)
    ours = device_chains._landing_sample(torch.from_numpy(frames.reshape(-1, 3)), (2, 20, 24), torch.from_numpy(f),
                              torch.from_numpy(x), torch.from_numpy(y)).numpy()
    xc, yc = np.clip(x, 0, 23), np.clip(y, 0, 19)
    theirs = np.concatenate([chains.landing_sample(frames[k], xc[f == k], yc[f == k]) for k in (0, 1)])
    order = np.concatenate([np.flatnonzero(f == k) for k in (0, 1)])
    assert np.abs(ours[order] - theirs).max() < 1e-4


@pytest.mark.parametrize("guarded", [False, True])
def test_the_port_fills_as_the_opencv_version_and_keeps_known_pixels(guarded):
    frames = smooth_video(8, 48, 64, speed=2) * 1.5  # values above 1.0 are plate values
    holes = box_holes(8, 48, 64, 14, 10, 12, move=3)
    holes[5] = False  # a frame without a hole
    ours = pt.seamed_propagation(frames, holes, guarded=guarded, device="cpu")
    theirs = propagate.seamed_propagation(frames, holes, guarded=guarded)
    assert np.array_equal(ours[~holes], frames[~holes])
    assert np.abs(ours[holes] - theirs[holes]).mean() < 2e-3
    assert np.abs(ours[holes] - frames[holes]).mean() < 0.05
    with pytest.raises(ShapeError):
        pt.seamed_propagation(frames, holes[:-1], device="cpu")


def test_the_temporal_filter_on_the_device_is_the_opencv_one():
    # two shots stacked as propagate_sets stacks them: no frame takes a neighbour from the other
    frames = smooth_video(6, 40, 56, speed=2) * np.linspace(1.0, 1.3, 6, dtype=np.float32)[:, None, None, None]
    sets = [box_holes(6, 40, 56, 10, 8, 10, move=3), box_holes(6, 40, 56, 20, 30, 8, move=-2)]
    noise = np.random.default_rng(2).normal(0.0, 0.05, frames.shape).astype(np.float32)
    ours, theirs = [], []
    for holes in sets:
        flow = completed_flow(frames, holes)
        fill = np.where(holes[..., None], frames + noise, frames)
        theirs.append(temporal.smooth_along_flow(fill, holes, flow.forward, flow.backward))
        ours.append((torch.from_numpy(fill).permute(0, 3, 1, 2), torch.from_numpy(holes),
                     torch.from_numpy(flow.forward).permute(0, 3, 1, 2),
                     torch.from_numpy(flow.backward).permute(0, 3, 1, 2)))
    stacked = pt.smooth_along_flow(*(torch.cat(parts) for parts in zip(*ours)), period=6)
    stacked = stacked.permute(0, 2, 3, 1).numpy()
    for k, holes in enumerate(sets):
        mine = stacked[6 * k:6 * (k + 1)]
        assert np.array_equal(mine[~holes], frames[~holes])
        assert np.abs(mine[holes] - theirs[k][holes]).mean() < 1e-3  # OpenCV samples at 1/32 px
        assert np.abs(mine[holes] - ours[k][0].permute(0, 2, 3, 1).numpy()[holes]).mean() > 1e-2  # it did filter
    with pytest.raises(ShapeError):
        pt.smooth_along_flow(torch.zeros(5, 3, 8, 8), torch.zeros(5, 8, 8, dtype=torch.bool),
                             torch.zeros(5, 2, 8, 8), torch.zeros(5, 2, 8, 8), period=2)


def test_unreached_pixels_bounded_by_the_footage_get_diffusion_in_the_seamed_fill_and_telea_in_the_guarded():
    # a still shot with a still hole: no chain lands, so every pixel around what is left is
    # the hole's true border, and Telea gets no weight in the seamed fill (decision 0046)
    frames = np.repeat(smooth_video(1, 40, 40, speed=0), 5, axis=0)
    holes = box_holes(5, 40, 40, 12, 12, 14, move=0)
    seamed = propagate.seamed_propagation(frames, holes)
    guarded = propagate.guarded_propagation(frames, holes)
    for k in range(5):
        telea = classical.telea_frame(frames[k], holes[k])
        diffused = srgb_to_linear(diffuse_into(display_values(frames[k]), holes[k]))  # on display values
        assert np.abs(telea - diffused)[holes[k]].mean() > 1e-2
        assert np.allclose(seamed[k], diffused, atol=1e-5)
        assert np.allclose(guarded[k], telea, atol=1e-6)
    assert np.abs(pt.seamed_propagation(frames, holes, device="cpu") - seamed).max() < 1e-4
    assert np.abs(pt.seamed_propagation(frames, holes, guarded=True, device="cpu") - guarded).max() < 1e-4
    with pytest.raises(ConfigError):
        chains.place_fill(frames[0], holes[0], *np.nonzero(holes[0]), frames[0][holes[0]],
                             np.zeros(holes[0].sum(), bool), leftover="smear")


def test_the_port_blends_telea_into_the_propagated_pixels_as_the_opencv_version():
    # a slow pan under a wide still hole: chains reach its edges, not its middle
    frames = smooth_video(6, 40, 56, speed=1) * 1.5
    holes = box_holes(6, 40, 56, 10, 14, 24, move=0)
    ours = pt.seamed_propagation(frames, holes, device="cpu")
    theirs = propagate.seamed_propagation(frames, holes)
    telea = classical.telea(frames, holes)
    assert np.abs(theirs[holes] - telea[holes]).mean() > 1e-2  # the blend moved Telea
    assert np.abs(ours[holes] - theirs[holes]).mean() < 2e-3


def test_the_port_weighs_telea_as_the_host_does():
    rng = np.random.default_rng(3)
    hole = np.zeros((6, 30, 36), bool)
    hole[:, 6:24, 8:30] = True
    rest = hole & (rng.random(hole.shape) < 0.6)
    rest[0] = hole[0]  # ringed by the footage alone: weight 0
    rest[1] = False  # nothing left: no ring
    rest[2, 6:24, 8:20] = False  # the left of the hole propagated
    ours = pt.telea_weights(torch.from_numpy(hole), torch.from_numpy(rest)).numpy()
    theirs = np.array([chains.telea_weight(hole[k], rest[k]) for k in range(6)], np.float32)
    assert ours[0] == 0.0 and 0.0 < ours[2] < chains.TELEA_WEIGHT
    assert np.allclose(ours, theirs, rtol=1e-6, atol=0)


def test_held_out_error_on_the_device_is_the_host_ones():
    rng = np.random.default_rng(3)
    plate = (rng.random((4, 16, 20, 3)) * 2.0).astype(np.float32)
    real = np.zeros((4, 16, 20), bool)
    real[:, 4:8, 4:8] = True
    union = real.copy()
    union[:, 4:8, 10:16] = True
    fill_enc = rng.random((4, 3, 16, 20)).astype(np.float32)
    host = held_out_error(plate, real, union, decode(fill_enc.transpose(0, 2, 3, 1)))
    region = torch.from_numpy(union & ~real)
    target = display_like(torch.from_numpy(plate)[region])
    assert held_out_error_on_device(torch.from_numpy(fill_enc), region, target) == pytest.approx(host, rel=1e-5)
    nothing = torch.zeros_like(region)
    assert held_out_error_on_device(torch.from_numpy(fill_enc), nothing, target[:0]) == 0.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_port_on_cuda_fills_as_on_the_cpu():
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 14, 10, 12, move=3)
    for guarded in (False, True):
        on_gpu = pt.seamed_propagation(frames, holes, guarded=guarded, device="cuda")
        on_cpu = pt.seamed_propagation(frames, holes, guarded=guarded, device="cpu")
        assert np.array_equal(on_gpu[~holes], frames[~holes])
        assert np.abs(on_gpu[holes] - on_cpu[holes]).mean() < 1e-4


def test_several_hole_sets_in_one_batch_fill_as_one_at_a_time():
    frames = smooth_video(6, 40, 56, speed=2)
    sets = [box_holes(6, 40, 56, 10, 8, 10, move=3), box_holes(6, 40, 56, 20, 30, 8, move=-2),
            np.zeros((6, 40, 56), bool)]
    for guarded in (False, True):
        batch = pt.propagate_sets(frames, sets, guarded, device="cpu")
        for holes, filled in zip(sets, batch):
            alone = pt.seamed_propagation(frames, holes, guarded, device="cpu")
            assert np.abs(filled - alone).max() < 1e-5  # a chain never crosses into another set


def test_a_context_keeps_the_batch():
    from renderer.pipeline.region import Context
    from renderer.pipeline.holdout import fill_sets

    frames = smooth_video(6, 40, 56, speed=2)
    context = Context(box=(0, 0, 40, 56), inner=(4, 8, 36, 48), frames=frames)
    work = np.ascontiguousarray(frames[:, 4:36, 8:48])
    sets = [box_holes(6, 32, 40, 8, 6, 8, move=2), box_holes(6, 32, 40, 16, 20, 6, move=-1)]
    wrapped = context.wrap(pt.DevicePropagation("cpu"))
    assert hasattr(wrapped, "sets")
    batch = fill_sets(wrapped, work, sets)
    for holes, filled in zip(sets, batch):
        assert filled.shape == work.shape
        assert np.abs(filled - wrapped(work, holes)).max() < 1e-5
    plain = context.wrap(propagate.seamed_propagation)  # no batch: one call per set
    assert not hasattr(plain, "sets")
    assert np.array_equal(fill_sets(plain, work, sets)[1], plain(work, sets[1]))


def test_batched_pre_fills_are_the_one_at_a_time_ones(monkeypatch):
    """``input_configurations`` with a batched propagation (as on a GPU) fills the
    held-out set in the same batch as the others, and chooses as before."""
    import renderer.pipeline.holdout as holdout
    from renderer.callbacks import Callbacks
    from renderer.presets import STANDARD

    # a slow pan: at 2 px a frame the held-out box at the left edge is left to the fill of
    # unreached pixels (the pan carries it out of the frame), and guarded propagation wins
    frames = smooth_video(8, 48, 64, speed=1)
    holes = box_holes(8, 48, 64, 14, 10, 12, move=3)
    plain = holdout.baseline_fills
    monkeypatch.setattr(holdout, "baseline_fills",
                        lambda context=None, device=None, references=frozenset(), still=True, kept=None,
                        passes=propagate.FLOW_PASSES:
                        plain(context, "cpu", still=still, passes=passes))
    one_at_a_time, errors_a, name_a = holdout.input_configurations(frames, holes, STANDARD, 0, Callbacks())
    calls = []

    class Counted(pt.DevicePropagation):
        def sets(self, frames_linear, hole_sets):
            calls.append(len(hole_sets))
            return super().sets(frames_linear, hole_sets)

    monkeypatch.setattr(holdout, "baseline_fills",
                        lambda context=None, device=None, references=frozenset(), still=True, kept=None,
                        passes=propagate.FLOW_PASSES:
                        dict(plain(context, "cpu"), propagation=Counted("cpu", still=still, passes=passes),
                             guarded=Counted("cpu", True, passes=passes)))
    batched, errors_b, name_b = holdout.input_configurations(frames, holes, STANDARD, 0, Callbacks())
    # the seamed fill of every set with extra holes at once, the held-out one too; the guarded
    # held-out one; then the real hole's, with the unmoved copy
    assert calls == [len(batched) - 1, 1, 1]
    assert name_a == name_b == "propagation"
    for a, b in zip(one_at_a_time, batched):
        assert np.array_equal(a.holes, b.holes)
        assert np.abs(a.prefill - b.prefill).max() < 2e-3
    assert errors_b["propagation"] == pytest.approx(errors_a["propagation"], rel=0.05)


@pytest.mark.parametrize("guarded", [False, True])
def test_the_chains_mark_the_hole_pixels_from_which_they_land_on_both_ports(guarded):
    frames = smooth_video(8, 48, 64, speed=1)
    holes = np.zeros((8, 48, 64), bool)
    holes[:, 14:34, 20:44] = True  # a fixed box wider than the pan's 7 px: its middle is never revealed
    grow = GUARDED_FLOW_DILATE if guarded else FLOW_DILATE
    hole = torch.from_numpy(holes)
    forward, backward = pt.completed_flows(frames, [holes], hole, grow)
    on_device = torch.zeros_like(hole)
    pt.propagation_pass(frames, [holes], torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous(), hole, forward,
                        backward, guarded, propagate.NEAR, True, on_device)
    flow = CompletedFlow(forward=pt._on_host(forward, 0, len(frames)), backward=pt._on_host(backward, 0, len(frames)))
    on_host = np.zeros_like(holes)
    propagate.chain_fill(frames, holes, flow, guarded, propagate.NEAR, reached=on_host)
    reached = holes & ~chains.unreached(frames, holes, flow=flow)
    assert (holes & ~reached).any() and reached.any()
    assert np.array_equal(on_host, reached)  # the guarded variant's too, whether its guard trusts the landing or not
    assert np.array_equal(on_device.numpy(), on_host)
