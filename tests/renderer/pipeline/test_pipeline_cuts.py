"""Cuts inside a shot (``pipeline.cuts``): found between the frames where the set-up
changes, not where the camera only moves fast or a frame flashes; each side is filled as
its own shot (``inpaint.inpaint_arrays``)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from renderer.callbacks import Callbacks
from renderer.errors import CheckpointError, ShapeError
from renderer.inpaint import inpaint_arrays
from renderer.pipeline.cuts import find_cuts, sides
from renderer.presets import STANDARD
from standard_kit import box_holes, smooth_video


def two_set_ups(first: int = 7, second: int = 6, h: int = 48, w: int = 96):
    """A panning set-up, then a cut to another texture panning the other way."""
    a = smooth_video(first, h, w, speed=2, seed=1)
    b = smooth_video(second, h, w, speed=2, seed=2)[::-1] * 0.5 + 0.4
    return np.concatenate([a, b]).astype(np.float32)


def test_a_cut_is_found_between_the_two_set_ups_and_nowhere_else():
    frames = two_set_ups()
    holes = box_holes(len(frames), 48, 96, 12, 20, 14, move=2)
    assert find_cuts(frames, holes) == [7]
    assert find_cuts(frames[:7], holes[:7]) == [], "a pan alone is one set-up"


def test_a_fast_pan_and_a_single_flash_are_not_cuts():
    fast = smooth_video(12, 48, 96, speed=7, seed=3)  # 7 % of the width a frame
    holes = np.zeros(fast.shape[:3], bool)
    assert find_cuts(fast, holes) == []
    flash = smooth_video(10, 48, 96, speed=2, seed=4)
    flash[5] *= 3.0
    assert find_cuts(flash, holes[:10]) == [], "one bright frame between two that match is no cut"


def test_what_changes_inside_the_hole_is_not_a_cut():
    frames = np.repeat(smooth_video(1, 48, 96, seed=5), 9, axis=0)
    holes = np.zeros(frames.shape[:3], bool)
    holes[4:, 10:40, 20:60] = True
    frames[4:, 10:40, 20:60] = 5.0  # what the artist removes appears from frame 4 on
    assert find_cuts(frames, holes) == []


def test_sides_cover_the_shot_in_order_and_short_shots_have_no_cuts():
    assert sides(10, [4, 7]) == [(0, 4), (4, 7), (7, 10)]
    assert sides(10, []) == [(0, 10)]
    assert sides(5, [0, 5]) == [(0, 5)], "a cut at either end splits nothing"
    frames = two_set_ups(1, 1)
    assert find_cuts(frames, np.zeros(frames.shape[:3], bool)) == [], "two frames cannot tell a cut"
    with pytest.raises(ShapeError):
        find_cuts(frames[..., :2], np.zeros(frames.shape[:3], bool))


def test_each_side_is_filled_from_its_own_frames_alone(tmp_path):
    # a box that moves faster than the pan, so that the first set-up's own frames show
    # what it hides; a second set-up, much brighter, after the cut. Filled as one shot, the
    # chains that cross the cut bring the second's pixels in (up to 1.1 off near the cut)
    first = smooth_video(6, 48, 96, speed=2, seed=1)
    frames = np.concatenate([first, smooth_video(5, 48, 96, speed=2, seed=2) * 0.3 + 2.0]).astype(np.float32)
    holes = box_holes(len(frames), 48, 96, 14, 30, 16, move=3)
    notes: list[str] = []
    wanted = [8, 0, 5, 3]
    result = inpaint_arrays(frames, holes, preset=STANDARD, steps=4, callbacks=Callbacks(log=notes.append),
                            work_dir=tmp_path, frame_numbers=list(range(1001, 1012)), indices=wanted,
                            want_source_map=True, fresh=True)
    assert any(n.startswith("cuts in the plate: before frame 1007") for n in notes)
    assert any(n.startswith("time: ") and n.endswith("(all sides)") for n in notes), "one time line for the shot"
    assert result.frames.shape == (4, 48, 96, 3) and result.source_map.shape[0] == 4
    for k, t in enumerate(wanted):
        known = ~holes[t]
        assert np.array_equal(result.frames[k][known], frames[t][known]), f"frame {t} in the order asked for"
    for k, t in ((1, 0), (3, 3), (2, 5)):
        miss = np.abs(result.frames[k][holes[t]] - first[t][holes[t]]).max()
        assert miss < 0.05, f"frame {t}'s box is {miss:.2f} off the first set-up's own pixels"
    # what a side trains is kept in a folder of its own (a side that trains nothing keeps nothing)
    kept = os.listdir(tmp_path)
    assert kept and set(kept) <= {"frames-1001-1006", "frames-1007-1011"}


def test_a_side_without_a_hole_comes_back_as_it_was():
    frames = two_set_ups(6, 5)
    holes = box_holes(len(frames), 48, 96, 12, 20, 14, move=2)
    holes[6:] = False
    result = inpaint_arrays(frames, holes, preset=STANDARD)
    assert np.array_equal(result.frames[6:], frames[6:])
    assert np.array_equal(result.frames[:6][~holes[:6]], frames[:6][~holes[:6]])


def test_train_then_infer_finds_each_side_s_checkpoint(tmp_path):
    # a fixed box over two locked-off set-ups: no frame shows it, so each side trains
    still = np.concatenate([np.repeat(smooth_video(1, 48, 96, seed=8), 5, axis=0),
                            np.repeat(smooth_video(1, 48, 96, seed=9) * 0.5 + 0.5, 5, axis=0)]).astype(np.float32)
    holes = box_holes(len(still), 48, 96, 14, 30, 16, move=0)
    numbers = list(range(1001, 1011))
    with pytest.raises(CheckpointError):
        inpaint_arrays(still, holes, preset=STANDARD, steps=3, work_dir=tmp_path, frame_numbers=numbers,
                       mode="infer", indices=[7])
    inpaint_arrays(still, holes, preset=STANDARD, steps=3, work_dir=tmp_path, frame_numbers=numbers, mode="train")
    assert sorted(os.listdir(tmp_path)) == ["frames-1001-1005", "frames-1006-1010"]
    later = inpaint_arrays(still, holes, preset=STANDARD, steps=3, work_dir=tmp_path, frame_numbers=numbers,
                           mode="infer", indices=[7, 2], fresh=False)
    assert later.frames.shape == (2, 48, 96, 3)
    for k, t in enumerate((7, 2)):
        assert np.array_equal(later.frames[k][~holes[t]], still[t][~holes[t]])
        assert np.isfinite(later.frames[k]).all()
