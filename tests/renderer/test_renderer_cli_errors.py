"""Item 10: every bad input through the real CLI gives a non-zero exit, exactly one
clear line on stderr, and writes nothing; `renderer validate` agrees."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from renderer_helpers import cli_env, make_shot, run_cli, tree, write_exr
from renderer.errors import ConfigError, InputError, MatteError, OutputError


def _missing_plate(shot):
    shot.plate(shot.frames[2]).unlink()
    return InputError, "missing"


def _truncated_plate(shot):
    p = shot.plate(shot.frames[1])
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])  # the header is intact, the pixels are not
    return InputError, "plate.1002.exr"


def _garbage_plate(shot):
    shot.plate(shot.frames[3]).write_bytes(np.random.default_rng(0).bytes(3000))
    return InputError, "plate.1004.exr"


def _size_mismatch(shot):
    for f in shot.frames:
        write_exr(shot.matte(f), np.ones((32, 40, 1), np.float32), ("A",))
    return InputError, "size"


def _no_such_channel(shot):
    shot.write_config(mask={"channel": "holdout.A", "expand": 1})  # a channel of the plate that is not there
    return MatteError, "holdout.A"


def _empty_matte(shot):
    for f in shot.frames:
        write_exr(shot.matte(f), np.zeros((64, 64, 1), np.float32), ("A",))
    return MatteError, "empty"


def _bad_range(shot):
    shot.write_config(frames="1001..1016")
    return ConfigError, "frame range"


def _unknown_key(shot):
    shot.write_config(iterations=500)
    return ConfigError, "'iterations'"


def _output_is_plates(shot):
    shot.write_config(output="plates/plate.%04d.exr")  # spelled differently, same files
    return OutputError, "overwrite"


def _output_is_matte(shot):
    shot.write_config(output="./roto/../roto/roto.####.exr")
    return OutputError, "overwrite"


CASES = [_missing_plate, _truncated_plate, _garbage_plate, _size_mismatch, _no_such_channel, _empty_matte,
         _bad_range, _unknown_key, _output_is_plates, _output_is_matte]


def _check_failure(proc, error, words):
    assert proc.returncode == error.exit_code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("renderer: error: ")
    assert words.lower() in lines[0].lower()
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("spoil", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_bad_input_fails_cleanly_and_writes_nothing(tmp_path, spoil):
    shot = make_shot(tmp_path / "shot", n=6)
    error, words = spoil(shot)
    before = tree(shot.root)

    proc = run_cli("validate", shot.shot_file)
    _check_failure(proc, error, words)
    proc = run_cli("render", shot.shot_file, "--steps", "1")
    _check_failure(proc, error, words)

    assert tree(shot.root) == before  # no output folder, no work folder, nothing touched
    assert not (shot.root / "out").exists()


def test_validate_passes_on_a_good_shot(tiny_shot):
    before = tree(tiny_shot.root)
    proc = run_cli("validate", tiny_shot.shot_file)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: shot: 6 frames 1001-1006, 72x68")
    assert proc.stderr == ""
    assert tree(tiny_shot.root) == before


def test_missing_shot_file(tmp_path):
    proc = run_cli("render", tmp_path / "nope.yaml")
    _check_failure(proc, ConfigError, "not found")
    assert list(tmp_path.iterdir()) == []


def test_long_shot_checks_every_window_before_writing(tmp_path):
    # 8 frames in windows of 5 (overlap 1): frames 1001-1003 belong to the first window only
    shot = make_shot(tmp_path / "shot", n=8, preset="dip-vid", steps=1, window_frames=5, window_overlap=1)
    error, words = _truncate_last(shot)
    before = tree(shot.root)
    proc = run_cli("render", shot.shot_file)
    _check_failure(proc, error, words)
    assert tree(shot.root) == before


def _truncate_last(shot):
    p = shot.plate(shot.frames[-1])
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return InputError, p.name


def test_a_bug_reaches_the_user_as_one_line_naming_the_crash_log(tmp_path):
    """A failure no check foresaw (here injected into the region planner) is exit 1 and
    one line, 'internal error: ...' with the log that holds the traceback."""
    shot = make_shot(tmp_path / "s", n=3, steps=1)
    script = ("import sys, renderer.inpaint as inpaint; from renderer.cli import main\n"
              "inpaint.plan_region = lambda *args: 1 / 0\n"
              "sys.argv = ['renderer', 'render', sys.argv[1]]; main()")
    env = dict(cli_env(), RENDERER_LOG_DIR=str(tmp_path / "logs"))
    proc = subprocess.run([sys.executable, "-c", script, str(shot.shot_file)], capture_output=True, text=True,
                          env=env, timeout=240, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("renderer: error: internal error: ZeroDivisionError")
    (log,) = (tmp_path / "logs").glob("crash-*.log")
    assert str(log) in lines[0] and "Traceback" in log.read_text()
    assert not any(shot.out(f).exists() for f in shot.frames)


def test_a_bug_leaves_the_api_as_an_internal_error(tmp_path, monkeypatch):
    import renderer.inpaint
    from renderer import api

    monkeypatch.setenv("RENDERER_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(renderer.inpaint, "plan_region", lambda *args: 1 / 0)
    with pytest.raises(api.InternalError, match="internal error: ZeroDivisionError") as info:
        api.inpaint(np.zeros((2, 8, 8, 3), np.float32), np.ones((2, 8, 8), bool), steps=1)
    assert isinstance(info.value.__cause__, ZeroDivisionError) and info.value.exit_code == 1
    assert len(list(tmp_path.glob("crash-*.log"))) == 1
