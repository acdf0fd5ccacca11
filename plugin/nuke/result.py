"""What the Inpaint node writes back into the script: status, errors, the result Read and
the source map's Read beside it.

Status and error writes stay out of the undo history and leave the script's
modified flag as it was: they arrive from a worker's updates while the artist
works, and an artist's Ctrl+Z must never land on them.
"""

from __future__ import annotations

import contextlib

import nuke

from plugin.core import (RAW, PluginError, ResultNotLoaded, SettingsError, output_pattern, result_spec,
                         source_map_spec)

ERROR_COLOUR = 0xC03030FF
_DEFAULT_LABEL = "default ("


@contextlib.contextmanager
def no_undo():
    """Knob writes inside are not undo steps (``nuke.Undo.disable``/``enable``)."""
    nuke.Undo.disable()
    try:
        yield
    finally:
        nuke.Undo.enable()


def set_status(node, text: str) -> None:
    """The Status knob, outside undo and without marking the script modified."""
    was_modified = nuke.modified()
    with no_undo():
        node["status"].setValue(text)
    nuke.modified(was_modified)


def show_error(node, exc: PluginError) -> None:
    """On the node (status + red tile) and, with a GUI, in a dialog."""
    text = f"ERROR: {exc.title}: {exc}"
    set_status(node, text)
    was_modified = nuke.modified()
    with no_undo():
        node["tile_color"].setValue(ERROR_COLOUR)
    nuke.modified(was_modified)
    nuke.tprint(f"[Inpaint] {node.name()}: {text}")
    if nuke.GUI:
        nuke.message(f"{node.name()}: {exc.title}\n\n{exc}")


def plain_colourspace(name: str) -> str:
    """``default (linear)`` -> ``linear``, as nukescripts' ``getColorspaceFromNode`` does:
    the label marks the default of one file type, and another Read may not offer it."""
    if name.startswith(_DEFAULT_LABEL) and name.endswith(")"):
        return name[len(_DEFAULT_LABEL):-1]
    return name


def result_of(node, settings_of):
    """The ResultSpec for the node's last result, or for its Output knob."""
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


def place_reads(node, settings_of, plate_format=None) -> tuple:
    """The last result's Read, and the source map's Read to its right when the last render
    brought one back. Returns (read, map read or None, note)."""
    read, note = place_read(node, result_of(node, settings_of), plate_format)
    knob = node.knob("result_source_map")  # absent on a node saved by an earlier plugin
    source_map = knob.value() if knob is not None else ""
    if not source_map:
        return read, None, note
    spec = source_map_spec(result_of(node, settings_of), node.name(), source_map, read.screenWidth())
    map_read, _ = place_read(node, spec, plate_format)
    return read, map_read, note


def place_read(node, spec, plate_format=None) -> tuple:
    """Create (or update and reload) the result Read at its fixed spot beside ``node``.

    Returns (read, note): ``note`` is "" or says what could not be copied from the
    plate. Raises ``ResultNotLoaded`` when another kind of node holds the Read's name.
    """
    parent = _parent(node)
    parent.begin()
    try:
        read = nuke.toNode(spec.name)
        if read is not None and read.Class() != "Read":
            raise ResultNotLoaded(f"the result is in {spec.path}, but '{spec.name}' is a {read.Class()} node, not "
                                  "a Read: rename or delete that node, then press Load Result")
        existed = read is not None
        if read is None:
            read = nuke.nodes.Read(name=spec.name)
        read["file"].setValue(spec.path)
        for knob in ("first", "origfirst"):
            read[knob].setValue(spec.first)
        for knob in ("last", "origlast"):
            read[knob].setValue(spec.last)
        if plate_format is not None:
            read["format"].setValue(plate_format)
        note = _set_colourspace(read, spec.colourspace)
        read.setXYpos(*spec.position)
        if existed:  # same path as the last render: Nuke would keep showing the cached old frames
            read["reload"].execute()
    finally:
        parent.end()
    return read, note


def _set_colourspace(read, colourspace: str) -> str:
    read["raw"].setValue(colourspace == RAW)
    if colourspace == RAW:
        return ""
    name = plain_colourspace(colourspace)
    if name not in read["colorspace"].values():  # Nuke refuses a name its menu lacks (another OCIO config)
        return (f"colourspace '{name}' of the plate is not offered by {read.name()}: the Read keeps its default, "
                "set its colorspace by hand")
    read["colorspace"].setValue(name)
    return ""


def _parent(node):
    path = node.fullName().rpartition(".")[0]
    return nuke.toNode(f"root.{path}") if path else nuke.root()
