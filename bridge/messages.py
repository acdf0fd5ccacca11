"""The message table: every bridge message as a frozen dataclass.

Each class has a ``msg_type`` (its name on the wire), a ``direction`` and a
docstring; each field declares its wire type and a one-line doc in
``metadata``. ``MESSAGES`` maps ``msg_type`` to class (explicit, no
introspection). ``docs/protocol.md`` is generated from this module
(``bridge.docs``), and a test fails when the two drift apart.

Wire types: ``str``, ``int``, ``float``, ``bool``, ``map`` (string keys),
``list[int]``, ``list[str]``, ``version`` ([major, minor]); a trailing ``?``
allows nil.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .errors import MissingField, UnknownField, WrongFieldType

PROTOCOL_VERSION: tuple[int, int] = (2, 0)
"""The wire protocol's own version, separate from the package version.
Minor versions only add messages or optional fields; a new major breaks.
2.0 added reference frames and the source map: a 1.x receiver would drop what it
cannot read (``fetch.kind``) or refuse it half way, so the two majors refuse each other."""

MAX_STR = 4096
MAX_LIST = 100_000
MAX_INT = 2**53

C2S = "client → server"
S2C = "server → client"
BOTH = "both ways"


def f(wire: str, doc: str, default: Any = dataclasses.MISSING) -> Any:
    """A message field: its wire type, its doc, and a default when optional."""
    meta = {"wire": wire, "doc": doc}
    if default is dataclasses.MISSING:
        return field(metadata=meta)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Message:
    """Base of all messages."""

    msg_type: ClassVar[str] = ""
    direction: ClassVar[str] = BOTH
    buffers: ClassVar[str] = "none"  # what extra pixel frames follow, in words
    job_scoped: ClassVar[bool] = False  # the header must carry a job_id

    def to_wire(self) -> dict[str, Any]:
        """The body as plain msgpack-able data."""
        return {fl.name: getattr(self, fl.name) for fl in dataclasses.fields(self)}

    @classmethod
    def from_wire(cls, body: Any, *, peer_minor: int = PROTOCOL_VERSION[1]) -> "Message":
        """Check ``body`` against the field table and build the message.

        Unknown fields are an error unless the peer speaks a newer minor
        version (minor versions only add fields, so they are dropped)."""
        if not isinstance(body, dict):
            raise WrongFieldType(f"{cls.msg_type}: the body must be a map, got {type(body).__name__}")
        fields = {fl.name: fl for fl in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in body if k not in fields)
        if unknown and peer_minor <= PROTOCOL_VERSION[1]:
            raise UnknownField(f"{cls.msg_type}: unknown field '{unknown[0][:64]}'; "
                               f"allowed: {', '.join(fields) or 'none'}")
        values = {}
        for name, fl in fields.items():
            if name not in body:
                if fl.default is dataclasses.MISSING and fl.default_factory is dataclasses.MISSING:
                    raise MissingField(f"{cls.msg_type}: missing field '{name}' ({fl.metadata['doc']})")
                continue
            values[name] = check_type(body[name], fl.metadata["wire"], f"{cls.msg_type}.{name}")
        return cls(**values)


def check_type(value: Any, wire: str, where: str) -> Any:
    """Return ``value`` if it has wire type ``wire``; raise ``WrongFieldType`` otherwise."""
    if wire.endswith("?"):
        if value is None:
            return None
        wire = wire[:-1]
    ok = False
    if wire == "str":
        ok = isinstance(value, str) and len(value) <= MAX_STR
    elif wire == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT
    elif wire == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok:  # nan/inf are legal (a diverged loss); handlers bound ranges where it matters
            value = float(value)
    elif wire == "bool":
        ok = isinstance(value, bool)
    elif wire == "map":
        ok = isinstance(value, dict) and _plain(value, 0)
    elif wire in ("list[int]", "list[str]"):
        item = wire[5:-1]
        ok = isinstance(value, list) and len(value) <= MAX_LIST
        if ok:
            value = [check_type(v, item, f"{where}[]") for v in value]
    elif wire == "version":
        ok = (isinstance(value, list) and len(value) == 2
              and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**16 for v in value))
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(f"unknown wire type {wire}")
    if not ok:
        shown = repr(value)
        raise WrongFieldType(f"{where}: expected {wire}, got {type(value).__name__} "
                             f"{shown[:40]}{'...' if len(shown) > 40 else ''}")
    return value


def _plain(value: Any, depth: int) -> bool:
    """True if ``value`` is plain data (nil, bool, int, float, str, list, string-keyed map), not too deep."""
    if depth > 8:
        return False
    if value is None or isinstance(value, (bool, int, float)):
        return not isinstance(value, int) or abs(value) <= MAX_INT
    if isinstance(value, str):
        return len(value) <= MAX_STR
    if isinstance(value, list):
        return len(value) <= MAX_LIST and all(_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= 256 and all(isinstance(k, str) and len(k) <= 256 and _plain(v, depth + 1)
                                         for k, v in value.items())
    return False


# ---------------------------------------------------------------- session


@dataclass(frozen=True)
class Hello(Message):
    """First message of a session: negotiates the protocol version (the header's
    ``protocol``). The server replies ``welcome``, or ``error`` with code
    ``version_mismatch`` when the major versions differ."""

    msg_type: ClassVar[str] = "hello"
    direction: ClassVar[str] = C2S
    client: str = f("str", "who is calling, e.g. 'plugin-nuke 0.1' (for logs)", "unknown")


@dataclass(frozen=True)
class Welcome(Message):
    """Reply to ``hello``: what the server speaks, offers and allows."""

    msg_type: ClassVar[str] = "welcome"
    direction: ClassVar[str] = S2C
    server: str = f("str", "server name and package version, e.g. 'renderer 0.1.0'")
    protocol: list = f("version", "the protocol version the server speaks, [major, minor]")
    modes: list = f("list[str]", "pixel transports offered: 'stream' and/or 'shared'")
    limits: dict = f("map", "max_frame_bytes, max_frames, max_message_bytes, max_dim, max_channels, "
                                  "max_references")
    heartbeat_interval: float = f("float", "seconds between heartbeats the server expects from a waiting client")
    devices: list = f("list[str]", "render devices; one training job runs at a time on each", [])


@dataclass(frozen=True)
class Heartbeat(Message):
    """Liveness. A waiting client sends one every ``heartbeat_interval``; the
    server answers each with a ``heartbeat``. Silence past the timeout means
    the other side is gone."""

    msg_type: ClassVar[str] = "heartbeat"
    direction: ClassVar[str] = BOTH


@dataclass(frozen=True)
class Error(Message):
    """Reply to any message the server could not act on. ``code`` names the cause
    (see the error codes table); ``message`` says what to do. The header's
    ``parent_id`` is the offending message's id when it could be read."""

    msg_type: ClassVar[str] = "error"
    direction: ClassVar[str] = S2C
    code: str = f("str", "error code, e.g. 'missing_field', 'path_refused'")
    message: str = f("str", "one line a person can act on")


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Submit(Message):
    """Submit a shot. ``shot`` holds shot.yaml keys, ``references`` (clean frames
    the artist painted, ``[{frame, path}]``), ``source_map`` and ``grain`` included.
    In ``stream`` mode the server ignores the shot's paths (plates, mattes and
    references come as ``frame`` messages; results, and the source map when
    ``source_map`` is set, go back as ``result`` messages); in ``shared`` mode its
    paths must lie under the server's shared roots, and the source map is written
    at its path."""

    msg_type: ClassVar[str] = "submit"
    direction: ClassVar[str] = C2S
    mode: str = f("str", "'stream' or 'shared'")
    shot: dict = f("map", "shot.yaml keys (source, mask, frames, output, preset, steps, references, source_map, "
                          "grain, ...)")
    overrides: dict = f("map", "the same overrides as `renderer render`: steps, preset, seed", {})


