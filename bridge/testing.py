"""Conformance checks any bridge server must pass, and a raw peer to run them.

    from bridge.testing import run_conformance
    failures = run_conformance("tcp://127.0.0.1:5555")   # [] when the server conforms

Each check talks to the server through a raw DEALER socket (no ``Client``),
so it sees exactly what goes over the wire. The renderer's test suite runs
them against ``renderer serve``; a fake server for plugin tests should pass
them too.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from typing import Any, Callable

import msgpack
import numpy as np
import zmq

from .errors import BridgeError
from .messages import (PROTOCOL_VERSION, Error, FrameUpload, Heartbeat, Hello, Message, StatusRequest, Submit,
                       Welcome)
from .wire import Envelope, Pixels, decode, encode


class RawPeer:
    """A bare DEALER for tests: send any frames, read replies as envelopes."""

    def __init__(self, endpoint: str, *, context: zmq.Context | None = None, timeout: float = 5.0,
                 curve: Any = None):
        self.timeout = timeout
        self.socket = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self.socket.linger = 0
        if curve is not None:
            curve.apply(self.socket)
        self.socket.connect(endpoint)

    def __enter__(self) -> "RawPeer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.socket.close(linger=0)

    def send_frames(self, frames: list) -> None:
        self.socket.send_multipart(frames, copy=False)

    def send(self, message: Message, *, job_id: str | None = None, pixels=(), protocol=PROTOCOL_VERSION,
             msg_id: str | None = None) -> str:
        msg_id = msg_id or uuid.uuid4().hex
        self.send_frames(encode(message, job_id=job_id, pixels=pixels, msg_id=msg_id, protocol=protocol))
        return msg_id

    def recv(self, timeout: float | None = None) -> Envelope | None:
        """The next message from the server, or None after ``timeout`` seconds."""
        if not self.socket.poll(int(1000 * (self.timeout if timeout is None else timeout))):
            return None
        return decode(self.socket.recv_multipart(copy=False), peer="the server", me="this client")

    def reply_to(self, msg_id: str, timeout: float | None = None) -> Envelope | None:
        """The reply whose ``parent_id`` is ``msg_id`` (skipping unprompted job events)."""
        while True:
            env = self.recv(timeout)
            if env is None or env.parent_id == msg_id:
                return env

    def request(self, message: Message, **kw) -> Envelope | None:
        return self.reply_to(self.send(message, **kw))

    def hello(self) -> Welcome:
        env = self.request(Hello(client="bridge.testing"))
        if env is None or not isinstance(env.message, Welcome):
            raise BridgeError(f"no welcome from the server (got {env and env.msg_type})")
        return env.message


class ConformanceFailure(AssertionError):
    pass


def _expect_error(env: Envelope | None, code: str, what: str) -> Error:
    if env is None:
        raise ConformanceFailure(f"{what}: no reply (expected an error '{code}')")
    if not isinstance(env.message, Error) or env.message.code != code:
        raise ConformanceFailure(f"{what}: expected error '{code}', got {env.message}")
    if not env.message.message:
        raise ConformanceFailure(f"{what}: the error has no message a person can act on")
    return env.message


def check_hello(peer: RawPeer) -> None:
    welcome = peer.hello()
    if welcome.protocol[0] != PROTOCOL_VERSION[0] or not welcome.modes:
        raise ConformanceFailure(f"welcome does not speak {PROTOCOL_VERSION[0]}.x or offers no mode: {welcome}")


def check_version_mismatch(peer: RawPeer) -> None:
    other = (PROTOCOL_VERSION[0] + 1, 0)
    err = _expect_error(peer.request(Hello(client="future"), protocol=other), "version_mismatch", "hello 2.x")
    for version in ("%d.%d" % other, "%d.%d" % PROTOCOL_VERSION):
        if version not in err.message:
            raise ConformanceFailure(f"the version error does not name {version}: {err.message}")


def check_hello_first(peer: RawPeer) -> None:
    _expect_error(peer.request(StatusRequest(), job_id="0" * 32), "hello_required", "status before hello")


def check_heartbeat(peer: RawPeer) -> None:
    env = peer.request(Heartbeat())
    if env is None or not isinstance(env.message, Heartbeat):
        raise ConformanceFailure(f"heartbeat was not answered with a heartbeat: {env}")


def check_malformed(peer: RawPeer) -> None:
    peer.send_frames([b"\xc1not msgpack", b"\x80"])
    _expect_error(peer.recv(), "malformed", "garbage header")


def check_unknown_type(peer: RawPeer) -> None:
    header = {"msg_type": "teleport", "protocol": list(PROTOCOL_VERSION), "msg_id": "a" * 32, "job_id": None,
              "parent_id": None, "sent_at": 0.0, "buffers": []}
    peer.send_frames([msgpack.packb(header), msgpack.packb({})])
    err_env = peer.recv()
    _expect_error(err_env, "unknown_type", "unknown msg_type")
    if err_env.parent_id != "a" * 32:
        raise ConformanceFailure("the error reply does not quote the offending msg_id as parent_id")


def check_wrong_direction(peer: RawPeer) -> None:
    msg = Welcome(server="x", protocol=list(PROTOCOL_VERSION), modes=[], limits={}, heartbeat_interval=1.0)
    _expect_error(peer.request(msg), "unknown_type", "a server message sent to the server")


def check_missing_field(peer: RawPeer) -> None:
    peer.hello()
    frames = encode(Submit(mode="stream", shot={}))
    frames[1] = msgpack.packb({"mode": "stream"})
    peer.send_frames(frames)
    _expect_error(peer.recv(), "missing_field", "submit without shot")


def check_buffer_mismatch(peer: RawPeer) -> None:
    frames = encode(FrameUpload(frame=1, role="plate"), job_id="0" * 32,
                    pixels=[Pixels(np.zeros((4, 4, 3), np.float16), ("R", "G", "B"))])
    frames[2] = b"\x00" * 7
    peer.send_frames(frames)
    _expect_error(peer.recv(), "buffer_mismatch", "short pixel frame")


def check_unknown_job(peer: RawPeer) -> None:
    peer.hello()
    _expect_error(peer.request(StatusRequest(), job_id=uuid.uuid4().hex), "unknown_job", "status of no job")


CHECKS: dict[str, Callable[[RawPeer], None]] = {
    f.__name__[len("check_"):]: f
    for f in (check_hello, check_version_mismatch, check_hello_first, check_heartbeat, check_malformed,
              check_unknown_type, check_wrong_direction, check_missing_field, check_buffer_mismatch,
              check_unknown_job)
}


def run_conformance(endpoint: str, *, timeout: float = 5.0, curve: Any = None) -> list[str]:
    """Run every check, each on a fresh connection; returns failures ('name: why'), [] if none."""
    failures = []
    for name, check in CHECKS.items():
        with RawPeer(endpoint, timeout=timeout, curve=curve) as peer:
            try:
                check(peer)
            except (ConformanceFailure, BridgeError) as exc:
                failures.append(f"{name}: {exc}")
    return failures


READY_PREFIX = "serving on "  # what `renderer serve` prints on stdout once its socket is bound


def wait_for_endpoint(proc: subprocess.Popen, timeout: float) -> str | None:
    """The endpoint a server process announces on its stdout (text mode) with a line
    ``serving on ENDPOINT``, or None if the process exits or ``timeout`` seconds pass
    first. A daemon thread keeps reading stdout afterwards, so the server never blocks
    on a full pipe."""
    found: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            if line.startswith(READY_PREFIX) and not found:
                found.append(line[len(READY_PREFIX):].strip())

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not found:
        if proc.poll() is not None or time.monotonic() > deadline:
            return None
        time.sleep(0.05)
    return found[0]
