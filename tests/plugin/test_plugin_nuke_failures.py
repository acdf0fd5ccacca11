"""The Nuke node's failure paths, against the strict STAND-IN `nuke` (tests/plugin/fake_nuke.py).

What artists do during a render (delete, rename, close the script, render twice,
proxy mode, cancel the input render) and what breaks after it (a result Read that
cannot be placed, a colourspace Nuke will not take back): each ends with the
progress task released, the job unregistered and words on the node. The renderer
is real (`renderer serve` on loopback).
"""

from __future__ import annotations

import threading
import time

import pytest
from test_plugin_nuke import (FIRST, LAST, LONG_RENDER, build_script, finish, play_until_ended,
                              wait_for_progress)


def test_stand_in_is_as_strict_as_nuke(nuke, tmp_path):
    read = nuke.nodes.Read(file=str(tmp_path / "plate.####.exr"))
    with pytest.raises(NameError, match="knob nope does not exist"):
        read["nope"]
    with pytest.raises(NameError):
        nuke.nodes.Write(colourspace="linear")  # a misspelt knob is not made up
    assert read["file"].value().endswith("plate.%04d.exr")  # file knobs hold %04d, as nuke.filename gives
    assert read["colorspace"].value() == "default (linear)" and "linear" in read["colorspace"].values()
    with pytest.raises(ValueError):
        read["colorspace"].setValue("ACES - ACEScg")  # not in this config

    group = nuke.nodes.Group()
    assert group.setInput(0, read) is False  # no Input nodes yet: no input 0
    with group:
        first, second = nuke.nodes.Input(name="Source"), nuke.nodes.Input(name="Matte")
    assert (first["number"].value(), second["number"].value()) == (0, 1)
    assert group.setInput(1, read) is True and group.input(1) is read

    read["proxy"].setValue(str(tmp_path / "proxy" / "plate.####.exr"))
    nuke.root()["proxy"].setValue(True)
    assert nuke.filename(read).endswith("proxy/plate.%04d.exr")

    knob = read["file"]
    nuke.delete(read)
    for use in (lambda: read.name(), lambda: read.fullName(), lambda: read["file"], knob.value,
                lambda: knob.setValue("x")):
        with pytest.raises(ValueError, match="A PythonObject is not attached to a node"):
            use()

    task = nuke.ProgressTask("main")
    refused = []

    def poll():
        try:
            task.isCancelled()
        except RuntimeError:
            refused.append(True)

    worker = threading.Thread(target=poll)
    worker.start()
    worker.join()
    assert refused  # made on the main thread, polled from another: refused
    record = nuke.session.tasks[-1]
    del task
    assert record.released

    nuke.session.cancel_execute = True
    with pytest.raises(RuntimeError, match="Cancelled"):
        nuke.execute(nuke.nodes.Write(), 1, 1)


def test_create_wires_the_selected_node_into_source(nuke):
    from plugin.nuke import node as inpaint

    plate = nuke.nodes.Read()
    nuke.session.selected = plate
    node = inpaint.create()
    assert node.input(0) is plate and node.input(1) is None


def test_failure_placing_the_result_releases_everything(nuke, shots, renderer_server, tmp_path):
    """A Grade already named Inpaint1_result: the Read cannot go there."""
    from plugin.nuke import node as inpaint

    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    nuke.nodes.Grade(name="Inpaint1_result")
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "done"
    status = node["status"].value()
    assert status.startswith("ERROR: Result not loaded: the result is in "), status
    assert "'Inpaint1_result' is a Grade node" in status and "press Load Result" in status
    assert node["tile_color"].value() == inpaint.ERROR_COLOUR
    assert nuke.session.tasks[-1].released and not inpaint.running_jobs
    assert node["result_file"].value()  # Load Result can bring it in once the name is free


@pytest.mark.parametrize("how", ["delete", "close script"])
def test_node_gone_mid_render_cancels_the_job(nuke, shots, renderer_server, tmp_path, how):
    from plugin.nuke import node as inpaint

    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint, steps=20000,
                                 preset=LONG_RENDER)
    node["render"].execute()
    runner = inpaint.running_jobs["Inpaint1"]
    wait_for_progress(nuke)
    started = time.monotonic()
    nuke.delete(node) if how == "delete" else nuke.scriptClose()
    play_until_ended(nuke, runner)
    assert runner.state == "cancelled" and time.monotonic() - started < 30
    assert nuke.session.tasks[-1].released and not inpaint.running_jobs
    assert any("Inpaint1 was deleted during its render" in line for line in nuke.session.printed)


