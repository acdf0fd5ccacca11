"""Metrics on hand-made cases with known answers."""

import math

import numpy as np
import pytest
from eval_helpers import box_holes, panning_clip, texture

from renderer.errors import RendererError
from renderer.evaluate import metrics as M
from renderer.evaluate.errors import MetricInputError


def test_to_display_is_the_srgb_transfer_after_clipping():
    x = np.array([-1.0, 0.0, 0.0031308, 0.18, 1.0, 4.0], np.float32)
    s = M.to_display(x)
    assert s[0] == 0.0 and s[1] == 0.0
    assert s[2] == pytest.approx(12.92 * 0.0031308, abs=1e-6)
    assert s[3] == pytest.approx(1.055 * 0.18 ** (1 / 2.4) - 0.055, abs=1e-6)
    assert s[4] == pytest.approx(1.0, abs=1e-6) and s[5] == pytest.approx(1.0, abs=1e-6)


def test_identical_frames_give_infinite_psnr_unit_ssim_and_zero_warp_error():
    gt = np.repeat(texture(32, 48)[None], 4, axis=0)  # a static shot
    holes = box_holes(4, 32, 48, 8, 20, 10, 30)
    ref = M.warp_reference(gt)
    assert M.hole_psnr(gt, gt, holes) == math.inf
    assert M.full_psnr(gt, gt) == math.inf
    assert M.hole_ssim(gt, gt, holes) == pytest.approx(1.0, abs=1e-9)
    assert M.warp_error(gt, holes, ref) == pytest.approx(0.0, abs=1e-12)
    assert M.known_changed_fraction(gt, gt, holes) == 0.0


def test_hole_psnr_of_a_known_error_and_frames_without_hole_are_skipped():
    gt = np.full((3, 8, 8, 3), 0.5, np.float32)
    out = gt.copy()
    holes = np.zeros((3, 8, 8), bool)
    holes[0, 2:4, 2:4] = True
    holes[2, 5:7, 1:3] = True
    out[0][holes[0]] += 0.1  # MSE 0.01 -> 20 dB
    out[2][holes[2]] += 0.01  # MSE 1e-4 -> 40 dB
    out[1] += 0.3  # frame 1 has no hole: ignored by hole metrics
    out[0, 7, 7] = 0.0  # outside the hole: ignored
    per = M.hole_psnr_per_frame(out, gt, holes)
    assert per[0] == pytest.approx(20.0, abs=1e-4)
    assert np.isnan(per[1])
    assert per[2] == pytest.approx(40.0, abs=1e-3)
    assert M.hole_psnr(out, gt, holes) == pytest.approx(30.0, abs=1e-3)


def test_psnr_from_mse():
    assert M.psnr_from_mse(1.0) == 0.0
    assert M.psnr_from_mse(1e-3) == pytest.approx(30.0)
    assert M.psnr_from_mse(0.0) == math.inf
    with pytest.raises(MetricInputError):
        M.psnr_from_mse(-1.0)


def test_ssim_of_constant_images_is_the_luminance_term():
    a = np.full((16, 16, 3), 0.5)
    b = np.full((16, 16, 3), 0.6)
    c1 = 0.01 ** 2
    expected = (2 * 0.5 * 0.6 + c1) / (0.5 ** 2 + 0.6 ** 2 + c1)
    assert M.ssim_map(a, b) == pytest.approx(np.full((16, 16), expected), abs=1e-9)


def test_ssim_is_averaged_over_the_hole_bounding_box_only():
    gt = texture(64, 64)[None]
    holes = np.zeros((1, 64, 64), bool)
    holes[0, 4:10, 4:10] = True
    holes[0, 12, 14] = True  # box is rows 4..12, cols 4..14
    out = gt.copy()
    out[0, 40:, 40:] = 0.0  # far from the box (window radius 5): no effect
    assert M.bounding_box(holes[0]) == (4, 13, 4, 15)
    assert M.hole_ssim(out, gt, holes) == pytest.approx(1.0, abs=1e-9)
    out[0, 8, 8] = 1.0 - out[0, 8, 8]  # inside the box: lowers it
    assert M.hole_ssim(out, gt, holes) < 0.99


def _shift_reference(n, h, w, dx):
    """Exact motion for panning_clip: F(t->t+1) = (-dx, 0), valid where x - dx is inside."""
    fwd = np.zeros((n - 1, h, w, 2), np.float32)
    fwd[..., 0] = -dx
    valid = np.zeros((n - 1, h, w), bool)
    xs = np.arange(w)
    valid[:, :, (xs - dx >= 0) & (xs - dx <= w - 1)] = True
    return M.WarpReference(forward=fwd, valid=valid)


