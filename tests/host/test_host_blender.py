"""The Blender round trip in real Blender (bpy 5.0.1 from PyPI, in .venv-host).

A compositor tree reads a 64x64, 6-frame EXR plate (a magenta box over a smooth
background) and its matte; the add-on's Render operator sends them to a local
`renderer serve`, and the result comes back as an image-sequence node. The
compositor then renders that node to EXR, and the pixels are checked here:
the hole is filled with something close to the clean background, and every
known pixel is the plate's, bit for bit.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.host

FIRST, LAST = 1001, 1006
BOX = (24, 40, 20, 44)  # rows y0:y1, columns x0:x1 of the hole (64x64, top-down)


def run_blender(shots, host_python, server, tmp_path, *extra):
    plate, matte, clean, hole = shots.write_shot(tmp_path / "shot", frames=range(FIRST, LAST + 1), box=BOX)
    report_path = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=str(REPO), BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    cmd = [str(host_python), str(REPO / "tests" / "host" / "blender_roundtrip.py"), "--endpoint", server.endpoint,
           "--plate", plate, "--matte", matte, "--first", str(FIRST), "--last", str(LAST),
           "--work", str(tmp_path / "blender"), "--report", str(report_path), "--preset", "preview", "--steps", "4",
           *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert report_path.exists(), f"Blender did not report:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    report = json.loads(report_path.read_text())
    assert report["ok"], report.get("traceback", "") + proc.stderr[-2000:]
    return report, plate, clean, hole


def frame(pattern: str, f: int) -> str:
    return pattern.replace("####", f"{f:04d}")


def test_blender_round_trip_fills_the_hole_and_keeps_the_plate(shots, host_python, renderer_server, tmp_path):
    report, plate, clean, hole = run_blender(shots, host_python, renderer_server, tmp_path)

    # installed as an artist would, and unregistering leaves nothing behind
    assert report["registered"] and report["unregistered_clean"]
    assert report["addon_file"].startswith(str(tmp_path / "blender_user"))
    assert report["operator"] == ["FINISHED"], report["status"]

    node = report["result_node"]
    assert node is not None, report["status"]
    assert (node["frame_start"], node["frame_offset"], node["frame_duration"]) == (FIRST, FIRST - 1, LAST - FIRST + 1)
    assert node["source"] == "SEQUENCE"
    assert node["image"] == str(tmp_path / "blender" / "result" / f"plate_inpaint.{FIRST}.exr")
    assert node["colourspace"] == node["plate_colourspace"]  # read back exactly as the plate is read
    assert node["location"] == [node["plate_location"][0] + node["plate_width"] + 40, node["plate_location"][1]]
    assert report["comp_files"] == [f"comp.{f}.exr" for f in range(FIRST, LAST + 1)]

    for f in range(FIRST, LAST + 1):
        comp = shots.read_exr(frame(report["comp"], f))[..., :3]
        source = shots.read_exr(frame(plate, f))[..., :3]
        assert comp.shape == source.shape == (64, 64, 3)
        assert np.isfinite(comp).all()
        assert np.array_equal(comp[~hole], source[~hole]), f"frame {f}: a known pixel changed"
        before = np.abs(source[hole] - clean[f][hole]).mean()
        after = np.abs(comp[hole] - clean[f][hole]).mean()
        assert before > 0.5  # the magenta box really was there
        assert after < 0.05 and after < before / 10, f"frame {f}: hole not filled ({before:.3f} -> {after:.3f})"


def test_blender_mask_datablock_is_rendered_to_the_matte(shots, host_python, renderer_server, tmp_path):
    """The matte comes from a Mask data-block (a box over the hole) rendered by the compositor;
    the job is driven as with a GUI: the add-on's timer callback applies the worker's updates."""
    h = w = 64
    y0, y1, x0, x1 = BOX
    box = f"{x0 / w},{1 - y1 / h},{x1 / w},{1 - y0 / h}"  # Blender's mask space: 0-1, y up
    report, plate, clean, hole = run_blender(shots, host_python, renderer_server, tmp_path, "--mask-box", box,
                                             "--drive", "timer")
    assert report["operator"] == ["FINISHED"], report["status"]
    assert report["timer_ticks"] > 1  # updates came in while it ran:
    assert set(report["statuses_seen"]) - {"Done:"}, report["statuses_seen"]
    assert report["status"].startswith("Done: 6 frames")
    matte_files = tmp_path / "blender" / "result" / ".Plate_inputs"
    for f in (FIRST, LAST):
        matte = shots.read_exr(matte_files / f"matte.{f:04d}.exr")[..., 0] > 0.5
        iou = (matte & hole).sum() / (matte | hole).sum()
        assert iou > 0.9, f"frame {f}: the rendered mask misses the box (IoU {iou:.2f})"
        comp = shots.read_exr(frame(report["comp"], f))[..., :3]
        source = shots.read_exr(frame(plate, f))[..., :3]
        far = ~hole  # known pixels at least 2 px from the mask's anti-aliased edge
        for _ in range(2):
            far &= np.roll(far, 1, 0) & np.roll(far, -1, 0) & np.roll(far, 1, 1) & np.roll(far, -1, 1)
        assert np.array_equal(comp[far], source[far])
        assert np.abs(comp[hole] - clean[f][hole]).mean() < 0.05


def test_blender_reference_and_source_map_round_trip(shots, host_python, renderer_server, tmp_path):
    """A painted frame in an Image node goes to the renderer as the reference of frame 1003, and
    the source map comes back as a second Image node beside the result."""
    ref = 1003
    painted = shots.write_reference(tmp_path / "paint" / f"ref.{ref}.exr", ref, box=BOX)
    report, plate, clean, hole = run_blender(shots, host_python, renderer_server, tmp_path, "--reference", painted,
                                             "--reference-frames", str(ref), "--source-map", "--grain", "off")
    assert report["operator"] == ["FINISHED"], report["status"]
    node, source_map = report["result_node"], report["source_map_node"]
    assert source_map is not None, report["status"]
    assert "source map in node 'Plate_source_map'" in report["status"]
    assert (source_map["name"], source_map["label"]) == ("Plate_source_map", "Inpaint source map")
    assert [source_map[k] for k in ("frame_start", "frame_offset", "frame_duration")] == \
        [node[k] for k in ("frame_start", "frame_offset", "frame_duration")] == [FIRST, FIRST - 1, LAST - FIRST + 1]
    assert source_map["source"] == "SEQUENCE" and source_map["colourspace"] == "Non-Color"  # data, not colour
    maps = tmp_path / "blender" / "result" / "plate_inpaint_source_map.####.exr"
    assert source_map["image"] == frame(str(maps), FIRST)
    x, y = source_map["result_location"]
    assert source_map["location"] == [x + source_map["result_width"] + 40, y]

    for f in range(FIRST, LAST + 1):
        comp = shots.read_exr(frame(report["comp"], f))[..., :3]
        source = shots.read_exr(frame(plate, f))[..., :3]
        assert np.array_equal(comp[~hole], source[~hole]), f"frame {f}: a known pixel changed"
        where = shots.read_exr(frame(str(maps), f))
        assert where.shape[2] == 5 and np.all(where[~hole][:, :3] == 0) and np.all(where[~hole][:, 3] == 1)
    comp = shots.read_exr(frame(report["comp"], ref))[..., :3]
    assert np.allclose(comp[hole], shots.PAINT, atol=2e-3), "the painted reference was not used on its frame"
    assert np.all(shots.read_exr(frame(str(maps), ref))[hole][:, 2] == 1)  # blue: from the reference


def run_failure(shots, host_python, server, tmp_path, scenario, steps=4, extra=()):
    """tests/host/blender_failures.py in real Blender; returns its report."""
    plate, matte, _, _ = shots.write_shot(tmp_path / "shot", frames=range(FIRST, LAST + 1), box=BOX)
    report_path = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=str(REPO), BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    cmd = [str(host_python), str(REPO / "tests" / "host" / "blender_failures.py"), "--scenario", scenario,
           "--endpoint", server.endpoint, "--plate", plate, "--matte", matte, "--first", str(FIRST),
           "--last", str(LAST), "--work", str(tmp_path / "blender"), "--report", str(report_path),
           "--steps", str(steps), *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert report_path.exists(), f"Blender did not report:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    report = json.loads(report_path.read_text())
    assert report["ok"], report.get("traceback", "") + proc.stderr[-2000:]
    return report


def test_blender_plate_node_removed_mid_render_cancels_the_job(shots, host_python, renderer_server, tmp_path):
    report = run_failure(shots, host_python, renderer_server, tmp_path, "plate-removed", steps=400)
    after = report["after"]
    assert after["status"].startswith("Cancelled: the plate node 'Plate' was removed"), after
    assert not after["running"] and not after["registered"]
    assert report["runner_ended"] and report["runner_state"] == "cancelled"


def test_blender_exception_in_the_completion_step_is_shown(shots, host_python, renderer_server, tmp_path):
    """The result files vanish before the completion step loads them: Blender's image load raises there."""
    report = run_failure(shots, host_python, renderer_server, tmp_path, "done-raises")
    after = report["after"]
    assert after["status"].startswith("ERROR: Result not loaded: the result is in "), after
    assert "Blender could not load it" in after["status"] and "press Load Result" in after["status"]
    assert not after["running"] and not after["registered"]


