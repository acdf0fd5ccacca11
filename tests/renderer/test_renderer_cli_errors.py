"""Item 10: every bad input through the real CLI gives a non-zero exit, exactly one
clear line on stderr, and writes nothing; `renderer validate` agrees."""

from __future__ import annotations

import numpy as np
import pytest

from renderer_helpers import make_shot, run_cli, tree, write_exr
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
