"""Shared mode: only paths travel, and every path is confined to the shared roots."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge import Client
from bridge.errors import BridgeError, PathRefused, WrongFieldType
from serve_kit import FRAMES, check_result, write_shot


@pytest.fixture
def shared(tmp_path):
    root = tmp_path / "shared"
    shot = write_shot(root / "shots" / "a")
    outside = tmp_path / "private"
    write_shot(outside)
    return root, shot, outside


def test_shared_round_trip(start_server, fake, shared):
    root, shot, _ = shared
    server = start_server(runner=fake, shared_roots=(str(root),))
    with Client(server.endpoint, timeout=5) as client:
        assert client.hello().modes == ["stream", "shared"]
        job = client.submit(shot, mode="shared", base_dir=root / "shots" / "a", overrides={"steps": 2})
        outcome = job.wait()
    assert outcome.ok
    for frame in FRAMES:
        path = root / "shots" / "a" / "out" / f"result.{frame}.exr"
        assert outcome.output_paths[frame] == str(path)  # written by the server, on shared storage
        check_result(str(path), frame)
    assert not (server.spool.job_dir(job.id) / "out" / "result.1001.exr").exists()


def _escapes(root: Path, outside: Path) -> dict[str, dict]:
    good = root / "shots" / "a"
    (root / "link_out").symlink_to(outside, target_is_directory=True)
    (good / "sneaky").mkdir()
    for f in FRAMES:  # frame files that are symlinks to private files
        (good / "sneaky" / f"plate.{f}.exr").symlink_to(outside / f"plate.{f}.exr")
    base = {"frames": "1001-1006", "mask": {"path": str(good / "matte.####.exr")},
            "source": str(good / "plate.####.exr"), "output": str(good / "out" / "r.####.exr")}
    return {
        "dotdot": dict(base, source=str(good / ".." / ".." / ".." / "private" / "plate.####.exr")),
        "absolute elsewhere": dict(base, source=str(outside / "plate.####.exr")),
        "symlinked folder": dict(base, source=str(root / "link_out" / "plate.####.exr")),
        "symlinked frames": dict(base, source=str(good / "sneaky" / "plate.####.exr")),
        "output outside": dict(base, output=str(outside / "stolen" / "r.####.exr")),
        "output via symlink": dict(base, output=str(root / "link_out" / "r.####.exr")),
        "matte outside": dict(base, mask={"path": str(outside / "matte.####.exr")}),
        "home": dict(base, source="~/plate.####.exr"),
        "variable": dict(base, source="$HOME/plate.####.exr"),
        "relative dotdot": dict(base, source="../private/plate.####.exr"),
        "weights outside": dict(base, perceptual_weights=str(outside / "vgg.pth")),
        "work_dir": dict(base, work_dir=str(good / "work")),
    }


def test_path_escapes_are_refused(start_server, fake, shared):
    root, _, outside = shared
    server = start_server(runner=fake, shared_roots=(str(root),))
    cases = _escapes(root, outside)
    with Client(server.endpoint, timeout=5) as client:
        for name, shot in cases.items():
            with pytest.raises(PathRefused) as err:
                client.submit(shot, mode="shared")
            assert "shared roots" in str(err.value) or "work_dir" in str(err.value), name
    assert fake.calls == [] and not (outside / "stolen").exists()
    assert server.spool.count_active() == 0


def test_shared_mode_needs_roots(start_server, shared):
    _, shot, _ = shared
    server = start_server()
    with Client(server.endpoint, timeout=5) as client:
        with pytest.raises(BridgeError, match="does not offer shared mode"):
            client.submit(shot, mode="shared")
        client.welcome = client.welcome.__class__(**{**client.welcome.to_wire(), "modes": ["stream", "shared"]})
        with pytest.raises(WrongFieldType, match="--shared-root"):  # the server refuses it too
            client.submit(shot, mode="shared", base_dir="/")


def test_a_symlink_swapped_in_after_submit_is_caught(start_server, shared):
    """The worker confines the paths again just before rendering."""
    from serve_kit import FakeRunner

    root, shot, outside = shared
    server = start_server(runner=FakeRunner(step_time=0.05), shared_roots=(str(root),))
    good = root / "shots" / "a"
    (good / "b").mkdir()
    with Client(server.endpoint, timeout=5) as client:
        first = client.submit(shot, mode="shared", base_dir=good, overrides={"steps": 20})
        second = client.submit(dict(shot, source="b/plate.####.exr"), mode="shared", base_dir=good)
        assert second.status().state == "queued"
        (good / "b").rmdir()
        (good / "b").symlink_to(outside, target_is_directory=True)  # now a link out of the root
        assert first.wait().ok
        outcome = second.wait()
    assert outcome.status == "failed" and outcome.error.code == "path_refused"
    assert "outside the shared roots" in outcome.error.message
