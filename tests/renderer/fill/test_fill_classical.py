"""The classical fills (Telea, plain flow propagation, the completed flow): contract
(known pixels kept) and behaviour on known motion."""

import cv2
import numpy as np
import pytest
from eval_helpers import box_holes, panning_clip, texture

from renderer.errors import ShapeError
from renderer.evaluate import metrics as M
from renderer.fill import chains, classical
from renderer.fill.flow import completed_flow


def _clip():
    n, h, w = 8, 48, 72
    frames = panning_clip(n, h, w, dx=2, seed=1) ** 2.2  # any positive "linear" values
    holes = box_holes(n, h, w, 14, 32, 12, 30, step_x=3)  # the hole moves faster than the scene
    return frames, holes


@pytest.mark.parametrize("fn", [classical.telea, chains.flow_propagation])
def test_known_pixels_are_bit_exact_and_holes_filled(fn):
    frames, holes = _clip()
    out = fn(frames, holes)
    assert out.dtype == np.float32 and out.shape == frames.shape
    assert M.known_changed_count(out, frames, holes) == 0
    assert np.isfinite(out).all()
    assert not np.array_equal(out[holes], np.zeros_like(out[holes]))


def test_telea_on_float_data_stays_within_the_border_range():
    frame = texture(40, 40)
    hole = np.zeros((40, 40), bool)
    hole[10:30, 12:28] = True
    out = classical.telea_frame(frame, hole)
    border = frame[~hole]
    assert out[hole].min() >= border.min() - 1e-3 and out[hole].max() <= border.max() + 1e-3
    flat = np.full((20, 20, 3), 0.37, np.float32)
    assert np.allclose(classical.telea_frame(flat, hole[:20, :20]), 0.37, atol=0.01)  # OpenCV Telea: about 1 % bias


def test_flow_propagation_recovers_revealed_background():
    frames, holes = _clip()
    gt = M.to_display(frames)
    telea = M.hole_psnr(M.to_display(classical.telea(frames, holes)), gt, holes)
    prop = M.hole_psnr(M.to_display(chains.flow_propagation(frames, holes)), gt, holes)
    assert prop > 35.0
    assert prop > telea + 10.0


def test_flow_propagation_falls_back_to_telea_when_nothing_is_revealed():
    still = np.repeat(texture(40, 56)[None], 5, axis=0)
    holes = box_holes(5, 40, 56, 10, 30, 15, 40)  # static camera, static box: never revealed
    assert np.allclose(chains.flow_propagation(still, holes), classical.telea(still, holes), atol=1e-6)


def test_diffuse_into_reproduces_a_harmonic_field():
    yy, xx = np.mgrid[0:40, 0:50].astype(np.float32)
    field = np.stack([0.3 * xx - 0.2 * yy + 1.0, 0.1 * yy], axis=-1)
    region = np.zeros((40, 50), bool)
    region[10:30, 15:35] = True
    broken = field.copy()
    broken[region] = 99.0
    filled = classical.diffuse_into(broken, region)
    assert np.abs(filled - field).max() < 0.05
    assert np.array_equal(filled[~region], field[~region])


def _sweeps_on_the_whole_frame(field, region, iterations):
    """The plain Jacobi sweeps over the whole frame, from ``diffuse_into``'s own start."""
    import cv2

    start = classical.diffuse_into(field, region, iterations=0)
    out = start.copy()
    for _ in range(iterations):
        avg = cv2.filter2D(out, -1, classical.FOUR_NEIGHBOUR_MEAN, borderType=cv2.BORDER_REPLICATE).reshape(out.shape)
        out[region] = avg[region]
    return out


@pytest.mark.parametrize("channels,box", [(1, (5, 30, 10, 40)), (2, (0, 12, 0, 64)), (3, (20, 48, 50, 64))])
def test_diffuse_into_sweeps_only_the_hole_box_with_the_same_result(channels, box):
    """The sweeps run on the region's box (the frame's edge where it touches it): bit for bit
    what sweeping the whole frame gives."""
    rng = np.random.default_rng(channels)
    field = rng.normal(size=(48, 64, channels)).astype(np.float32)
    region = np.zeros((48, 64), bool)
    y0, y1, x0, x1 = box
    region[y0:y1, x0:x1] = True
    region[y0 + 2, x1 - 1:] = True  # a notch out to the frame's right edge
    got = classical.diffuse_into(field, region, iterations=40)
    want = _sweeps_on_the_whole_frame(field, region, 40)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    assert not np.array_equal(got, classical.diffuse_into(field, region, iterations=0))  # the sweeps did something


