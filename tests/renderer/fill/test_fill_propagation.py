"""The standard preset's pre-fill: propagation with still chains snapped, seams
matched and the fill steadied along the flow (``renderer.fill.propagate``, ``renderer.fill.temporal``), and the loss
that teaches the residual network on the extra holes (``losses.masked_mean_loss``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import renderer.loop
from renderer.colour import display_like, srgb_to_linear
from renderer.errors import ShapeError
from renderer.fill import flow, temporal
from renderer.fill.chains import TELEA_WEIGHT, flow_propagation, place_fill, telea_weight
from renderer.fill.classical import blended_telea, diffuse_into, telea_frame
from renderer.fill.propagate import seam_offset, seamed_propagation
from renderer.fill.temporal import exposure_gain, smooth_along_flow
from renderer.inpaint import inpaint_arrays
from renderer.method.losses import masked_mean_loss
from renderer.pipeline.selection import HeldOutCheck
from renderer.presets import STANDARD
from standard_kit import always_learning, box_holes, smooth_video


def fine_texture(n, h, w, speed, seed=0):
    """Pixel-scale texture (what a bilinear sample blurs), panning by ``speed`` px a frame."""
    rng = np.random.default_rng(seed)
    wide = (0.2 + 0.6 * rng.random((h, w + n * speed + 1, 3))).astype(np.float32)
    return np.stack([wide[:, speed * k:speed * k + w] for k in range(n)])


@pytest.mark.parametrize("dragged", [False, True])
def test_a_still_background_is_copied_exactly_not_resampled(monkeypatch, dragged):
    """``dragged``: DIS on Telea's pre-fill alone, whose flow the moving hole drags off
    zero beside it (without the pre-fill that moves with the background, decision 0058)."""
    if dragged:
        monkeypatch.setattr(flow, "pair_flows", lambda dis, g0, g1, h0, h1, forward, backward, usable:
                            (forward, backward))
    frames = fine_texture(8, 48, 64, speed=0)
    holes = box_holes(8, 48, 64, 18, 10, 10, move=4)
    seamed = seamed_propagation(frames, holes)
    plain = flow_propagation(frames, holes)
    assert np.array_equal(seamed[~holes], frames[~holes])
    seamed_err = np.abs(seamed[holes] - frames[holes]).mean()
    assert seamed_err < 1e-6, seamed_err
    if dragged:  # resampled along a flow a fraction of a pixel off, the plain chains blur
        assert np.abs(plain[holes] - frames[holes]).mean() > 10 * max(seamed_err, 1e-7)


def test_an_exposure_change_between_frames_leaves_no_seam():
    still = smooth_video(8, 48, 64, speed=2)
    gain = np.linspace(1.0, 1.6, 8, dtype=np.float32)[:, None, None, None]
    frames = still * gain  # the light comes up through the shot
    holes = box_holes(8, 48, 64, 18, 10, 10, move=3)
    seamed = seamed_propagation(frames, holes)
    plain = flow_propagation(frames, holes)
    assert np.array_equal(seamed[~holes], frames[~holes])
    seamed_err = np.abs(seamed[holes] - frames[holes]).mean()
    plain_err = np.abs(plain[holes] - frames[holes]).mean()
    assert seamed_err < 0.5 * plain_err, (seamed_err, plain_err)


def test_unreached_pixels_take_telea_s_shape_and_the_propagated_pixels_level():
    frame = smooth_video(1, 40, 48, speed=0)[0]
    hole = np.zeros((40, 48), bool)
    hole[10:30, 10:38] = True
    telea = telea_frame(frame, hole)
    rest = hole.copy()
    rest[:, 10:20] = False
    filled = np.where(hole[..., None], telea, frame)
    filled[10:30, 10:20] += 0.2  # the left of the hole was propagated; its level is Telea's + 0.2
    out = blended_telea(frame, hole, filled, rest)
    assert np.array_equal(out[~rest], filled[~rest])
    lift = (out - telea)[20].mean(axis=1)  # along the middle row
    assert lift[20] > 0.17  # next to the propagated pixels, their level
    assert abs(lift[37]) < 0.01  # next to the known border, Telea's
    assert np.all(np.diff(lift[20:38]) < 0)  # in between, a smooth hand-over
    # where what was propagated is what Telea draws, the fill is Telea's
    same = blended_telea(frame, hole, np.where(hole[..., None], telea, frame), rest)
    assert np.allclose(same, telea, atol=1e-5)
    with pytest.raises(ShapeError):
        blended_telea(frame, hole, filled[:-1], rest)


def test_telea_s_weight_follows_the_share_of_propagated_pixels_around_what_is_left():
    hole = np.zeros((40, 48), bool)
    hole[10:30, 10:38] = True
    assert telea_weight(hole, hole) == 0.0  # a box no chain reaches: ringed by the footage
    rest = hole.copy()
    rest[:, 10:20] = False  # the left of the hole propagated
    # rest is 20 x 18 px, its ring 22 x 20 less that: 80 px, of which the column on its
    # left (20 px) is propagated and the rest the true border
    assert telea_weight(hole, rest) == pytest.approx(TELEA_WEIGHT * 20 / 80)
    middle = np.zeros_like(hole)
    middle[15:25, 20:28] = True  # ringed by propagated pixels alone
    assert telea_weight(hole, middle) == TELEA_WEIGHT
    with pytest.raises(ShapeError):
        telea_weight(hole, rest[:-1])


def test_a_box_no_chain_reaches_is_diffused_from_the_footage_without_telea_s_streaks():
    # a field harmonic in display values (x^2 - y^2): what diffusion from the true border
    # finds again, and what Telea's first-order guess from the border bends
    ys, xs = np.mgrid[0:48, 0:56].astype(np.float32)
    field = 0.5 + ((xs - 28) ** 2 - (ys - 24) ** 2) / 2000.0
    frame = srgb_to_linear(np.repeat(field[..., None], 3, axis=-1))
    hole = np.zeros((48, 56), bool)
    hole[14:34, 16:40] = True
    ys_h, xs_h = np.nonzero(hole)
    nothing = np.zeros(ys_h.size, bool)
    out = place_fill(frame, hole, ys_h, xs_h, frame[hole], nothing, leftover="telea-diffusion-mean")
    diffused = srgb_to_linear(diffuse_into(display_like(frame), hole))
    assert np.array_equal(out, np.where(hole[..., None], diffused, frame))
    mean = blended_telea(frame, hole, frame, hole, weight=TELEA_WEIGHT)  # the rule before decision 0046
    error, former = np.abs(out - frame)[hole].mean(), np.abs(mean - frame)[hole].mean()
    assert error < 0.5 * former, (error, former)


def test_the_fill_of_unreached_pixels_is_made_on_display_values():
    # a dark sky beside a lit window (4.0, above 1.0): made in scene-linear, the highlight
    # would lift the whole box (decision 0051); on display values the fill is their harmonic
    # interpolation, and highlights survive the round trip
    frame = np.full((30, 40, 3), 0.01, np.float32)
    frame[:, 30:] = 4.0
    hole = np.zeros((30, 40), bool)
    hole[5:25, 8:34] = True
    ys_h, xs_h = np.nonzero(hole)
    out = place_fill(frame, hole, ys_h, xs_h, frame[hole], np.zeros(ys_h.size, bool), leftover="telea-diffusion-mean")
    assert np.allclose(display_like(out)[hole], diffuse_into(display_like(frame), hole)[hole], atol=1e-4)
    in_linear = diffuse_into(frame, hole)
    middle = (15, 20)
    assert out[middle].max() < 0.5 * in_linear[middle].min(), (out[middle], in_linear[middle])
    assert out[hole].max() > 1.0  # next to the window, above 1.0 as the plate is


def test_seam_offset_spreads_the_ring_difference_into_the_hole():
    h, w = 32, 40
    hole = np.zeros((h, w), bool)
    hole[10:20, 12:24] = True
    ring = np.zeros_like(hole)
    ring[8:22, 10:26] = True
    ring &= ~hole
    frame = np.full((h, w, 3), 0.5, np.float32)
    offset = seam_offset(frame, ring, frame - 0.1, hole)
    assert np.allclose(offset[hole], 0.1, atol=1e-4)
    assert np.array_equal(seam_offset(frame, np.zeros_like(ring), frame, hole), np.zeros_like(frame))
    with pytest.raises(ShapeError):
        seam_offset(frame, ring[:-1], frame, hole)


def panning_flows(n, h, w, speed):
    """The exact flows of ``smooth_video(speed=...)``: frame t+1 is frame t moved ``speed`` px left."""
    forward = np.zeros((n, h, w, 2), np.float32)
    backward = np.zeros((n, h, w, 2), np.float32)
    forward[:-1, ..., 0] = -speed
    backward[1:, ..., 0] = speed
    return forward, backward


def test_the_temporal_filter_steadies_a_flickering_fill_and_keeps_known_pixels():
    n, h, w = 8, 40, 64
    truth = smooth_video(n, h, w, speed=2)
    holes = box_holes(n, h, w, 12, 16, 12, move=2)
    noise = np.random.default_rng(5).normal(0.0, 0.05, truth.shape).astype(np.float32)
    fill = np.where(holes[..., None], truth + noise, truth)  # each frame's fill errs on its own
    steadied = smooth_along_flow(fill, holes, *panning_flows(n, h, w, 2))
    assert np.array_equal(steadied[~holes], truth[~holes])
    before = np.abs(fill - truth)[holes].mean()
    after = np.abs(steadied - truth)[holes].mean()
    assert after < 0.6 * before, (after, before)
    # frame to frame along the motion, the hole changes less
    def flicker(video):
        return np.mean([np.abs(video[t, :, 2:] - video[t + 1, :, :-2])[holes[t, :, 2:]].mean() for t in range(n - 1)])
    assert flicker(steadied) < 0.6 * flicker(fill)
    assert np.array_equal(smooth_along_flow(fill, holes, *panning_flows(n, h, w, 2), sweeps=0), fill)
    with pytest.raises(ShapeError):
        smooth_along_flow(fill, holes[:-1], *panning_flows(n, h, w, 2))


def test_the_temporal_filter_brings_each_neighbour_to_the_frame_s_light(monkeypatch):
    n, h, w = 8, 40, 64
    # the light comes up through the shot, faster and faster: a mean of the frames before and
    # after is brighter than the frame between them
    gain = (1.0 + np.linspace(0.0, 1.0, n, dtype=np.float32) ** 2)[:, None, None, None]
    truth = smooth_video(n, h, w, speed=2) * gain
    holes = box_holes(n, h, w, 12, 16, 12, move=2)
    flows = panning_flows(n, h, w, 2)
    assert exposure_gain(truth[3], holes[3], truth[4], holes[4], flows[0][3]) == pytest.approx(
        [gain[3, 0, 0, 0] / gain[4, 0, 0, 0]] * 3, rel=1e-4)
    steadied = smooth_along_flow(truth, holes, *flows)  # a perfect fill must stay put
    assert np.abs(steadied - truth)[holes].mean() < 1e-3
    monkeypatch.setattr(temporal, "exposure_gain", lambda *args: np.ones(3, np.float32))
    unlit = smooth_along_flow(truth, holes, *flows)  # what a plain mean along the motion does
    assert np.abs(unlit - truth)[holes].mean() > 1e-2


def test_the_exposure_gain_on_a_grid_is_the_whole_frame_s():
    # a steep ramp panning 2.6 px a frame: a grid read at the wrong place, or the neighbour
    # read without the flow, would give a ratio far from the true 1 / 1.3
    h, w = 90, 160
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.stack([0.02 + xs / w, 0.05 + ys / h, 0.5 + 0.4 * np.sin(xs / 7.0) * np.cos(ys / 5.0)], axis=-1)
    frame = ramp.astype(np.float32)
    shifted = np.stack([0.02 + (xs - 2.6) / w, 0.05 + ys / h,
                        0.5 + 0.4 * np.sin((xs - 2.6) / 7.0) * np.cos(ys / 5.0)], axis=-1)
    other = (1.3 * shifted).astype(np.float32)  # frame t's pixel x is other's x + 2.6
    flow = np.zeros((h, w, 2), np.float32)
    flow[..., 0] = 2.6
    hole = np.zeros((h, w), bool)
    hole[30:60, 50:90] = True
    other_hole = np.roll(hole, 3, axis=1)
    every = exposure_gain(frame, hole, other, other_hole, flow)  # a frame this small: every pixel
    assert np.array_equal(every, exposure_gain(frame, hole, other, other_hole, flow, stride=1))
    grid = exposure_gain(frame, hole, other, other_hole, flow, stride=4)
    assert every == pytest.approx([1 / 1.3] * 3, rel=2e-3)  # bilinear reads of a sine are near exact
    assert grid == pytest.approx(every, rel=1e-3)
    still = exposure_gain(frame, hole, other, other_hole, np.zeros_like(flow), stride=4)  # the control
    assert np.abs(still - 1 / 1.3).max() > 5e-3
    with pytest.raises(ShapeError):
        exposure_gain(frame, hole, other, other_hole, flow, stride=0)


@pytest.mark.parametrize("height, width", [(96, 160), (576, 768), (1152, 2048), (2160, 4096), (674, 3520)])
def test_the_exposure_gain_sums_a_grid_of_at_least_its_sample_count(height, width):
    stride = temporal.gain_stride(height, width)
    grid = len(range(0, height, stride)) * len(range(0, width, stride))
    assert grid >= min(temporal.GAIN_SAMPLES, height * width)
    assert stride == 1 or len(range(0, height, stride + 1)) * len(range(0, width, stride + 1)) \
        < temporal.GAIN_SAMPLES * 1.2  # and the next coarser step keeps about the count or fewer


def test_seamed_propagation_rejects_mismatched_holes():
    frames = smooth_video(4, 32, 32)
    with pytest.raises(ShapeError):
        seamed_propagation(frames, np.zeros((3, 32, 32), bool))


def test_masked_mean_loss_averages_over_the_region_alone():
    out = torch.zeros(1, 3, 8, 8)
    target = torch.zeros(1, 3, 8, 8)
    target[..., :2, :2] = 1.0
    small = torch.zeros(1, 1, 8, 8)
    small[..., :2, :2] = 1.0
    assert float(masked_mean_loss(out, target, small)) == pytest.approx(1.0)
    # the plain mean over the frame shrinks with the region's share; this one does not
    assert float(((out - target) * small).pow(2).mean()) == pytest.approx(4 / 64)
    assert float(masked_mean_loss(out, target, torch.zeros_like(small))) == 0.0


def test_extra_hole_loss_is_trained_only_on_configurations_with_extra_holes(monkeypatch):
    frames = smooth_video(6, 48, 64, speed=1)
    holes = box_holes(6, 48, 64, 16, 20, 8, move=2)
    seen = []
    real_step = renderer.loop.train_step

    def spy(*args, **kwargs):
        parts = real_step(*args, **kwargs)
        seen.append((kwargs.get("config", 0), "extra_hole" in parts))
        return parts

    monkeypatch.setattr(renderer.loop, "train_step", spy)
    monkeypatch.setattr(HeldOutCheck, "give_up", lambda *args: None)  # every step trains, whatever it buys
    monkeypatch.setattr(HeldOutCheck, "budget_verdict", lambda *args: None)
    learning = always_learning(STANDARD)  # every chain lands in this hole: standard alone would not train
    inpaint_arrays(frames, holes, preset=learning, steps=4)
    inpaint_arrays(frames, holes, preset=replace(learning, w_extra_hole=0.0), steps=2)
    assert len(seen) == 6
    assert all(config > 0 and has for config, has in seen[:4])
    assert not any(has for _, has in seen[4:])


@pytest.mark.parametrize("guarded", [False, True])
def test_a_hole_of_more_than_32767_pixels_is_filled(guarded):
    """OpenCV's remap refuses maps of 32,767 columns or more; a 182x182 hole is past that."""
    frames = smooth_video(3, 224, 256, speed=3)
    holes = box_holes(3, 224, 256, 20, 30, 184, move=4)
    assert holes[0].sum() > 32767
    out = seamed_propagation(frames, holes, guarded=guarded)
    assert np.array_equal(out[~holes], frames[~holes])
    assert np.isfinite(out).all()
    # no sample from outside the frames' range: Telea and the seam's diffusion may pass it by a little
    assert frames.min() - 5e-3 <= out[holes].min() and out[holes].max() <= frames.max() + 5e-3


