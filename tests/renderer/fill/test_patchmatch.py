"""The exemplar-based fill (``renderer.fill.patchmatch``): contract (known pixels kept,
shapes checked, seeded), texture where Telea smears, the awkward holes, and a steady
fill on a still clip."""

import numpy as np
import pytest
from eval_helpers import texture

from renderer.errors import ShapeError
from renderer.evaluate import baselines
from renderer.evaluate import metrics as M
from renderer.fill.classical import telea_frame
from renderer.fill.patchmatch import PatchField, patchmatch_frame, patchmatch_video


def _periodic(kind, size=96, period=8):
    """A scene-linear colour pattern of the given period: diagonal stripes or a checker."""
    yy, xx = np.mgrid[0:size, 0:size]
    half = period // 2
    on = ((xx + yy) // half) % 2 == 0 if kind == "stripes" else ((xx // half) + (yy // half)) % 2 == 0
    return np.where(on[..., None], [0.8, 0.55, 0.3], [0.03, 0.05, 0.1]).astype(np.float32)


def _box(h, w, y0, y1, x0, x1):
    hole = np.zeros((h, w), bool)
    hole[y0:y1, x0:x1] = True
    return hole


def _awkward(h=48, w=64):
    """Scene-linear texture with values a fill could disturb (negative, above 1, -0.0, tiny)."""
    frame = texture(h, w, seed=3) ** 2.2 * 4.0
    frame[0, :4] = [-0.25, 7.5, -0.0]
    frame[-1, -3:] = 1e-30
    return frame.astype(np.float32)


def _same_bits(a, b):
    return np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_known_pixels_come_back_bit_for_bit():
    frame = _awkward()
    hole = _box(48, 64, 14, 30, 20, 40)
    hole[0, 5] = True  # a pixel next to the awkward ones
    out, field = patchmatch_frame(frame.copy(), hole)
    assert out.shape == frame.shape and out.dtype == np.float32 and np.isfinite(out).all()
    assert _same_bits(out[~hole], frame[~hole])
    assert not np.array_equal(out[hole], frame[hole])  # the truth under the hole is not handed back
    assert isinstance(field, PatchField)
    holes = np.repeat(hole[None], 3, axis=0)
    video = np.repeat(frame[None], 3, axis=0)
    for filled in (patchmatch_video(video.copy(), holes), baselines.BASELINES["patchmatch"](video.copy(), holes)):
        assert filled.dtype == np.float32 and _same_bits(filled[~holes], video[~holes])


@pytest.mark.parametrize("kind", ["stripes", "checker"])
def test_a_periodic_texture_is_continued_where_telea_smears(kind):
    frame = _periodic(kind)
    hole = _box(96, 96, 36, 60, 40, 64)
    out, _ = patchmatch_frame(frame, hole)
    flat = telea_frame(frame, hole)
    truth, holes = M.to_display(frame[None]), hole[None]
    psnr = M.hole_psnr(M.to_display(out[None]), truth, holes)
    psnr_telea = M.hole_psnr(M.to_display(flat[None]), truth, holes)
    detail = M.detail(M.to_display(out[None]), truth, holes)
    detail_telea = M.detail(M.to_display(flat[None]), truth, holes)
    assert psnr > psnr_telea + 15.0, (psnr, psnr_telea)
    assert detail >= 0.7 and detail_telea < 0.5, (detail, detail_telea)


@pytest.mark.parametrize("kind", ["stripes", "checker"])
def test_a_level_too_large_to_match_is_voted_from_the_coarser_field(kind, monkeypatch):
    """Above ``MATCH_TARGETS`` a level copies the plate's pixels through the doubled field
    of the level below, unmatched: the texture is still continued, known pixels kept."""
    from renderer.fill import patchmatch

    frame, hole = _periodic(kind), _box(96, 96, 36, 60, 40, 64)
    matched, _ = patchmatch_frame(frame, hole)
    monkeypatch.setattr(patchmatch, "MATCH_TARGETS", 200)  # the finest level (about 900 targets) only votes
    voted, field = patchmatch_frame(frame, hole)
    assert not np.array_equal(voted, matched), "the finest level was not matched"
    assert _same_bits(voted[~hole], frame[~hole]) and field is not None
    truth, holes = M.to_display(frame[None]), hole[None]
    psnr = M.hole_psnr(M.to_display(voted[None]), truth, holes)
    psnr_telea = M.hole_psnr(M.to_display(telea_frame(frame, hole)[None]), truth, holes)
    detail = M.detail(M.to_display(voted[None]), truth, holes)
    assert psnr > psnr_telea + 10.0 and detail >= 0.7, (psnr, psnr_telea, detail)


def test_a_sharp_fill_copies_the_frames_own_pixels_where_the_vote_averages_them():
    """``sharp`` (the detail layer's source): every hole pixel is one of the frame's known
    pixels, so the fill is as sharp as the footage; the voted fill is a mean, and softer."""
    rng = np.random.default_rng(5)
    frame = (rng.random((96, 96, 3)) * 0.6 + 0.05).astype(np.float32)  # noise: no two pixels alike
    hole = _box(96, 96, 36, 60, 40, 64)
    voted, _ = patchmatch_frame(frame, hole)
    sharp, _ = patchmatch_frame(frame, hole, sharp=True)
    assert _same_bits(sharp[~hole], frame[~hole])
    known = frame[~hole]
    nearest = lambda out: np.abs(out[hole][:, None] - known[None]).max(axis=2).min(axis=1)  # noqa: E731
    assert nearest(sharp).max() < 1e-5, "copied through ACEScct and back, to float rounding"
    assert np.median(nearest(voted)) > 1e-3, "the vote's pixels are means, not the frame's own"
    truth, holes = M.to_display(frame[None]), hole[None]
    sharp_detail = M.detail(M.to_display(sharp[None]), truth, holes)
    voted_detail = M.detail(M.to_display(voted[None]), truth, holes)
    assert sharp_detail > 0.85 and voted_detail < 0.85 * sharp_detail, (sharp_detail, voted_detail)


def test_highlights_above_one_are_copied_into_the_hole():
    frame = _periodic("stripes") * 20.0  # stripes at 16.0 and 0.6 scene-linear
    hole = _box(96, 96, 36, 60, 40, 64)
    out, _ = patchmatch_frame(frame, hole)
    assert out[hole].max() > 10.0 and np.isfinite(out).all()


def test_the_work_stays_in_a_box_around_the_hole():
    frame = texture(120, 160, seed=1)
    hole = _box(120, 160, 50, 56, 70, 78)
    _, field = patchmatch_frame(frame, hole)
    y0, y1, x0, x1 = field.box
    assert 0 < y0 and y1 < 120 and 0 < x0 and x1 < 160
    assert field.source.shape == (y1 - y0, x1 - x0, 2)
    matched = field.source[..., 0] >= 0
    sy, sx = field.source[matched].T
    assert not hole[sy, sx].any()  # every match is the centre of a known patch
    assert matched.sum() == (6 + 6) * (8 + 6)  # the patches that overlap the hole


def test_a_one_pixel_hole():
    frame = texture(40, 50, seed=2)
    hole = np.zeros((40, 50), bool)
    hole[20, 25] = True
    out, field = patchmatch_frame(frame, hole)
    assert _same_bits(out[~hole], frame[~hole]) and np.isfinite(out).all()
    assert (field.source[..., 0] >= 0).sum() == 49
    assert np.all(out[20, 25] >= frame.min(axis=(0, 1)) - 1e-6)


def test_a_hole_touching_all_four_edges():
    frame = texture(40, 50, seed=2)
    hole = np.zeros((40, 50), bool)
    hole[0, :] = hole[-1, :] = hole[:, 0] = hole[:, -1] = True
    hole[18:22, :] = True
    hole[:, 23:27] = True
    out, field = patchmatch_frame(frame, hole)
    assert _same_bits(out[~hole], frame[~hole]) and np.isfinite(out).all()
    assert field.box == (0, 40, 0, 50)
    assert out[hole].min() >= 0.0 and out[hole].max() <= frame.max() + 1e-6


def test_too_little_known_area_falls_back_to_telea():
    frame = texture(40, 50, seed=2)
    hole = np.ones((40, 50), bool)
    hole[10:14, 10:14] = False  # 4x4 known pixels: no 7x7 patch to copy
    out, field = patchmatch_frame(frame, hole)
    assert field is None and np.array_equal(out, telea_frame(frame, hole))
    tiny = np.full((5, 5, 3), 0.3, np.float32)  # a frame smaller than a patch
    one = np.zeros((5, 5), bool)
    one[2, 2] = True
    out, field = patchmatch_frame(tiny, one)
    assert field is None and np.allclose(out, 0.3, atol=0.01)
    empty = np.zeros((40, 50), bool)
    out, field = patchmatch_frame(frame, empty)
    assert field is None and np.array_equal(out, frame)


def test_wrong_shapes_raise_the_shape_error():
    frame = np.zeros((16, 16, 3), np.float32)
    hole = np.zeros((16, 16), bool)
    with pytest.raises(ShapeError, match=r"\(H, W, 3\)"):
        patchmatch_frame(frame[..., :2], hole)
    with pytest.raises(ShapeError, match=r"\(H, W, 3\)"):
        patchmatch_frame(frame[..., 0], hole)
    with pytest.raises(ShapeError, match="floating point"):
        patchmatch_frame(frame.astype(np.uint8), hole)
    with pytest.raises(ShapeError, match="bool"):
        patchmatch_frame(frame, hole.astype(np.uint8))
    with pytest.raises(ShapeError, match=r"bool \(16, 16\)"):
        patchmatch_frame(frame, hole[:8])
    with pytest.raises(ShapeError, match="odd"):
        patchmatch_frame(frame, hole, patch=6)
    with pytest.raises(ShapeError, match="levels"):
        patchmatch_frame(frame, hole, levels=-1)
    with pytest.raises(ShapeError, match=r"\(F, H, W, 3\)"):
        patchmatch_video(frame, hole)
    with pytest.raises(ShapeError, match="bool"):
        patchmatch_video(frame[None], hole[None].astype(np.uint8))


def test_the_same_seed_gives_the_same_fill():
    frame = texture(64, 64, seed=5)
    hole = _box(64, 64, 20, 40, 18, 44)
    a, fa = patchmatch_frame(frame, hole, seed=3)
    b, fb = patchmatch_frame(frame, hole, seed=3)
    assert np.array_equal(a, b) and np.array_equal(fa.source, fb.source)
    c, _ = patchmatch_frame(frame, hole, seed=4)
    assert not np.array_equal(a, c)


def test_a_still_clip_gets_a_steady_fill():
    frame = (texture(64, 64, seed=4, sigma=1.0) ** 2.2).astype(np.float32)
    holes = np.repeat(_box(64, 64, 22, 42, 20, 44)[None], 4, axis=0)
    hole = holes[0]
    still = patchmatch_video(np.repeat(frame[None], 4, axis=0), holes)
    error = np.abs(still[0] - frame)[hole].mean()  # how far a fill is from the truth
    steps = [np.abs(still[t + 1] - still[t])[hole].mean() for t in range(3)]
    assert max(steps) < 0.1 * error, (steps, error)
    # with grain, the fill still moves far less than two fills of one frame from different seeds
    rng = np.random.default_rng(0)
    grainy = np.stack([frame * (1 + 0.02 * rng.standard_normal(frame.shape)) for _ in range(4)]).astype(np.float32)
    video = patchmatch_video(grainy, holes)
    apart = np.abs(patchmatch_frame(grainy[1], hole, seed=0)[0] - patchmatch_frame(grainy[1], hole, seed=1)[0])
    steps = [np.abs(video[t + 1] - video[t])[hole].mean() for t in range(3)]
    assert max(steps) < 0.5 * apart[hole].mean(), (steps, apart[hole].mean())


def test_frames_without_a_hole_pass_through_and_the_field_carries_over_them():
    frame = texture(48, 48, seed=6)
    video = np.repeat(frame[None], 3, axis=0)
    holes = np.zeros((3, 48, 48), bool)
    holes[0, 16:30, 16:30] = holes[2, 16:30, 16:30] = True
    out = patchmatch_video(video, holes)
    assert np.array_equal(out[1], frame)
    assert np.abs(out[2] - out[0])[holes[0]].mean() < 0.1 * np.abs(out[0] - frame)[holes[0]].mean()


def test_a_field_over_a_box_of_another_size_is_ignored():
    frame = texture(64, 64, seed=7)
    hole = _box(64, 64, 20, 40, 18, 44)
    _, field = patchmatch_frame(frame, hole)
    other = _box(64, 64, 10, 14, 10, 14)
    assert np.array_equal(patchmatch_frame(frame, other, init=field)[0], patchmatch_frame(frame, other)[0])
