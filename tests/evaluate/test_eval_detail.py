"""The detail metric on fills whose sharpness is known: the truth, a blur, doubled contrast."""

import math

import cv2
import numpy as np
import pytest
from eval_helpers import box_holes, texture

from renderer.evaluate import metrics as M
from renderer.evaluate.errors import MetricInputError


def _shot(n=4, h=40, w=56):
    """Display-space frames with fine texture in [0.3, 0.7] (room to double the contrast
    without leaving [0, 1]) and a moving box hole."""
    frames = np.stack([0.3 + 0.4 * texture(h, w, seed=10 + t, sigma=0.8) for t in range(n)]).astype(np.float32)
    return frames, box_holes(n, h, w, 10, 30, 8, 28, step_x=4)


def _fill(gt, holes, inside):
    return np.where(holes[..., None], inside, gt).astype(np.float32)


def test_the_truth_itself_scores_exactly_one():
    gt, holes = _shot()
    assert M.detail(gt.copy(), gt, holes) == 1.0


def test_a_blurred_fill_scores_well_below_one():
    gt, holes = _shot()
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 2.0) for f in gt])
    assert M.detail(_fill(gt, holes, blurred), gt, holes) < 0.5
    flat = _fill(gt, holes, np.full_like(gt, 0.5))
    assert M.detail(flat, gt, holes) == 0.0


def test_doubled_contrast_scores_above_one():
    gt, holes = _shot()
    doubled = 0.5 + 2.0 * (gt - 0.5)
    assert doubled.min() >= 0.0 and doubled.max() <= 1.0
    assert M.detail(_fill(gt, holes, doubled), gt, holes) == pytest.approx(4.0, rel=1e-5)


def test_the_seam_at_the_border_is_not_detail():
    gt, holes = _shot()
    lifted = _fill(gt, holes, gt + 0.2)  # a step at every border pixel, the texture inside intact
    assert M.detail(lifted, gt, holes) == pytest.approx(1.0, rel=1e-5)


def test_energy_is_the_sum_of_squared_luma_differences_inside_the_hole():
    video = np.zeros((1, 3, 4, 3), np.float32)
    video[0, :, :, :] = np.array([0, 1, 3, 6], np.float32)[None, :, None]  # grey ramp along x
    video[0, 2] += 10.0  # and a step between rows 1 and 2
    holes = np.zeros((1, 3, 4), bool)
    holes[0, 1:3, 1:3] = True  # pixels (1,1) (1,2) (2,1) (2,2)
    # horizontal pairs inside: (1,1)-(1,2), (2,1)-(2,2), each 2; vertical pairs: (1,1)-(2,1), (1,2)-(2,2), each 10
    assert M.hole_gradient_energy(video, holes)[0] == pytest.approx(2 * 2.0 ** 2 + 2 * 10.0 ** 2, rel=1e-6)


def test_no_energy_in_the_truth_is_nan_and_bad_inputs_raise():
    gt = np.full((2, 16, 16, 3), 0.4, np.float32)
    holes = box_holes(2, 16, 16, 4, 10, 4, 10)
    assert math.isnan(M.detail(gt + 0.1, gt, holes))
    with pytest.raises(MetricInputError):
        M.detail(gt, gt, holes.astype(np.uint8))
    with pytest.raises(MetricInputError):
        M.hole_gradient_energy(gt[..., :2], holes)


def test_quality_reports_detail_from_scene_linear_frames():
    gt, holes = _shot()
    linear = gt ** 2.2
    q = M.quality(linear, linear, linear, holes, None)
    assert q["detail"] == 1.0