@dataclass(frozen=True)
class Accepted(Message):
    """Reply to ``submit``: the job id and what the server now expects."""

    msg_type: ClassVar[str] = "accepted"
    direction: ClassVar[str] = S2C
    job_id: str = f("str", "id to quote in every later message about this job")
    state: str = f("str", "'uploading' (stream: send frames now) or 'queued'")
    frames: list = f("list[int]", "the shot's frame numbers")
    roles: list = f("list[str]", "images to upload per frame: ['plate'] or ['plate', 'matte']; [] in shared mode")
    place: int | None = f("int?", "1-based place in the queue once queued", None)
    references: list = f("list[int]", "stream mode: frames with a reference image to upload as role 'reference' "
                                      "(one each); [] otherwise", [])


@dataclass(frozen=True)
class FrameUpload(Message):
    """One input image for a stream-mode job: a plate, a matte when the shot's
    matte is a separate file, or a reference (the whole painted frame, the plate's
    size) for each frame in ``accepted.references``. Re-sending a frame replaces it."""

    msg_type: ClassVar[str] = "frame"
    direction: ClassVar[str] = C2S
    buffers: ClassVar[str] = "one pixel frame (H, W, C): the image's data window"
    job_scoped: ClassVar[bool] = True
    frame: int = f("int", "frame number, as in the shot (e.g. 1001)")
    role: str = f("str", "'plate', 'matte' or 'reference'")
    data_window: list = f("list[int]", "[x, y] origin of the pixels (the EXR data window)", [0, 0])
    display_window: list = f("list[int]", "[x, y, width, height] (the EXR display window); [] = the data window", [])
    attributes: dict = f("map", "EXR header attributes: name -> [type, value] (string/int/float kinds)", {})


@dataclass(frozen=True)
class FrameAck(Message):
    """Reply to ``frame``: stored. When the last one arrives a ``status`` follows."""

    msg_type: ClassVar[str] = "frame_ack"
    direction: ClassVar[str] = S2C
    frame: int = f("int", "frame number stored")
    role: str = f("str", "'plate', 'matte' or 'reference'")
    received: int = f("int", "images stored so far for this job")
    expected: int = f("int", "images the job needs in all")


