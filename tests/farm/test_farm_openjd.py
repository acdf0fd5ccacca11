"""examples/farm/inpaint_job.yaml: a valid OpenJD template that calls the renderer as documented."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from farm_helpers import TEMPLATE, run, tool, tool_env


def test_openjd_check_passes():
    proc = run([tool("openjd"), "check", str(TEMPLATE)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passes validation" in proc.stdout


def test_template_shape():
    doc = yaml.safe_load(TEMPLATE.read_text())
    assert doc["specificationVersion"] == "jobtemplate-2023-09"
    assert "TASK_CHUNKING" in doc["extensions"]
    params = {p["name"]: p for p in doc["parameterDefinitions"]}
    assert params["ShotFile"]["type"] == "PATH"
    assert params["Frames"]["default"] == "1001-1016"
    assert params["ChunkSize"]["type"] == params["Steps"]["type"] == "INT"
    steps = {s["name"]: s for s in doc["steps"]}
    assert list(steps) == ["Train", "Render"]
    assert "parameterSpace" not in steps["Train"]                      # one long task
    assert steps["Render"]["dependencies"] == [{"dependsOn": "Train"}]
    (frame,) = steps["Render"]["parameterSpace"]["taskParameterDefinitions"]
    assert frame["type"] == "CHUNK[INT]" and frame["chunks"]["rangeConstraint"] == "CONTIGUOUS"


def test_template_is_rejected_when_broken(tmp_path):
    """The check is not vacuous: the same template with a dangling dependency fails `openjd check`."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("dependsOn: Train", "dependsOn: Trian"))
    proc = run([tool("openjd"), "check", str(broken)])
    assert proc.returncode != 0


def _fake_renderer(folder: Path) -> Path:
    """A stand-in `renderer` that records its argv (one line per call) and prints progress."""
    folder.mkdir()
    log = folder / "calls.log"
    script = folder / "renderer"
    script.write_text("#!/bin/sh\n"
                      f"echo \"$*|PYTHONUNBUFFERED=$PYTHONUNBUFFERED\" >> '{log}'\n"
                      "echo 'openjd_progress: 100'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def test_openjd_run_calls_train_then_chunked_render(tmp_path):
    """Real `openjd run` of the template with a recording stand-in for the renderer command."""
    log = _fake_renderer(tmp_path / "bin")
    shot = tmp_path / "shot.yaml"
    shot.write_text("{}\n")
    env = tool_env()
    env["PATH"] = os.pathsep.join([str(tmp_path / "bin"), env["PATH"]])
    proc = run([tool("openjd"), "run", str(TEMPLATE), "-p", f"ShotFile={shot}", "-p", "Frames=1001-1010",
                "-p", "ChunkSize=4", "-p", "Steps=7"], env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    calls = [line.split("|") for line in log.read_text().splitlines()]
    assert all(c[1] == "PYTHONUNBUFFERED=1" for c in calls)
    argv = [c[0].split() for c in calls]
    assert argv[0][:4] == ["train", str(shot), "--steps", "7"] and argv[0][4] == "--path-mapping"
    renders = argv[1:]
    assert all(a[:3] == ["render", str(shot), "--frames"] and a[4] == "--path-mapping" for a in renders)
    chunks = [a[3] for a in renders]
    covered = []
    for chunk in chunks:
        first, _, last = chunk.partition("-")
        covered += list(range(int(first), int(last or first) + 1))
        assert int(last or first) - int(first) + 1 <= 4
    assert covered == list(range(1001, 1011))                  # every frame once, in order
    assert "openjd_progress: 100" in out
