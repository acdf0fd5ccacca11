"""CURVE, loopback-only default, version negotiation, limits and refused shots."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from click.testing import CliRunner

from bridge import Client, CurveClient
from bridge.errors import (BadShot, KeyFileError, LimitExceeded, PathRefused, ServerUnreachable, UnknownJob,
                           VersionMismatch)
from bridge.keys import make_keypair
from bridge.messages import FrameUpload, Hello, Submit
from bridge.testing import RawPeer, run_conformance
from bridge.wire import Pixels
from renderer.serve import ServerConfig
from renderer.serve.cli import keys, serve
from renderer.serve.confine import confine
from serve_kit import check_result, write_shot


@pytest.fixture
def keyring(tmp_path):
    ring = tmp_path / "keys"
    server_pub, server_sec = make_keypair(ring / "server", "server")
    alice_pub, alice_sec = make_keypair(ring / "clients", "alice")
    bob_pub, bob_sec = make_keypair(ring / "clients", "bob")
    mallory_pub, mallory_sec = make_keypair(ring / "strangers", "mallory")
    allow = ring / "allow"
    allow.mkdir()
    for pub in (alice_pub, bob_pub):
        (allow / pub.name).write_bytes(pub.read_bytes())
    return {"server_pub": server_pub, "server_sec": server_sec, "allow": allow,
            "alice": CurveClient(str(server_pub), str(alice_sec)), "bob": CurveClient(str(server_pub), str(bob_sec)),
            "mallory": CurveClient(str(server_pub), str(mallory_sec))}


def test_curve_accepts_allowed_keys_and_refuses_others(start_server, keyring, tmp_path):
    server = start_server(curve_secret=str(keyring["server_sec"]), allow_dir=str(keyring["allow"]))
    shot = write_shot(tmp_path / "a")
    assert run_conformance(server.endpoint, curve=keyring["alice"]) == []
    with Client(server.endpoint, timeout=5, curve=keyring["alice"]) as alice:
        job = alice.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 2})
        outcome = job.wait()
        assert outcome.ok
        check_result(outcome.output_paths[1001], 1001)
    with Client(server.endpoint, timeout=5, curve=keyring["bob"]) as bob:  # allowed, but not his job
        with pytest.raises(UnknownJob, match="another client key"):
            bob.status(job.id)
    with Client(server.endpoint, timeout=1.5, curve=keyring["mallory"]) as mallory:
        with pytest.raises(ServerUnreachable, match="allow-list"):
            mallory.hello()
    with Client(server.endpoint, timeout=1.5) as plain:  # no encryption at all
        with pytest.raises(ServerUnreachable):
            plain.hello()


def test_off_loopback_needs_curve(tmp_path, keyring):
    with pytest.raises(Exception, match="needs CURVE"):
        ServerConfig(spool=tmp_path / "s", bind="tcp://0.0.0.0:5555")
    with pytest.raises(Exception, match="needs --allow"):
        ServerConfig(spool=tmp_path / "s", bind="tcp://0.0.0.0:5555", curve_secret=str(keyring["server_sec"]))
    ServerConfig(spool=tmp_path / "s", bind="tcp://0.0.0.0:5555", curve_secret=str(keyring["server_sec"]),
                 allow_dir=str(keyring["allow"]))  # accepted (not started)
    result = CliRunner().invoke(serve, ["--bind", "tcp://0.0.0.0:5599", "--spool", str(tmp_path / "s")])
    assert result.exit_code == 2 and "needs CURVE" in result.output


def test_keys_command_writes_owner_only_secret(tmp_path):
    result = CliRunner().invoke(keys, ["--dir", str(tmp_path / "k"), "--name", "gpu01"])
    assert result.exit_code == 0, result.output
    secret = tmp_path / "k" / "gpu01.key_secret"
    assert (tmp_path / "k" / "gpu01.key").is_file() and oct(secret.stat().st_mode & 0o777) == "0o600"
    again = CliRunner().invoke(keys, ["--dir", str(tmp_path / "k"), "--name", "gpu01"])
    assert again.exit_code == 2 and "already exists" in again.output
    os.chmod(secret, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        CurveClient(str(tmp_path / "k" / "gpu01.key"), str(secret)).apply(None)


def test_version_mismatch_names_both_versions(start_server):
    server = start_server()
    with Client(server.endpoint, timeout=5) as client:
        client.protocol = (3, 3)
        with pytest.raises(VersionMismatch, match=r"3\.3.*2\.0"):
            client.hello()
        client.protocol = (1, 0)  # a client from before references and source maps
        with pytest.raises(VersionMismatch, match=r"client speaks bridge protocol 1\.0 but this server speaks 2\.0"):
            client.hello()
        client.protocol = (2, 7)  # a newer minor of the same major is fine
        assert client.hello().protocol == [2, 0]


def test_limits_give_clear_errors(start_server, tmp_path):
    from bridge.wire import Limits

    limits = Limits(max_frame_bytes=64 * 64 * 4 * 2, max_message_bytes=64 * 64 * 4 * 2 + 4096, max_frames=6)
    server = start_server(limits=limits)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        client.hello()
        with pytest.raises(LimitExceeded, match="at most 6 frames"):
            client.request(Submit(mode="stream", shot=dict(shot, frames="1001-1007")))
        with pytest.raises(LimitExceeded, match="at most 6 frames"):  # counted before any list is built
            client.request(Submit(mode="stream", shot=dict(shot, frames="1-99999999999")))
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 1})
        assert job.wait().ok
        big = np.zeros((64, 65, 4), np.float16)  # one column over the frame limit
        with pytest.raises(LimitExceeded, match="at most 32768 per frame"):
            client.request(FrameUpload(frame=1001, role="plate"), job_id=job.id,
                           pixels=[Pixels(big, ("R", "G", "B", "A"))])
        assert client.hello()  # still serving


def test_bad_shots_are_refused_with_the_reason(start_server, tmp_path):
    server = start_server()
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        client.hello()
        for bad, reason in ((dict(shot, colour="red"), "unknown key 'colour'"),
                            (dict(shot, steps=-3), "steps must be"),
                            (dict(shot, frames="1001-abc"), "bad frame range"),
                            (dict(shot, preset="nope"), "unknown preset"),
                            (dict(shot, mask={"path": "matte.####.exr", "expand": "lots"}), "mask.expand")):
            with pytest.raises(BadShot, match=reason):
                client.request(Submit(mode="stream", shot=bad))
        with pytest.raises(Exception, match="unknown override"):
            client.request(Submit(mode="stream", shot=shot, overrides={"gpu": 2}))
        assert client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 1}).wait().ok


def test_confine_refuses_tricks(tmp_path):
    root = str(tmp_path)
    assert confine("x/y.exr", (root,), "source") == str(tmp_path / "x" / "y.exr")
    for trick in ("~/x.exr", "$HOME/x.exr", "${HOME}/x", "a/../../etc/passwd", "/etc/passwd", "a\x00b", ""):
        with pytest.raises(PathRefused):
            confine(trick, (root,), "source")
    assert confine("shot.$F4.exr", (root,), "source").endswith("shot.$F4.exr")  # a frame token is fine


def test_hello_is_answered_quickly_while_a_job_trains(start_server, tmp_path):
    """Control never queues behind a render: the loop does not render."""
    from serve_kit import FakeRunner

    runner = FakeRunner(step_time=0.2)
    server = start_server(runner=runner)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 50})
        assert runner.started.wait(5)
        with RawPeer(server.endpoint) as raw:
            t0 = time.monotonic()
            assert raw.request(Hello()) is not None
            assert time.monotonic() - t0 < 1.0
        job.cancel()
