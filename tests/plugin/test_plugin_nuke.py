"""The Nuke layer (plugin/nuke) against a FAKE `nuke` module (tests/plugin/fake_nuke.py).

Nuke cannot be installed here, so these tests use a stand-in, as strict as Nuke
where the plugin touches it, that records what the plugin asks of Nuke: menus,
nodes and knobs, Write executions, main-thread calls (refused from the main
thread, as real Nuke would hang) and progress tasks. The renderer is real: a
local `renderer serve` with tiny shots. The failure paths are in
test_plugin_nuke_failures.py.
"""

from __future__ import annotations

import runpy
import time
from pathlib import Path

import numpy as np
import pytest

from plugin.core.settings import KNOBS

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = 1001, 1003
# a render that is still running when a test acts on it: "paper" trains its whole schedule,
# where "preview" stops once training has taken a quarter of the run without paying
LONG_RENDER = "paper"


def finish(nuke, node, timeout=180.0, runner=None):
    """Play Nuke's main thread until the node's job has ended; returns the runner."""
    from plugin.nuke import node as inpaint

    runner = runner or inpaint.running_jobs.get(node.fullName())
    assert runner is not None, node["status"].value()
    return play_until_ended(nuke, runner, timeout)


def play_until_ended(nuke, runner, timeout=60.0):
    """Run Nuke's main-thread queue until ``runner``'s job has ended."""
    deadline = time.monotonic() + timeout
    while runner.running and time.monotonic() < deadline:
        nuke.run_main_thread()
        time.sleep(0.02)
    assert runner.wait(5), "the job did not end"
    nuke.run_main_thread()
    return runner


def wait_for_progress(nuke, timeout=120.0):
    """Play the main thread until the job's progress bar has moved (training has started)."""
    deadline = time.monotonic() + timeout
    while not (nuke.session.tasks and nuke.session.tasks[-1].progress) and time.monotonic() < deadline:
        nuke.run_main_thread()
        time.sleep(0.05)
    assert nuke.session.tasks and nuke.session.tasks[-1].progress, "training did not start"


def build_script(nuke, shots, tmp_path, server="tcp://127.0.0.1:1", **knobs):
    """Plate and roto Reads (EXR), and an Inpaint node from the menu, wired up."""
    plate, matte, clean, hole = shots.write_shot(tmp_path / "shot", frames=range(FIRST, LAST + 1), size=(32, 32),
                                                 box=(10, 20, 8, 22))
    plate_read = nuke.nodes.Read(file=plate, first=FIRST, last=LAST)  # colorspace "default (linear)"
    roto_read = nuke.nodes.Read(file=matte.replace("####", "%04d"), first=FIRST, last=LAST, raw=True)
    runpy.run_path(str(REPO / "plugin" / "nuke" / "menu.py"))
    command, _ = nuke.menu("Nodes").findItem("Inpaint").findItem("Inpaint")
    node = command()
    node.setInput(0, plate_read)
    node.setInput(1, roto_read)
    node.setXYpos(200, 100)
    node["server"].setValue(server)
    node["preset"].setValue("preview")
    node["steps"].setValue(knobs.pop("steps", 3))
    for name, value in knobs.items():
        node[name].setValue(value)
    return node, plate, clean, hole


def test_init_and_menu_register_the_node(nuke):
    runpy.run_path(str(REPO / "plugin" / "nuke" / "init.py"))
    assert nuke.session.plugin_paths == [str(REPO)]
    assert nuke.menu("Nodes").items == {}  # init.py adds no UI (it also runs in `nuke -t` and on the farm)

    runpy.run_path(str(REPO / "plugin" / "nuke" / "menu.py"))
    submenu = nuke.menu("Nodes").findItem("Inpaint")
    command, options = submenu.findItem("Inpaint")
    assert callable(command) and options["tooltip"]
    node = command()
    assert node.Class() == "Group" and node.name() == "Inpaint1"

    nuke.reset()
    nuke.GUI = False
    runpy.run_path(str(REPO / "plugin" / "nuke" / "menu.py"))
    assert nuke.menu("Nodes").items == {}


