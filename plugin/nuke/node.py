"""The Inpaint node for Nuke: a Group with ``Source``, ``Matte`` and ``Reference`` inputs.

The Group passes Source through untouched (so scripts render on a farm without
the plugin); its buttons run the job. Render gathers the inputs as EXR files
(a Read of an EXR sequence is used as is; anything else is rendered raw by a
temporary Write inside the Group), runs the job on a worker thread with
``nuke.executeInMainThread`` for every UI update and a ``nuke.ProgressTask`` for
progress and cancel (``watch``), and brings the result back as a Read beside the
node (``result``), with the source map in a second Read when asked for. Inputs
are always gathered at full resolution, proxy mode or not. Reference (optional)
holds clean frames the artist painted; the Reference frames knob says which.

Knob callbacks hand ``(node, knob)`` to the plain functions below.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import nuke

from plugin.core import (KNOBS, RAW, BadMatte, BadPlate, BadReference, JobCancelled, JobRunner, NodeSettings,
                         PluginError, build_request, output_pattern, reference_frames)
from plugin.core.sequences import frame_path, to_hash

from .result import (ERROR_COLOUR, no_undo, place_read, place_reads, plain_colourspace, result_of,  # noqa: F401
                     set_status, show_error)
from .watch import NodeListener, Progress, running_jobs

MENU = "Inpaint"
TAB = "inpaint"
CONNECT_TIMEOUT = 10.0  # seconds of silence before the server counts as unreachable
BUTTONS = (("render", "Render", "render"), ("cancel", "Cancel", "cancel"),
           ("load_result", "Load Result", "load_result"))  # (knob, label, function below)
# Where the last result went, kept on the node (saved with the script) for Load Result.
STATE_KNOBS = ("result_file", "result_first", "result_last", "result_colourspace", "result_source_map")
INPUT_ERRORS = {"Source": BadPlate, "Matte": BadMatte, "Reference": BadReference}


def install_menu() -> None:
    """Nodes toolbar: Inpaint > Inpaint."""
    nuke.menu("Nodes").addMenu(MENU).addCommand("Inpaint", create, tooltip="Fill a roto'd hole in a plate")


def create(name: str = "Inpaint1"):
    """A new Inpaint Group (connected to the selection in the GUI); Nuke raises the
    name's number when it is taken (Inpaint2, ...)."""
    selected = nuke.selectedNodes()  # createNode cannot wire a Group that has no Input nodes yet
    node = nuke.createNode("Group", inpanel=False)
    node.setName(name, uncollide=True)
    node.begin()
    try:
        source = nuke.nodes.Input(name="Source")  # input 0
        nuke.nodes.Input(name="Matte")  # input 1
        nuke.nodes.Input(name="Reference")  # input 2, optional: clean frames the artist painted
        nuke.nodes.Output().setInput(0, source)
    finally:
        node.end()
    if len(selected) == 1 and selected[0] is not node:
        node.setInput(0, selected[0])
    node.addKnob(nuke.Tab_Knob(TAB, "Inpaint"))
    for spec in KNOBS:
        node.addKnob(_make_knob(spec))
    for i, (knob_name, label, function) in enumerate(BUTTONS):
        button = nuke.PyScript_Knob(knob_name, label, f"import plugin.nuke.node as n; n.{function}(nuke.thisNode())")
        if i == 0:
            button.setFlag(nuke.STARTLINE)
        node.addKnob(button)
    node.addKnob(nuke.Text_Knob("status", "Status", "Idle"))
    for knob_name in STATE_KNOBS:
        knob = nuke.String_Knob(knob_name, knob_name)
        knob.setFlag(nuke.INVISIBLE)  # saved with the script, unlike setVisible(False)
        node.addKnob(knob)
    node["knobChanged"].setValue("import plugin.nuke.node as n; n.knob_changed(nuke.thisNode(), nuke.thisKnob())")
    knob_changed(node, node["frame_range"])
    return node


