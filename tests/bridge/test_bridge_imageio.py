"""EXR in/out for stream mode, frame patterns, CURVE key files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from bridge.errors import ImageError, KeyFileError, WrongFieldType
from bridge.imageio import Image, check_attributes, read_exr, write_exr
from bridge.keys import load_public, load_secret, make_keypair
from bridge.sequence import frame_path, has_frame_token, parse_frames


def test_exr_round_trip_keeps_what_compositors_need(tmp_path):
    px = np.random.default_rng(1).random((6, 10, 5)).astype(np.float16)
    image = Image(px, ("R", "G", "B", "A", "mask.A"), data_window=(3, 4), display_window=(0, 0, 20, 12),
                  attributes={"pipeline:shot": ["string", "sh010"], "frames": ["int", 24],
                              "worldToCamera": ["matrix", [float(v) for v in range(16)]]})
    path = write_exr(tmp_path / "out" / "a.1001.exr", image, compression="dwaa")
    back = read_exr(path)
    assert back.pixels.dtype == np.float16 and np.array_equal(back.pixels, px)
    assert back.channels == image.channels and back.data_window == (3, 4)
    assert back.display_window == (0, 0, 20, 12)
    for key in ("pipeline:shot", "frames", "worldToCamera"):
        assert back.attributes[key] == image.attributes[key]
    assert sorted(os.listdir(tmp_path / "out")) == ["a.1001.exr"]  # no temporary left behind
    f32 = write_exr(tmp_path / "f.exr", Image(px.astype(np.float32), image.channels), datatype="float")
    assert read_exr(f32).pixels.dtype == np.float32


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.exr"
    write_exr(path, Image(np.ones((2, 2, 3), np.float16), ("R", "G", "B")))
    with pytest.raises(ImageError, match="do not match channels"):
        write_exr(path, Image(np.zeros((2, 2, 3), np.float16), ("R", "G")))
    assert read_exr(path).pixels.min() == 1.0
    with pytest.raises(ImageError, match="cannot read"):
        read_exr(tmp_path / "missing.exr")


def test_attributes_are_checked():
    for bad in ({"x": ["float", "one"]}, {"x": ["float2", [1.0]]}, {"x": ["pointer", 1]}, {"x": "plain"}):
        with pytest.raises(WrongFieldType):
            check_attributes(bad)
    assert check_attributes({"oiio:ColorSpace": ["string", "x"]}) == {}  # managed by the writer, ignored


def test_frame_patterns():
    assert frame_path("/s/plate.####.exr", 1001) == "/s/plate.1001.exr"
    assert frame_path("/s/plate.#.exr", 7) == "/s/plate.7.exr"
    assert frame_path("/s/plate.%06d.exr", 1001) == "/s/plate.001001.exr"
    assert frame_path("/s/plate.$F4.exr", 12) == "/s/plate.0012.exr"
    assert frame_path("/s/plate.@@@.exr", -5) == "/s/plate.-005.exr"
    assert frame_path("/s/still.exr", 3) == "/s/still.exr" and not has_frame_token("/s/still.exr")
    assert parse_frames("1001-1005x2,1010") == [1001, 1003, 1005, 1010]
    assert parse_frames([3, 1, 3]) == [1, 3]
    for bad in ("1001-", "5-1", True, 1.5, "1-99999999999"):
        with pytest.raises(ValueError):
            parse_frames(bad)


def test_key_files(tmp_path):
    public, secret = make_keypair(tmp_path, "artist")
    assert load_public(public) == load_secret(secret)[0]
    with pytest.raises(KeyFileError, match="already exists"):
        make_keypair(tmp_path, "artist")
    with pytest.raises(KeyFileError, match="holds no secret"):
        load_secret(public)
    os.chmod(secret, 0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_secret(secret)
    (tmp_path / "junk.key").write_text("hello")
    with pytest.raises(KeyFileError, match="not a ZeroMQ certificate"):
        load_public(tmp_path / "junk.key")
    with pytest.raises(KeyFileError, match="renderer keys"):
        load_public(tmp_path / "none.key")
