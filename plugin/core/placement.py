"""Where and how a result comes back into the host's tree.

The result is read back with the plate's frame numbers and range, at a fixed
spot beside the node (so reruns land in the same place), and with the plate's
colourspace treated as raw: the renderer never converts colour, so the result
is read exactly as the plate was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .sequences import padding, to_hash

RAW = "raw"
RESULT_GAP = 40  # pixels between the node and its result in the node graph


@dataclass(frozen=True)
class ResultSpec:
    """What a host needs to build the result's read node."""

    path: str  # hash pattern, e.g. /shots/sh010/inpaint/plate_inpaint.####.exr
    first: int
    last: int
    colourspace: str  # RAW, or the plate read's own colourspace name
    name: str
    position: tuple[int, int]


def default_output(plate_pattern: str) -> str:
    """``<plate dir>/inpaint/<plate stem>_inpaint.####.exr`` (padding kept from the plate)."""
    head, tail = os.path.split(to_hash(plate_pattern))
    stem = tail.split(".")[0].rstrip("_#") or "plate"
    pad = padding(plate_pattern) or 4
    return os.path.join(head, "inpaint", f"{stem}_inpaint.{'#' * pad}.exr")


def output_pattern(output_knob: str, plate_pattern: str) -> str:
    """The Output knob as a hash pattern (the default when empty). A path without a
    frame token gets ``.####`` before its extension so frames never overwrite each other."""
    if not output_knob.strip():
        return default_output(plate_pattern)
    path = os.path.abspath(os.path.expanduser(os.path.expandvars(output_knob.strip())))
    if padding(path) is None:
        stem, ext = os.path.splitext(path)
        path = f"{stem}.####{ext or '.exr'}"
    return to_hash(path)


def source_map_pattern(output: str) -> str:
    """The source map beside the result: ``plate_inpaint.####.exr`` -> ``plate_inpaint_source_map.####.exr``."""
    head, tail = os.path.split(output)
    stem = tail.split(".")[0]
    return os.path.join(head, f"{stem}_source_map{tail[len(stem):]}")


def result_position(x: int, y: int, width: int) -> tuple[int, int]:
    """The spot for the result: to the right of the node, top edges aligned."""
    return (int(x) + int(width) + RESULT_GAP, int(y))


def result_name(node_name: str) -> str:
    return f"{node_name}_result"


def source_map_spec(result: ResultSpec, node_name: str, source_map: str, width: int) -> ResultSpec:
    """The source map's read, beside ``result`` (its right, ``width`` the result read's width).
    Always raw: the map is data (which source, how sure), never a colour to convert."""
    return ResultSpec(path=to_hash(source_map), first=result.first, last=result.last, colourspace=RAW,
                      name=f"{node_name}_source_map", position=result_position(*result.position, width))


def result_spec(node_name: str, output: str, frames, node_xy: tuple[int, int], node_width: int,
                plate_colourspace: str | None = None) -> ResultSpec:
    """The result read for a job over ``frames`` written to ``output``.

    ``plate_colourspace``: the colourspace the plate file was read with when the
    job used the plate's file directly; None when the plate was rendered out raw
    (then the result is read raw too).
    """
    frames = sorted(frames)
    return ResultSpec(path=to_hash(output), first=frames[0], last=frames[-1],
                      colourspace=plate_colourspace or RAW, name=result_name(node_name),
                      position=result_position(node_xy[0], node_xy[1], node_width))