def _ramp(h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([0.03 * xx - 0.02 * yy + 4.0, 0.01 * yy + 1.0, 0.02 * xx], axis=-1)


def test_a_large_region_is_diffused_on_a_reduced_copy(monkeypatch):
    """Above ``DIFFUSE_PIXELS`` the harmonic fill is solved reduced and enlarged: still the
    harmonic field (a linear ramp is its own harmonic fill), known pixels kept bit for bit."""
    field = _ramp(120, 160)
    region = np.zeros((120, 160), bool)
    region[20:100, 30:130] = True
    broken = np.where(region[..., None], 99.0, field).astype(np.float32)
    direct = classical.diffuse_into(broken, region)
    monkeypatch.setattr(classical, "DIFFUSE_PIXELS", 1000)
    filled = classical.diffuse_into(broken, region)
    assert not np.array_equal(filled, direct), "the reduced path was taken"
    assert np.array_equal(filled[~region].view(np.uint32), field[~region].view(np.uint32))
    error, error_direct = np.abs(filled - field)[region].max(), np.abs(direct - field)[region].max()
    assert error < 0.1 and error < error_direct, (error, error_direct)


@pytest.mark.parametrize("fill", ["diffuse_into", "telea_frame"])
def test_a_large_region_with_a_thin_known_rim_is_still_filled_from_it(fill, monkeypatch):
    """Reduced, every pixel is partly in the hole: the rim's known pixels still set the fill."""
    field = _ramp(120, 160) / 4.0
    region = np.zeros((120, 160), bool)
    region[2:-2, 2:-2] = True  # known: a rim two pixels wide
    broken = np.where(region[..., None], 0.0, field).astype(np.float32)
    monkeypatch.setattr(classical, "DIFFUSE_PIXELS", 1000)
    monkeypatch.setattr(classical, "TELEA_PIXELS", 1000)
    filled = getattr(classical, fill)(broken, region)
    assert np.array_equal(filled[~region], field[~region])
    assert np.abs(filled - field)[region].mean() < 0.1 * np.abs(field[region]).mean()


def test_telea_reads_only_the_hole_box_and_reduces_a_large_one(monkeypatch):
    """Telea on the hole's box is OpenCV's call on the whole frame, bit for bit; above
    ``TELEA_PIXELS`` it runs reduced: on a smooth frame as near the truth as the full-size fill."""
    frame = _ramp(90, 140) / 4.0
    hole = np.zeros((90, 140), bool)
    hole[30:70, 40:110] = True
    hole[45, 110:] = True  # out to the frame's edge
    whole = np.stack([cv2.inpaint(np.ascontiguousarray(frame[..., c] * classical.TELEA_SCALE), hole.astype(np.uint8),
                                  classical.TELEA_RADIUS, cv2.INPAINT_TELEA) for c in range(3)], axis=-1)
    whole = np.where(hole[..., None], whole / classical.TELEA_SCALE, frame).astype(np.float32)
    got = classical.telea_frame(frame, hole)
    np.testing.assert_array_equal(got.view(np.uint32), whole.view(np.uint32))
    monkeypatch.setattr(classical, "TELEA_PIXELS", 500)
    reduced = classical.telea_frame(frame, hole)
    assert not np.array_equal(reduced, got), "the reduced path was taken"
    assert np.array_equal(reduced[~hole].view(np.uint32), frame[~hole].view(np.uint32))
    error, error_full = np.abs(reduced - frame)[hole], np.abs(got - frame)[hole]
    assert error.mean() < 1.25 * error_full.mean() and error.max() < 1.25 * error_full.max(), \
        (error.mean(), error_full.mean(), error.max(), error_full.max())


def test_a_wide_blur_on_a_reduced_copy_is_the_blur():
    """Above ``DIRECT_BLUR_SIGMA`` the blur runs reduced: within 2 % of the range of the
    direct blur; at or below it, the direct blur itself."""
    image = cv2.GaussianBlur(np.random.default_rng(5).random((300, 400)).astype(np.float32), (0, 0), 3.0)
    for sigma in (40.0, 100.0):
        want = cv2.GaussianBlur(image, (0, 0), sigma)
        got = classical.wide_blur(image, sigma)
        assert got.shape == image.shape and np.abs(got - want).max() < 0.02 * np.ptp(want) + 1e-3
    np.testing.assert_array_equal(classical.wide_blur(image, 8.0), cv2.GaussianBlur(image, (0, 0), 8.0))


def test_map_frames_keeps_the_order_and_raises_what_a_frame_raises():
    from renderer.parallel import map_frames

    assert map_frames(lambda t: t * t, 9) == [t * t for t in range(9)]

    def broken(t):
        if t == 3:
            raise ValueError("frame 3")
        return t

    with pytest.raises(ValueError, match="frame 3"):
        map_frames(broken, 6)


def test_completed_flow_is_smooth_inside_the_hole():
    frames, holes = _clip()
    flow = completed_flow(frames, holes)
    inside = flow.forward[2][holes[2]]
    assert np.median(inside[:, 0]) == pytest.approx(-2.0, abs=0.3)  # the scene's motion, not the hole's
    assert np.abs(flow.backward[0]).max() == 0.0


def test_guards():
    frames, holes = _clip()
    with pytest.raises(ShapeError):
        classical.telea(frames[..., :2], holes)
    with pytest.raises(ShapeError):
        chains.flow_propagation(frames, holes[:-1])


def test_finite_frames_replace_what_is_not_a_number_from_around_it():
    frames = np.full((3, 20, 30, 3), 0.25, np.float32)
    frames[0, :, 15:] = 0.75
    frames[0, 5, 5] = np.nan
    frames[0, 5, 25, 2] = np.inf
    frames[1, 8:12, 8:12] = -np.inf  # a block: filled from further out
    frames[2] = np.nan  # nothing finite: 0
    out, bad = classical.finite_frames(frames)
    assert bad.sum() == 2 + 16 + 600 and bad[0, 5, 5] and bad[0, 5, 25] and bad[1, 9, 9]
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0, 5, 5], 0.25)
    np.testing.assert_allclose(out[0, 5, 25], 0.75)
    np.testing.assert_allclose(out[1, 8:12, 8:12], 0.25)
    assert (out[2] == 0).all()
    np.testing.assert_array_equal(out[~bad], frames[~bad])
    clean = np.full((2, 4, 4, 3), 0.5, np.float32)
    same, none = classical.finite_frames(clean)
    assert same is clean and not none.any()
    with pytest.raises(ShapeError):
        classical.finite_frames(clean[0])
