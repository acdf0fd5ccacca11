"""The measuring baselines: known pixels untouched, and temporal-nearest's choice of frame."""

import numpy as np
import pytest
from eval_helpers import box_holes, panning_clip, texture

from renderer.evaluate import baselines as B
from renderer.evaluate.errors import MethodError
from renderer.fill.classical import telea_frame


def _awkward_plate(frames=6, height=32, width=64):
    """Scene-linear frames whose known pixels include values a fill could disturb on the
    way through (negative, above 1, -0.0), to check they come back bit for bit."""
    plate = panning_clip(frames, height, width, dx=2, seed=3) ** 2.2
    plate[:, 0, :4] = [-0.25, 7.5, -0.0]
    plate[:, -1, -3:] = 1e-30
    return plate.astype(np.float32)


@pytest.mark.parametrize("name", ["propagation", "temporal-nearest"])
def test_known_pixels_come_back_bit_for_bit(name):
    plate = _awkward_plate()
    holes = box_holes(6, 32, 64, 10, 22, 20, 36, step_x=2)
    out = B.BASELINES[name](plate.copy(), holes)
    assert out.shape == plate.shape and out.dtype == np.float32 and np.isfinite(out).all()
    known = ~holes
    assert np.array_equal(out[known].view(np.uint32), plate[known].view(np.uint32))
    assert not np.array_equal(out[holes], plate[holes])  # the truth under the hole is not handed back


def test_temporal_nearest_restores_a_static_scene_wherever_another_frame_shows_it():
    still = np.repeat(texture(32, 48, seed=5)[None], 8, axis=0) ** 2.2
    holes = box_holes(8, 32, 48, 8, 20, 4, 14, step_x=3)  # moves 3 px/frame, 10 px wide
    out = B.temporal_nearest(still.copy(), holes)
    shown = (~holes).any(axis=0)  # every position some frame reveals
    assert shown[holes.any(axis=0)].all()
    assert np.array_equal(out, still)


def _nearest_by_search(holes, t, y, x):
    known = [s for s in range(holes.shape[0]) if not holes[s, y, x]]
    return min(known, key=lambda s: (abs(s - t), s)) if known else None


def test_temporal_nearest_copies_from_the_nearest_frame_and_ties_go_to_the_earlier():
    n, h, w = 7, 24, 40
    base = texture(h, w, seed=2)
    plate = np.stack([base + 0.01 * t for t in range(n)]).astype(np.float32)  # each frame recognisable
    holes = np.zeros((n, h, w), bool)
    holes[2:5, 5, 5] = True  # known at 0, 1, 5, 6
    holes[1:5, 6, 9] = True  # known at 0, 5, 6
    rng = np.random.default_rng(0)
    holes[:, 12:20, 10:30] = rng.random((n, 8, 20)) < 0.6
    source = B.nearest_known_source(holes)
    assert list(source[:, 5, 5]) == [0, 1, 1, 1, 5, 5, 6]  # frame 3: 1 and 5 are 2 away, the earlier wins
    assert list(source[:, 6, 9]) == [0, 0, 0, 5, 5, 5, 6]  # frame 2: 0 is 2 away, 5 is 3
    out = B.temporal_nearest(plate.copy(), holes)
    for t, y, x in zip(*np.nonzero(holes)):
        s = _nearest_by_search(holes, t, y, x)
        if s is not None:
            assert source[t, y, x] == s
            assert np.array_equal(out[t, y, x], plate[s, y, x]), (t, y, x, s)


def test_pixels_no_frame_shows_are_filled_by_telea_on_the_copied_frame():
    n, h, w = 5, 32, 48
    steps = 0.02 * np.arange(n, dtype=np.float32)[:, None, None, None]  # each frame recognisable
    plate = (texture(h, w, seed=7)[None] + steps).astype(np.float32)
    holes = box_holes(n, h, w, 4, 12, 4, 12, step_x=2)
    holes[:, 20:26, 30:40] = True  # covered in every frame
    out = B.temporal_nearest(plate.copy(), holes)
    unseen = np.zeros((h, w), bool)
    unseen[20:26, 30:40] = True
    for t in range(n):
        copied = out[t].copy()
        copied[unseen] = 0.0
        np.testing.assert_array_equal(out[t], telea_frame(copied, unseen))
    assert np.isfinite(out).all() and not np.allclose(out[:, 20:26, 30:40], plate[:, 20:26, 30:40], atol=1e-3)


def test_nearest_source_marks_known_pixels_as_their_own_and_unseen_ones():
    holes = np.zeros((3, 2, 2), bool)
    holes[:, 0, 0] = True
    source = B.nearest_known_source(holes)
    assert (source[:, 0, 0] == B.NO_FRAME).all()
    assert [list(source[:, 1, 1])] == [[0, 1, 2]]


@pytest.mark.parametrize("name", ["propagation", "temporal-nearest"])
def test_bad_inputs_raise_the_method_error(name):
    plate = np.zeros((3, 16, 16, 3), np.float32)
    with pytest.raises(MethodError):
        B.BASELINES[name](plate, np.zeros((3, 16, 16), np.uint8))
    with pytest.raises(MethodError):
        B.BASELINES[name](plate[..., :2], np.zeros((3, 16, 16), bool))
