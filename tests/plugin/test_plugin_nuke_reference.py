"""The Nuke node's Reference input, Reference frames, Grain and Source map knobs, against the
strict STAND-IN `nuke` (tests/plugin/fake_nuke.py) and a real `renderer serve` on loopback."""

from __future__ import annotations

import shutil

import numpy as np
from test_plugin_nuke import FIRST, LAST, build_script, finish

REF = 1002
BOX = (10, 20, 8, 22)  # the hole of build_script's shot (rows y0:y1, columns x0:x1)


def reference_read(nuke, shots, tmp_path, size=(32, 32)):
    """A Read of the painted frame, as the artist saved it (an EXR read like the plate)."""
    painted = shots.write_reference(tmp_path / "paint" / f"ref.{REF}.exr", REF, size=size, box=BOX)
    return nuke.nodes.Read(file=str(tmp_path / "paint" / "ref.####.exr"), first=REF, last=REF), painted


def test_a_reference_branch_is_written_in_the_plates_colourspace_and_sent(nuke, shots, renderer_server, tmp_path):
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint, reference_frames=str(REF),
                                 grain="off")
    read, painted = reference_read(nuke, shots, tmp_path)
    grade = nuke.nodes.Grade()  # a branch of the tree, not a plain Read: Nuke must render it
    grade.setInput(0, read)
    node.setInput(2, grade)
    writes = []

    def nuke_renders(write, first, last):  # stands in for Nuke rendering the Write
        writes.append(({k: write[k].value() for k in ("file", "raw", "colorspace", "channels")}, first, last))
        assert write.input(0).name() == "Reference"
        shutil.copy(painted, write["file"].value() % first)

    nuke.session.on_execute = nuke_renders
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "done", node["status"].value()
    scratch = str(tmp_path / "shot" / "inpaint" / ".Inpaint1_inputs" / "reference.%04d.exr")
    # only the painted frame, out of Nuke's working space into the plate file's colourspace (linear)
    assert writes == [({"file": scratch, "raw": False, "colorspace": "linear", "channels": "rgba"}, REF, REF)]
    shot = runner.request.shot
    assert shot["references"] == [{"frame": REF, "path": scratch % REF}]
    assert shot["grain"] == "off" and "source_map" not in shot
    assert nuke.toNode("Inpaint1_source_map") is None and "source map" not in node["status"].value()


def test_reference_and_source_map_come_back_as_reads(nuke, shots, renderer_server, tmp_path):
    """Waits on the renderer writing source maps and using references (renderer/render.py)."""
    node, plate, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint,
                                     reference_frames=str(REF), source_map=True, grain="off")
    node.input(0)["format"].setValue(nuke.addFormat("32 32 1 plate_32"))
    read, painted = reference_read(nuke, shots, tmp_path)
    node.setInput(2, read)
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "done", node["status"].value()
    assert nuke.session.executed == []  # an EXR Read like the plate is sent as is
    output = str(tmp_path / "shot" / "inpaint" / "plate_inpaint.####.exr")
    source_map = output.replace("plate_inpaint.", "plate_inpaint_source_map.")
    assert runner.request.shot["references"] == [{"frame": REF, "path": painted}]
    assert runner.request.shot["source_map"] == source_map

    y0, y1, x0, x1 = BOX
    result = shots.read_exr(output.replace("####", str(REF)))[y0:y1, x0:x1, :3]
    assert np.allclose(result, shots.PAINT, atol=2e-3), "the painted reference was not used on its frame"
    map_read = nuke.toNode("Inpaint1_source_map")
    assert map_read is not None, node["status"].value()
    assert map_read["file"].value() == source_map.replace("####", "%04d")
    assert [map_read[k].value() for k in ("first", "last", "origfirst", "origlast")] == [FIRST, LAST, FIRST, LAST]
    assert map_read["raw"].value() is True  # data, never colour-converted
    assert map_read["format"].value().name() == "plate_32"
    result_read = nuke.toNode("Inpaint1_result")
    assert (map_read.xpos(), map_read.ypos()) == (result_read.xpos() + 80 + 40, result_read.ypos())
    assert node["status"].value().startswith("Done: 3 frames") and "source map in Inpaint1_source_map" in \
        node["status"].value()
    where = shots.read_exr(source_map.replace("####", str(REF)))
    assert np.all(where[y0:y1, x0:x1, 2] == 1)  # blue: the painted frame's hole came from the reference

    spot = (map_read.xpos(), map_read.ypos())
    nuke.delete(map_read)
    nuke.delete(result_read)
    node["load_result"].execute()  # brings both back, at the same spots
    assert node["status"].value() == "Loaded into Inpaint1_result and Inpaint1_source_map"
    again = nuke.toNode("Inpaint1_source_map")
    assert (again.xpos(), again.ypos()) == spot and again["raw"].value() is True


def test_reference_mistakes_are_shown_on_the_node_in_words(nuke, shots, tmp_path):
    from plugin.nuke import node as inpaint

    node, _, _, _ = build_script(nuke, shots, tmp_path, reference_frames=str(REF))
    read, painted = reference_read(nuke, shots, tmp_path)
    cases = [
        ("1002", None, "Check the Reference input: Reference frames is set (1002) but nothing is connected to "
                       "the Reference input: connect the clean frame you painted, or clear Reference frames"),
        ("", read, "Check the Reference input: the Reference input is connected but Reference frames is empty"),
        ("1010", read, "Check the Reference input: reference frame 1010 is outside the frames being rendered "
                       "(1001-1003): paint a frame inside the range, or widen Frame range"),
        ("1001 1002", read, "Check the Reference input: reference frame 1001 is missing (looked for "
                            f"{tmp_path / 'paint' / 'ref.1001.exr'})"),
        ("1002 and 1003", read, "Check the node's settings: Reference frames '1002 and 1003' is not a list of "
                                "frame numbers"),
    ]
    for frames, connected, words in cases:
        node["reference_frames"].setValue(frames)
        node.setInput(2, connected)
        node["tile_color"].setValue(0)
        node["render"].execute()
        assert node["status"].value().startswith("ERROR: " + words), node["status"].value()
        assert node["tile_color"].value() == inpaint.ERROR_COLOUR
        assert inpaint.running_jobs.get(node.fullName()) is None  # nothing was started
    assert len(nuke.session.messages) == len(cases) and nuke.session.executed == []


def test_a_reference_of_another_size_is_refused_by_the_renderer_in_words(nuke, shots, renderer_server, tmp_path):
    node, _, _, _ = build_script(nuke, shots, tmp_path, server=renderer_server.endpoint, reference_frames=str(REF))
    read, _ = reference_read(nuke, shots, tmp_path, size=(16, 16))
    node.setInput(2, read)
    node["render"].execute()
    runner = finish(nuke, node)
    assert runner.state == "failed"
    assert node["status"].value().startswith(
        "ERROR: Check the Reference input: reference frame 1002 is 16x16 but the plates of this shot are 32x32: "
        "paint the reference on the whole frame, at the plate's size"), node["status"].value()
    assert nuke.toNode("Inpaint1_result") is None