@dataclass(frozen=True)
class Progress(Message):
    """Training progress, about once a second (from the renderer's callbacks)."""

    msg_type: ClassVar[str] = "progress"
    direction: ClassVar[str] = S2C
    step: int = f("int", "training steps done")
    total: int = f("int", "training steps in all")
    loss: float = f("float", "current loss")
    elapsed: float = f("float", "seconds since training started")
    eta: float | None = f("float?", "estimated seconds left; nil until known", None)
    stage: str = f("str", "'flow', 'train', 'infer' or 'write'", "train")
    message: str = f("str", "a human-readable note", "")


@dataclass(frozen=True)
class Preview(Message):
    """A few inpainted frames while training, every ``preview_every`` steps
    (scene-linear, RGB, may be downscaled)."""

    msg_type: ClassVar[str] = "preview"
    direction: ClassVar[str] = S2C
    buffers: ClassVar[str] = "one pixel frame (h, w, 3) per entry of `frames`"
    step: int = f("int", "training step of the preview")
    frames: list = f("list[int]", "frame numbers, one per pixel frame")


@dataclass(frozen=True)
class StatusRequest(Message):
    """Ask for a job's status. ``attach`` also routes the job's events to this
    connection (reconnecting after a disconnect)."""

    msg_type: ClassVar[str] = "status_request"
    direction: ClassVar[str] = C2S
    job_scoped: ClassVar[bool] = True
    attach: bool = f("bool", "send this job's progress/preview/status here from now on", False)


@dataclass(frozen=True)
class Status(Message):
    """A job's state: the reply to ``status_request``, ``cancel`` and ``release``,
    and sent unprompted whenever the state or queue place changes."""

    msg_type: ClassVar[str] = "status"
    direction: ClassVar[str] = S2C
    state: str = f("str", "uploading, queued, running, cancelling, done, failed, cancelled or expired")
    mode: str = f("str", "the job's mode: 'stream' or 'shared'", "")
    place: int | None = f("int?", "1-based place in the queue while queued", None)
    message: str = f("str", "a human-readable note (the failure, on failure)", "")
    error_code: str = f("str", "on failure: the error code", "")
    missing: list = f("list[str]", "while uploading: images still needed, as 'role:frame'", [])
    output_frames: list = f("list[int]", "when done: frames available", [])
    output_paths: list = f("list[str]", "when done in shared mode: written paths, one per output frame", [])
    source_map_frames: list = f("list[int]", "when done: source map frames available (the shot set source_map)",
                                [])
    source_map_paths: list = f("list[str]", "when done in shared mode: written source map paths, one per "
                                            "source map frame", [])


@dataclass(frozen=True)
class Cancel(Message):
    """Cancel a job. A running job stops within a few seconds (its checkpoint is
    kept); the reply is a ``status``, and a final ``status`` 'cancelled' follows."""

    msg_type: ClassVar[str] = "cancel"
    direction: ClassVar[str] = C2S
    job_scoped: ClassVar[bool] = True


@dataclass(frozen=True)
class Fetch(Message):
    """Ask for one result frame of a finished stream-mode job, or one frame of
    its source map (any number of times until the result expires). The reply is
    a ``result``."""

    msg_type: ClassVar[str] = "fetch"
    direction: ClassVar[str] = C2S
    job_scoped: ClassVar[bool] = True
    frame: int = f("int", "frame number to fetch")
    kind: str = f("str", "'result', or 'source_map' for the source map's frame (see status.source_map_frames)",
                  "result")


@dataclass(frozen=True)
class Result(Message):
    """One output frame, or one source map frame, as the renderer wrote it."""

    msg_type: ClassVar[str] = "result"
    direction: ClassVar[str] = S2C
    buffers: ClassVar[str] = "one pixel frame (H, W, C)"
    frame: int = f("int", "frame number")
    kind: str = f("str", "what the frame is: 'result' or 'source_map' (as fetched)", "result")
    data_window: list = f("list[int]", "[x, y] origin of the pixels", [0, 0])
    display_window: list = f("list[int]", "[x, y, width, height]", [])
    attributes: dict = f("map", "EXR header attributes: name -> [type, value]", {})


@dataclass(frozen=True)
class Release(Message):
    """The client has the results: the server deletes the job's uploaded frames
    and checkpoints now (results stay fetchable until they expire)."""

    msg_type: ClassVar[str] = "release"
    direction: ClassVar[str] = C2S
    job_scoped: ClassVar[bool] = True


MESSAGES: dict[str, type[Message]] = {
    cls.msg_type: cls
    for cls in (Hello, Welcome, Heartbeat, Error, Submit, Accepted, FrameUpload, FrameAck, Progress, Preview,
                StatusRequest, Status, Cancel, Fetch, Result, Release)
}
"""msg_type -> message class: the whole protocol."""

TERMINAL_STATES = ("done", "failed", "cancelled", "expired")
FETCH_KINDS = ("result", "source_map")
JOB_STATES = ("uploading", "queued", "running", "cancelling") + TERMINAL_STATES
