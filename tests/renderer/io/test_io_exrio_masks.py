"""Items 7 and 8: EXR round trips through renderer.io.exrio, and hole/alpha/composite."""

from __future__ import annotations

import os

import numpy as np
import pytest

from renderer_helpers import as_half, bits, distance_to, make_shot, read_exr, write_exr
from renderer.io import exrio
from renderer.io.config import load_shot
from renderer.errors import InputError, MatteError, OutputError, ShapeError
from renderer.io.masks import composite, composite_alpha, dilated, hole_from_matte
from renderer.io.shot import load_shot_window, validate_shot

CH = ("R", "G", "B", "A", "mask.A")
ATTRS = {"custom:show": "tst", "custom:take": 42, "custom:fstop": 2.5, "Copyright": "comp"}


def _pixels(h, w):
    rng = np.random.default_rng(0)
    px = rng.normal(size=(h, w, len(CH))).astype(np.float32)
    px[0, 0, :3] = [1234.5, 60000.0, -0.75]  # above 1.0 and negative
    px[1, 1, :3] = [-5000.0, 1e-3, 17.25]
    return px


@pytest.mark.parametrize("datatype", ["half", "float"])
def test_round_trip_keeps_windows_channels_metadata_and_values(tmp_path, datatype):
    src = tmp_path / "src.exr"
    px = _pixels(40, 52)
    # data window starts at (-6, -4) and overscans the 40x32 display window
    write_exr(src, px, CH, datatype="float", origin=(-6, -4), display=(0, 0, 40, 32), attrs=ATTRS)
    img = exrio.read_image(str(src))
    assert img.pixels.dtype == np.float32 and img.pixels.shape == (40, 52, 5)
    assert img.channels == CH and img.origin == (-6, -4)
    np.testing.assert_array_equal(img.pixels, px)

    dst = tmp_path / "out" / "dst.exr"
    exrio.write_image(str(dst), img.pixels, img.spec, datatype=datatype, compression="zip")
    back, spec = read_exr(dst)
    expected = as_half(px) if datatype == "half" else px
    np.testing.assert_array_equal(bits(back), bits(expected))
    assert back[0, 0, 0] > 1.0 and back[0, 0, 2] < 0.0
    assert tuple(spec.channelnames) == CH
    assert (spec.x, spec.y, spec.width, spec.height) == (-6, -4, 52, 40)
    assert (spec.full_x, spec.full_y, spec.full_width, spec.full_height) == (0, 0, 40, 32)
    assert str(spec.format) == datatype
    for key, value in ATTRS.items():
        got = spec.getattribute(key)
        assert got == pytest.approx(value) if isinstance(value, float) else got == value, key
    assert spec.getattribute("compression") == "zip"
    assert sorted(os.listdir(dst.parent)) == ["dst.exr"]  # no temporary file left


def test_write_failure_leaves_no_file(tmp_path, monkeypatch):
    src = tmp_path / "src.exr"
    write_exr(src, _pixels(8, 8), CH)
    img = exrio.read_image(str(src))
    out = tmp_path / "out"
    with pytest.raises(OutputError):
        exrio.write_image(str(out / "bad.exr"), img.pixels[..., :3], img.spec)

    def boom(a, b):
        raise OSError("disk full")

    monkeypatch.setattr(exrio.os, "replace", boom)
    with pytest.raises(OSError):
        exrio.write_image(str(out / "x.exr"), img.pixels, img.spec)
    assert os.listdir(out) == []  # neither the frame nor its temporary file


