"""Pixels over real ZeroMQ sockets without copies, and the client against scripted servers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import zmq

from bridge import Client
from bridge.errors import BridgeError, ProtocolError, ServerUnreachable, Timeout, VersionMismatch
from bridge.messages import PROTOCOL_VERSION, C2S, Error, Heartbeat, Hello, Result, Status, StatusRequest, Welcome
from bridge.wire import Pixels, decode, encode


@pytest.fixture
def ctx():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def scripted(ctx):
    """scripted(reply) -> a loopback ROUTER answering each request with reply(envelope)."""
    made = []

    def make(reply):
        made.append(Scripted(ctx, reply))
        return made[-1]

    yield make
    for server in made:
        server.close()


def test_pixels_travel_without_copies(ctx):
    server, client = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    server.bind("inproc://pixels")
    client.connect("inproc://pixels")
    plate = np.random.default_rng(0).random((108, 204, 4)).astype(np.float16)
    frames = encode(Result(frame=1001), pixels=[Pixels(plate, tuple("RGBA"))])
    assert np.shares_memory(np.frombuffer(frames[2], np.uint8), plate)  # the send frame is the array's memory
    client.send_multipart(frames, copy=False)
    got = server.recv_multipart(copy=False)
    env = decode(got[1:])
    arr = env.pixels[0].array
    assert np.array_equal(arr, plate) and env.pixels[0].channels == tuple("RGBA")
    assert np.shares_memory(arr, np.frombuffer(got[3].buffer, np.uint8))  # read in place from the frame


class Scripted:
    """A ROUTER on loopback answering each request with what ``reply`` returns."""

    def __init__(self, ctx, reply):
        self.sock = ctx.socket(zmq.ROUTER)
        self.sock.bind("tcp://127.0.0.1:*")
        self.endpoint = self.sock.last_endpoint.decode()
        self.reply, self.stop = reply, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            if self.sock.poll(50):
                ident, *frames = self.sock.recv_multipart()
                env = decode(frames, accept=C2S)
                for out in self.reply(env):
                    self.sock.send_multipart([ident, *out])

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close(linger=0)


def _welcome(env, **kw):
    msg = Welcome(server="fake", protocol=list(PROTOCOL_VERSION), modes=["stream"], limits={}, heartbeat_interval=0.1)
    return [encode(msg, parent_id=env.msg_id, **kw)]


def test_client_refuses_a_server_of_another_major(scripted):
    server = scripted(lambda env: _welcome(env, protocol=(3, 1)))
    with Client(server.endpoint, timeout=2) as client:
        with pytest.raises(VersionMismatch, match=r"server speaks bridge protocol 3\.1 but this client speaks 2\.0"):
            client.hello()


def test_a_shot_with_references_never_reaches_a_1_0_server(scripted, tmp_path):
    """A 1.0 server answers a 2.0 hello as its code does: an error 'version_mismatch' in a
    1.0 header. The client refuses it, naming both versions, and sends nothing more: the
    references are not silently dropped by a server that cannot carry them."""
    seen = []

    def old_server(env):
        seen.append(env.msg_type)
        refusal = Error(code="version_mismatch", message="the client speaks bridge protocol 2.0 but this server "
                                                         "speaks 1.0: use a client and a server of the same major "
                                                         "version (1.x)")
        return [encode(refusal, parent_id=env.msg_id, protocol=(1, 0))]

    server = scripted(old_server)
    for f in (1001, 1002):
        (tmp_path / f"plate.{f}.exr").write_bytes(b"")
    shot = {"source": "plate.####.exr", "output": "out.####.exr", "frames": "1001-1002",
            "references": [{"frame": 1002, "path": "ref.1002.exr"}], "source_map": "map.####.exr"}
    with Client(server.endpoint, timeout=2) as client:
        with pytest.raises(VersionMismatch, match=r"server speaks bridge protocol 1\.0 but this client speaks 2\.0"):
            client.submit(shot, base_dir=tmp_path)
    assert seen[0] == "hello" and not {"submit", "frame"} & set(seen)  # heartbeats may go while it waits


def test_client_names_a_garbled_reply(scripted):
    server = scripted(lambda env: [[b"\xc1", b"\x80"]])
    with Client(server.endpoint, timeout=2) as client:
        with pytest.raises(ProtocolError, match="cannot read"):
            client.hello()


def test_unreachable_and_silent_servers(scripted):
    with Client("tcp://127.0.0.1:9", timeout=0.5) as client:
        t0 = time.monotonic()
        with pytest.raises(ServerUnreachable, match="renderer serve"):
            client.hello()
        assert time.monotonic() - t0 < 3
    with pytest.raises(BridgeError, match="tcp://HOST:PORT"):
        Client("gpu-box:5555")
    mute = scripted(lambda env: [])  # connected, but never answers
    with Client(mute.endpoint, timeout=0.6) as client:
        with pytest.raises(ServerUnreachable, match="no reply"):
            client.hello()


def test_heartbeats_keep_a_slow_request_alive(scripted):
    """A server that answers only heartbeats is alive: a caller's own deadline applies, not silence."""
    def reply(env):
        if isinstance(env.message, Heartbeat):
            return [encode(Heartbeat(), parent_id=env.msg_id)]
        if isinstance(env.message, Hello):
            return _welcome(env)
        return []

    server = scripted(reply)
    with Client(server.endpoint, timeout=0.5) as client:
        client.hello()
        msg_id = client.send(StatusRequest(), job_id="j1")
        with pytest.raises(Timeout, match="alive"):
            client.wait_reply(msg_id, timeout=1.5)  # three times the silence limit, no ServerUnreachable


