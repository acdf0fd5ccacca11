"""The message table: round trips, golden wire samples, and named errors for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import msgpack
import numpy as np
import pytest

from bridge import messages as m
from bridge.errors import (BufferMismatch, LimitExceeded, MalformedMessage, MissingField, UnknownField,
                           UnknownMessageType, VersionMismatch, WrongFieldType)
from bridge.wire import Limits, Pixels, decode, encode

GOLDEN = Path(__file__).parent / "golden"

SAMPLES: dict[str, m.Message] = {
    "hello": m.Hello(client="plugin-nuke 0.1"),
    "welcome": m.Welcome(server="renderer 0.1.0", protocol=[2, 0], modes=["stream", "shared"],
                         limits={"max_frames": 10000}, heartbeat_interval=1.0, devices=["cuda"]),
    "heartbeat": m.Heartbeat(),
    "error": m.Error(code="path_refused", message="source '/etc' is outside the shared roots"),
    "submit": m.Submit(mode="stream", shot={"source": "plate.####.exr", "output": "out.####.exr",
                                            "frames": "1001-1010", "mask": {"channel": "A", "expand": 2},
                                            "references": [{"frame": 1004, "path": "ref.1004.exr"}],
                                            "source_map": "map.####.exr", "grain": "off"},
                       overrides={"steps": 200, "seed": 3}),
    "accepted": m.Accepted(job_id="ab" * 16, state="uploading", frames=[1001, 1002], roles=["plate", "matte"],
                           references=[1002]),
    "frame": m.FrameUpload(frame=1002, role="reference", data_window=[10, 20], display_window=[0, 0, 2048, 1080],
                           attributes={"pipeline:shot": ["string", "sh010"]}),
    "frame_ack": m.FrameAck(frame=1001, role="plate", received=3, expected=20),
    "progress": m.Progress(step=40, total=400, loss=0.0123, elapsed=12.5, eta=112.5, stage="train", message=""),
    "preview": m.Preview(step=100, frames=[1001, 1005]),
    "status_request": m.StatusRequest(attach=True),
    "status": m.Status(state="done", mode="shared", output_frames=[1001], output_paths=["/show/out.1001.exr"],
                       source_map_frames=[1001], source_map_paths=["/show/map.1001.exr"]),
    "cancel": m.Cancel(),
    "fetch": m.Fetch(frame=1001, kind="source_map"),
    "result": m.Result(frame=1001, data_window=[0, 0], display_window=[0, 0, 4, 2], attributes={},
                       kind="source_map"),
    "release": m.Release(),
}


def _pixels(message: m.Message) -> list[Pixels]:
    from bridge.wire import expected_pixels

    px = Pixels(np.arange(24, dtype=np.float16).reshape(2, 4, 3), ("R", "G", "B"))
    return [px] * expected_pixels(message)


def _golden_frames(msg_type: str) -> list[bytes]:
    message = SAMPLES[msg_type]
    job = "cd" * 16 if message.job_scoped else None
    frames = encode(message, job_id=job, pixels=_pixels(message), msg_id="0" * 32)
    header = msgpack.unpackb(frames[0])
    header["sent_at"] = 0.0
    return [msgpack.packb(header, use_bin_type=True), bytes(frames[1]), *(bytes(f) for f in frames[2:])]


def test_every_message_type_has_a_sample():
    assert set(SAMPLES) == set(m.MESSAGES)


@pytest.mark.parametrize("msg_type", sorted(m.MESSAGES))
def test_round_trip(msg_type):
    message = SAMPLES[msg_type]
    env = decode(encode(message, job_id="cd" * 16, pixels=_pixels(message)))
    assert env.message == message and env.job_id == "cd" * 16
    assert [p.array.tolist() for p in env.pixels] == [p.array.tolist() for p in _pixels(message)]


@pytest.mark.parametrize("msg_type", sorted(m.MESSAGES))
def test_golden_wire_samples(msg_type):
    """The bytes on the wire for this major version stay what they were (regenerate with
    BRIDGE_REGEN_GOLDEN=1 only when the protocol version changes)."""
    path = GOLDEN / f"{msg_type}.v{m.PROTOCOL_VERSION[0]}.msgpack"
    frames = _golden_frames(msg_type)
    if os.environ.get("BRIDGE_REGEN_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(msgpack.packb(frames, use_bin_type=True))
    stored = msgpack.unpackb(path.read_bytes())
    assert stored == frames, f"the wire form of '{msg_type}' changed; bump PROTOCOL_VERSION if that is intended"
    assert decode(stored).message == SAMPLES[msg_type]


def test_unknown_missing_and_wrong_fields_raise_named_errors():
    with pytest.raises(UnknownField, match="unknown field 'colour'"):
        m.Fetch.from_wire({"frame": 1, "colour": "red"})
    with pytest.raises(MissingField, match="missing field 'frame'"):
        m.Fetch.from_wire({})
    for bad in ({"frame": "1001"}, {"frame": True}, {"frame": 1.5}, {"frame": 2**60}, {"frame": None}):
        with pytest.raises(WrongFieldType, match="fetch.frame: expected int"):
            m.Fetch.from_wire(bad)
    with pytest.raises(WrongFieldType):
        m.Submit.from_wire({"mode": "stream", "shot": {"a": msgpack.Timestamp(1)}})
    with pytest.raises(WrongFieldType, match="body must be a map"):
        m.Cancel.from_wire([1, 2])


@pytest.mark.parametrize("msg_type", sorted(m.MESSAGES))
def test_what_a_1_0_peer_sends_is_refused_naming_both_versions(msg_type):
    """The golden files of protocol 1.0 are the bytes a 1.0 client or server sends: each is
    refused whole, never read with a field dropped."""
    stored = msgpack.unpackb((GOLDEN / f"{msg_type}.v1.msgpack").read_bytes())
    assert msgpack.unpackb(stored[0])["protocol"] == [1, 0]
    with pytest.raises(VersionMismatch, match=r"the client speaks bridge protocol 1\.0 but this server speaks 2\.0"):
        decode(stored, peer="the client", me="this server")


def test_the_new_fields_default_to_what_1_0_meant():
    assert m.Fetch.from_wire({"frame": 1}) == m.Fetch(frame=1, kind="result")
    assert m.Accepted.from_wire({"job_id": "j", "state": "queued", "frames": [1], "roles": []}).references == []
    status = m.Status.from_wire({"state": "done"})
    assert status.source_map_frames == [] and status.source_map_paths == []
    for bad in ({"frame": 1, "kind": 3}, {"frame": 1, "kind": None}):
        with pytest.raises(WrongFieldType, match="fetch.kind: expected str"):
            m.Fetch.from_wire(bad)


def test_a_newer_minor_version_may_add_fields():
    assert m.Fetch.from_wire({"frame": 1, "priority": 9}, peer_minor=m.PROTOCOL_VERSION[1] + 1) == m.Fetch(frame=1)


def _header(**changes) -> dict:
    header = {"msg_type": "heartbeat", "protocol": [2, 0], "msg_id": "a" * 32, "job_id": None, "parent_id": None,
              "sent_at": 0.0, "buffers": []}
    header.update(changes)
    return header


def _frames(header, body=None, *extra) -> list[bytes]:
    return [msgpack.packb(header), msgpack.packb({} if body is None else body), *extra]


def test_envelope_errors_are_named_and_addressable():
    with pytest.raises(VersionMismatch, match=r"protocol 3\.0 but this server speaks 2\.0") as err:
        decode(_frames(_header(protocol=[3, 0])), peer="the client", me="this server")
    assert err.value.msg_id == "a" * 32  # so the server can address its reply
    with pytest.raises(UnknownMessageType, match="unknown message type 'teleport'"):
        decode(_frames(_header(msg_type="teleport")))
    with pytest.raises(UnknownMessageType, match="cannot be sent this way"):
        decode(_frames(_header(msg_type="welcome")), accept=m.C2S)
    with pytest.raises(MissingField, match="needs the job_id"):
        decode(_frames(_header(msg_type="cancel")))
    with pytest.raises(MissingField, match="missing 'sent_at'"):
        decode(_frames({k: v for k, v in _header().items() if k != "sent_at"}))
    with pytest.raises(MalformedMessage, match="not valid msgpack"):
        decode([b"\xc1", b"\x80"])
    with pytest.raises(MalformedMessage, match="extension types"):
        decode([msgpack.packb(msgpack.ExtType(5, b"x")), b"\x80"])
    with pytest.raises(MalformedMessage, match="at least 2 frames"):
        decode([b"\x80"])
    with pytest.raises(LimitExceeded):
        decode(_frames(_header(), {"x": "y" * 2_000_000}))
    with pytest.raises(WrongFieldType, match="header.msg_id"):
        decode(_frames(_header(msg_id="x" * 65)))


def test_pixel_frames_are_checked_against_their_descriptor():
    message = m.FrameUpload(frame=1, role="plate")
    good = encode(message, job_id="j", pixels=[Pixels(np.zeros((2, 3, 4), np.float16), tuple("RGBA"))])
    assert decode(good).pixels[0].array.shape == (2, 3, 4)
    with pytest.raises(BufferMismatch, match="is 47 bytes but its descriptor"):
        decode([*good[:2], bytes(47)])
    with pytest.raises(BufferMismatch, match="declares 1 pixel frame"):
        decode(good[:2])
    header = msgpack.unpackb(good[0])
    for change, error in (({"dtype": "object"}, WrongFieldType), ({"shape": [2, 3]}, WrongFieldType),
                          ({"shape": [-2, 3, 4]}, WrongFieldType), ({"channels": ["R"]}, BufferMismatch),
                          ({"shape": [2, 3, 65]}, LimitExceeded), ({"evil": 1}, UnknownField)):
        bad = dict(header, buffers=[dict(header["buffers"][0], **change)])
        with pytest.raises(error):
            decode([msgpack.packb(bad), good[1], good[2]])
    small = Limits(max_frame_bytes=40)
    with pytest.raises(LimitExceeded, match="at most 40 per frame"):
        decode(good, limits=small)
    with pytest.raises(BufferMismatch, match="carries 1 pixel frame"):
        decode(encode(message, job_id="j"))
