"""Render ``docs/protocol.md`` from the message table.

    .venv/bin/python -m bridge.docs > docs/protocol.md

``tests/bridge/test_bridge_docs.py`` fails when the committed file and this
output differ, so the document cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import inspect

from .errors import ERROR_CLASSES
from .messages import MESSAGES, PROTOCOL_VERSION
from .wire import BUFFER_FIELDS, HEADER_FIELDS, Limits

INTRO = """\
Hosts (plugins, `python -m plugin submit`, TD scripts) talk to `renderer serve` over
ZeroMQ: the client is a DEALER, the server a ROUTER. Every client message gets exactly
one reply (its header's `parent_id` is the request's `msg_id`); the server also sends
unprompted `progress`, `preview` and `status` messages for jobs a connection follows.

## Frames

    [header, body, pixel frame 0, pixel frame 1, ...]

`header` and `body` are separate msgpack maps (never pickle; msgpack extension types
are refused). Pixels are never msgpack'd: each image travels as one raw frame, described
by an entry of `header.buffers`, sent without copies (`copy=False`) and read back with
`np.frombuffer` on the received frame. A frame whose length is not `H*W*C*itemsize` is
refused.

## Versions

The protocol version is `(major, minor)`, separate from the package version. Minor
versions only add messages or optional fields: a receiver drops fields it does not know
when the sender's minor is newer, and refuses them otherwise. A different major is
refused with `version_mismatch`, naming both versions. `hello` must come first.

## What changed in 2.0

- `submit.shot` may hold `references` (`[{frame, path}]`: clean frames the artist painted,
  each the whole frame at the plate's size, on a frame of the shot), `source_map` (an
  output pattern with `####`: where each output pixel came from) and `grain` (`match` or
  `off`).
- Stream mode: `accepted.references` lists the frames whose reference the client uploads,
  as `frame` messages with role `reference`; `fetch.kind` `source_map` asks for a source
  map frame, and `result.kind` says which it is. `status.source_map_frames` lists the map's
  frames once the job is done; in shared mode `status.source_map_paths` gives where they
  were written.
- `welcome.limits.max_references` caps the references of one job.
- Why a new major: a 1.x server drops the fields of a newer minor that it does not know,
  so it would answer `fetch` {kind: source_map} with the result frame, and it has no
  `reference` role for uploads. 1.x and 2.x peers refuse each other at `hello` with
  `version_mismatch`, naming both versions, so no 2.0 shot reaches a 1.x server.

## Modes

- `stream`: plates, mattes and references travel as `frame` messages; the server keeps
  them in its spool; results (and source map frames) come back as `result` messages and
  the client writes the EXRs (atomically). The server needs no access to the artist's
  disk.
- `shared`: only paths travel. The server reads and writes shared storage, confined to
  its `--shared-root` folders: `..`, `~`, `$VARIABLES`, and paths or symlinks resolving
  outside every root are refused (`path_refused`). References are read, and the source
  map written, at their paths.

## Liveness

A waiting client sends `heartbeat` every `heartbeat_interval` seconds (from `welcome`);
the server answers each. A client that hears nothing for its timeout raises
`ServerUnreachable`; the server stops routing events to a client silent for its
`client_timeout` (the client's jobs go on; `status_request` with `attach` picks them up).

## Security

The server binds to loopback unless given CURVE keys (`renderer keys`); with CURVE it
accepts only clients whose public keys are in its `--allow` folder, and a job is visible
only to the key that submitted it. Job ids are random 128-bit values.
"""

FLOWS = """\
## Flows

Stream mode:

    C: hello                     S: welcome
    C: submit {mode: stream}     S: accepted {job_id, state: uploading, frames, roles, references}
    C: frame (per frame & role,  S: frame_ack ...      then S: status {queued, place}
       then per reference)
                                 S: status {running} / progress / preview ...
                                 S: status {done, output_frames, source_map_frames}
    C: fetch (per frame)         S: result + pixels
    C: fetch {kind: source_map}  S: result {kind: source_map} + pixels   (when the shot set source_map)
    C: release                   S: status

Shared mode: the same without `frame`/`fetch`; `status` {done} carries `output_paths`
(and `source_map_paths`).
Cancel at any time: `cancel` -> `status` {cancelling}, then `status` {cancelled}.
After a disconnect: `status_request` {attach: true} with the job id, then carry on.
"""


def render_protocol_markdown() -> str:
    """The full text of ``docs/protocol.md``."""
    major, minor = PROTOCOL_VERSION
    out = [f"# Bridge protocol {major}.{minor}", "",
           "<!-- Generated by `python -m bridge.docs` from bridge/messages.py, bridge/wire.py and "
           "bridge/errors.py. Edit those, then regenerate; a test fails when this file drifts. -->", "",
           INTRO, "## Header", "", "| field | type | meaning |", "|---|---|---|"]
    out += [f"| `{k}` | {wire} | {doc} |" for k, (wire, doc) in HEADER_FIELDS.items()]
    out += ["", "## Pixel frame descriptors (`header.buffers[i]`)", "", "| field | meaning |", "|---|---|"]
    out += [f"| `{k}` | {doc} |" for k, doc in BUFFER_FIELDS.items()]
    out += ["", "## Default server limits", "", "Sent in `welcome.limits`; over a limit is `limit_exceeded`.", "",
            "| limit | default |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in Limits().to_wire().items()]
    out += ["", "## Messages", ""]
    for msg_type, cls in MESSAGES.items():
        out += [f"### `{msg_type}` ({cls.direction})", "", _doc(cls), ""]
        if cls.job_scoped:
            out += ["The header's `job_id` names the job.", ""]
        out += [f"Pixel frames: {cls.buffers}.", ""]
        fields = dataclasses.fields(cls)
        if fields:
            out += ["| field | type | default | meaning |", "|---|---|---|---|"]
            for fl in fields:
                out.append(f"| `{fl.name}` | {fl.metadata['wire']} | {_default(fl)} | {fl.metadata['doc']} |")
        else:
            out.append("No fields (an empty map).")
        out.append("")
    out += ["## Error codes", "", "`error` replies carry one of these codes; `bridge.Client` raises the class.", "",
            "| code | class | meaning |", "|---|---|---|"]
    out += [f"| `{code}` | `{cls.__name__}` | {_doc(cls)} |" for code, cls in ERROR_CLASSES.items()]
    out += ["", FLOWS]
    return "\n".join(out).rstrip() + "\n"


def _doc(obj) -> str:
    return " ".join(inspect.cleandoc(obj.__doc__ or "").split()).replace("``", "`")


def _default(fl: dataclasses.Field) -> str:
    if fl.default is not dataclasses.MISSING:
        return "nil" if fl.default is None else f"`{fl.default!r}`"
    if fl.default_factory is not dataclasses.MISSING:
        return f"`{fl.default_factory()!r}`"
    return "required"


if __name__ == "__main__":
    print(render_protocol_markdown(), end="")
