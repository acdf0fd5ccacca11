"""References and the source map end to end: `renderer serve` in its own process and the
real renderer (renderer.api.render) on tiny shots, in both transfer modes."""

from __future__ import annotations

import numpy as np
import pytest

from bridge import Client
from bridge.errors import BadShot, BufferMismatch
from bridge.imageio import read_exr
from serve_kit import FRAMES, ServeProcess, background, hole_mask, write_shot
from test_serve_references import PAINT, REF_FRAME, write_reference

pytestmark = pytest.mark.slow
QUICK = {"steps": 2, "preset": "preview"}


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory):
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_root):
    proc = ServeProcess(tmp_path_factory.mktemp("box") / "spool", "--shared-root", str(shared_root))
    yield proc
    proc.stop()
    assert proc.proc.returncode == 0, proc.log.read_text()[-2000:]


def _check(outcome, folder):
    """The painted frame's hole is the painting; every known pixel is the plate's; the map
    has a frame per output frame, in the renderer's channels and colours."""
    assert outcome.ok, outcome
    assert sorted(outcome.output_paths) == list(FRAMES)
    hole = hole_mask()
    for frame in FRAMES:
        rgb = read_exr(outcome.output_paths[frame]).pixels[..., :3].astype(np.float32)
        assert np.allclose(rgb[~hole], background(frame, *rgb.shape[:2])[~hole], atol=2e-3)
        if frame == REF_FRAME:
            assert np.allclose(rgb[hole], PAINT, atol=2e-3), "the painted reference was not used on its frame"
    assert sorted(outcome.source_map_paths) == list(FRAMES), "no source map came back"
    for frame in FRAMES:
        where = read_exr(outcome.source_map_paths[frame])
        assert where.channels == ("R", "G", "B", "A", "distance"), where.channels
        px = where.pixels.astype(np.float32)
        assert np.all(px[~hole, :3] == 0) and np.all(px[~hole, 3] == 1) and np.all(px[~hole, 4] == 0)
        assert np.all((px[..., 3] >= 0) & (px[..., 3] <= 1))
        if frame == REF_FRAME:
            assert np.all(px[hole, 2] == 1), "the map does not show the reference as the source on its frame"
        else:  # carried (from the painted frame or another), or synthesised
            assert np.all(px[hole, :3].sum(axis=-1) == 1)


def test_stream_round_trip_with_a_reference_and_a_source_map(server, tmp_path):
    folder = tmp_path / "artist"
    shot = dict(write_shot(folder), references=[{"frame": REF_FRAME, "path": write_reference(folder)}],
                source_map="qc/where.####.exr")
    with Client(server.endpoint, timeout=30) as client:
        outcome = client.submit(shot, base_dir=folder, overrides=QUICK).wait(timeout=180)
    _check(outcome, folder)
    assert outcome.source_map_paths[1001] == str(folder / "qc" / "where.1001.exr")


def test_shared_round_trip_with_a_reference_and_a_source_map(server, shared_root):
    folder = shared_root / "sh020"
    shot = dict(write_shot(folder), references=[{"frame": REF_FRAME, "path": write_reference(folder)}],
                source_map="qc/where.####.exr")
    with Client(server.endpoint, timeout=30) as client:
        outcome = client.submit(shot, mode="shared", base_dir=folder, overrides=QUICK).wait(timeout=180)
    _check(outcome, folder)
    assert outcome.source_map_paths[1001] == str(folder / "qc" / "where.1001.exr")


def test_bad_references_are_answered_and_the_server_goes_on(server, shared_root, tmp_path):
    folder = shared_root / "sh030"
    shot = write_shot(folder)
    small = write_reference(folder / "small", size=(32, 32))
    with Client(server.endpoint, timeout=30) as client:
        with pytest.raises(BadShot, match="reference frame 1010 is outside the shot's frames 1001-1006"):
            client.submit(dict(shot, references=[{"frame": 1010, "path": write_reference(folder, 1010)}]),
                          base_dir=folder)
        with pytest.raises(BufferMismatch, match="paint the reference on the whole frame"):
            client.submit(dict(shot, references=[{"frame": REF_FRAME, "path": small}]), base_dir=folder)
        # shared mode: the renderer reads the file, and its size error comes back as the job's failure
        failed = client.submit(dict(shot, references=[{"frame": REF_FRAME, "path": small}]), mode="shared",
                               base_dir=folder, overrides=QUICK).wait(timeout=180)
        assert failed.status == "failed" and failed.error.code == "bad_input", failed
        assert "reference frame 1003" in failed.error.message and "32x32" in failed.error.message
        good = client.submit(dict(shot, output="good/r.####.exr"), base_dir=folder, overrides=QUICK).wait(timeout=180)
    assert good.ok and sorted(good.output_paths) == list(FRAMES)