def _make_knob(spec):
    if spec.kind == "int":
        knob = nuke.Int_Knob(spec.name, spec.label)
    elif spec.kind == "enum":
        knob = nuke.Enumeration_Knob(spec.name, spec.label, list(spec.choices))
    elif spec.kind == "file":
        knob = nuke.File_Knob(spec.name, spec.label)
    elif spec.kind == "bool":
        knob = nuke.Boolean_Knob(spec.name, spec.label)
    else:
        knob = nuke.String_Knob(spec.name, spec.label)
    knob.setValue(spec.default)
    knob.setTooltip(spec.tooltip)
    return knob


def knob_changed(node, knob) -> None:
    """First and Last only matter for a custom frame range."""
    if knob is not None and knob.name() in ("frame_range", "showPanel"):
        custom = node["frame_range"].value() == "custom"
        node["first"].setEnabled(custom)
        node["last"].setEnabled(custom)


def settings_of(node) -> NodeSettings:
    # a node saved by an earlier plugin lacks the newer knobs: they take their defaults
    return NodeSettings.from_values({spec.name: knob.value() for spec in KNOBS
                                     if (knob := node.knob(spec.name)) is not None})


# ---------------------------------------------------------------- buttons


def render(node):
    """The Render button: gather inputs (main thread), then run the job on a worker thread."""
    key = node.fullName()
    previous = running_jobs.get(key)
    if previous is not None and previous.running:
        set_status(node, "A render is already running: press Cancel first")
        return None
    with no_undo():
        node["tile_color"].setValue(0)
    try:
        settings = settings_of(node)
        request, colourspace = _gather(node, settings)
    except JobCancelled:
        set_status(node, "Cancelled: the inputs were not rendered, nothing was sent; press Render to start again")
        return None
    except PluginError as exc:
        show_error(node, exc)
        return None
    listener = NodeListener(node, key, Progress(f"Inpaint {node.name()}"), colourspace, node.input(0).format(),
                            settings_of)
    runner = JobRunner(request, listener, post=_post, should_cancel=listener.cancel_requested)
    listener.runner = runner
    running_jobs[key] = runner
    set_status(node, f"Starting: {len(request.frames)} frames to {request.output}")
    return runner.start()


def cancel(node) -> None:
    """The Cancel button."""
    runner = running_jobs.get(node.fullName())
    if runner is None or not runner.running:
        set_status(node, "Nothing to cancel: no render is running for this node")
        return
    runner.cancel()
    set_status(node, "Cancelling...")


def load_result(node):
    """The Load Result button: a Read of the last result (or of Output) beside the node, and
    of its source map when the last render brought one back."""
    source = node.input(0)
    try:
        read, map_read, note = place_reads(node, settings_of, None if source is None else source.format())
    except PluginError as exc:
        show_error(node, exc)
        return None
    where = read.name() + (f" and {map_read.name()}" if map_read is not None else "")
    set_status(node, f"Loaded into {where}" + (f"; {note}" if note else ""))
    return read


# ---------------------------------------------------------------- gathering


def _gather(node, settings: NodeSettings):
    """(JobRequest, plate colourspace or None) on the main thread."""
    source, matte = node.input(0), node.input(1)
    if source is None:
        raise BadPlate("Connect the plate to the Source input of the Inpaint node")
    if matte is None:
        raise BadMatte("Connect the roto matte to the Matte input (white where the plate must be filled)")
    frames = settings.frames(int(source.firstFrame()), int(source.lastFrame()))
    reference = node.input(2) if node.maxInputs() > 2 else None  # a node from before the Reference input
    painted = reference_frames(settings, reference is not None, frames)
    with _full_resolution():
        return _gather_inputs(node, settings, source, matte, frames, reference, painted)