def test_the_landing_sample_keeps_pixel_texture_and_never_rings():
    from renderer.fill.chains import bilinear, landing_sample
    rng = np.random.default_rng(3)
    image = (0.2 + 0.6 * rng.random((32, 40, 3))).astype(np.float32)
    ys, xs = np.mgrid[4:28, 4:36]
    ys, xs = ys.ravel().astype(np.float32), xs.ravel().astype(np.float32)
    # on the pixel grid, the pixel itself
    assert np.allclose(landing_sample(image, xs, ys), image[ys.astype(int), xs.astype(int)], atol=1e-6)
    # half a pixel off, bicubic keeps more of the texture's contrast than bilinear
    sharp = landing_sample(image, xs + 0.5, ys + 0.5)
    soft = bilinear(image, xs + 0.5, ys + 0.5)
    assert sharp.std() > 1.1 * soft.std(), (sharp.std(), soft.std())
    # at a step edge (values above 1.0 are plate values) nothing leaves the four neighbours' range
    edge = np.zeros((8, 16, 3), np.float32)
    edge[:, 8:] = 4.0
    px = np.linspace(5.0, 10.0, 41, dtype=np.float32)
    got = landing_sample(edge, px, np.full_like(px, 3.0))
    assert got.min() >= 0.0 and got.max() <= 4.0
    x0 = np.floor(px).astype(int)
    assert np.all(got[:, 0] >= np.minimum(edge[3, x0, 0], edge[3, x0 + 1, 0]) - 1e-6)
    assert np.all(got[:, 0] <= np.maximum(edge[3, x0, 0], edge[3, x0 + 1, 0]) + 1e-6)
    assert landing_sample(image, np.zeros(0, np.float32), np.zeros(0, np.float32)).shape == (0, 3)
