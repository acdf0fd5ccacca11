"""Runs inside real Blender (``.venv-host/bin/python``, bpy 5.0.1): the add-on's round trip.

    .venv-host/bin/python tests/host/blender_roundtrip.py --endpoint tcp://127.0.0.1:PORT \
        --plate DIR/plate.####.exr --matte DIR/matte.####.exr --first 1001 --last 1006 \
        --work DIR/blender --report DIR/report.json

Installs the add-on the way an artist does (``inpaint_addon.py`` through
Preferences > Install), checks that disabling it unregisters everything, builds a
compositor tree from the plate and matte sequences, runs ``bpy.ops.inpaint.render``
against the server, then wires the result node to the tree's output and renders
the compositor to float EXRs. Writes what it saw to ``--report`` (JSON) for the
pytest side, which checks the pixels. ``--mask`` uses a mask data-block (a box)
instead of the matte sequence; ``--reference FILE --reference-frames N`` adds an Image
node of a painted frame as the reference, and ``--source-map`` asks for the map.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

import bpy
import addon_utils  # Blender's own module, importable once bpy is loaded

REPO = Path(__file__).resolve().parents[2]
MODULE = "inpaint_addon"


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--plate", required=True)
    p.add_argument("--matte", default="")
    p.add_argument("--mask-box", default="", help="x0,y0,x1,y1 in 0-1 (Blender's y up): use a Mask data-block")
    p.add_argument("--first", type=int, required=True)
    p.add_argument("--last", type=int, required=True)
    p.add_argument("--size", default="64,64")
    p.add_argument("--preset", default="preview")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--transfer", default="stream")
    p.add_argument("--reference", default="", help="a painted frame (one EXR) for the reference Image node")
    p.add_argument("--reference-frames", default="")
    p.add_argument("--source-map", action="store_true")
    p.add_argument("--grain", default="match")
    p.add_argument("--drive", choices=("operator", "timer"), default="operator",
                   help="operator: bpy.ops.inpaint.render (blocks in background mode); timer: start the job "
                        "and call the add-on's bpy.app.timers callback as Blender's event loop would")
    p.add_argument("--work", required=True)
    p.add_argument("--report", required=True)
    return p.parse_args()


def install_addon(report):
    """Install the shim as an artist would, check enable/disable symmetry, leave it enabled."""
    bpy.ops.preferences.addon_install(filepath=str(REPO / "plugin" / "blender" / "inpaint_addon.py"), overwrite=True)
    addon_utils.modules_refresh()
    addon_utils.enable(MODULE, default_set=True, handle_error=_raise)
    report["registered"] = hasattr(bpy.types.Scene, "inpaint") and hasattr(bpy.types, "INPAINT_OT_render")
    addon_utils.disable(MODULE, default_set=True, handle_error=_raise)
    report["unregistered_clean"] = not hasattr(bpy.types.Scene, "inpaint") and not any(
        hasattr(bpy.types, name) for name in ("INPAINT_OT_render", "INPAINT_OT_cancel", "INPAINT_OT_load_result",
                                              "INPAINT_PT_panel", "InpaintSettings"))
    addon_utils.enable(MODULE, default_set=True, handle_error=_raise)
    report["addon_file"] = [m.__file__ for m in addon_utils.modules() if m.__name__ == MODULE][0]


def _raise(exc):
    raise exc


def sequence_node(tree, path, first, last, name, location):
    image = bpy.data.images.load(path.replace("####", f"{first:04d}"), check_existing=False)
    image.source = "SEQUENCE"
    node = tree.nodes.new("CompositorNodeImage")
    node.name = node.label = name
    node.image = image
    node.frame_start, node.frame_offset, node.frame_duration = first, first - 1, last - first + 1
    node.location = location
    return node


def make_mask(box):
    x0, y0, x1, y1 = box
    mask = bpy.data.masks.new(name="hole")
    spline = mask.layers.new(name="roto").splines.new()
    spline.points.add(3)
    for point, co in zip(spline.points, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]):
        point.co = point.handle_left = point.handle_right = co
    spline.use_cyclic = True
    return mask


def report_run(run, args) -> int:
    """``run(args, report)``, its report (or traceback) written to ``args.report`` as JSON."""
    report = {"ok": False}
    try:
        run(args, report)
        report["ok"] = True
    except Exception:
        report["traceback"] = traceback.format_exc()
    Path(args.report).write_text(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def main():
    return report_run(run, parse_args())


def run(args, report):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    install_addon(report)
    scene = bpy.context.scene
    w, h = (int(v) for v in args.size.split(","))
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = w, h, 100
    scene.frame_start, scene.frame_end = args.first, args.last

    tree = bpy.data.node_groups.new("Comp", "CompositorNodeTree")
    tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
    scene.compositing_node_group = tree
    plate = sequence_node(tree, args.plate, args.first, args.last, "Plate", (0, 0))
    out = tree.nodes.new("NodeGroupOutput")
    out.location = (600, 0)
    tree.links.new(plate.outputs["Image"], out.inputs[0])

    props = scene.inpaint
    props.server, props.preset, props.steps, props.transfer = args.endpoint, args.preset, args.steps, args.transfer
    props.plate_node = plate.name
    props.output = str(Path(args.work) / "result" / "plate_inpaint.####.exr")
    if args.mask_box:
        props.matte_source = "MASK"
        props.mask = make_mask([float(v) for v in args.mask_box.split(",")])
    else:
        matte = sequence_node(tree, args.matte, args.first, args.last, "Matte", (0, -300))
        props.matte_source, props.matte_node = "NODE", matte.name
    if args.reference:
        reference = tree.nodes.new("CompositorNodeImage")
        reference.name = reference.label = "Painted"
        reference.image = bpy.data.images.load(args.reference, check_existing=False)  # one image (FILE)
        reference.location = (0, -600)
        props.reference_node = reference.name
    props.reference_frames, props.source_map, props.grain = args.reference_frames, args.source_map, args.grain

    started = time.monotonic()
    if args.drive == "operator":
        result = bpy.ops.inpaint.render()
    else:  # the GUI path: the operator returns at once and a timer applies the worker's updates
        from plugin.blender import ops

        job = ops.start(scene)
        statuses, ticks = set(), 0
        while (again := job.listener.timer()) is not None:
            ticks += 1
            statuses.add(props.status.split(" ")[0])
            time.sleep(again)
        report["timer_ticks"], report["statuses_seen"] = ticks, sorted(statuses)
        result = {"FINISHED"} if job.runner.state == "done" else {"CANCELLED"}
    report["render_seconds"] = round(time.monotonic() - started, 2)
    report["operator"] = sorted(result)
    report["status"] = props.status
    node = tree.nodes.get(props.result_node)
    report["result_node"] = None if node is None else {
        "name": node.name, "frame_start": node.frame_start, "frame_offset": node.frame_offset,
        "frame_duration": node.frame_duration, "location": list(node.location), "image": node.image.filepath,
        "source": node.image.source, "colourspace": node.image.colorspace_settings.name,
        "plate_colourspace": plate.image.colorspace_settings.name, "plate_location": list(plate.location),
        "plate_width": plate.width}
    report["result_props"] = {"file": props.result_file, "first": props.result_first, "last": props.result_last}
    source_map = tree.nodes.get(props.result_source_map_node) if props.result_source_map_node else None
    report["source_map_node"] = None if source_map is None else {
        "name": source_map.name, "label": source_map.label, "frame_start": source_map.frame_start,
        "frame_offset": source_map.frame_offset, "frame_duration": source_map.frame_duration,
        "location": list(source_map.location), "image": source_map.image.filepath,
        "source": source_map.image.source, "colourspace": source_map.image.colorspace_settings.name,
        "result_location": list(node.location), "result_width": node.width}

    # the result goes to the tree's output: render the compositor over the shot
    tree.links.new(node.outputs["Image"], out.inputs[0])
    fmt = scene.render.image_settings
    fmt.media_type = "IMAGE"
    fmt.file_format = "OPEN_EXR"
    fmt.color_mode, fmt.color_depth, fmt.exr_codec = "RGBA", "32", "ZIP"
    scene.render.filepath = str(Path(args.work) / "comp" / "comp.####")
    bpy.ops.render.render(animation=True)
    report["comp"] = str(Path(args.work) / "comp" / "comp.####.exr")
    report["comp_files"] = sorted(os.listdir(Path(args.work) / "comp"))


if __name__ == "__main__":
    sys.exit(main())