def test_node_renamed_mid_render_cancels_the_job(nuke, shots, renderer_server, tmp_path):
    from plugin.nuke import node as inpaint

    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint, steps=20000,
                                 preset=LONG_RENDER)
    node["render"].execute()
    runner = inpaint.running_jobs["Inpaint1"]
    wait_for_progress(nuke)
    node.setName("Cleanup1")
    play_until_ended(nuke, runner)
    assert runner.state == "cancelled"
    assert node["status"].value().startswith("Cancelled: the node was renamed from Inpaint1")
    assert nuke.session.tasks[-1].released and not inpaint.running_jobs
    assert nuke.toNode("Inpaint1_result") is None and nuke.toNode("Cleanup1_result") is None


def test_second_render_reloads_the_result_read(nuke, shots, renderer_server, tmp_path):
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    node["render"].execute()
    assert finish(nuke, node).state == "done"
    assert nuke.session.reloaded == []  # a new Read reads the files fresh
    node["render"].execute()
    assert finish(nuke, node).state == "done", node["status"].value()
    assert nuke.session.reloaded == ["Inpaint1_result"]  # same path: Nuke's cached frames are dropped
    assert [n.name() for n in nuke.allNodes("Read")].count("Inpaint1_result") == 1


def test_proxy_mode_renders_the_full_resolution_plate(nuke, shots, renderer_server, tmp_path):
    node, plate, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    node.input(0)["proxy"].setValue(str(tmp_path / "proxy" / "plate.####.exr"))  # no such files
    grade = nuke.nodes.Grade()  # the matte goes through a Write
    grade.setInput(0, node.input(1))
    grade.first_frame, grade.last_frame = FIRST, LAST
    node.setInput(1, grade)
    nuke.root()["proxy"].setValue(True)
    proxy_while_rendering = []

    def nuke_renders(write, first, last):
        proxy_while_rendering.append(nuke.root()["proxy"].value())
        matte = node.input(1).input(0)["file"].value()
        for f in range(first, last + 1):
            with open(write["file"].value() % f, "wb") as out, open(matte % f, "rb") as src:
                out.write(src.read())

    nuke.session.on_execute = nuke_renders
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "done", node["status"].value()
    assert runner.request.shot["source"] == plate  # the full-size file, not the proxy
    assert proxy_while_rendering == [False]
    assert nuke.root()["proxy"].value() is True  # the artist's proxy mode is back


def test_cancelled_input_render_reads_as_cancelled(nuke, shots, tmp_path):
    from plugin.nuke import node as inpaint

    node, _, _, _ = build_script(nuke, shots, tmp_path)
    grade = nuke.nodes.Grade()
    grade.setInput(0, node.input(0))
    grade.first_frame, grade.last_frame = FIRST, LAST
    node.setInput(0, grade)
    nuke.session.cancel_execute = True  # the artist cancels the Write's progress bar
    node["render"].execute()
    assert node["status"].value().startswith("Cancelled: the inputs were not rendered"), node["status"].value()
    assert node["tile_color"].value() == 0 and nuke.session.messages == []
    assert not any(n.Class() == "Write" for n in node.nodes()) and not inpaint.running_jobs


def test_status_writes_stay_out_of_undo(nuke, shots, renderer_server, tmp_path):
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint)
    nuke.session.undo.clear()
    nuke.modified(False)
    node["cancel"].execute()  # a status write alone
    assert node["status"].value().startswith("Nothing to cancel") and not nuke.modified()
    node["render"].execute()
    assert finish(nuke, node).state == "done"
    assert [step for step in nuke.session.undo if step[0] == "Inpaint1"] == []
    assert nuke.modified()  # the result knobs are worth saving


def test_load_result_with_a_colourspace_nuke_does_not_offer(nuke, shots, tmp_path):
    """A script saved under another OCIO config: the stored name is not in the Read's menu."""
    node, _, _, _ = build_script(nuke, shots, tmp_path)
    node["result_file"].setValue(str(tmp_path / "shot" / "plate.####.exr"))
    node["result_first"].setValue(str(FIRST))
    node["result_last"].setValue(str(LAST))
    node["result_colourspace"].setValue("ACES - ACEScg")
    node["load_result"].execute()
    read = nuke.toNode("Inpaint1_result")
    assert read is not None and read["colorspace"].value() == "default (linear)"
    assert "colourspace 'ACES - ACEScg' of the plate is not offered" in node["status"].value()
