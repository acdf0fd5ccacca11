"""Odd shots through the real CLI: each renders (known pixels bit-exact) or exits with one
clear line and its exit code, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from renderer_helpers import bits, make_shot, read_exr, run_cli, write_exr


def _mattes(shot, fn):
    for k, f in enumerate(shot.frames):
        write_exr(shot.matte(f), fn(k, 64, 64)[..., None].astype(np.float32), ("A",))


def one_pixel(k, h, w):
    m = np.zeros((h, w))
    m[h // 2, w // 3 + k] = 1.0
    return m


def four_edges(k, h, w):
    m = np.zeros((h, w))
    m[:, :5] = m[:, -5:] = m[:4] = m[-4:] = 1.0
    return m


def everything(k, h, w):
    return np.ones((h, w))


def soft_only(k, h, w):  # a feathered roto whose peak never passes 0.5
    yy, xx = np.mgrid[:h, :w]
    return np.clip(0.5 - (np.hypot(yy - h / 2, xx - w / 2 - k) - 8) / 16, 0, 0.5)


@pytest.mark.parametrize("matte, frames", [(one_pixel, 6), (four_edges, 6), (one_pixel, 3)],
                         ids=["one-pixel hole", "hole on all four edges", "three frames"])
def test_renders_and_keeps_known_pixels(tmp_path, matte, frames):
    shot = make_shot(tmp_path / "s", n=frames, preset="standard", steps=4, expand=0, feather=0, overscan=(0, 0))
    _mattes(shot, matte)
    proc = run_cli("render", str(shot.shot_file))
    assert proc.returncode == 0, proc.stderr
    for k, f in enumerate(shot.frames):
        out, plate = read_exr(shot.out(f))[0], read_exr(shot.plate(f))[0]
        known = matte(k, 64, 64) <= 0.5
        assert np.array_equal(out[known], plate[known]), f"known pixels changed in frame {f}"
        assert np.isfinite(out).all()


@pytest.mark.parametrize("matte, words", [(everything, "covers the whole frame"), (soft_only, "empty on every frame")],
                         ids=["every pixel matted", "soft edges only"])
def test_unusable_mattes_are_one_line_and_exit_3(tmp_path, matte, words):
    shot = make_shot(tmp_path / "s", n=4, preset="standard", steps=4, overscan=(0, 0))
    _mattes(shot, matte)
    proc = run_cli("render", str(shot.shot_file))
    assert proc.returncode == 3
    assert len(proc.stderr.strip().splitlines()) == 1 and words in proc.stderr
    assert not any(shot.out(f).exists() for f in shot.frames)


def test_pixels_that_are_not_numbers_stay_outside_the_hole_and_do_not_spread(tmp_path):
    """A plate with NaN and infinite pixels (a renderer's NaN, a comp's division by zero)
    beside the hole and inside it: outside the hole they are written back as they are, bit
    for bit; inside it every value is a number, as close to the clean plate's fill as the
    fill of a plate without them; the log says what was found."""
    clean = make_shot(tmp_path / "clean", n=6, preset="standard", steps=4, expand=0, feather=0, overscan=(0, 0))
    assert run_cli("render", str(clean.shot_file)).returncode == 0
    shot = make_shot(tmp_path / "s", n=6, preset="standard", steps=4, expand=0, feather=0, overscan=(0, 0))
    for f in shot.frames:
        px, spec = read_exr(shot.plate(f))
        ys, xs = np.nonzero(shot.holes[f])
        px[ys.min() - 2, xs.min():xs.min() + 3, :3] = np.nan  # beside the hole, where every fill reads
        px[ys.max() + 2, xs.max(), 1] = np.inf
        px[5, 50, 0] = -np.inf  # far from it
        px[ys.min() + 4, xs.min() + 4, :3] = np.nan  # under the matte: replaced like the rest of the hole
        write_exr(shot.plate(f), px, spec.channelnames, attrs={"compression": "zip"})
    proc = run_cli("render", str(shot.shot_file))
    assert proc.returncode == 0, proc.stderr
    for f in shot.frames:
        out, plate = read_exr(shot.out(f))[0], read_exr(shot.plate(f))[0]
        hole = shot.holes[f]
        assert np.array_equal(bits(out[~hole]), bits(plate[~hole])), f"known pixels changed in frame {f}"
        assert not np.isfinite(out[~hole, :3]).all(), "the plate's NaN outside the hole are kept"
        assert np.isfinite(out[hole]).all(), f"a value that is not a number in frame {f}'s hole"
        reference = read_exr(clean.out(f))[0]
        assert np.abs(out[hole, :3] - reference[hole, :3]).mean() < 0.02
    assert "not numbers (NaN or infinity)" in proc.stdout
