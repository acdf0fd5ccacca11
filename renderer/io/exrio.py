"""EXR in and out through OpenImageIO, keeping what a compositor expects.

Pixels are read as float32 over the data window. Writing copies the source's
ImageSpec (channels, data and display windows, metadata) and changes only the
pixel type and compression. Every file is written to a temporary name in the
same folder and renamed, so a reader never sees half a frame.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import numpy as np
import OpenImageIO as oiio

from ..errors import InputError, MatteError, OutputError

_ALPHA_ALIASES = {"alpha": "A", "rgba.alpha": "A", "a": "A", "rgba.a": "A"}


def _one_line(text: str) -> str:
    """OpenImageIO errors span lines (often repeated); the CLI promises one line."""
    lines = []
    for line in (text or "").splitlines():
        line = line.strip()
        if line and line not in lines:
            lines.append(line)
    return "; ".join(lines)


@dataclass
class Image:
    """One EXR frame: float32 pixels (H, W, C) over the data window, and its spec."""

    pixels: np.ndarray
    spec: oiio.ImageSpec
    path: str = ""

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.spec.channelnames)

    @property
    def origin(self) -> tuple[int, int]:
        return self.spec.x, self.spec.y


def _open(path: str) -> oiio.ImageInput:
    """An open reader for ``path``, or an ``InputError`` that names the file."""
    if not os.path.isfile(path):
        raise InputError(f"missing frame: {path} (render or copy it, or change the frame range)")
    inp = oiio.ImageInput.open(path)
    if inp is None:
        raise InputError(f"cannot read {path}: {_one_line(oiio.geterror()) or 'not an image OpenImageIO can open'}")
    return inp


def read_spec(path: str) -> oiio.ImageSpec:
    """Header only (cheap): raises ``InputError`` naming the file when unreadable."""
    inp = _open(path)
    try:
        return oiio.ImageSpec(inp.spec())
    finally:
        inp.close()


def read_image(path: str) -> Image:
    """Read the first part of ``path`` as float32 (H, W, C)."""
    inp = _open(path)
    try:
        spec = oiio.ImageSpec(inp.spec())
        pixels = inp.read_image(0, 0, 0, spec.nchannels, "float")
        if pixels is None:
            raise InputError(f"cannot read pixels of {path}: {_one_line(inp.geterror())} (is the file truncated?)")
    finally:
        inp.close()
    pixels = np.asarray(pixels, dtype=np.float32).reshape(spec.height, spec.width, spec.nchannels)
    return Image(pixels=pixels, spec=spec, path=path)


def rgb_indices(channels: tuple[str, ...], path: str = "") -> tuple[int, int, int]:
    """Indices of R, G, B (plain or the first layer that has all three)."""
    names = list(channels)
    for prefix in ("", "rgba.", "rgb."):
        try:
            return tuple(names.index(prefix + c) for c in "RGB")  # type: ignore[return-value]
        except ValueError:
            continue
    for name in names:
        if name.endswith(".R"):
            layer = name[:-1]
            if all(layer + c in names for c in "GB"):
                return tuple(names.index(layer + c) for c in "RGB")  # type: ignore[return-value]
    raise InputError(f"{path}: no R, G, B channels (found {', '.join(names)}); the plate must hold colour")


def matte_index(channels: tuple[str, ...], wanted: str, path: str = "") -> int:
    """Index of the matte channel ``wanted``; a one-channel file is used as is."""
    names = list(channels)
    if len(names) == 1:
        return 0
    candidates = [wanted, _ALPHA_ALIASES.get(wanted.lower(), wanted)]
    for cand in candidates:
        if cand in names:
            return names.index(cand)
    lowered = [n.lower() for n in names]
    for cand in candidates:
        if cand.lower() in lowered:
            return lowered.index(cand.lower())
    raise MatteError(f"{path}: matte channel '{wanted}' not found (channels: {', '.join(names)}); "
                     f"set mask.channel to one of them")


def paste_into(data: np.ndarray, origin: tuple[int, int], target_origin: tuple[int, int],
               target_size: tuple[int, int]) -> np.ndarray:
    """Place a (h, w) plane whose data window starts at ``origin`` into a zero plane
    covering ``target_size`` (H, W) at ``target_origin`` (matte onto plate window)."""
    H, W = target_size
    out = np.zeros((H, W), dtype=np.float32)
    dx, dy = origin[0] - target_origin[0], origin[1] - target_origin[1]
    h, w = data.shape[:2]
    x0, y0 = max(dx, 0), max(dy, 0)
    x1, y1 = min(dx + w, W), min(dy + h, H)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = data[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
    return out


def write_image(path: str, pixels: np.ndarray, like: oiio.ImageSpec, *, datatype: str = "half",
                compression: str = "zip") -> None:
    """Write ``pixels`` (H, W, C) with ``like``'s channels, windows and metadata, atomically."""
    if pixels.ndim != 3 or pixels.shape[2] != like.nchannels or pixels.shape[:2] != (like.height, like.width):
        raise OutputError(f"internal: pixels {pixels.shape} do not match the source spec "
                          f"{like.height}x{like.width}x{like.nchannels}")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {folder}: {exc.strerror}") from None
    spec = oiio.ImageSpec(like)
    spec.set_format(oiio.TypeDesc(datatype))
    spec.channelformats = ()
    spec.attribute("compression", compression)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.tmp.exr")
    out = oiio.ImageOutput.create(tmp)
    if out is None:
        raise OutputError(f"cannot create an EXR writer: {_one_line(oiio.geterror())}")
    try:
        if not out.open(tmp, spec):
            raise OutputError(f"cannot write {path}: {_one_line(out.geterror())}")
        ok = out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
        out.close()
        if not ok:
            raise OutputError(f"cannot write {path}: {_one_line(out.geterror())}")
        os.replace(tmp, path)
    except BaseException:
        try:
            out.close()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
