"""The Inpaint node for Nuke: a Group with ``Source`` and ``Matte`` inputs.

The Group passes Source through untouched (so scripts render on a farm without
the plugin); its buttons run the job. Render gathers the inputs as EXR files
(a Read of an EXR sequence is used as is; anything else is rendered raw by a
temporary Write inside the Group), runs the job on a worker thread with
``nuke.executeInMainThread`` for every UI update and a ``nuke.ProgressTask`` for
progress and cancel, and brings the result back as a Read beside the node.

Knob callbacks hand ``(node, knob)`` to the plain functions below.
"""

from __future__ import annotations

import os
import tempfile

import nuke

from plugin.core import (KNOBS, RAW, BadMatte, BadPlate, JobListener, JobRunner, NodeSettings, PluginError,
                         SettingsError, build_request, output_pattern, result_spec)
from plugin.core.sequences import to_hash

MENU = "Inpaint"
TAB = "inpaint"
CONNECT_TIMEOUT = 10.0  # seconds of silence before the server counts as unreachable
ERROR_COLOUR = 0xC03030FF
BUTTONS = (("render", "Render", "render"), ("cancel", "Cancel", "cancel"),
           ("load_result", "Load Result", "load_result"))  # (knob, label, function below)
# Where the last result went, kept on the node (saved with the script) for Load Result.
STATE_KNOBS = ("result_file", "result_first", "result_last", "result_colourspace")

_running: dict[str, JobRunner] = {}  # node full name -> its job, for this Nuke session


def install_menu() -> None:
    """Nodes toolbar: Inpaint > Inpaint."""
    nuke.menu("Nodes").addMenu(MENU).addCommand("Inpaint", create, tooltip="Fill a roto'd hole in a plate")


def create(name: str = "Inpaint1"):
    """A new Inpaint Group (connected to the selection in the GUI); Nuke raises the
    name's number when it is taken (Inpaint2, ...)."""
    node = nuke.createNode("Group", inpanel=False)
    node.setName(name, uncollide=True)
    node.begin()
    try:
        source = nuke.nodes.Input(name="Source")  # input 0
        nuke.nodes.Input(name="Matte")  # input 1
        nuke.nodes.Output().setInput(0, source)
    finally:
        node.end()
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
        knob.setVisible(False)
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
    return NodeSettings.from_values({spec.name: node[spec.name].value() for spec in KNOBS})


# ---------------------------------------------------------------- buttons


def render(node):
    """The Render button: gather inputs (main thread), then run the job on a worker thread."""
    previous = _running.get(node.fullName())
    if previous is not None and previous.running:
        _set_status(node, "A render is already running: press Cancel first")
        return None
    node["tile_color"].setValue(0)
    try:
        settings = settings_of(node)
        request, colourspace = _gather(node, settings)
    except PluginError as exc:
        show_error(node, exc)
        return None
    listener = _NodeListener(node, nuke.ProgressTask(f"Inpaint {node.name()}"), colourspace)
    runner = JobRunner(request, listener, post=_post, should_cancel=listener.cancel_requested)
    _running[node.fullName()] = runner
    _set_status(node, f"Starting: {len(request.frames)} frames to {request.output}")
    return runner.start()


def cancel(node) -> None:
    """The Cancel button."""
    runner = _running.get(node.fullName())
    if runner is None or not runner.running:
        _set_status(node, "Nothing to cancel: no render is running for this node")
        return
    runner.cancel()
    _set_status(node, "Cancelling...")


def load_result(node):
    """The Load Result button: a Read of the last result (or of Output) beside the node."""
    try:
        spec = _result_of(node)
    except PluginError as exc:
        show_error(node, exc)
        return None
    return place_read(node, spec)


def show_error(node, exc: PluginError) -> None:
    """On the node (status + red tile) and, with a GUI, in a dialog."""
    text = f"ERROR: {exc.title}: {exc}"
    _set_status(node, text)
    node["tile_color"].setValue(ERROR_COLOUR)
    nuke.tprint(f"[Inpaint] {node.name()}: {text}")
    if nuke.GUI:
        nuke.message(f"{node.name()}: {exc.title}\n\n{exc}")


# ---------------------------------------------------------------- gathering


def _gather(node, settings: NodeSettings):
    """(JobRequest, plate colourspace or None) on the main thread."""
    source, matte = node.input(0), node.input(1)
    if source is None:
        raise BadPlate("Connect the plate to the Source input of the Inpaint node")
    if matte is None:
        raise BadMatte("Connect the roto matte to the Matte input (white where the plate must be filled)")
    frames = settings.frames(int(source.firstFrame()), int(source.lastFrame()))
    plate_file, matte_file = _exr_sequence(source), _exr_sequence(matte)
    base = plate_file[0] if plate_file else os.path.join(_script_dir(), f"{node.name()}.####.exr")
    output = output_pattern(settings.output, base)
    scratch = os.path.join(os.path.dirname(output), f".{node.name()}_inputs")
    if plate_file is None:
        plate = _write_input(node, "Source", os.path.join(scratch, "source.####.exr"), frames, "rgba")
        colourspace = None
    else:
        plate, colourspace = plate_file
    matte_path = matte_file[0] if matte_file else _write_input(node, "Matte", os.path.join(scratch, "matte.####.exr"),
                                                               frames, "all")
    request = build_request(settings, plate=plate, matte=matte_path, frames=frames, name=node.name(),
                            output=output, timeout=CONNECT_TIMEOUT)
    return request, colourspace