def test_node_has_source_and_matte_inputs_and_every_knob(nuke):
    from plugin.nuke import node as inpaint

    node = inpaint.create()
    inputs = [n for n in node.nodes() if n.Class() == "Input"]
    assert [n.name() for n in inputs] == ["Source", "Matte", "Reference"]  # inputs 0, 1, 2
    assert node.maxInputs() == 3
    output = next(n for n in node.nodes() if n.Class() == "Output")
    assert output.input(0) is inputs[0]  # the Group passes the plate through (farm-safe)

    for spec in KNOBS:
        knob = node[spec.name]
        assert knob.value() == spec.default, spec.name
        assert knob.label() == spec.label and knob.tooltip == spec.tooltip
        if spec.kind == "enum":
            assert knob.values() == list(spec.choices)
        if spec.kind == "bool":
            assert isinstance(knob, nuke.Boolean_Knob)
    for name, label, function in inpaint.BUTTONS:
        assert node[name].label() == label
        assert f"n.{function}(nuke.thisNode())" in node[name].value()
    assert node["status"].value() == "Idle"
    assert all(nuke.INVISIBLE in node[name].flags for name in inpaint.STATE_KNOBS)  # a flag is saved

    assert not node["first"].enabled and not node["last"].enabled
    node["frame_range"].setValue("custom")
    exec(node["knobChanged"].value(), {"nuke": nuke})  # Nuke runs it with thisNode() set
    nuke.session.this_node = node
    inpaint.knob_changed(node, node["frame_range"])
    assert node["first"].enabled and node["last"].enabled