def _gather_inputs(node, settings: NodeSettings, source, matte, frames, reference, painted):
    plate_file, matte_file = _exr_sequence(source), _exr_sequence(matte)
    base = plate_file[0] if plate_file else os.path.join(_script_dir(), f"{node.name()}.####.exr")
    output = output_pattern(settings.output, base)
    scratch = os.path.join(os.path.dirname(output), f".{node.name()}_inputs")
    if plate_file is None:
        plate = _write_input(node, "Source", os.path.join(scratch, "source.####.exr"), [frames], "rgba")
        colourspace = None
    else:
        plate, colourspace = plate_file
    matte_path = matte_file[0] if matte_file else _write_input(node, "Matte", os.path.join(scratch, "matte.####.exr"),
                                                               [frames], "all")
    references = _references(node, reference, painted, colourspace, scratch) if painted else None
    request = build_request(settings, plate=plate, matte=matte_path, frames=frames, name=node.name(),
                            output=output, timeout=CONNECT_TIMEOUT, references=references)
    return request, colourspace


def _references(node, reference, painted, plate_colourspace, scratch) -> dict:
    """frame -> file of each painted frame, encoded as the plate file the renderer reads is.
    A Read of EXRs in the plate's own colourspace is used as is; anything else is written out
    in the plate file's colourspace (raw when the plate itself was rendered raw)."""
    exr = _exr_sequence(reference)
    if exr is not None and exr[1] == (plate_colourspace or RAW):
        return {f: frame_path(exr[0], f) for f in painted}
    pattern = os.path.join(scratch, "reference.####.exr")
    _write_input(node, "Reference", pattern, [(f, f) for f in painted], "rgba", colourspace=plate_colourspace)
    return {f: frame_path(pattern, f) for f in painted}


def _exr_sequence(node):
    """(pattern, colourspace) when ``node`` is a Read of EXR files used unchanged, else None."""
    if node.Class() != "Read":
        return None
    path = nuke.filename(node) or ""
    if not path.lower().endswith(".exr") or str(node["frame"].value()).strip():
        return None  # another format, or a frame offset/expression: render it out instead
    return to_hash(path), (RAW if node["raw"].value() else plain_colourspace(node["colorspace"].value()))


def _write_input(node, input_name: str, pattern: str, ranges, channels: str, colourspace: str | None = None) -> str:
    """Render one input of the Group to float EXRs with a temporary Write, for each (first, last)
    of ``ranges``: raw, or from Nuke's working space into ``colourspace`` when one is given."""
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    node.begin()
    write = None
    try:
        write = nuke.nodes.Write(file=pattern, file_type="exr", channels=channels, raw=colourspace is None)
        write["datatype"].setValue("32 bit float")
        if colourspace is not None:
            write["colorspace"].setValue(colourspace)
        if not write.setInput(0, nuke.toNode(input_name)):
            raise RuntimeError(f"the Group has no {input_name} Input node to render from")
        for first, last in ((r[0], r[-1]) for r in ranges):
            nuke.execute(write, first, last, 1)
    except (RuntimeError, ValueError) as exc:
        if str(exc).strip().lower() == "cancelled":  # what nuke.execute raises when its progress bar is cancelled
            raise JobCancelled(f"the {input_name} input's render was cancelled") from None
        raise INPUT_ERRORS[input_name](f"Nuke could not render the {input_name} input to {pattern}: {exc}") from None
    finally:
        if write is not None:
            nuke.delete(write)
        node.end()
    return pattern


@contextlib.contextmanager
def _full_resolution():
    """Proxy mode off while inputs are gathered: ``nuke.filename`` then gives the full-size
    file and a Write renders full size. Restored after, with the modified flag, outside undo."""
    proxy = nuke.root()["proxy"]
    if not proxy.value():
        yield
        return
    was_modified = nuke.modified()
    with no_undo():
        proxy.setValue(False)
    try:
        yield
    finally:
        with no_undo():
            proxy.setValue(True)
        nuke.modified(was_modified)


def _script_dir() -> str:
    """The script's folder (the temp folder for an unsaved script)."""
    name = nuke.root().name()
    return os.path.dirname(name) if name and name != "Root" else tempfile.gettempdir()


# ---------------------------------------------------------------- worker -> main thread


def _post(fn, *args) -> None:
    nuke.executeInMainThread(fn, args)
