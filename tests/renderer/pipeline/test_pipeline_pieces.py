"""The pieces of the `standard` preset: region of interest, extra holes, pre-fill
choice on held-out holes, the guarded propagation, and the residual network."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from renderer.callbacks import Callbacks
from renderer.inpaint import inpaint_arrays
from renderer.method.model import SkipNet
from renderer.errors import ShapeError
from renderer.presets import PAPER, STANDARD
from renderer.fill.propagate import FLOW_PASSES, guarded_propagation, seamed_propagation
from renderer.pipeline.plate import PlateFills
from renderer.pipeline.region import MIN_MARGIN, plan_context, plan_region, work_box
from renderer.parallel import frames_finished
from renderer.pipeline.holdout import (
    THIN_HOLE_DEPTH, choose_fill, extra_holes, held_out_error, hole_sets, input_configurations, prefill_calls,
    thin_hole)
from standard_kit import always_learning, box_holes, flickering_fields, smooth_video


def test_region_holds_the_hole_plus_margin_and_caps_the_working_size():
    holes = box_holes(4, 1080, 2048, 500, 900, 150)
    region = plan_region(holes, holes, STANDARD)
    y0, x0, y1, x1 = region.box
    ys, xs = np.nonzero(holes.any(0))
    assert y0 <= ys.min() - MIN_MARGIN and y1 >= ys.max() + 1 + MIN_MARGIN
    assert x0 <= xs.min() - MIN_MARGIN and x1 >= xs.max() + 1 + MIN_MARGIN
    assert (y1 - y0) * (x1 - x0) < 0.1 * 1080 * 2048, "the crop follows the hole, not the plate"
    h, w = region.working_size
    assert h * w <= STANDARD.max_working_pixels * 1.02 and region.scaled
    assert plan_region(holes, holes, PAPER).box == (0, 0, 1080, 2048), "paper trains on the whole plate"


def test_crop_and_uncrop_round_trip_outside_the_box():
    frames = smooth_video(3, 100, 120)
    holes = box_holes(3, 100, 120, 40, 50, 10)
    region = plan_region(holes, holes, replace(STANDARD, max_working_pixels=None))
    fill = region.crop(frames) * 0 + 7.0
    out = region.uncrop(fill, frames, [0, 1, 2])
    y0, x0, y1, x1 = region.box
    assert np.all(out[:, y0:y1, x0:x1] == 7.0)
    outside = np.ones((100, 120), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[:, outside], frames[:, outside])


def test_below_plate_resolution_a_fill_lands_on_the_plate_resolution_baseline():
    frames = smooth_video(3, 100, 120)
    holes = box_holes(3, 100, 120, 40, 50, 10)
    region = plan_region(holes, holes, replace(STANDARD, max_working_pixels=1500))
    assert region.scaled
    (h, w), (ch, cw) = region.working_size, region.crop_size
    rng = np.random.default_rng(0)
    plate_fill = rng.random((3, ch, cw, 3)).astype(np.float32)
    work_fill = rng.random((3, h, w, 3)).astype(np.float32)
    y0, x0, y1, x1 = region.box
    same = region.uncrop(work_fill[[2, 0]], frames[[2, 0]], [2, 0], plate_fill, work_fill)
    assert np.array_equal(same[:, y0:y1, x0:x1], plate_fill[[2, 0]])  # the baseline itself: exactly
    lifted = region.uncrop(work_fill + 0.25, frames, [0, 1, 2], plate_fill, work_fill)
    assert np.allclose(lifted[:, y0:y1, x0:x1], plate_fill + 0.25, atol=1e-5)  # a correction, scaled up
    plain = region.uncrop(work_fill, frames, [0, 1, 2])
    assert not np.allclose(plain[:, y0:y1, x0:x1], plate_fill, atol=0.1)


def test_standard_below_plate_resolution_keeps_propagation_at_plate_resolution():
    frames = smooth_video(6, 64, 96, speed=2)
    holes = box_holes(6, 64, 96, 24, 30, 12, move=2)
    preset = replace(STANDARD, max_working_pixels=1200)
    region = plan_region(holes, holes, preset)
    assert region.scaled
    notes = []
    out = inpaint_arrays(frames, holes, preset=preset, steps=4, callbacks=Callbacks(log=notes.append)).frames
    assert any("keeping propagation" in n for n in notes), notes
    y0, x0, y1, x1 = region.box
    at_plate = PlateFills(frames, holes, region)("propagation")
    inside = holes[:, y0:y1, x0:x1]
    assert np.array_equal(out[:, y0:y1, x0:x1][inside], at_plate[inside])
    assert np.array_equal(out[~holes], frames[~holes])


def test_context_widens_the_crop_for_the_non_learning_fills():
    frames = smooth_video(3, 100, 120)
    holes = box_holes(3, 100, 120, 40, 50, 10)
    region = plan_region(holes, holes, replace(STANDARD, max_working_pixels=None))
    y0, x0, y1, x1 = region.box
    small = plan_context(region, frames)  # a small plate: the whole frame
    assert small.box == (0, 0, 100, 120) and small.inner == region.box
    capped = plan_context(region, frames, max_pixels=3 * (y1 - y0) * (x1 - x0))
    cy0, cx0, cy1, cx1 = capped.box
    assert cy0 <= y0 and cx0 <= x0 and cy1 >= y1 and cx1 >= x1 and (cy1 - cy0) * (cx1 - cx0) > (y1 - y0) * (x1 - x0)
    assert (cy1 - cy0) * (cx1 - cx0) <= 3 * (y1 - y0) * (x1 - x0)
    iy0, ix0, iy1, ix1 = capped.inner
    assert np.array_equal(capped.frames[:, iy0:iy1, ix0:ix1], region.crop(frames))
    seen = {}

    def fill(f, h):  # records what a wrapped fill is given
        seen["shape"], seen["holes"] = f.shape, h.sum()
        return np.where(h[..., None], -1.0, f)

    out = capped.wrap(fill)(region.crop(frames), region.crop_holes(holes))
    assert seen["shape"] == capped.frames.shape and seen["holes"] == holes.sum()
    assert out.shape == region.crop(frames).shape and np.all(out[region.crop_holes(holes)] == -1.0)
    assert plan_context(plan_region(holes, holes, PAPER), frames) is None, "no crop, no context"
    big = box_holes(2, 1080, 2048, 500, 900, 150)
    assert plan_context(plan_region(big, big, STANDARD), np.zeros((2, 1080, 2048, 3), np.float32)) is None, \
        "a crop trained below plate resolution keeps its fills at working size"


def test_whole_frames_fill_as_the_work_box_a_render_reads_does():
    """A render reads only the work box of each plate (``pipeline.region.work_box``); the
    same frames given whole must fill the same, bit for bit. Here the plate is grainy and a
    fixed square no frame shows gets the detail layer, whose patch-based fill (a box as wide
    as the hole's size around it) and the grain estimate would reach past the work box."""
    rng = np.random.default_rng(3)
    n, h, w = 6, 288, 512  # over the context box's cap, so the work box is less than the frame
    still = np.repeat(rng.random((1, h, w, 3), np.float32) * 0.5, n, axis=0)
    frames = np.maximum(still + rng.normal(0.0, 0.02, still.shape).astype(np.float32), 0.0)
    holes = np.zeros((n, h, w), bool)
    for t in range(n):
        holes[t, 110:174, 200 + 14 * t:290 + 14 * t] = True
    holes[:, 184:193, 240:249] = True  # the square: no frame shows it
    preset = replace(STANDARD, learn_min_unreached=0.9)  # nothing trained: the fills alone are compared
    y0, x0, y1, x1 = work_box(plan_region(holes, holes, preset))
    assert (y1 - y0) * (x1 - x0) < h * w
    notes: list[str] = []
    whole = inpaint_arrays(frames, holes, preset=preset, callbacks=Callbacks(log=notes.append)).frames
    cut = inpaint_arrays(np.ascontiguousarray(frames[:, y0:y1, x0:x1]), np.ascontiguousarray(holes[:, y0:y1, x0:x1]),
                         preset=preset, callbacks=Callbacks(log=notes.append)).frames
    assert sum(line.startswith("grain: matched") for line in notes) == 2, notes
    assert sum(line.startswith("learning: skipped") for line in notes) == 2, notes
    square = (slice(None), slice(184, 193), slice(240, 249))
    assert not np.array_equal(whole[square], frames[square]), "the square is filled"
    assert np.array_equal(whole[:, y0:y1, x0:x1], cut)
    assert np.array_equal(whole[~holes], frames[~holes])


def test_the_real_hole_is_filled_in_two_passes_along_the_flow_and_the_held_out_holes_in_one():
    """The second pass follows the flow measured again on the first pass's fill. The
    held-out check's holes jump every frame, so their fill would mislead that measure: they
    keep one pass, and the check chooses as it did before the second pass."""
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    configs, _, name = input_configurations(frames, holes, STANDARD, 0, Callbacks())
    assert name == "propagation" and FLOW_PASSES == 2
    twice, once = seamed_propagation(frames, holes), seamed_propagation(frames, holes, passes=1)
    assert not np.array_equal(twice, once)
    assert np.array_equal(configs[0].prefill, twice)
    held_out = configs[-1]
    assert np.array_equal(held_out.prefill, seamed_propagation(frames, held_out.holes, still=False, passes=1))
    assert np.array_equal(twice[~holes], frames[~holes])
    with pytest.raises(ShapeError):
        seamed_propagation(frames, holes, passes=0)


def test_extra_holes_sit_next_to_the_real_hole_over_known_pixels():
    holes = box_holes(5, 64, 96, 24, 30, 12)
    extra = extra_holes(holes, np.random.default_rng(0))
    for k in range(5):
        assert extra[k].sum() == holes[k].sum(), "a moved copy of the hole"
        assert (extra[k] & holes[k]).sum() <= 0.1 * holes[k].sum()
        cy, cx = [c.mean() for c in np.nonzero(holes[k])]
        ey, ex = [c.mean() for c in np.nonzero(extra[k])]
        assert 6 <= np.hypot(ey - cy, ex - cx) <= 24, "about one hole size away"
    sets = hole_sets(holes, 3, seed=1)
    assert len(sets) == 3 and all((s & holes).sum() == holes.sum() for s in sets)


def test_held_out_error_only_counts_known_pixels_under_extra_holes():
    frames = smooth_video(2, 20, 20)
    real = np.zeros((2, 20, 20), bool)
    real[:, 2:5, 2:5] = True
    union = real.copy()
    union[:, 10:12, 10:12] = True
    filled = frames.copy()
    filled[real] = 50.0  # errors in the real hole do not count: its truth is unknown
    assert held_out_error(frames, real, union, filled) == 0.0
    filled[:, 10:12, 10:12] += 0.5
    assert held_out_error(frames, real, union, filled) > 0.0


def test_choose_fill_keeps_the_fill_that_is_right_on_held_out_pixels():
    frames = smooth_video(3, 32, 32)
    real = box_holes(3, 32, 32, 4, 4, 6, move=0)
    union = real | box_holes(3, 32, 32, 20, 20, 6, move=0)
    fills = {"exact": lambda f, h: f.copy(), "black": lambda f, h: np.where(h[..., None], 0.0, f)}
    name, filled, errors = choose_fill(frames, real, union, fills)
    assert name == "exact" and errors["exact"] == 0.0 < errors["black"]
    assert np.array_equal(filled, frames)


def test_guarded_propagation_recovers_a_revealed_background_and_keeps_known_pixels():
    frames = smooth_video(8, 48, 64, speed=0)  # a still background
    holes = box_holes(8, 48, 64, 18, 10, 10, move=4)  # a moving object reveals it
    filled = guarded_propagation(frames, holes)
    assert np.array_equal(filled[~holes], frames[~holes])
    err = np.abs(filled[holes] - frames[holes]).mean()
    assert err < 0.02, err


def test_residual_net_starts_as_the_identity_on_its_prefilled_input():
    torch.manual_seed(0)
    net = SkipNet(in_channels=5, channels=(8, 8, 8), skip=4, residual=True)
    x = torch.rand(2, 5, 24, 32)
    rgb, _ = net(x)
    assert torch.equal(rgb, x[:, :3])


@pytest.mark.slow
def test_standard_keeps_known_pixels_and_explains_its_choice():
    frames = smooth_video(6, 48, 64, speed=1)
    holes = box_holes(6, 48, 64, 16, 20, 8, move=2)
    notes = []
    out = inpaint_arrays(frames, holes, preset=always_learning(STANDARD), steps=6,
                         callbacks=Callbacks(log=notes.append))
    assert np.array_equal(out.frames[~holes], frames[~holes])
    assert any(n.startswith("pre-fill check on held-out holes") for n in notes)
    choice = [n for n in notes if n.startswith("held-out check") and "keeping" in n]
    assert choice and choice[-1].endswith(f"keeping {out.kept}"), (choice, out.kept)


def test_held_out_pixels_are_never_a_training_target():
    """The final check compares the network with the baselines on the held-out extra holes;
    it is fair only if no loss ever saw those pixels."""
    from renderer.method.prepare import prepare

    frames = smooth_video(4, 48, 64)
    holes = box_holes(4, 48, 64, 16, 20, 8)
    held_out = box_holes(4, 48, 64, 16, 32, 8)
    plain = prepare(frames, holes, STANDARD, None, torch.device("cpu"), 0)
    kept_out = prepare(frames, holes, STANDARD, None, torch.device("cpu"), 0, held_out=held_out)
    top, left, h, w = kept_out.box
    known = kept_out.known[:, 0, top:top + h, left:left + w].numpy() > 0
    assert not known[held_out].any() and not known[holes].any()
    assert known[~(holes | held_out)].all()
    assert plain.known.sum() - kept_out.known.sum() == (held_out & ~holes).sum()
    with pytest.raises(Exception, match="held_out"):
        prepare(frames, holes, STANDARD, None, torch.device("cpu"), 0, held_out=held_out[:2])


def test_choose_fill_keeps_the_default_unless_a_rival_wins_by_the_margin():
    frames = smooth_video(3, 32, 32)
    real = box_holes(3, 32, 32, 4, 4, 6, move=0)
    union = real | box_holes(3, 32, 32, 20, 20, 6, move=0)

    def off_by(delta):
        return lambda f, h: np.where(h[..., None], f + delta, f)

    close = {"default": off_by(0.10), "rival": off_by(0.097)}  # the rival leads by 6 % in MSE
    assert choose_fill(frames, real, union, close, margin=0.10)[0] == "default"
    assert choose_fill(frames, real, union, close, margin=0.0)[0] == "rival"
    clear = {"default": off_by(0.10), "rival": off_by(0.05)}
    assert choose_fill(frames, real, union, clear, margin=0.10)[0] == "rival"


def test_telea_is_a_pre_fill_rival_only_where_other_frames_leave_the_hole_unshown():
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    preset = replace(STANDARD, extra_hole_configs=0)  # as a run that trains nothing
    frames = flickering_fields()
    _, errors, name = input_configurations(frames, holes, preset, 0, Callbacks())
    assert name == "telea" and errors["telea"] < 0.75 * errors["propagation"]
    assert "diffusion" not in errors, "a hole that moves has Telea for its smooth rival"
    _, errors, name = input_configurations(frames, holes, preset, 0, Callbacks(), smooth_rival=False)
    assert "telea" not in errors and name != "telea"
    # where propagation is kept either way, the fill stage's progress leaves out Telea's
    # per-frame calls as the check does, and counts every call made (a pan on which the
    # check keeps propagation: on these thumbnails both propagations score near 45 dB on
    # the held-out holes, and on most pans and seeds the guarded one is ahead)
    frames, calls = smooth_video(8, 48, 64, speed=3, seed=1), {}
    for smooth_rival in (True, False):
        before = frames_finished()
        _, _, name = input_configurations(frames, holes, preset, 0, Callbacks(), smooth_rival=smooth_rival)
        calls[smooth_rival] = frames_finished() - before
        assert name == "propagation"
        assert calls[smooth_rival] == prefill_calls(preset, 8, smooth_rival=smooth_rival)
    assert calls[True] - calls[False] == 8


def test_the_fill_stage_expects_the_calls_a_run_that_trains_makes():
    """With training configurations to pre-fill too, the progress count is exact where
    propagation is kept: the real hole's unmoved-copy test included."""
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    before = frames_finished()
    _, _, name = input_configurations(smooth_video(8, 48, 64), holes, STANDARD, 0, Callbacks())
    assert name == "propagation"
    assert frames_finished() - before == prefill_calls(STANDARD, 8) > 0


def prefill_check_of_a_run_that_trains_nothing(frames, holes) -> str:
    """The pre-fill check's log line of a standard run that trains nothing, whose known
    pixels come back bit for bit."""
    notes = []
    out = inpaint_arrays(frames, holes, preset=STANDARD, callbacks=Callbacks(log=notes.append))
    assert any(n.startswith("learning: skipped") for n in notes), notes
    assert np.array_equal(out.frames[~holes], frames[~holes])
    check = [n for n in notes if n.startswith("pre-fill check on held-out holes")]
    assert check, notes
    return check[0]


def test_a_run_that_trains_nothing_does_not_offer_telea_as_its_pre_fill():
    """Other frames show the whole moving box, so nothing is trained, and the pre-fill
    check weighs the two propagations alone."""
    check = prefill_check_of_a_run_that_trains_nothing(smooth_video(8, 48, 64, speed=1),
                                                       box_holes(8, 48, 64, 16, 10, 10, move=3))
    assert "propagation" in check and "telea" not in check, check


def test_a_hole_thin_enough_to_fill_from_its_rim_keeps_telea_as_a_rival():
    """A dust spot or a wire: every pixel lies within ``THIN_HOLE_DEPTH`` of the rim, so
    Telea stays a candidate where nothing is trained; a box with a deeper pixel does not."""
    side = int(2 * THIN_HOLE_DEPTH - 1)  # a square's centre lies (side + 1) / 2 px from outside it
    holes = np.zeros((3, 48, 64), bool)
    holes[:, 10:10 + side, 10:10 + side] = True
    holes[1, 30:32, 5:60] = True                     # a 2 px wire in one frame
    assert thin_hole(holes)
    holes[2, 10:12 + side, 10:12 + side] = True      # one frame's hole grows a deeper pixel
    assert not thin_hole(holes)
    assert not thin_hole(np.zeros((3, 8, 8), bool))
    with pytest.raises(ShapeError):
        thin_hole(np.zeros((8, 8), bool))
    check = prefill_check_of_a_run_that_trains_nothing(smooth_video(8, 48, 64, speed=1),
                                                       box_holes(8, 48, 64, 20, 30, 3, move=0))  # a 3x3 dot
    assert "telea" in check, check
