"""Long shots are split into overlapping windows that are trained apart and cross-faded."""

from __future__ import annotations

import numpy as np
import pytest

from renderer import api
from renderer.io.masks import composite_alpha, hole_from_matte
from renderer.windows import plan_windows, window_weights
from renderer_helpers import bits, make_shot, read_exr, run_cli


@pytest.mark.parametrize("n,size,overlap", [(16, 64, 8), (65, 64, 8), (100, 64, 8), (500, 64, 8), (12, 7, 2)])
def test_windows_cover_every_frame_and_weights_sum_to_one(n, size, overlap):
    windows = plan_windows(n, size, overlap)
    assert windows[0][0] == 0 and windows[-1][1] == n
    assert all(b - a <= size for a, b in windows)
    for (a0, b0), (a1, b1) in zip(windows, windows[1:]):
        assert b0 - a1 >= overlap, "neighbouring windows must overlap by at least the overlap"
    total = np.sum([window_weights(n, windows, w) for w in range(len(windows))], axis=0)
    np.testing.assert_allclose(total, 1.0)


def test_a_short_shot_is_one_window():
    assert plan_windows(16, 64, 8) == [(0, 16)]


def test_crossfade_ramps_across_the_overlap():
    windows = plan_windows(12, 7, 2)
    first, second = window_weights(12, windows, 0), window_weights(12, windows, 1)
    a1, b0 = windows[1][0], windows[0][1]
    inside = range(a1, b0)
    assert all(0 < first[i] < 1 and 0 < second[i] < 1 for i in inside)
    assert [first[i] for i in inside] == sorted((first[i] for i in inside), reverse=True)
    assert first[0] == 1.0 and second[-1] == 1.0 and first[-1] == 0.0 and second[0] == 0.0


@pytest.mark.slow
def test_long_shot_renders_in_windows_with_known_pixels_untouched(tmp_path):
    shot_files = make_shot(tmp_path / "long", n=12, steps=2, preset="paper", window_frames=7, window_overlap=2)
    shot = api.load_shot(shot_files.shot_file)
    result = api.render(shot)
    assert len(result.frames_written) == 12
    work = shot_files.root / "out" / ".shot.work"
    windows = sorted(p.name for p in work.iterdir() if p.name.startswith("window-"))
    assert windows == ["window-1001-1007", "window-1006-1012"]
    assert all((work / w / "checkpoint.pt").is_file() for w in windows)
    for f in shot_files.frames:
        out, _ = read_exr(shot_files.out(f))
        src, _ = read_exr(shot_files.plate(f))
        grown = hole_from_matte(shot_files.holes[f].astype(np.float32), shot.mask.expand)
        known = composite_alpha(grown, shot.mask.feather) == 0
        assert np.array_equal(bits(out[known]), bits(src[known]))


def _report(n=40, size=(1080, 1920), box=(500, 900, 600, 1100)):
    from renderer.io.shot import ShotReport

    frames = tuple(range(1001, 1001 + n))
    return ShotReport(frames=frames, width=size[1], height=size[0], channels=("R", "G", "B"),
                      support={f: box for f in frames}), frames


def test_windows_shrink_until_each_fits_the_memory_there_is():
    from renderer.presets import STANDARD
    from renderer.windows import BASE_BYTES, plan_windows_within, window_bytes

    report, frames = _report()
    roomy = plan_windows_within(report, frames, STANDARD, 64, 8, budget=64 << 30)
    assert roomy == [(0, 40)]
    one = window_bytes(report, frames, STANDARD)
    assert one > BASE_BYTES
    tight = plan_windows_within(report, frames, STANDARD, 64, 8, budget=(one + BASE_BYTES) // 2)
    assert len(tight) > 1 and tight[0][0] == 0 and tight[-1][1] == 40
    assert all(window_bytes(report, frames[a:b], STANDARD) <= (one + BASE_BYTES) // 2 for a, b in tight)


def test_a_shot_that_cannot_fit_is_a_clear_error():
    from renderer.errors import ResourceError
    from renderer.presets import STANDARD
    from renderer.windows import plan_windows_within

    report, frames = _report()
    with pytest.raises(ResourceError, match="GiB are available") as info:
        plan_windows_within(report, frames, STANDARD, 64, 8, budget=1 << 20)
    assert info.value.exit_code == 7


def test_the_window_plan_is_kept_for_later_runs(tmp_path):
    from renderer.windows import read_plan, write_plan

    frames = tuple(range(1001, 1041))
    assert read_plan(tmp_path, frames) is None
    write_plan(tmp_path, frames, [(0, 24), (16, 40)])
    assert read_plan(tmp_path, frames) == [(0, 24), (16, 40)]
    assert read_plan(tmp_path, frames[:30]) is None  # other frames: planned anew
    (tmp_path / "windows.json").write_text("{not json")
    assert read_plan(tmp_path, frames) is None


@pytest.mark.slow
def test_a_window_with_nothing_to_fill_passes_the_plates_through(tmp_path):
    """The roto ends before the shot does: later windows have no hole at all. They are not
    worked on (no network, no memory for a whole-frame box) and their frames are the plates."""
    from renderer_helpers import write_exr

    shot = make_shot(tmp_path / "s", n=10, preset="standard", steps=3, window_frames=5, window_overlap=1,
                     overscan=(0, 0), expand=0, feather=0)
    for f in shot.frames[4:]:
        write_exr(shot.matte(f), np.zeros((64, 64, 1), np.float32), ("A",))
    proc = run_cli("render", str(shot.shot_file))
    assert proc.returncode == 0, proc.stderr
    # windows 1001-1004, 1004-1007 and 1007-1010: the last has no hole and is not worked on
    worked = sorted(p.name for p in shot.work.iterdir() if p.is_dir())
    assert "window-1001-1004" in worked and "window-1007-1010" not in worked, worked
    for f in shot.frames:
        out, plate = read_exr(shot.out(f))[0], read_exr(shot.plate(f))[0]
        if f >= shot.frames[4]:
            np.testing.assert_array_equal(bits(out), bits(plate))
        else:
            assert np.array_equal(out[~shot.holes[f]], plate[~shot.holes[f]])


def test_inpaint_with_no_hole_returns_the_frames():
    frames = np.random.default_rng(0).random((4, 16, 16, 3), dtype=np.float32)
    out = api.inpaint(frames, np.zeros((4, 16, 16), bool), steps=5)
    assert out.steps == 0 and np.array_equal(out.frames, frames)