def test_blender_second_render_reuses_and_reloads_the_result_node(shots, host_python, renderer_server, tmp_path):
    report = run_failure(shots, host_python, renderer_server, tmp_path, "twice")
    assert report["operator_1"] == report["operator_2"] == ["FINISHED"], report
    for key in ("after_1", "after_2"):
        assert report[key]["status"].startswith("Done: 6 frames") and not report[key]["running"]
        assert not report[key]["registered"]
    assert report["result_nodes"] == ["Plate_result"] and report["result_images"] == ["Plate_result"]
    assert report["image_1"] == report["image_2"]  # the same image data-block, reloaded in place


def test_blender_reference_mistakes_are_shown_in_the_panel(shots, host_python, renderer_server, tmp_path):
    small = shots.write_reference(tmp_path / "paint" / "ref.1003.exr", 1003, size=(32, 32), box=(8, 16, 8, 16))
    report = run_failure(shots, host_python, renderer_server, tmp_path, "reference-mistakes", extra=("--reference",
                                                                                                     small))
    expected = [
        "ERROR: Check the Reference input: Reference frames is set (1003) but no Reference node is picked in the "
        "Inpaint panel: pick the Image node of the clean frame you painted, or clear Reference frames",
        "ERROR: Check the Reference input: the Reference node 'Gone' is not in this compositor tree",
        "ERROR: Check the Reference input: reference frame 1010 is outside the frames being rendered (1001-1006)",
        "ERROR: Check the Reference input: 'Painted' is 32x32 but the plate is 64x64: paint the reference on the "
        "whole frame, at the plate's size",
    ]
    assert len(report["cases"]) == len(expected)
    for case, words in zip(report["cases"], expected):
        assert case["status"].startswith(words), case
        assert words.removeprefix("ERROR: ") in case["reported"]  # the info bar says it too
        assert case["operator"] == ["CANCELLED"] and not case["running"] and not case["registered"]