def test_unreadable_files_raise_one_line_input_errors(tmp_path):
    good = tmp_path / "good.exr"
    write_exr(good, _pixels(64, 64), CH)
    data = good.read_bytes()
    cases = {"missing": None, "garbage": os.urandom(4000), "empty": b"", "header_only": data[:200],
             "truncated": data[: len(data) // 2]}
    for name, content in cases.items():
        path = tmp_path / f"{name}.exr"
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(InputError) as info:
            exrio.read_image(str(path))
        msg = str(info.value)
        assert str(path) in msg and "\n" not in msg, (name, msg)
        if name != "truncated":  # the header of a truncated frame is intact
            with pytest.raises(InputError) as info:
                exrio.read_spec(str(path))
            assert "\n" not in str(info.value)


def test_matte_index_and_rgb_indices():
    assert exrio.matte_index(("A",), "mask.A") == 0  # a one-channel matte is used as is
    assert exrio.matte_index(("R", "G", "B", "A"), "alpha") == 3
    assert exrio.matte_index(("R", "G", "B", "A", "mask.A"), "mask.A") == 4
    assert exrio.matte_index(("R", "G", "B", "A", "Mask.A"), "mask.a") == 4
    with pytest.raises(MatteError, match="'Z'"):
        exrio.matte_index(("R", "G", "B", "A"), "Z")
    assert exrio.rgb_indices(("A", "B", "G", "R")) == (3, 2, 1)
    assert exrio.rgb_indices(("diffuse.R", "diffuse.G", "diffuse.B")) == (0, 1, 2)
    with pytest.raises(InputError):
        exrio.rgb_indices(("Y", "A"))


def test_paste_into_known_answer():
    data = np.arange(12, dtype=np.float32).reshape(3, 4) + 1
    out = exrio.paste_into(data, origin=(10, 5), target_origin=(8, 4), target_size=(10, 10))
    expected = np.zeros((10, 10), np.float32)
    expected[1:4, 2:6] = data
    np.testing.assert_array_equal(out, expected)
    # partly outside the target on the top-left
    out = exrio.paste_into(data, origin=(-2, -1), target_origin=(0, 0), target_size=(5, 5))
    expected = np.zeros((5, 5), np.float32)
    expected[0:2, 0:2] = data[1:3, 2:4]
    np.testing.assert_array_equal(out, expected)
    assert not exrio.paste_into(data, (100, 100), (0, 0), (5, 5)).any()


def test_matte_with_its_own_data_window_lands_on_the_plate(tmp_path):
    """A plate with overscan (data window (-4,-2) 72x68) and a matte whose data window is
    only a bounding box (x 20..29, y 30..35) of the same 64x64 display window."""
    shot = make_shot(tmp_path, n=2, hole_box=(10, 10, 4, 4), expand=0, feather=0)
    for f in shot.frames:
        box = np.ones((6, 10, 1), np.float32)
        write_exr(shot.matte(f), box, ("A",), origin=(20, 30), display=(0, 0, 64, 64))
    cfg = load_shot(shot.shot_file)
    data = load_shot_window(cfg, cfg.frames, whole_frame)
    expected = np.zeros((68, 72), bool)
    expected[30 + 2:36 + 2, 20 + 4:30 + 4] = True  # display -> plate data window: +oy rows, +ox columns
    for k in range(2):
        np.testing.assert_array_equal(data.holes[k], expected)
    assert data.rgb.shape == (2, 68, 72, 3)
    report = validate_shot(load_shot(shot.shot_file))
    assert report.hole_fraction[shot.frames[0]] == pytest.approx(60 / (68 * 72))


def whole_frame(support, size):
    return (0, 0) + tuple(size)


def test_a_window_keeps_only_the_box_the_work_reads(tmp_path):
    shot = make_shot(tmp_path, n=3, hole_box=(20, 12, 6, 6), expand=0, feather=2)
    cfg = load_shot(shot.shot_file)
    seen = []

    def box_for(support, size):
        seen.append((support, size))
        y0, x0, y1, x1 = support
        return y0 - 3, x0 - 3, y1 + 3, x1 + 3

    data = load_shot_window(cfg, cfg.frames, box_for)
    (support, size), = seen
    assert size == (68, 72)  # the data window, overscan included
    y0, x0, y1, x1 = data.box
    assert data.rgb.shape == (3, y1 - y0, x1 - x0, 3) and data.holes.shape == data.alpha.shape == (3, y1 - y0, x1 - x0)
    whole = load_shot_window(cfg, cfg.frames, whole_frame)
    assert np.array_equal(data.rgb, whole.rgb[:, y0:y1, x0:x1])
    assert np.array_equal(data.holes, whole.holes[:, y0:y1, x0:x1]) and whole.holes[:, y0:y1, x0:x1].sum() == \
        whole.holes.sum()
    assert (whole.alpha > 0).sum() == (data.alpha > 0).sum()  # the feathered edge is inside the box too


# ------------------------------------------------------------------------------- masks
def test_hole_threshold_and_expand():
    matte = np.zeros((21, 21), np.float32)
    matte[10, 10] = 0.51
    matte[0, 0] = 0.5  # not > 0.5
    assert hole_from_matte(matte).sum() == 1
    for r in (1, 3, 5):
        hole = hole_from_matte(matte, r)
        ys, xs = np.nonzero(hole)
        assert (ys.min(), ys.max(), xs.min(), xs.max()) == (10 - r, 10 + r, 10 - r, 10 + r)
        d = distance_to(matte > 0.5)
        assert hole[d <= r - 0.5].all()  # grown by the radius ...
        assert not hole[d > r * np.sqrt(2)].any()  # ... and not more than a square of it
        assert not hole[0, 0]
    with pytest.raises(ShapeError):
        hole_from_matte(np.zeros((2, 2, 1)))


def test_dilated_grows_by_a_disc_and_keeps_a_mask_at_radius_zero():
    mask = np.zeros((31, 31), bool)
    mask[15, 15] = mask[15, 16] = True
    assert dilated(mask, 0) is mask and dilated(mask, -2) is mask
    for r in (1, 4, 9):
        grown = dilated(mask, r)
        assert grown.dtype == bool and grown[mask].all()
        d = distance_to(mask)
        assert grown[d <= r - 0.5].all()  # every pixel within the radius ...
        assert not grown[d > r * np.sqrt(2)].any()  # ... and none past a square of it
        assert not grown[15, 15 + r + 2] and grown[15, 16 + r]
    with pytest.raises(ShapeError):
        dilated(np.zeros((2, 2, 1), bool), 1)


def test_feather_ramps_outside_only_and_is_exactly_zero_beyond():
    hole = np.zeros((40, 40), bool)
    hole[15:25, 15:25] = True
    feather = 4
    alpha = composite_alpha(hole, feather)
    assert alpha.dtype == np.float32
    assert (alpha[hole] == 1.0).all()  # the hole is not softened inwards
    d = distance_to(hole)
    assert (alpha[d > feather + 1.5] == 0.0).all()
    assert (alpha[~hole] < 1.0).all()
    # along a row the ramp is 1 - d / (feather + 1) for d = 1..feather, then 0
    row = alpha[20, 25:25 + feather + 3]
    expected = [1 - k / (feather + 1) for k in range(1, feather + 1)] + [0.0, 0.0, 0.0]
    np.testing.assert_allclose(row, expected, atol=1e-3)
    assert ((alpha > 0) & ~hole).sum() > 0
    np.testing.assert_array_equal(composite_alpha(hole, 0), hole.astype(np.float32))


def test_composite_is_bit_exact_where_alpha_is_zero():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(8, 9, 4)).astype(np.float32) * 100
    src[0, 0, 0] = -0.0
    src[0, 1, 0] = np.nan
    src[0, 2, 0] = np.inf
    fill = rng.normal(size=src.shape).astype(np.float32)
    fill[0, 3, 0] = np.nan  # garbage in the fill must not leak where alpha is 0
    alpha = np.zeros((8, 9), np.float32)
    alpha[4:, 4:] = 1.0
    alpha[3, 3] = 0.25
    out = composite(src, fill, alpha)
    zero = alpha == 0
    np.testing.assert_array_equal(bits(out[zero]), bits(src[zero]))
    np.testing.assert_array_equal(out[4:, 4:], fill[4:, 4:])
    np.testing.assert_allclose(out[3, 3], 0.75 * src[3, 3] + 0.25 * fill[3, 3], rtol=1e-6)
    with pytest.raises(ShapeError):
        composite(src, fill[..., :3], alpha)


def test_composite_replaces_a_source_pixel_that_is_not_a_number_under_the_matte():
    """NaN times 0 is NaN: a dead pixel under the matte would survive a plain blend."""
    src = np.full((4, 4, 3), 0.5, np.float32)
    src[1, 1] = np.nan
    src[2, 2, 1] = np.inf
    src[0, 0] = np.nan  # outside the matte: kept
    fill = np.full((4, 4, 3), 0.25, np.float32)
    alpha = np.zeros((4, 4), np.float32)
    alpha[1, 1], alpha[2, 2], alpha[3, 3] = 1.0, 0.5, 0.5
    out = composite(src, fill, alpha)
    np.testing.assert_array_equal(out[1, 1], fill[1, 1])
    np.testing.assert_array_equal(out[2, 2], fill[2, 2])
    np.testing.assert_allclose(out[3, 3], 0.375)
    assert np.isnan(out[0, 0]).all()


def test_matte_from_a_plate_channel_and_output_names(tmp_path):
    shot = make_shot(tmp_path, n=3, expand=0, feather=0, frames="1001-1003")
    shot.write_config(mask={"channel": "mask.A"})  # the plate's own layer, no matte files
    cfg = load_shot(shot.shot_file)
    report = validate_shot(cfg)
    assert report.channels == tuple(read_exr(shot.plate(1001))[1].channelnames)
    assert report.output_paths == {f: str(shot.out(f)) for f in (1001, 1002, 1003)}
    data = load_shot_window(cfg, cfg.frames, whole_frame)
    for k, f in enumerate(shot.frames):
        np.testing.assert_array_equal(data.holes[k], shot.holes[f])
        assert report.hole_fraction[f] == pytest.approx(shot.holes[f].mean())
