"""Hostile and careless clients against one real server socket (the real renderer).

A property-based fuzzer sends hundreds of malformed messages from raw DEALER
sockets: each gets exactly one reply, the server keeps serving, another
client's job rendering meanwhile is untouched, and afterwards the same server
still renders a good shot correctly.
"""

from __future__ import annotations

import uuid

import msgpack
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge import Client
from bridge.errors import ERROR_CLASSES
from bridge.messages import (PROTOCOL_VERSION, Cancel, Fetch, FrameUpload, Heartbeat, Hello, Release, StatusRequest,
                             Submit)
from bridge.testing import RawPeer
from bridge.wire import Pixels, encode
from serve_kit import FRAMES, ServeProcess, check_result, write_shot

EXAMPLES = 300
GOOD = {"steps": 2, "preset": "dip-vid"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`renderer serve` in its own process, with the real job function (renderer.api.render)."""
    proc = ServeProcess(tmp_path_factory.mktemp("fuzz") / "spool", "--max-jobs-per-client", "10000")
    yield proc
    proc.stop()
    assert proc.proc.returncode == 0, proc.log.read_text()[-2000:]


@pytest.fixture(scope="module")
def peers(server):
    """Two raw connections: one that said hello, one that never does."""
    greeted, rude = RawPeer(server.endpoint, timeout=10), RawPeer(server.endpoint, timeout=10)
    greeted.hello()
    yield greeted, rude
    greeted.close()
    rude.close()


# ------------------------------------------------------------------ strategies
plain = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**64 - 1) | st.floats() | st.text(max_size=20)
                     | st.binary(max_size=20),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                     max_leaves=12)
JOB = uuid.uuid4().hex
VALID = [Hello(), Heartbeat(), Submit(mode="stream", shot={"source": "a", "output": "b", "frames": "1-2"}),
         Submit(mode="shared", shot={"source": "/etc/passwd", "output": "/tmp/x", "frames": 1}),
         StatusRequest(attach=True), Cancel(), Fetch(frame=1001), Release(), FrameUpload(frame=1001, role="plate")]


def _valid_frames(message, job_id) -> list[bytes]:
    pixels = [Pixels(np.zeros((4, 6, 3), np.float16), ("R", "G", "B"))] if message.msg_type == "frame" else []
    return [bytes(f) for f in encode(message, job_id=job_id, pixels=pixels)]


@st.composite
def malformed(draw) -> list[bytes]:
    kind = draw(st.sampled_from(["bytes", "header", "mutate_header", "mutate_body", "buffers", "frames"]))
    if kind == "bytes":
        return draw(st.lists(st.binary(max_size=64), min_size=1, max_size=5))
    message = draw(st.sampled_from(VALID))
    job_id = draw(st.sampled_from([None, JOB, "../../etc", "x" * 65, ""]))
    frames = _valid_frames(message, job_id)
    header = msgpack.unpackb(frames[0])
    body = msgpack.unpackb(frames[1])
    if kind == "header":
        header = draw(st.dictionaries(st.sampled_from(list(header) + ["evil"]), plain, max_size=8))
    elif kind == "mutate_header":
        key = draw(st.sampled_from(list(header) + ["evil"]))
        if draw(st.booleans()) and key in header:
            del header[key]
        else:
            header[key] = draw(plain | st.sampled_from([[2, 0], [1, 99], "teleport", "progress", "welcome"]))
    elif kind == "mutate_body":
        body = draw(plain) if draw(st.booleans()) else dict(body, **{draw(st.text(max_size=8)): draw(plain)})
    elif kind == "buffers":
        header["buffers"] = draw(st.lists(st.fixed_dictionaries(
            {"dtype": st.sampled_from(["float16", "float32", "int64", "object", ""]),
             "shape": st.lists(st.integers(-3, 70000), max_size=4),
             "channels": st.lists(st.text(max_size=3), max_size=5)}), max_size=3))
    packed = [msgpack.packb(header, use_bin_type=True), msgpack.packb(body, use_bin_type=True)]
    tail = frames[2:]
    if kind == "frames":
        tail = draw(st.lists(st.binary(max_size=200), max_size=3))
    return packed + tail


REPLY_TYPES = {"welcome", "heartbeat", "accepted", "frame_ack", "status", "result", "error"}


COUNTS = {"sent": 0, "errors": 0}


def _one_reply(peer: RawPeer, frames: list[bytes]) -> str:
    peer.send_frames(frames)
    while True:  # skip job events for jobs this peer happens to follow
        env = peer.recv(timeout=10)
        assert env is not None, "the server did not answer"
        if env.parent_id is not None or env.msg_type == "error":
            break
    COUNTS["sent"] += 1
    if env.msg_type == "error":
        assert env.message.code in ERROR_CLASSES and env.message.message
        assert env.message.code != "internal", env.message.message  # every refusal names its cause
        COUNTS["errors"] += 1
    assert env.msg_type in REPLY_TYPES
    return env.msg_type


@pytest.mark.slow
def test_fuzz_real_socket_while_another_job_renders(server, peers, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bystander")
    shot = write_shot(folder)
    bystander = Client(server.endpoint, timeout=30)
    job = bystander.submit(shot, base_dir=folder, overrides=GOOD)
    greeted, rude = peers

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(frames=malformed(), greet=st.booleans())
    def fuzz(frames, greet):
        _one_reply(greeted if greet else rude, frames)

    fuzz()
    assert COUNTS["sent"] >= EXAMPLES and COUNTS["errors"] >= EXAMPLES * 0.8  # refused, each with a reply
    # a flood: a thousand garbage messages without reading (replies beyond the server's send mark
    # are dropped), then heartbeats still get answered
    with RawPeer(server.endpoint, timeout=20) as flood:
        for i in range(1000):
            flood.send_frames([b"\x93" + bytes([i % 256]), b"junk"])
        for _ in range(10):
            if flood.reply_to(flood.send(Heartbeat()), timeout=3) is not None:
                break
        else:
            pytest.fail("the server stopped answering after a flood")
    outcome = job.wait(timeout=120)  # the other client's job was untouched
    bystander.close()
    assert outcome.ok, outcome
    for frame in FRAMES:
        check_result(outcome.output_paths[frame], frame)


@pytest.mark.slow
def test_same_server_renders_a_good_shot_after_the_abuse(server, tmp_path_factory):
    assert COUNTS["errors"] >= EXAMPLES * 0.8  # (after the fuzzer above, on the same server process)
    folder = tmp_path_factory.mktemp("good")
    shot = write_shot(folder)
    with Client(server.endpoint, timeout=30) as client:
        outcome = client.submit(shot, base_dir=folder, overrides=GOOD).wait(timeout=120)
    assert outcome.ok, outcome
    for frame in FRAMES:
        check_result(outcome.output_paths[frame], frame)


def test_protocol_version_field_is_checked_first(peers):
    greeted, _ = peers
    frames = _valid_frames(Hello(), None)
    header = msgpack.unpackb(frames[0])
    header["protocol"] = [PROTOCOL_VERSION[0] + 1, 0]
    assert _one_reply(greeted, [msgpack.packb(header), frames[1]]) == "error"