def test_warp_error_of_a_known_shift_with_exact_flow():
    n, h, w, dx = 4, 32, 48, 3
    gt = panning_clip(n, h, w, dx=dx)
    holes = box_holes(n, h, w, 8, 24, 12, 36)
    ref = _shift_reference(n, h, w, dx)
    # the ground truth itself follows the flow exactly
    assert M.warp_error(gt, holes, ref) == pytest.approx(0.0, abs=1e-12)
    # a frozen fill (output t+1 = ground truth t in the hole) misses the motion by dx pixels
    out = gt.copy()
    for t in range(1, n):
        out[t][holes[t]] = gt[t - 1][holes[t]]
    expected = []
    for t in range(n - 1):
        warped = np.zeros_like(gt[t])
        warped[:, dx:] = out[t + 1][:, :-dx]  # out_{t+1}(x - dx)
        next_hole = np.zeros((h, w), bool)
        next_hole[:, dx:] = holes[t + 1][:, :-dx]
        region = (holes[t] | next_hole) & ref.valid[t]
        expected.append(((out[t] - warped) ** 2)[region].mean())
    assert M.warp_error(out, holes, ref) == pytest.approx(float(np.mean(expected)), rel=1e-5)
    assert M.warp_error(out, holes, ref) > 1e-3


def test_warp_error_of_a_known_offset_is_its_square():
    n, h, w = 3, 24, 32
    gt = np.repeat(texture(h, w)[None], n, axis=0)
    holes = np.ones((n, h, w), bool)
    ref = M.WarpReference(forward=np.zeros((n - 1, h, w, 2), np.float32), valid=np.ones((n - 1, h, w), bool))
    out = gt.copy()
    out[1] += 0.05  # frame 1 differs from both neighbours by 0.05 everywhere
    assert M.warp_error(out, holes, ref) == pytest.approx(0.05 ** 2, rel=1e-4)


def test_warp_error_with_dis_flow_recovers_a_known_shift():
    n, h, w, dx = 5, 64, 96, 2
    gt = panning_clip(n, h, w, dx=dx, seed=3)
    holes = box_holes(n, h, w, 20, 44, 30, 60)
    ref = M.warp_reference(gt)
    interior = ref.valid[:, 10:-10, 10:-10]
    assert interior.mean() > 0.95
    assert np.median(ref.forward[:, 10:-10, 10:-10, 0]) == pytest.approx(-dx, abs=0.1)
    assert M.warp_error(gt, holes, ref) < 2e-4
    out = gt.copy()
    for t in range(1, n):
        out[t][holes[t]] = gt[0][holes[t]]  # frozen on frame 0: error grows with the shift
    exact = M.warp_error(out, holes, _shift_reference(n, h, w, dx))
    assert M.warp_error(out, holes, ref) == pytest.approx(exact, rel=0.15)


def test_a_changed_known_pixel_is_counted():
    inp = np.random.default_rng(0).random((2, 6, 5, 3)).astype(np.float32)
    holes = np.zeros((2, 6, 5), bool)
    holes[0, 1:3, 1:3] = True
    out = inp.copy()
    out[holes] = 0.0  # filling the hole is allowed
    assert M.known_changed_fraction(out, inp, holes) == 0.0
    out[1, 4, 4, 2] = np.nextafter(out[1, 4, 4, 2], np.float32(2))  # one ulp on one channel
    assert M.known_changed_count(out, inp, holes) == 1
    assert M.known_changed_fraction(out, inp, holes) == pytest.approx(1 / (2 * 30 - 4))


def test_quality_bundles_every_metric():
    gt = panning_clip(4, 32, 48, dx=1)
    holes = box_holes(4, 32, 48, 8, 20, 10, 30, step_x=1)
    out = gt.copy()
    out[holes] = 0.2
    q = M.quality(out, gt, gt, holes, M.warp_reference(M.to_display(gt)))
    assert set(q) >= {"hole_psnr", "hole_ssim", "full_psnr", "warp_error", "known_changed_fraction"}
    assert q["known_changed_fraction"] == 0.0
    assert q["full_psnr"] > q["hole_psnr"]
    assert len(q["per_frame_hole_psnr"]) == 4


@pytest.mark.parametrize("bad", [
    lambda gt, h: M.hole_psnr(gt[..., :2], gt[..., :2], h),
    lambda gt, h: M.hole_psnr(gt, gt[:2], h),
    lambda gt, h: M.hole_psnr(gt, gt, h.astype(np.uint8)),
    lambda gt, h: M.hole_ssim(gt, gt, h[:, :-1]),
    lambda gt, h: M.hole_psnr(gt, gt, np.zeros_like(h)),
    lambda gt, h: M.warp_error(gt, h, M.WarpReference(np.zeros((1, 4, 4, 2)), np.ones((1, 4, 4), bool))),
    lambda gt, h: M.known_changed_fraction(gt.astype(np.uint8), gt.astype(np.uint8), h),
])
def test_guards_raise_typed_errors(bad):
    gt = np.zeros((3, 8, 8, 3), np.float32)
    holes = np.ones((3, 8, 8), bool)
    with pytest.raises(MetricInputError) as info:
        bad(gt, holes)
    assert isinstance(info.value, RendererError)