def test_render_submits_and_creates_a_read_with_path_and_range(nuke, shots, renderer_server, tmp_path):
    node, plate, clean, hole = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    node.input(0)["format"].setValue(nuke.addFormat("32 32 1 plate_32"))
    node["render"].execute()
    runner = finish(nuke, node)

    assert runner.state == "done", node["status"].value()
    assert runner.request.mode == "stream" and runner.request.overrides == {"preset": "preview", "steps": 3}
    assert runner.request.frames == (FIRST, FIRST + 1, LAST)
    assert node["status"].value().startswith("Done: 3 frames")
    read = nuke.toNode("Inpaint1_result")
    assert read is not None and read.Class() == "Read"
    output = str(tmp_path / "shot" / "inpaint" / "plate_inpaint.####.exr")
    assert read["file"].value() == output.replace("####", "%04d")
    assert [read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [FIRST, LAST, FIRST, LAST]
    # as the plate is read: its default's name without the "default (...)" label, and its format
    assert read["colorspace"].value() == "linear" and not read["raw"].value()
    assert read["format"].value().name() == "plate_32"
    assert (read.xpos(), read.ypos()) == (200 + 80 + 40, 100)  # beside the node, every time
    for f in range(FIRST, LAST + 1):
        result = shots.read_exr(output.replace("####", str(f)))[..., :3]
        source = shots.read_exr(plate.replace("####", str(f)))[..., :3]
        assert np.array_equal(result[~hole], source[~hole])
        assert np.abs(result[hole] - clean[f][hole]).mean() < np.abs(source[hole] - clean[f][hole]).mean() / 5

    task = nuke.session.tasks[-1]
    assert task.progress and task.progress[-1] > 0 and task.messages and task.released
    assert nuke.session.main_calls > 3 and nuke.session.messages == []

    nuke.delete(read)  # Load Result brings it back at the same spot
    node["load_result"].execute()
    again = nuke.toNode("Inpaint1_result")
    assert again["file"].value() == output.replace("####", "%04d") and (again.xpos(), again.ypos()) == (320, 100)


def test_render_writes_a_changed_source_with_a_raw_write(nuke, shots, renderer_server, tmp_path):
    """A Source that is not a plain EXR Read is rendered raw to float EXRs inside the Group."""
    node, plate, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    grade = nuke.nodes.Grade()
    grade.setInput(0, node.input(0))
    grade.first_frame, grade.last_frame = FIRST, LAST
    node.setInput(0, grade)
    nuke.root()["name"].setValue(str(tmp_path / "comp" / "sh010_comp.nk"))  # a saved script
    writes = []

    def nuke_renders(write, first, last):  # stands in for Nuke rendering the Write
        writes.append({k: write[k].value() for k in ("file", "file_type", "channels", "raw", "datatype")})
        assert write.input(0).name() == "Source"
        for f in range(first, last + 1):
            target = Path(write["file"].value() % f)
            target.write_bytes(Path(plate.replace("####", f"{f:04d}")).read_bytes())

    nuke.session.on_execute = nuke_renders
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "done", node["status"].value()
    output = tmp_path / "comp" / "inpaint" / "Inpaint1_inpaint.####.exr"  # beside the script
    scratch = output.parent / ".Inpaint1_inputs" / "source.####.exr"
    assert writes == [{"file": str(scratch).replace("####", "%04d"), "file_type": "exr", "channels": "rgba",
                       "raw": True, "datatype": "32 bit float"}]
    assert [(first, last) for _, first, last, _ in nuke.session.executed] == [(FIRST, LAST)]
    assert not any(n.Class() == "Write" for n in node.nodes())  # the temporary Write is gone
    read = nuke.toNode("Inpaint1_result")
    assert read["file"].value() == str(output).replace("####", "%04d")
    assert read["raw"].value() is True  # the plate went out raw, so the result comes back raw


@pytest.mark.parametrize("how", ["cancel button", "progress bar"])
def test_cancel_stops_the_job(nuke, shots, renderer_server, tmp_path, how):
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint, steps=20000,
                                 preset=LONG_RENDER)
    node["render"].execute()
    from plugin.nuke import node as inpaint

    runner = inpaint.running_jobs[node.fullName()]
    wait_for_progress(nuke)
    assert runner.running, node["status"].value()
    started = time.monotonic()
    if how == "cancel button":
        node["cancel"].execute()
        assert node["status"].value() == "Cancelling..."
    else:
        nuke.session.tasks[-1].cancelled = True  # the artist hits the progress bar's cancel
    finish(nuke, node, timeout=60)
    assert runner.state == "cancelled"
    assert time.monotonic() - started < 30
    assert node["status"].value().startswith("Cancelled")
    assert nuke.toNode("Inpaint1_result") is None
    assert nuke.session.tasks[-1].released and not inpaint.running_jobs
    node["cancel"].execute()
    assert node["status"].value().startswith("Nothing to cancel")


def test_unreachable_server_is_shown_on_the_node(nuke, shots, tmp_path, monkeypatch):
    from plugin.nuke import node as inpaint

    monkeypatch.setattr(inpaint, "CONNECT_TIMEOUT", 1.0)
    address = shots.free_endpoint()
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=address)
    node["render"].execute()
    runner = finish(nuke, node, timeout=60)
    assert runner.state == "failed"
    status = node["status"].value()
    assert status.startswith("ERROR: Renderer not reachable: Cannot reach the renderer at " + address)
    assert f"renderer serve --bind {address}" in status
    assert node["tile_color"].value() == inpaint.ERROR_COLOUR
    assert len(nuke.session.messages) == 1 and "Renderer not reachable" in nuke.session.messages[0]
    assert nuke.toNode("Inpaint1_result") is None


def test_missing_inputs_and_frames_are_errors_on_the_node(nuke, shots, tmp_path):
    from plugin.nuke import node as inpaint

    node = inpaint.create()
    node["render"].execute()
    assert node["status"].value() == "ERROR: Check the Source input: Connect the plate to the Source input of " \
                                     "the Inpaint node"
    node, _, _, _ = build_script(nuke, shots, tmp_path)
    Path(tmp_path / "shot" / "matte.1002.exr").unlink()
    node["render"].execute()
    assert node["status"].value().startswith("ERROR: Check the Matte input: matte frames 1002 are missing")
    assert inpaint.running_jobs.get(node.fullName()) is None  # nothing was started
    node["load_result"].execute()
    assert "Nothing rendered yet" in node["status"].value()
