"""`python -m plugin submit` (a real subprocess) against a server on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from serve_kit import FRAMES, REPO, check_result, write_shot

# run the command and prove, in the same process, that torch never got imported
RUN = ("import sys; from plugin.__main__ import main; rc = main(sys.argv[1:]); "
       "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")


def submit(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, "submit", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def write_shot_file(folder: Path, **changes) -> Path:
    shot = dict(write_shot(folder), **changes)
    path = folder / "shot.yaml"
    path.write_text(yaml.safe_dump(shot))
    return path


def test_submit_stream_prints_progress_and_writes_results(start_server, fake, tmp_path):
    server = start_server(runner=fake)
    shot_file = write_shot_file(tmp_path / "artist")
    done = submit(str(shot_file), "--server", server.endpoint, "--steps", "3", "--seed", "7", "--preset", "paper")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("uploaded 12/12") for line in lines)
    assert [line.split()[1] for line in lines if line.startswith("train ")] == ["1/3", "2/3", "3/3"]
    assert lines[-1].startswith("done: 6 frame(s) written")
    assert done.stderr == ""
    assert fake.calls[0]["steps"] == 3 and fake.calls[0]["preset"] == "paper"
    for frame in FRAMES:
        check_result(str(tmp_path / "artist" / "out" / f"result.{frame}.exr"), frame)


def test_submit_shared_mode(start_server, fake, tmp_path):
    server = start_server(runner=fake, shared_roots=(str(tmp_path / "shared"),))
    shot_file = write_shot_file(tmp_path / "shared" / "shot")
    done = submit(str(shot_file), "--server", server.endpoint, "--mode", "shared", "--steps", "1")
    assert done.returncode == 0, done.stderr
    check_result(str(tmp_path / "shared" / "shot" / "out" / "result.1001.exr"), 1001)


def test_submit_failures_are_one_clear_line(start_server, tmp_path):
    server = start_server()
    shot_file = write_shot_file(tmp_path / "a", colour="red")
    bad = submit(str(shot_file), "--server", server.endpoint)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "unknown key 'colour'" in bad.stderr
    missing = submit(str(tmp_path / "nope.yaml"), "--server", server.endpoint)
    assert missing.returncode == 1 and "shot file not found" in missing.stderr
    nobody = submit(str(write_shot_file(tmp_path / "b")), "--server", "tcp://127.0.0.1:9", "--timeout", "1")
    assert nobody.returncode == 1 and nobody.stderr.startswith("plugin submit: error: ")
    assert "renderer serve" in nobody.stderr and nobody.stderr.count("\n") == 1
    usage = submit(str(shot_file), "--server", server.endpoint, "--steps", "0")
    assert usage.returncode == 2 and "--steps" in usage.stderr


def test_submit_carries_references_and_writes_the_source_map(start_server, fake, tmp_path):
    from test_serve_references import REF_FRAME, check_map, write_reference

    server = start_server(runner=fake)
    folder = tmp_path / "artist"
    write_reference(folder)
    shot_file = write_shot_file(folder, references=[{"frame": REF_FRAME, "path": f"clean/ref.{REF_FRAME}.exr"}],
                                source_map="qc/where.####.exr")
    done = submit(str(shot_file), "--server", server.endpoint, "--steps", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("uploaded 13/13") for line in lines)  # 6 plates, 6 mattes, 1 reference
    assert lines[-1] == f"source map: 6 frame(s), {folder}/qc/where.1001.exr .. {folder}/qc/where.1006.exr"
    for frame in FRAMES:
        check_map(str(folder / "qc" / f"where.{frame}.exr"), from_reference=frame == REF_FRAME)
