"""The envelope: how a message becomes ZeroMQ frames and back.

A message is ``[header, body, *pixels]`` (a ROUTER adds the peer identity in
front). ``header`` and ``body`` are separate msgpack maps; each pixel frame is
raw bytes described by an entry of ``header["buffers"]``
(``{dtype, shape, channels, colorspace}``), sent with ``copy=False`` and read
back with ``np.frombuffer`` on the frame's buffer: no copies, never pickle.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Sequence

import msgpack
import numpy as np

from .errors import (BridgeError, BufferMismatch, LimitExceeded, MalformedMessage, MissingField, UnknownField,
                     UnknownMessageType, VersionMismatch, WrongFieldType)
from .messages import BOTH, MESSAGES, PROTOCOL_VERSION, Message, check_type

DTYPES = ("float16", "float32", "uint8", "uint16", "uint32")

HEADER_FIELDS: dict[str, tuple[str, str]] = {
    "msg_type": ("str", "the message type (see the message table)"),
    "protocol": ("version", "[major, minor] of the protocol the sender speaks"),
    "msg_id": ("str", "unique id of this message (uuid4 hex)"),
    "job_id": ("str?", "the job this message is about, or nil"),
    "parent_id": ("str?", "for a reply: the msg_id it answers; nil otherwise"),
    "sent_at": ("float", "sender's clock, seconds since the epoch"),
    "buffers": ("list[map]", "one descriptor per pixel frame after the body: "
                             "{dtype, shape: [H, W, C], channels: [names], colorspace}"),
}

BUFFER_FIELDS: dict[str, str] = {
    "dtype": f"one of {', '.join(DTYPES)} (little-endian)",
    "shape": "[height, width, channels]: the frame holds exactly H*W*C*itemsize bytes",
    "channels": "one name per channel, e.g. ['R', 'G', 'B', 'A'] or ['mask.A']",
    "colorspace": "'scene_linear' unless stated otherwise",
}


@dataclass(frozen=True)
class Limits:
    """What one side accepts. The server's are sent in ``welcome``."""

    max_frame_bytes: int = 256 * 2**20
    max_message_bytes: int = 257 * 2**20
    max_part_bytes: int = 2**20  # header and body each
    max_buffers: int = 16
    max_dim: int = 16384
    max_channels: int = 64
    max_frames: int = 10000
    max_references: int = 256  # painted frames per job (an artist paints a handful)

    def to_wire(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Pixels:
    """An image travelling as a raw frame: (H, W, C) array plus channel names."""

    array: np.ndarray
    channels: tuple[str, ...]
    colorspace: str = "scene_linear"


@dataclass(frozen=True)
class Envelope:
    """A decoded message with its header fields and pixel frames."""

    message: Message
    msg_id: str
    job_id: str | None = None
    parent_id: str | None = None
    sent_at: float = 0.0
    protocol: tuple[int, int] = PROTOCOL_VERSION
    pixels: tuple[Pixels, ...] = field(default=())

    @property
    def msg_type(self) -> str:
        return self.message.msg_type


def _wire_dtype(name: str) -> np.dtype:
    """Little-endian on the wire; the native dtype object where native is little-endian
    (OpenImageIO's bindings refuse arrays whose dtype says '<' explicitly)."""
    dtype = np.dtype(name)
    return dtype if sys.byteorder == "little" else dtype.newbyteorder("<")


def new_id() -> str:
    return uuid.uuid4().hex


def encode(message: Message, *, job_id: str | None = None, parent_id: str | None = None,
           pixels: Sequence[Pixels] = (), msg_id: str | None = None,
           protocol: tuple[int, int] = PROTOCOL_VERSION) -> list[Any]:
    """Frames for ``message``: [header, body, *pixel buffers]. Pixel buffers are
    the arrays' own memory (C-contiguous; copied only if they are not)."""
    descriptors, buffers = [], []
    for px in pixels:
        arr = px.array
        if arr.ndim != 3 or arr.dtype.name not in DTYPES or len(px.channels) != arr.shape[2]:
            raise BufferMismatch(f"cannot send a {arr.dtype} array of shape {arr.shape} with channels "
                                 f"{list(px.channels)}: need (H, W, C), C names, dtype in {DTYPES}")
        arr = np.ascontiguousarray(arr, dtype=_wire_dtype(arr.dtype.name))
        descriptors.append({"dtype": arr.dtype.name, "shape": list(arr.shape),
                            "channels": list(px.channels), "colorspace": px.colorspace})
        buffers.append(arr.data)
    header = {"msg_type": message.msg_type, "protocol": list(protocol), "msg_id": msg_id or new_id(),
              "job_id": job_id, "parent_id": parent_id, "sent_at": time.time(), "buffers": descriptors}
    return [msgpack.packb(header, use_bin_type=True), msgpack.packb(message.to_wire(), use_bin_type=True),
            *buffers]


def _no_ext(code: int, data: bytes):
    raise MalformedMessage(f"msgpack extension types are not allowed (got ext type {code})")


def _unpack(data: Any, what: str, limits: Limits) -> Any:
    raw = data.bytes if hasattr(data, "bytes") else bytes(data)
    if len(raw) > limits.max_part_bytes:
        raise LimitExceeded(f"the {what} is {len(raw)} bytes; the limit is {limits.max_part_bytes}")
    try:
        return msgpack.unpackb(raw, raw=False, strict_map_key=True, ext_hook=_no_ext, timestamp=0)
    except BridgeError:
        raise
    except Exception as exc:  # msgpack raises many types (ExtraData, StackError, UnicodeDecodeError, ...)
        raise MalformedMessage(f"the {what} is not valid msgpack ({type(exc).__name__}); "
                               "send [header, body, *pixels] as the protocol describes") from None


def decode(frames: Sequence[Any], *, limits: Limits = Limits(), accept: str = BOTH,
           peer: str = "the peer", me: str = "this side") -> Envelope:
    """Check and decode ``frames`` ([header, body, *pixels], identity removed).

    ``accept`` is the direction this side receives (messages sent the other
    way are refused). ``peer`` and ``me`` name the two sides in error messages.
    Raises a ``BridgeError`` subclass naming the cause; ``msg_id``/``job_id``
    are set on it when the header could be read, so a reply can be addressed."""
    if len(frames) < 2:
        raise MalformedMessage(f"a message has at least 2 frames (header, body); got {len(frames)}")
    total = sum(_len(fr) for fr in frames)
    if total > limits.max_message_bytes:
        raise LimitExceeded(f"message of {total} bytes is over the limit of {limits.max_message_bytes}")
    header = _unpack(frames[0], "header", limits)
    if not isinstance(header, dict):
        raise MalformedMessage("the header must be a msgpack map")
    msg_id = header.get("msg_id") if isinstance(header.get("msg_id"), str) else None
    job_id = header.get("job_id") if isinstance(header.get("job_id"), str) else None
    try:
        return _decode(header, frames, limits, accept, peer, me)
    except BridgeError as exc:
        exc.msg_id = exc.msg_id or (msg_id[:64] if msg_id else None)
        exc.job_id = exc.job_id or (job_id[:64] if job_id else None)
        raise


def _decode(header: dict, frames: Sequence[Any], limits: Limits, accept: str, peer: str, me: str) -> Envelope:
    for key, (wire, doc) in HEADER_FIELDS.items():
        if key not in header:
            raise MissingField(f"header: missing '{key}' ({doc})")
    proto = check_type(header["protocol"], "version", "header.protocol")
    if proto[0] != PROTOCOL_VERSION[0]:
        ours = "%d.%d" % PROTOCOL_VERSION
        raise VersionMismatch(
            f"{peer} speaks bridge protocol {proto[0]}.{proto[1]} but {me} speaks {ours}: "
            f"use a client and a server of the same major version ({PROTOCOL_VERSION[0]}.x)")
    unknown = sorted(str(k) for k in header if k not in HEADER_FIELDS)
    if unknown and proto[1] <= PROTOCOL_VERSION[1]:
        raise UnknownField(f"header: unknown field '{unknown[0][:64]}'")
    for key in ("msg_type", "msg_id", "job_id", "parent_id", "sent_at"):
        check_type(header[key], HEADER_FIELDS[key][0], f"header.{key}")
    for key in ("msg_id", "job_id", "parent_id"):
        if isinstance(header[key], str) and not 0 < len(header[key]) <= 64:
            raise WrongFieldType(f"header.{key} must be 1 to 64 characters")
    cls = MESSAGES.get(header["msg_type"])
    if cls is None:
        raise UnknownMessageType(f"unknown message type '{header['msg_type'][:64]}'; "
                                 f"known: {', '.join(MESSAGES)}")
    if accept != BOTH and cls.direction not in (accept, BOTH):
        raise UnknownMessageType(f"'{cls.msg_type}' goes {cls.direction}; it cannot be sent this way")
    if cls.job_scoped and header["job_id"] is None:
        raise MissingField(f"header: '{cls.msg_type}' needs the job_id of the job it is about")
    descriptors = header["buffers"]
    if not isinstance(descriptors, list) or len(descriptors) > limits.max_buffers:
        raise WrongFieldType(f"header.buffers must be a list of at most {limits.max_buffers} descriptors")
    if len(frames) != 2 + len(descriptors):
        raise BufferMismatch(f"the header declares {len(descriptors)} pixel frame(s) "
                             f"but {len(frames) - 2} followed the body")
    body = _unpack(frames[1], "body", limits)
    message = cls.from_wire(body, peer_minor=proto[1])
    pixels = tuple(_pixels(d, fr, i, limits) for i, (d, fr) in enumerate(zip(descriptors, frames[2:])))
    want = expected_pixels(message)
    if len(pixels) != want:
        raise BufferMismatch(f"'{cls.msg_type}' carries {want} pixel frame(s); got {len(pixels)}")
    return Envelope(message=message, msg_id=header["msg_id"], job_id=header["job_id"],
                    parent_id=header["parent_id"], sent_at=float(header["sent_at"]), protocol=tuple(proto),
                    pixels=pixels)


def expected_pixels(message: Message) -> int:
    """How many pixel frames a message must carry."""
    if message.msg_type in ("frame", "result"):
        return 1
    if message.msg_type == "preview":
        return len(message.frames)
    return 0


def _bytes_view(frame: Any) -> memoryview:
    """A flat byte view of a zmq.Frame, bytes or any buffer (no copy)."""
    view = memoryview(frame.buffer if hasattr(frame, "buffer") else frame)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def _len(frame: Any) -> int:
    return _bytes_view(frame).nbytes


def _pixels(desc: Any, frame: Any, index: int, limits: Limits) -> Pixels:
    where = f"header.buffers[{index}]"
    if not isinstance(desc, dict):
        raise WrongFieldType(f"{where} must be a map {{dtype, shape, channels, colorspace}}")
    for key in ("dtype", "shape", "channels"):
        if key not in desc:
            raise MissingField(f"{where}: missing '{key}' ({BUFFER_FIELDS[key]})")
    unknown = sorted(str(k) for k in desc if k not in BUFFER_FIELDS)
    if unknown:
        raise UnknownField(f"{where}: unknown field '{unknown[0][:64]}'")
    if desc["dtype"] not in DTYPES:
        raise WrongFieldType(f"{where}.dtype must be one of {', '.join(DTYPES)}, got {str(desc['dtype'])[:32]!r}")
    shape = check_type(desc["shape"], "list[int]", f"{where}.shape")
    channels = check_type(desc["channels"], "list[str]", f"{where}.channels")
    colorspace = check_type(desc.get("colorspace", "scene_linear"), "str", f"{where}.colorspace")
    if len(shape) != 3 or not (0 < shape[0] <= limits.max_dim and 0 < shape[1] <= limits.max_dim):
        raise WrongFieldType(f"{where}.shape must be [H, W, C] with 1 <= H, W <= {limits.max_dim}; got {shape[:4]}")
    if not 0 < shape[2] <= limits.max_channels:
        raise LimitExceeded(f"{where}: {shape[2]} channels; the limit is 1 to {limits.max_channels}")
    if len(channels) != shape[2] or not all(0 < len(c) <= 128 for c in channels):
        raise BufferMismatch(f"{where}: {len(channels)} channel names for {shape[2]} channels")
    dtype = _wire_dtype(desc["dtype"])
    nbytes = shape[0] * shape[1] * shape[2] * dtype.itemsize
    if nbytes > limits.max_frame_bytes:
        raise LimitExceeded(f"{where}: a {shape[1]}x{shape[0]}x{shape[2]} {dtype.name} frame is {nbytes} bytes; "
                                f"the server accepts at most {limits.max_frame_bytes} per frame")
    buf = _bytes_view(frame)
    if len(buf) != nbytes:
        raise BufferMismatch(f"pixel frame {index} is {len(buf)} bytes but its descriptor ({dtype.name} "
                             f"{shape[0]}x{shape[1]}x{shape[2]}) needs {nbytes}")
    array = np.frombuffer(buf, dtype=dtype).reshape(shape)
    return Pixels(array=array, channels=tuple(channels), colorspace=colorspace)
