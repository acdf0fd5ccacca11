"""Items 5 and 6: frame patterns and ranges, and shot.yaml validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from renderer.io.config import ShotConfig, load_shot, parse_frames, shot_from_dict, shot_to_dict, work_dir
from renderer.errors import ConfigError
from renderer.io.sequences import frame_path, frames_on_disk, has_frame_token, same_file


# ------------------------------------------------------------------------------- patterns
@pytest.mark.parametrize("pattern,frame,expected", [
    ("a.####.exr", 1001, "a.1001.exr"),
    ("a.####.exr", 7, "a.0007.exr"),      # #### is 4 digits, as in Nuke
    ("a.#.exr", 7, "a.7.exr"),
    ("a.%04d.exr", 1001, "a.1001.exr"),
    ("a.%04d.exr", 7, "a.0007.exr"),
    ("a.$F4.exr", 7, "a.0007.exr"),
    ("a.$F4.exr", 1016, "a.1016.exr"),
    ("a.@.exr", 7, "a.7.exr"),
    ("a.@@@@.exr", 7, "a.0007.exr"),
    ("/x/y/plate_v2.####.exr", 1003, "/x/y/plate_v2.1003.exr"),
])
def test_frame_path(pattern, frame, expected):
    assert has_frame_token(pattern)
    assert frame_path(pattern, frame) == expected


def test_pattern_without_token_is_one_file():
    assert not has_frame_token("/x/still.exr")
    assert frame_path("/x/still.exr", 1001) == "/x/still.exr"


def test_frames_on_disk_and_same_file(tmp_path):
    for f in (1001, 1002, 1004):
        (tmp_path / f"p.{f:04d}.exr").write_bytes(b"x")
    assert frames_on_disk(str(tmp_path / "p.####.exr")) == [1001, 1002, 1004]
    assert frames_on_disk(str(tmp_path / "none.####.exr")) == []
    a = tmp_path / "p.1001.exr"
    assert same_file(str(a), str(tmp_path / "sub" / ".." / "p.1001.exr"))
    os.symlink(a, tmp_path / "link.exr")
    assert same_file(str(a), str(tmp_path / "link.exr"))
    assert not same_file(str(a), str(tmp_path / "p.1002.exr"))


# ------------------------------------------------------------------------------- ranges
@pytest.mark.parametrize("value,expected", [
    ("1001-1016", tuple(range(1001, 1017))),
    ("1001-1016x5", (1001, 1006, 1011, 1016)),
    ("1001-1003,1010", (1001, 1002, 1003, 1010)),
    ("1001 - 1003", (1001, 1002, 1003)),
    (1001, (1001,)),
    ([1003, 1001, 1001], (1001, 1003)),
])
def test_parse_frames(value, expected):
    assert parse_frames(value) == expected


@pytest.mark.parametrize("value", ["1001-abc", "1001..1016", "1001:1016", "1001-1016x0", "abc", "1001-", "", [],
                                   [1001.5], ["x"], True, 1001.0, None, {"a": 1}, [True]])
def test_bad_frame_ranges(value):
    with pytest.raises(ConfigError):
        parse_frames(value)


# ------------------------------------------------------------------------------- config
BASE = {"source": "plates/p.####.exr", "output": "out/o.####.exr", "frames": "1001-1004",
        "mask": {"path": "roto/r.####.exr"}}


def _write(tmp_path: Path, data) -> Path:
    folder = tmp_path / "job"
    folder.mkdir(exist_ok=True)
    path = folder / "shot.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_relative_paths_resolve_against_the_shot_folder(tmp_path, monkeypatch):
    path = _write(tmp_path, dict(BASE, work_dir="cache/w", perceptual_weights="../vgg.pth"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    shot = load_shot(os.path.relpath(path, elsewhere))
    folder = path.parent.resolve()
    assert shot.source == str(folder / "plates/p.####.exr")
    assert shot.output == str(folder / "out/o.####.exr")
    assert shot.mask.path == str(folder / "roto/r.####.exr")
    assert shot.work_dir == str(folder / "cache/w")
    assert os.path.normpath(shot.perceptual_weights) == str(tmp_path.resolve() / "vgg.pth")
    assert shot.shot_file == str(path.resolve())
    assert shot.frames == (1001, 1002, 1003, 1004)


def test_absolute_paths_stay_and_mask_as_a_string(tmp_path):
    shot = shot_from_dict(dict(BASE, source="/abs/p.####.exr", mask="/abs/r.####.exr"), base_dir=tmp_path)
    assert shot.source == "/abs/p.####.exr" and shot.mask.path == "/abs/r.####.exr"
    assert shot.mask.channel == "A" and shot.mask.expand == 0


def test_defaults_and_work_dir(tmp_path):
    shot = shot_from_dict(BASE, base_dir=tmp_path)
    assert (shot.preset, shot.seed, shot.device, shot.output_datatype) == ("standard", 0, "auto", "half")
    assert work_dir(shot) == tmp_path / "out" / ".o.work"
    assert work_dir(shot.replace(work_dir=str(tmp_path / "w"))) == tmp_path / "w"
    assert shot_to_dict(shot)["frames"] == "1001-1004"


@pytest.mark.parametrize("data,named", [
    (dict(BASE, colour_space="acescg"), "colour_space"),
    (dict(BASE, shot_file="x"), "shot_file"),
    (dict(BASE, mask={"path": "r.####.exr", "chanel": "A"}), "mask.chanel"),
    (dict(BASE, mask={"dilate": 3}), "mask.dilate"),
])
def test_unknown_keys_are_errors_naming_the_key(tmp_path, data, named):
    with pytest.raises(ConfigError, match=f"'{named}'"):
        load_shot(_write(tmp_path, data))


@pytest.mark.parametrize("changes", [
    {"steps": "10"}, {"steps": 0}, {"steps": 1.5}, {"steps": True},
    {"seed": -1}, {"seed": 1.5}, {"seed": "0"},
    {"mask": {"expand": -1}}, {"mask": {"expand": 1.5}}, {"mask": {"expand": "2"}}, {"mask": {"feather": True}},
    {"mask": {"channel": 5}}, {"mask": {"channel": ""}}, {"mask": [1, 2]}, {"mask": {"path": 5}},
    {"preset": "fast"}, {"device": "gpu"}, {"output_datatype": "uint8"}, {"compression": "jpeg"},
    {"checkpoint_minutes": 0}, {"checkpoint_minutes": "3"}, {"name": 5},
    {"source": 5}, {"source": ""}, {"source": None}, {"output": None}, {"frames": None}, {"frames": "10-x"},
])
def test_bad_values(tmp_path, changes):
    data = dict(BASE, **changes)
    if data.get("mask") is not None and isinstance(data["mask"], dict) and "path" not in data["mask"]:
        data["mask"] = dict(data["mask"], path="roto/r.####.exr")
    with pytest.raises(ConfigError):
        load_shot(_write(tmp_path, data))


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_shot(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="YAML"):
        load_shot(_write(tmp_path, "source: [unclosed\n"))
    with pytest.raises(ConfigError, match="mapping"):
        load_shot(_write(tmp_path, "- a\n- b\n"))
    with pytest.raises(ConfigError, match="'frames'"):
        load_shot(_write(tmp_path, {k: v for k, v in BASE.items() if k != "frames"}))


def test_replace_checks_overrides(tmp_path):
    shot = shot_from_dict(BASE, base_dir=tmp_path)
    assert shot.replace(steps=5, preset="paper", seed=None).steps == 5
    assert isinstance(shot.replace(), ShotConfig)
    with pytest.raises(ConfigError):
        shot.replace(preset="nope")
    with pytest.raises(ConfigError):
        shot.replace(steps=0)
