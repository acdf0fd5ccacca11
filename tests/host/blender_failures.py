"""Runs inside real Blender (``.venv-host/bin/python``): the add-on's failure paths.

    .venv-host/bin/python tests/host/blender_failures.py --scenario NAME --endpoint tcp://127.0.0.1:PORT \
        --plate DIR/plate.####.exr --matte DIR/matte.####.exr --first 1001 --last 1006 \
        --work DIR/blender --report DIR/report.json

Scenarios, each driven as with a GUI (the add-on's timer callback applies the
worker's updates) unless noted:

- ``twice``: the Render operator twice into the same Output;
- ``done-raises``: the result files vanish before the completion step runs, so
  loading them raises inside it;
- ``plate-removed``: the plate's Image node is removed while the job runs;
- ``reference-mistakes``: Render with a reference that cannot be used (none picked but
  frames given, a node that is gone, a frame outside the range, ``--reference`` of
  another size): nothing starts, and the panel says why.

Writes what the panel and the add-on's job table showed to ``--report`` (JSON).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import bpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blender_roundtrip import install_addon, report_run, sequence_node  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", choices=("twice", "done-raises", "plate-removed", "reference-mistakes"),
                   required=True)
    p.add_argument("--reference", default="", help="a painted frame (one EXR) for reference-mistakes")
    for name in ("--endpoint", "--plate", "--matte", "--work", "--report"):
        p.add_argument(name, required=True)
    p.add_argument("--first", type=int, required=True)
    p.add_argument("--last", type=int, required=True)
    p.add_argument("--steps", type=int, default=4)
    return p.parse_args()


def setup(args, report):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_addon(report)
    scene = bpy.context.scene
    scene.frame_start, scene.frame_end = args.first, args.last
    tree = bpy.data.node_groups.new("Comp", "CompositorNodeTree")
    tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    scene.compositing_node_group = tree
    plate = sequence_node(tree, args.plate, args.first, args.last, "Plate", (0, 0))
    matte = sequence_node(tree, args.matte, args.first, args.last, "Matte", (0, -300))
    props = scene.inpaint
    props.server, props.preset, props.steps = args.endpoint, "preview", args.steps
    props.plate_node, props.matte_source, props.matte_node = plate.name, "NODE", matte.name
    props.output = str(Path(args.work) / "result" / "plate_inpaint.####.exr")
    return scene, tree, plate


def drive(job, timeout=600.0):
    """Call the add-on's timer as Blender's event loop would, until it stops itself."""
    deadline = time.monotonic() + timeout
    ticks = 0
    while (again := job.listener.timer()) is not None and time.monotonic() < deadline:
        ticks += 1
        time.sleep(again)
    return ticks


def panel(scene, report, key):
    from plugin.blender import ops

    report[key] = {"status": scene.inpaint.status, "running": scene.inpaint.running,
                   "registered": scene.name in ops._jobs}


def run(args, report):
    from plugin.blender import ops

    scene, tree, plate = setup(args, report)
    if args.scenario == "twice":
        for i in (1, 2):
            report[f"operator_{i}"] = sorted(bpy.ops.inpaint.render())
            panel(scene, report, f"after_{i}")
            node = tree.nodes.get(scene.inpaint.result_node)
            report[f"image_{i}"] = None if node is None else node.image.as_pointer()
        report["result_nodes"] = sorted(n.name for n in tree.nodes if n.name.startswith("Plate_result"))
        report["result_images"] = sorted(i.name for i in bpy.data.images if i.name.startswith("Plate_result"))
        return
    if args.scenario == "reference-mistakes":
        return reference_mistakes(args, scene, tree, report)
    job = ops.start(scene)
    if args.scenario == "done-raises":
        assert job.runner.wait(600), "the job did not end"
        assert job.runner.state == "done", scene.inpaint.status
        shutil.rmtree(Path(args.work) / "result")  # before the completion step reads them back
    else:
        tree.nodes.remove(plate)
    report["ticks"] = drive(job)
    report["runner_ended"] = job.runner.wait(120)
    report["runner_state"] = job.runner.state
    panel(scene, report, "after")


def reference_mistakes(args, scene, tree, report):
    from plugin.blender import ops

    painted = tree.nodes.new("CompositorNodeImage")
    painted.name = "Painted"
    painted.image = bpy.data.images.load(args.reference, check_existing=False)
    props = scene.inpaint
    report["cases"] = []
    for node_name, frames in (("", "1003"), ("Gone", "1003"), ("Painted", "1010"), ("Painted", "1003")):
        props.reference_node, props.reference_frames = node_name, frames
        try:
            result, reported = sorted(bpy.ops.inpaint.render()), ""
        except RuntimeError as exc:  # an operator's ERROR report raises in background mode
            result, reported = ["CANCELLED"], str(exc)
        report["cases"].append({"operator": result, "reported": reported, "status": props.status,
                                "running": props.running, "registered": scene.name in ops._jobs})


def main():
    return report_run(run, parse_args())


if __name__ == "__main__":
    sys.exit(main())
