"""End to end with the real renderer: `renderer serve` in its own process, real
training through renderer.api on tiny shots (64x64, 6 frames, a few steps)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bridge import Client, CurveClient, events
from bridge.errors import ServerUnreachable
from bridge.imageio import read_exr
from bridge.keys import make_keypair
from serve_kit import FRAMES, ServeProcess, check_result, write_shot

pytestmark = pytest.mark.slow
QUICK = {"steps": 2, "preset": "dip-vid"}


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory):
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_root):
    proc = ServeProcess(tmp_path_factory.mktemp("box") / "spool", "--shared-root", str(shared_root),
                        "--preview-every", "2")
    yield proc
    proc.stop()
    assert proc.proc.returncode == 0, proc.log.read_text()[-2000:]


def _check_all(outcome):
    assert outcome.ok, outcome
    assert sorted(outcome.output_paths) == list(FRAMES)
    for frame, path in outcome.output_paths.items():
        check_result(path, frame)


def test_shared_mode_round_trip(server, shared_root):
    shot = write_shot(shared_root / "sh010")
    with Client(server.endpoint, timeout=30) as client:
        outcome = client.submit(shot, mode="shared", base_dir=shared_root / "sh010", overrides=QUICK).wait(timeout=90)
    _check_all(outcome)
    assert outcome.output_paths[1001] == str(shared_root / "sh010" / "out" / "result.1001.exr")


def test_two_jobs_queue_one_at_a_time(server, tmp_path):
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=30) as client:
        first = client.submit(dict(shot, output="one/r.####.exr"), base_dir=tmp_path / "a", overrides=QUICK)
        second = client.submit(dict(shot, output="two/r.####.exr"), base_dir=tmp_path / "a", overrides=QUICK)
        assert second.status().place == 1 and first.status().state in ("queued", "running")
        seen = []
        _check_all(first.wait(timeout=90))
        _check_all(second.wait(on_event=seen.append, timeout=90))
    assert not any(isinstance(e, events.Queued) for e in seen)  # it was running by the time we looked


def test_cancel_mid_training_is_quick(server, tmp_path):
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=30) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 500, "preset": "dip-vid"})
        for event in job.events(timeout=90):
            if isinstance(event, events.Progress) and event.stage == "train" and event.step >= 1:
                break
        asked = time.monotonic()
        job.cancel()
        outcome = job.wait(timeout=30)
    assert outcome.status == "cancelled" and time.monotonic() - asked < 8.0  # a step or two


def test_disconnect_reconnect_and_fetch_again(server, tmp_path):
    shot = write_shot(tmp_path / "a")
    first = Client(server.endpoint, timeout=30)
    job = first.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 4, "preset": "dip-vid"})
    for event in job.events(timeout=90):
        if isinstance(event, events.Progress):
            break
    first.close()  # gone mid-job
    with Client(server.endpoint, timeout=30) as second:
        seen = []
        outcome = second.attach(job.id, shot=shot, base_dir=tmp_path / "a").wait(on_event=seen.append, timeout=90)
        _check_all(outcome)
        previews = [e for e in seen if isinstance(e, events.Preview)]
        assert previews and all(img.shape == (64, 64, 3) for img in previews[-1].frames.values())
        again = second.attach(job.id).fetch(output=str(tmp_path / "again" / "r.####.exr"))
        assert np.array_equal(read_exr(again[1003]).pixels, read_exr(outcome.output_paths[1003]).pixels)


def test_curve_accepted_and_refused(tmp_path):
    server_pub, server_sec = make_keypair(tmp_path / "keys", "server")
    alice_pub, alice_sec = make_keypair(tmp_path / "keys", "alice")
    _, mallory_sec = make_keypair(tmp_path / "strangers", "mallory")
    allow = tmp_path / "allow"
    allow.mkdir()
    (allow / "alice.key").write_bytes(alice_pub.read_bytes())
    proc = ServeProcess(tmp_path / "spool", "--curve-secret", str(server_sec), "--allow", str(allow))
    shot = write_shot(tmp_path / "a")
    try:
        with Client(proc.endpoint, timeout=30, curve=CurveClient(str(server_pub), str(alice_sec))) as alice:
            job = alice.submit(shot, base_dir=tmp_path / "a", overrides=QUICK)
            with Client(proc.endpoint, timeout=1.5, curve=CurveClient(str(server_pub), str(mallory_sec))) as mallory:
                with pytest.raises(ServerUnreachable, match="allow-list"):
                    mallory.status(job.id)
            _check_all(job.wait(timeout=90))
    finally:
        proc.stop()
    assert proc.proc.returncode == 0