def test_error_replies_raise_their_class(scripted):
    server = scripted(lambda env: [encode(Error(code="path_refused", message="nope: use a shared root"),
                                               parent_id=env.msg_id)])
    from bridge.errors import PathRefused

    with Client(server.endpoint, timeout=2) as client:
        with pytest.raises(PathRefused, match="use a shared root"):
            client.hello()


def test_unsolicited_job_events_are_kept_per_job(scripted):
    def reply(env):
        if isinstance(env.message, Heartbeat):
            return [encode(Heartbeat(), parent_id=env.msg_id)]
        return [encode(Status(state="running"), job_id="j1"), encode(Status(state="queued"), job_id="j2"),
                *_welcome(env)]

    server = scripted(reply)
    with Client(server.endpoint, timeout=2) as client:
        client.hello()
        assert client.next_event("j2", time.monotonic() + 1).message.state == "queued"
        assert client.next_event("j1", time.monotonic() + 1).message.state == "running"
        assert client.next_event("j1", time.monotonic() + 0.2) is None


def test_references_a_server_does_not_ask_for_are_not_dropped_silently(scripted, tmp_path):
    """A server that accepts the shot but lists no reference to upload: the client stops,
    says so, and cancels the half-made job rather than render without the painting."""
    from bridge.messages import Accepted

    seen = []

    def careless(env):
        seen.append(env.msg_type)
        if isinstance(env.message, Hello):
            return _welcome(env)
        if env.msg_type == "submit":
            return [encode(Accepted(job_id="ab" * 16, state="uploading", frames=[1001], roles=["plate"]),
                           parent_id=env.msg_id)]
        return [encode(Status(state="cancelled"), parent_id=env.msg_id, job_id=env.job_id)]

    server = scripted(careless)
    (tmp_path / "plate.1001.exr").write_bytes(b"")
    (tmp_path / "ref.1001.exr").write_bytes(b"")
    shot = {"source": "plate.####.exr", "output": "out.####.exr", "frames": "1001",
            "references": [{"frame": 1001, "path": "ref.1001.exr"}]}
    with Client(server.endpoint, timeout=2) as client:
        with pytest.raises(ProtocolError, match=r"asked for references of frames \[\], but the shot has them for "
                                                r"\[1001\]"):
            client.submit(shot, base_dir=tmp_path)
    assert "frame" not in seen and "cancel" in seen
