"""Jobs over real loopback sockets (fake job function, so each test takes a second or two):
stream round trip, queueing, cancel, disconnect/reconnect, fetch again, expiry."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from bridge import Client, events
from bridge.errors import OutOfOrder, UnknownJob
from bridge.imageio import read_exr
from bridge.testing import run_conformance
from serve_kit import FRAMES, FakeRunner, check_result, write_shot


def test_conformance_suite(start_server):
    server = start_server()
    assert run_conformance(server.endpoint) == []


def test_stream_round_trip_preserves_the_exr(start_server, fake, tmp_path):
    server = start_server(runner=fake)
    attrs = {"pipeline:shot": ["string", "comp-042"], "screenWindowCenter": ["float2", [0.25, 0.5]]}
    shot = write_shot(tmp_path / "artist", attributes=attrs)
    seen = []
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "artist", overrides={"steps": 3})
        outcome = job.wait(on_event=seen.append)
    assert outcome.ok and sorted(outcome.output_paths) == list(FRAMES)
    assert [e.step for e in seen if isinstance(e, events.Progress)] == [1, 2, 3]
    assert isinstance(seen[-1], events.Done)
    for frame, path in outcome.output_paths.items():
        assert path == str(tmp_path / "artist" / "out" / f"result.{frame}.exr")
        check_result(path, frame)
        img = read_exr(path)
        assert img.channels == ("R", "G", "B", "A") and img.pixels.dtype == np.float16
        assert img.attributes["pipeline:shot"] == ["string", "comp-042"]
        assert img.attributes["screenWindowCenter"] == ["float2", [0.25, 0.5]]
    # the renderer saw only spool paths, got the overrides, and the uploads are gone after release
    call = fake.calls[0]
    assert call["steps"] == 3 and str(tmp_path / "artist") not in json.dumps(str(call["shot"]))
    job_dir = server.spool.job_dir(job.id)
    assert not (job_dir / "in").exists() and (job_dir / "out" / "result.1001.exr").exists()


def test_two_jobs_queue_and_are_told_their_place(start_server, tmp_path):
    runner = FakeRunner(step_time=0.03)
    server = start_server(runner=runner)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        first = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 30})
        assert runner.started.wait(5)
        second = client.submit(dict(shot, name="second"), base_dir=tmp_path / "a", overrides={"steps": 2})
        status = second.status()
        assert status.state == "queued" and status.place == 1
        seen = []
        assert second.wait(on_event=seen.append).ok
        assert first.wait().ok
    queued = [e for e in seen if isinstance(e, events.Queued)]
    assert queued and queued[0].place == 1
    assert [c["steps"] for c in runner.calls] == [30, 2]  # one at a time, in order


def test_cancel_stops_a_running_job_within_seconds(start_server, tmp_path):
    runner = FakeRunner(step_time=0.05)
    server = start_server(runner=runner)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 100000})
        for event in job.events(timeout=10):
            if isinstance(event, events.Progress) and event.step >= 3:
                break
        asked = time.monotonic()
        reply = job.cancel()
        assert reply.state == "cancelling"
        outcome = job.wait(timeout=10)
        took = time.monotonic() - asked
    assert outcome.status == "cancelled" and took < 3.0
    assert (server.spool.job_dir(job.id) / "work" / "fake.ckpt").exists()  # the checkpoint is kept
    with pytest.raises(Exception, match="cancelled"):
        outcome.raise_for_status()


def test_cancel_a_queued_job(start_server, tmp_path):
    runner = FakeRunner(step_time=0.05)
    server = start_server(runner=runner)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        first = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 20})
        second = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 20})
        assert second.cancel().state == "cancelled"
        assert first.wait().ok
        assert second.wait().status == "cancelled"
    assert len(runner.calls) == 1


def test_disconnect_reconnect_and_fetch_again(start_server, tmp_path):
    runner = FakeRunner(step_time=0.03)
    server = start_server(runner=runner)
    shot = write_shot(tmp_path / "a")
    first = Client(server.endpoint, timeout=5)
    job = first.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 40})
    for event in job.events(timeout=10):
        if isinstance(event, events.Progress):
            break
    first.close()  # the artist's session goes away mid-job; the job goes on
    with Client(server.endpoint, timeout=5) as second:
        again = second.attach(job.id, shot=shot, base_dir=tmp_path / "a")
        steps = []
        outcome = again.wait(on_event=lambda e: steps.append(e.step) if isinstance(e, events.Progress) else None)
        assert outcome.ok and steps and steps[-1] == 40
        for frame, path in outcome.output_paths.items():
            check_result(path, frame)
        # the finished result can be fetched again, by job id, to another place
        refetched = second.attach(job.id).fetch(output=str(tmp_path / "again" / "r.####.exr"))
        assert sorted(refetched) == list(FRAMES)
        assert np.array_equal(read_exr(refetched[1001]).pixels, read_exr(outcome.output_paths[1001]).pixels)
    assert len(runner.calls) == 1


def test_out_of_order_and_unknown_jobs(start_server, tmp_path):
    server = start_server(runner=FakeRunner(step_time=0.05))
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 50})
        with pytest.raises(OutOfOrder, match="fetch its results once it is done"):
            job.fetch([1001])
        with pytest.raises(OutOfOrder, match="takes frames only while uploading"):
            job.upload(frames=[1001], roles=["plate"])
        with pytest.raises(UnknownJob, match="never existed"):
            client.status("f" * 32)
        job.cancel()


def test_results_expire(start_server, tmp_path):
    server = start_server(result_ttl=0.5, housekeeping_interval=0.2)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 1})
        assert job.wait().ok
        deadline = time.monotonic() + 5
        while job.status().state != "expired" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job.status().state == "expired"
    assert not server.spool.job_dir(job.id).exists()


def test_silent_client_is_taken_as_gone(start_server, tmp_path):
    server = start_server(runner=FakeRunner(step_time=0.05), client_timeout=0.6)
    shot = write_shot(tmp_path / "a")
    client = Client(server.endpoint, timeout=5)
    job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 60})
    assert server.subscribers.get(job.id) is not None
    deadline = time.monotonic() + 5  # we send no heartbeats meanwhile
    while job.id in server.subscribers and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.id not in server.subscribers  # events are no longer routed to a dead client
    assert job.wait().ok  # ... and attaching again picks the job up
    client.close()


def test_client_notices_when_the_server_is_gone(start_server, tmp_path):
    from bridge.errors import ServerUnreachable

    server = start_server(runner=FakeRunner(step_time=0.05))
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=1.0) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 1000})
        server.stop()  # the GPU box goes away mid-job
        started = time.monotonic()
        with pytest.raises(ServerUnreachable, match="no reply"):
            job.wait()
        assert time.monotonic() - started < 4


def test_previews_arrive_as_small_rgb_frames(start_server, tmp_path):
    server = start_server(runner=FakeRunner(preview_every=2), preview_max_width=16)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        seen = []
        assert client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 4}).wait(on_event=seen.append).ok
    previews = [e for e in seen if isinstance(e, events.Preview)]
    assert [p.step for p in previews] == [2, 4]
    image = previews[0].frames[1001]
    assert image.shape == (16, 16, 3) and image.dtype == np.float16


def test_an_interrupted_upload_resumes_after_a_server_restart(tmp_path):
    from bridge.job import Job, LocalShot
    from bridge.messages import Submit
    from renderer.serve import ServerConfig, running

    shot = write_shot(tmp_path / "a")
    local = LocalShot.from_dict(shot, tmp_path / "a")
    config = ServerConfig(spool=tmp_path / "spool", bind="tcp://127.0.0.1:*", devices=("cpu",))
    with running(config, runner=FakeRunner()) as server, Client(server.endpoint, timeout=5) as client:
        client.hello()
        accepted = client.request(Submit(mode="stream", shot=local.wire_shot("stream"))).message
        job = Job(client, accepted.job_id, "stream", local=local)
        job.upload(frames=accepted.frames[:2], roles=accepted.roles)  # the artist's machine dies here
        assert len(job.status().missing) == 8
    with running(config, runner=FakeRunner()) as server, Client(server.endpoint, timeout=5) as client:
        again = client.attach(accepted.job_id, shot=shot, base_dir=tmp_path / "a")
        assert again.status().state == "uploading"
        again.upload()  # sends only what is missing
        outcome = again.wait()
    assert outcome.ok and sorted(outcome.output_paths) == list(FRAMES)
