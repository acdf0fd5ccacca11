"""The client's side of a shot: what of it travels, in each mode (no server needed)."""

from __future__ import annotations

import pytest

from bridge.errors import BridgeError, ImageError
from bridge.job import LocalShot

SHOT = {"source": "plates/p.####.exr", "output": "out/r.####.exr", "frames": "1001-1002",
        "mask": {"path": "roto/m.####.exr"}, "references": [{"frame": 1002, "path": "clean/ref.1002.exr"}],
        "source_map": "qc/where.####.exr", "grain": "off"}


def test_stream_sends_file_names_only_and_shared_sends_paths(tmp_path):
    local = LocalShot.from_dict(SHOT, tmp_path)
    assert local.references == ((1002, str(tmp_path / "clean" / "ref.1002.exr")),)
    assert local.source_map == str(tmp_path / "qc" / "where.####.exr")
    assert local.input_path("reference", 1002) == str(tmp_path / "clean" / "ref.1002.exr")
    stream = local.wire_shot("stream")
    assert stream["references"] == [{"frame": 1002, "path": "ref.1002.exr"}]  # the server cannot see our disk
    assert stream["source_map"] == "where.####.exr" and stream["grain"] == "off"
    assert str(tmp_path) not in repr(stream)
    shared = local.wire_shot("shared")
    assert shared["references"] == [{"frame": 1002, "path": str(tmp_path / "clean" / "ref.1002.exr")}]
    assert shared["source_map"] == str(tmp_path / "qc" / "where.####.exr")
    with pytest.raises(BridgeError, match="reference of frame 1001, but the shot has none there"):
        local.input_path("reference", 1001)


def test_a_missing_reference_is_named_before_anything_is_sent(tmp_path):
    for f in (1001, 1002):
        for name in ("plates/p", "roto/m"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / f"{name}.{f}.exr").write_bytes(b"")
    local = LocalShot.from_dict(SHOT, tmp_path)
    with pytest.raises(ImageError, match=r"reference frame 1002 not found: .*clean/ref\.1002\.exr"):
        local.check_inputs()
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "ref.1002.exr").write_bytes(b"")
    local.check_inputs()


@pytest.mark.parametrize("references, words", [
    ("clean/ref.1002.exr", "must be a list of"),
    ([{"frame": 1002}], "each reference must be"),
    ([{"frame": "1002", "path": "r.exr"}], "whole frame number"),
    ([{"frame": True, "path": "r.exr"}], "whole frame number"),
    ([{"frame": 1002, "path": ""}], "must be a path"),
])
def test_bad_references_are_named(tmp_path, references, words):
    with pytest.raises(BridgeError, match=words):
        LocalShot.from_dict(dict(SHOT, references=references), tmp_path)
