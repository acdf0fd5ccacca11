"""Clip and matte loading: video and EXR sequences, crop, resize, colour."""

import cv2
import numpy as np
import OpenImageIO as oiio
import pytest

from renderer.evaluate import clips
from renderer.evaluate.errors import ClipError, MatteSpecError


def _write_exr(path, pixels, channels):
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], pixels.shape[2], "float")
    spec.channelnames = channels
    out = oiio.ImageOutput.create(path)
    assert out.open(path, spec)
    out.write_image(pixels)
    out.close()


def test_centre_crop_resize_keeps_the_middle():
    img = np.zeros((40, 100), np.float32)
    img[:, 30:70] = 1.0  # the central 40x40 square
    out = clips.centre_crop_resize(img, 20, 20)
    assert out.shape == (20, 20)
    assert np.allclose(out, 1.0)
    assert clips.centre_crop_resize(np.zeros((10, 20, 3), np.float32), 30, 60).shape == (30, 60, 3)


def test_video_is_read_from_start_and_converted_to_scene_linear(tmp_path):
    path = str(tmp_path / "grey.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 32))
    levels = [20, 60, 100, 140, 180, 220]
    for v in levels:
        writer.write(np.full((32, 64, 3), v, np.uint8))
    writer.release()
    clip = clips.load_clip(path, start=2, count=3, height=16, width=32)
    assert clip.frames.shape == (3, 16, 32, 3) and clip.frames.dtype == np.float32
    for k, v in enumerate(levels[2:5]):
        s = v / 255.0
        expected = ((s + 0.055) / 1.055) ** 2.4
        assert clip.frames[k].mean() == pytest.approx(expected, abs=0.02)
    with pytest.raises(ClipError):
        clips.load_clip(path, start=4, count=3, height=16, width=32)
    with pytest.raises(ClipError):
        clips.load_clip(str(tmp_path / "missing.mp4"))


def test_exr_sequence_is_scene_linear_and_matte_sequence_thresholded(tmp_path):
    rng = np.random.default_rng(0)
    plates = rng.random((4, 24, 48, 4)).astype(np.float32) * 3.0  # values above 1 survive
    for i, p in enumerate(plates):
        _write_exr(str(tmp_path / f"plate.{1001 + i:04d}.exr"), p, ("R", "G", "B", "A"))
        matte = np.zeros((24, 48, 1), np.float32)
        matte[5:10, 10 + i:20 + i] = 1.0
        _write_exr(str(tmp_path / f"matte.{1001 + i:04d}.exr"), matte, ("Y",))
    clip = clips.load_clip(str(tmp_path / "plate.####.exr"), start=1, count=3, height=24, width=48)
    assert np.allclose(clip.frames, plates[1:4, ..., :3])
    holes = clips.load_matte_sequence(str(tmp_path / "matte.####.exr"), start=1, count=3, height=24, width=48)
    assert holes.dtype == bool and holes.shape == (3, 24, 48)
    assert holes[0, 7, 11] and not holes[0, 7, 10] and holes[2, 7, 13] and not holes[2, 7, 12]
    with pytest.raises(MatteSpecError):
        clips.load_matte_sequence(str(tmp_path / "matte.####.exr"), start=2, count=3, height=24, width=48)
    with pytest.raises(ClipError):
        clips.load_clip(str(tmp_path / "plate.exr"), count=2)