def _exr_sequence(node):
    """(pattern, colourspace) when ``node`` is a Read of EXR files used unchanged, else None."""
    if node.Class() != "Read":
        return None
    path = nuke.filename(node) or ""
    if not path.lower().endswith(".exr") or str(node["frame"].value()).strip():
        return None  # another format, or a frame offset/expression: render it out instead
    return to_hash(path), (RAW if node["raw"].value() else node["colorspace"].value())


def _write_input(node, input_name: str, pattern: str, frames, channels: str) -> str:
    """Render one input of the Group raw to float EXRs with a temporary Write."""
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    node.begin()
    write = None
    try:
        write = nuke.nodes.Write(file=pattern, file_type="exr", channels=channels, raw=True)
        write["datatype"].setValue("32 bit float")
        write.setInput(0, nuke.toNode(input_name))
        nuke.execute(write, frames[0], frames[-1], 1)
    except RuntimeError as exc:
        error = BadPlate if input_name == "Source" else BadMatte
        raise error(f"Nuke could not render the {input_name} input to {pattern}: {exc}") from None
    finally:
        if write is not None:
            nuke.delete(write)
        node.end()
    return pattern


def _script_dir() -> str:
    """The script's folder (the temp folder for an unsaved script)."""
    name = nuke.root().name()
    return os.path.dirname(name) if name and name != "Root" else tempfile.gettempdir()


# ---------------------------------------------------------------- results


def _result_of(node):
    first, last = node["result_first"].value(), node["result_last"].value()
    path = node["result_file"].value()
    if not path:
        settings = settings_of(node)
        if not settings.output or node.input(0) is None:
            raise SettingsError("Nothing rendered yet: press Render (or set Output to an existing result "
                                "and connect Source)")
        path = output_pattern(settings.output, settings.output)
        frames = settings.frames(int(node.input(0).firstFrame()), int(node.input(0).lastFrame()))
        first, last = frames[0], frames[-1]
    colourspace = node["result_colourspace"].value() or RAW
    return result_spec(node.name(), path, range(int(first), int(last) + 1), (node.xpos(), node.ypos()),
                       node.screenWidth(), None if colourspace == RAW else colourspace)


def place_read(node, spec):
    """Create (or update) the result Read at its fixed spot beside ``node``."""
    parent = _parent(node)
    parent.begin()
    try:
        read = nuke.toNode(spec.name) or nuke.nodes.Read(name=spec.name)
        read["file"].setValue(spec.path)
        for knob in ("first", "origfirst"):
            read[knob].setValue(spec.first)
        for knob in ("last", "origlast"):
            read[knob].setValue(spec.last)
        read["raw"].setValue(spec.colourspace == RAW)
        if spec.colourspace != RAW:
            read["colorspace"].setValue(spec.colourspace)
        read.setXYpos(*spec.position)
    finally:
        parent.end()
    return read


def _parent(node):
    path = node.fullName().rpartition(".")[0]
    return nuke.toNode(f"root.{path}") if path else nuke.root()


# ---------------------------------------------------------------- worker -> main thread


def _post(fn, *args) -> None:
    nuke.executeInMainThread(fn, args)


def _set_status(node, text: str) -> None:
    node["status"].setValue(text)


class _NodeListener(JobListener):
    """Shows a job on its node. Every method runs on Nuke's main thread."""

    def __init__(self, node, task, colourspace):
        self.node = node
        self.task = task
        self.colourspace = colourspace

    def cancel_requested(self) -> bool:  # polled on the worker thread
        task = self.task
        return task is not None and task.isCancelled()

    def on_status(self, text):
        _set_status(self.node, text)
        if self.task is not None:
            self.task.setMessage(text)

    def on_progress(self, progress):
        _set_status(self.node, progress.describe())
        if self.task is not None:
            self.task.setProgress(progress.percent)
            self.task.setMessage(progress.describe())

    def on_done(self, result):
        node = self.node
        node["result_file"].setValue(result.output)
        node["result_first"].setValue(str(result.frames[0]))
        node["result_last"].setValue(str(result.frames[-1]))
        node["result_colourspace"].setValue(self.colourspace or RAW)
        read = load_result(node)
        _set_status(node, f"Done: {len(result.frames)} frames in {result.output}"
                          + (f" (read by {read.name()})" if read is not None else ""))
        self._close()

    def on_cancelled(self):
        _set_status(self.node, "Cancelled: nothing was written; press Render to start again")
        self._close()

    def on_error(self, error):
        show_error(self.node, error)
        self._close()

    def _close(self):
        self.task = None  # a ProgressTask closes when it is released
        _running.pop(self.node.fullName(), None)
