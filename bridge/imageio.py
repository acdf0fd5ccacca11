"""EXR in and out for the bridge (OpenImageIO; no torch).

Reading keeps the file's channels, pixel type (half stays half), data and
display windows and plain header attributes; writing puts them back and
lands atomically (a temporary name in the same folder, then ``os.replace``).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio

from .errors import ImageError, WrongFieldType

_BASETYPES = {oiio.BASETYPE.FLOAT: float, oiio.BASETYPE.INT: int, oiio.BASETYPE.STRING: str}
# attributes OpenImageIO manages itself, or that describe the file rather than the image
_SKIP = {"oiio:subimages", "oiio:ColorSpace", "compression", "openexr:lineOrder", "openexr:chunkCount",
         "tiles", "planarconfig", "oiio:BitsPerSample"}
MAX_ATTRIBUTES = 128


@dataclass
class Image:
    """Pixels (H, W, C) of the data window plus what the EXR header said."""

    pixels: np.ndarray
    channels: tuple[str, ...]
    data_window: tuple[int, int] = (0, 0)  # origin x, y
    display_window: tuple[int, int, int, int] | None = None  # x, y, width, height; None = data window
    attributes: dict[str, list] = field(default_factory=dict)  # name -> [type, value]


def read_exr(path: str | os.PathLike) -> Image:
    """Read the first part of an image file, keeping half as half."""
    inp = oiio.ImageInput.open(str(path))
    if inp is None:
        raise ImageError(f"cannot read {path}: {oiio.geterror() or 'unreadable'} (check the path and the file)")
    try:
        spec = inp.spec()
        fmt = spec.format
        if spec.channelformats and any(cf != fmt for cf in spec.channelformats):
            fmt = oiio.TypeDesc("float")  # mixed per-channel types: read all as float
        pixels = inp.read_image(0, 0, 0, spec.nchannels, fmt)
        if pixels is None:
            raise ImageError(f"cannot read pixels of {path}: {inp.geterror()}")
        pixels = np.asarray(pixels).reshape(spec.height, spec.width, spec.nchannels)
        attrs = {}
        for p in spec.extra_attribs:
            kept = _attribute_to_wire(p)
            if kept is not None and len(attrs) < MAX_ATTRIBUTES:
                attrs[p.name] = kept
        display = (spec.full_x, spec.full_y, spec.full_width, spec.full_height)
        return Image(pixels=pixels, channels=tuple(spec.channelnames), data_window=(spec.x, spec.y),
                     display_window=display, attributes=attrs)
    finally:
        inp.close()


def _attribute_to_wire(p: Any) -> list | None:
    if p.name in _SKIP or p.name.startswith("oiio:"):
        return None
    t = p.type
    if t.basetype not in _BASETYPES:
        return None
    value = p.value
    if isinstance(value, (tuple, list)):
        value = list(value)
    return [str(t), value]


def check_attributes(attrs: dict) -> dict[str, tuple[Any, Any]]:
    """Validate wire attributes (name -> [type, value]); return name -> (TypeDesc, value).
    Only string, int and float kinds (scalars, vectors, arrays, matrices) pass."""
    if len(attrs) > MAX_ATTRIBUTES:
        raise WrongFieldType(f"at most {MAX_ATTRIBUTES} attributes per image, got {len(attrs)}")
    out = {}
    for name, entry in attrs.items():
        if not (0 < len(name) <= 128) or name in _SKIP or name.startswith("oiio:"):
            continue
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and len(entry[0]) <= 32):
            raise WrongFieldType(f"attribute '{name[:64]}' must be [type, value], e.g. ['float', 1.0]")
        tdesc = oiio.TypeDesc(entry[0])
        kind = _BASETYPES.get(tdesc.basetype)
        if kind is None or tdesc.basetype == oiio.BASETYPE.UNKNOWN:
            raise WrongFieldType(f"attribute '{name[:64]}' has unsupported type {entry[0]!r}")
        count = tdesc.basevalues()
        value = entry[1]
        values = value if isinstance(value, list) else [value]
        ok = len(values) == count and count <= 64 and all(
            isinstance(v, str) and len(v) <= 4096 if kind is str else
            isinstance(v, (int, float)) and not isinstance(v, bool) and (kind is float or isinstance(v, int))
            for v in values)
        if not ok:
            raise WrongFieldType(f"attribute '{name[:64]}': value does not match type {entry[0]!r}")
        out[name] = (tdesc, tuple(values) if count > 1 else values[0])
    return out


def write_exr(path: str | os.PathLike, image: Image, *, compression: str = "zip",
              datatype: str | None = None) -> str:
    """Write ``image`` to ``path`` atomically; returns the path. ``datatype``
    'half' or 'float' converts; None keeps the array's type."""
    path = Path(path)
    pixels = image.pixels
    if pixels.ndim != 3 or pixels.shape[2] != len(image.channels):
        raise ImageError(f"cannot write {path}: pixels {pixels.shape} do not match channels {image.channels}")
    fmt = {"half": "half", "float": "float"}.get(datatype or "", None)
    if fmt is None:
        fmt = {"float16": "half", "float32": "float", "uint32": "uint"}.get(pixels.dtype.name, "float")
    height, width, nch = pixels.shape
    spec = oiio.ImageSpec(width, height, nch, fmt)
    spec.channelnames = tuple(image.channels)
    spec.x, spec.y = (int(v) for v in image.data_window)
    disp = image.display_window or (spec.x, spec.y, width, height)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = (int(v) for v in disp)
    for name, (tdesc, value) in check_attributes(image.attributes).items():
        spec.attribute(name, tdesc, value)
    spec.attribute("compression", compression)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp.exr")
    out = oiio.ImageOutput.create(str(tmp))
    if out is None or not out.open(str(tmp), spec):
        raise ImageError(f"cannot write {path}: {oiio.geterror() or (out and out.geterror())} "
                         "(check the folder exists and is writable)")
    try:
        if pixels.dtype.name not in ("float16", "float32", "uint32"):
            pixels = pixels.astype(np.float32)
        if not out.write_image(np.require(pixels, requirements=("C", "A"))):  # copies only if unaligned
            raise ImageError(f"cannot write {path}: {out.geterror()}")
    finally:
        out.close()
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ImageError(f"cannot move the new file into place at {path}: {exc}") from None
    return str(path)
