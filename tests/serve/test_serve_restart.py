"""`renderer serve` killed with -9 mid-training and restarted on the same spool:
the running job resumes from its checkpoint and finishes, then the queue runs.
Stream mode throughout: the server works from its spool copies only (the artist's
plates are deleted once uploaded), and the client writes the result EXRs."""

from __future__ import annotations

import shutil

import pytest

from bridge import Client, events
from serve_kit import FRAMES, ServeProcess, check_result, write_shot

FIRST = {"steps": 5, "preset": "dip-vid"}
SECOND = {"steps": 2, "preset": "dip-vid"}


@pytest.mark.slow
def test_killed_server_resumes_the_running_job_then_the_queue(tmp_path):
    spool, artist = tmp_path / "gpu-box" / "spool", tmp_path / "artist"
    (tmp_path / "gpu-box").mkdir()
    shot = write_shot(artist / "plates")
    shot_a = dict(shot, name="a", output=str(artist / "a" / "r.####.exr"))
    shot_b = dict(shot, name="b", output=str(artist / "b" / "r.####.exr"))
    server = ServeProcess(spool, cwd=tmp_path / "gpu-box")
    try:
        with Client(server.endpoint, timeout=20) as client:
            first = client.submit(shot_a, base_dir=artist / "plates", overrides=FIRST)
            second = client.submit(shot_b, base_dir=artist / "plates", overrides=SECOND)
            shutil.rmtree(artist / "plates")  # uploaded: the server must not need the artist's disk
            work = spool / "jobs" / first.id / "work"
            killed_at = None
            for event in first.events(timeout=120):
                if isinstance(event, events.Progress) and event.stage == "train" and event.step >= 2 \
                        and any(work.glob("*.pt")):
                    killed_at = event.step
                    break
            assert second.status().state == "queued"
            server.kill()  # kill -9 mid-training, after a checkpoint was written
    finally:
        server.kill()
    assert killed_at is not None and killed_at < FIRST["steps"]

    server = ServeProcess(spool, cwd=tmp_path / "gpu-box")
    try:
        with Client(server.endpoint, timeout=20) as client:
            assert client.status(second.id).state == "queued"  # the queue survived, behind the resumed job
            steps: list[int] = []
            resumed = client.attach(first.id, shot=shot_a, base_dir=artist)
            outcome = resumed.wait(on_event=lambda e: steps.append(e.step)
                                   if isinstance(e, events.Progress) and e.stage == "train" else None,
                                   timeout=120)
            assert outcome.ok, outcome
            assert steps and min(steps) > 1 and steps[-1] == FIRST["steps"]  # resumed, not restarted
            outcome_b = client.attach(second.id, shot=shot_b, base_dir=artist).wait(timeout=120)
            assert outcome_b.ok, outcome_b
    finally:
        server.stop()
    assert server.proc.returncode == 0
    for outcome, folder in ((outcome, "a"), (outcome_b, "b")):
        assert sorted(outcome.output_paths) == list(FRAMES)
        for frame, path in outcome.output_paths.items():
            assert path == str(artist / folder / f"r.{frame}.exr")
            check_result(path, frame)
    log = server.log.read_text()
    assert "was running when the server stopped" in log
