"""Items 9 and 13: a tiny half-float shot through `renderer render` with each preset:
known pixels bit for bit, channels/windows/metadata kept, farm progress lines."""

from __future__ import annotations

import numpy as np
import pytest

from renderer_helpers import ATTRS, HOLE_VALUE, PLATE_CHANNELS, bits, distance_to, make_shot, read_exr, run_cli
from renderer.io.masks import composite_alpha, hole_from_matte

EXPAND, FEATHER = 1, 2


@pytest.mark.slow
@pytest.mark.parametrize("preset,steps", [("paper", 3), ("dip-vid", 3), ("dip-frame", 6), ("preview", 4)])
def test_render_keeps_known_pixels_bit_for_bit(tmp_path, preset, steps):
    shot = make_shot(tmp_path / "shot", n=6, expand=EXPAND, feather=FEATHER, preset=preset, steps=steps)
    _render_and_check(shot)


@pytest.mark.slow
def test_long_shot_in_overlapping_windows(tmp_path):
    # 8 frames in windows of 5 overlapping by 1 -> frames 1001-1005 and 1004-1008, cross-faded
    shot = make_shot(tmp_path / "shot", n=8, expand=EXPAND, feather=FEATHER, preset="dip-frame", steps=5,
                     window_frames=5, window_overlap=1)
    stdout = _render_and_check(shot)
    assert "2 windows" in stdout
    assert "done: wrote 8 frame(s), skipped 0 already written, 10 steps in" in stdout  # 5 in each window
    assert sorted(p.name for p in shot.work.iterdir() if p.is_dir()) == ["window-1001-1005", "window-1004-1008"]


def _render_and_check(shot) -> str:
    proc = run_cli("render", shot.shot_file)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "openjd_progress:" in proc.stdout and "openjd_status:" in proc.stdout  # stdout is not a terminal
    assert "openjd_progress: 100" in proc.stdout
    assert "Traceback" not in proc.stderr

    written = sorted(p.name for p in (shot.root / "out").glob("*.exr"))
    assert written == [f"shot.{f}.exr" for f in shot.frames]  # the plates' own frame numbers
    assert not list((shot.root / "out").glob("*tmp*"))

    for f in shot.frames:
        src, sspec = read_exr(shot.plate(f))
        out, ospec = read_exr(shot.out(f))
        # channels, windows, metadata and pixel type of the source
        assert tuple(ospec.channelnames) == tuple(sspec.channelnames)
        assert sorted(ospec.channelnames) == sorted(PLATE_CHANNELS)
        assert (ospec.x, ospec.y, ospec.width, ospec.height) == (sspec.x, sspec.y, sspec.width, sspec.height)
        assert (ospec.full_x, ospec.full_y, ospec.full_width, ospec.full_height) == (0, 0, 64, 64)
        assert str(ospec.format) == "half"
        for key, value in ATTRS.items():
            got = ospec.getattribute(key)
            assert got == pytest.approx(value) if isinstance(value, float) else got == value, key

        raw = shot.holes[f]
        # independent of renderer.io.masks: farther than expand + feather (+1.5 for the ramp's end) is untouched
        far = distance_to(raw) > EXPAND + FEATHER + 1.5
        assert far.mean() > 0.8
        np.testing.assert_array_equal(bits(out[far]), bits(src[far]))
        # and everywhere the compositing alpha is 0, all channels
        alpha = composite_alpha(hole_from_matte(raw.astype(np.float32), EXPAND), FEATHER)
        assert (alpha[far] == 0).all()
        zero = alpha == 0
        np.testing.assert_array_equal(bits(out[zero]), bits(src[zero]))
        # alpha, mask.A and depth.Z are never touched, in or out of the hole
        np.testing.assert_array_equal(bits(out[..., 3:]), bits(src[..., 3:]))
        # every hole pixel was filled (the object's value cannot come out of the net)
        assert (src[raw][:, :3] == HOLE_VALUE).all()
        assert (out[raw][:, :3] != HOLE_VALUE).all()
        assert np.isfinite(out).all()
    return proc.stdout


def test_progress_moves_through_every_stage(tmp_path):
    """Reading, flow and pre-fill, training and writing each say so, and the farm's
    percentage never goes back."""
    shot = make_shot(tmp_path / "shot", n=6, preset="standard", steps=4)
    proc = run_cli("render", shot.shot_file)
    assert proc.returncode == 0, proc.stderr[-3000:]
    statuses = [line for line in proc.stdout.splitlines() if line.startswith("openjd_status:")]
    for words in ("reading plates and mattes", "optical flow and pre-fill", "training on the shot", "writing frames"):
        assert any(words in line for line in statuses), (words, statuses)
    percent = [float(line.split(":")[1]) for line in proc.stdout.splitlines() if line.startswith("openjd_progress:")]
    assert percent == sorted(percent) and percent[-1] == 100.0


def test_stage_progress_counts_frames_as_they_finish():
    import threading
    import time

    from renderer.callbacks import Callbacks
    from renderer.parallel import map_frames
    from renderer.stages import ticking

    events, lock = [], threading.Lock()

    def record(event):
        with lock:
            events.append(event)

    cb = Callbacks(on_progress=record, progress_interval=0.02)
    with ticking(cb, "fill", expected=40, message="pre-fill"):
        map_frames(lambda i: time.sleep(0.01), 30)
    steps = [e.step for e in events]
    assert all(e.stage == "fill" and e.total == 40 for e in events)
    assert steps[0] == 0 and steps[-1] == 40 and steps == sorted(steps)
    assert any(0 < s < 40 for s in steps), steps  # it moved while the work ran
    assert max(steps[:-1]) <= 30  # the estimate is never passed before the stage ends


def test_the_detail_stage_moves_the_progress_while_it_runs():
    """The fine detail of a never-revealed hole (one PatchMatch, seconds at 2K) counts its
    rounds, so the bar moves during it, between reading and the fills."""
    from renderer.callbacks import Callbacks
    from renderer.inpaint import inpaint_arrays
    from renderer.presets import STANDARD
    from renderer.progress import overall_percent

    still = np.repeat((np.random.default_rng(0).random((1, 96, 128, 3)) * 0.5).astype(np.float32), 6, axis=0)
    holes = np.zeros((6, 96, 128), bool)
    holes[:, 30:70, 40:90] = True  # a fixed box over a still shot: no frame shows it
    events = []
    inpaint_arrays(still, holes, preset=STANDARD, steps=2,
                   callbacks=Callbacks(on_progress=events.append, progress_interval=0.001))
    detail = [e for e in events if e.stage == "detail"]
    assert any(0 < e.step < e.total for e in detail), [(e.step, e.total) for e in detail]
    assert max(overall_percent(e) for e in detail) <= min(overall_percent(e) for e in events if e.stage == "fill")
