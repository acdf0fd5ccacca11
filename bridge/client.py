"""``bridge.Client``: the one way plugins and TDs talk to ``renderer serve``.

    from bridge import Client
    with Client("tcp://gpu-box:5555") as client:
        job = client.submit(shot, mode="stream", overrides={"steps": 200})
        outcome = job.wait(on_event=print)

One DEALER socket, used from one thread. Every request gets exactly one reply
(matched by ``parent_id``); job events that arrive meanwhile are kept per job.
While it waits the client sends heartbeats; if the server says nothing for
``timeout`` seconds it raises ``ServerUnreachable``.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict, deque
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import zmq

from .errors import (BridgeError, HelloRequired, ProtocolError, ServerUnreachable, Timeout, VersionMismatch,
                     WrongFieldType, error_for_code)
from .job import Job, LocalShot
from .keys import CurveClient
from .messages import S2C, Error, Heartbeat, Hello, Message, Status, StatusRequest, Submit, Welcome
from .wire import Envelope, Limits, Pixels, decode, encode, new_id

CLIENT_LIMITS = Limits(max_frame_bytes=2**31, max_message_bytes=2**31 + 2**21, max_part_bytes=2**24)
MODES = ("stream", "shared")


class Client:
    """A connection to one render server.

    ``timeout``: seconds of silence from the server before ``ServerUnreachable``.
    ``curve``: a ``bridge.keys.CurveClient`` when the server requires CURVE.
    """

    def __init__(self, endpoint: str, *, timeout: float = 10.0, curve: CurveClient | None = None,
                 name: str = "bridge-client", context: zmq.Context | None = None, upload_window: int = 4):
        if not isinstance(endpoint, str) or not endpoint.startswith(("tcp://", "ipc://", "inproc://")):
            raise BridgeError(f"bad server address {endpoint!r}: write it as tcp://HOST:PORT")
        self.endpoint = endpoint
        self.timeout = float(timeout)
        self.name = name
        self.upload_window = max(1, int(upload_window))
        self.heartbeat_interval = min(1.0, self.timeout / 4)
        self.welcome: Welcome | None = None
        self.protocol = None  # tests may set another (major, minor) to exercise version checks
        self._curve = curve is not None
        self._socket = (context or zmq.Context.instance()).socket(zmq.DEALER)
        self._socket.linger = 0
        self._socket.routing_id = uuid.uuid4().bytes  # stable across reconnects (the server hands it over)
        self._socket.setsockopt(zmq.HEARTBEAT_IVL, 2000)
        self._socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(max(self.timeout, 6) * 1000))
        if curve is not None:
            curve.apply(self._socket)
        self._socket.connect(endpoint)
        self._outstanding: set[str] = set()
        self._beats: set[str] = set()
        self._replies: dict[str, Envelope] = {}
        self._inbox: dict[str, deque[Envelope]] = defaultdict(lambda: deque(maxlen=10_000))
        self._last_heard = time.monotonic()
        self._last_beat = 0.0

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self._socket.closed:
            self._socket.close(linger=0)

    # ------------------------------------------------------------ session
    def hello(self) -> Welcome:
        """Negotiate the protocol. Raises ``VersionMismatch`` naming both versions."""
        env = self.request(Hello(client=self.name))
        if not isinstance(env.message, Welcome):
            raise ProtocolError(f"the server answered hello with '{env.msg_type}'; is this a renderer server?")
        self.welcome = env.message
        self.heartbeat_interval = max(0.05, min(self.welcome.heartbeat_interval, self.timeout / 4))
        return self.welcome

    def _ensure_hello(self) -> Welcome:
        return self.welcome or self.hello()

    # ------------------------------------------------------------ jobs
    def submit(self, shot: Mapping[str, Any], mode: str = "stream", overrides: Mapping[str, Any] | None = None,
               *, base_dir: str | Path | None = None,
               on_upload: Callable[[int, int], None] | None = None) -> Job:
        """Submit ``shot`` (shot.yaml keys; relative paths resolve against ``base_dir``).
        In stream mode the plates (and mattes) are read here and uploaded before
        this returns. Returns a ``Job``."""
        if mode not in MODES:
            raise BridgeError(f"mode must be 'stream' or 'shared', got {mode!r}")
        welcome = self._ensure_hello()
        if mode not in welcome.modes:
            raise BridgeError(f"this server does not offer {mode} mode (it offers: {', '.join(welcome.modes)}); "
                              f"use --mode {welcome.modes[0]}" if welcome.modes else "the server offers no modes")
        local = LocalShot.from_dict(shot, base_dir)
        if mode == "stream":
            local.check_inputs()
        env = self.request(Submit(mode=mode, shot=local.wire_shot(mode), overrides=check_overrides(overrides or {})))
        acc = env.message
        job = Job(self, acc.job_id, mode, local=local)
        if mode == "stream":
            try:
                if sorted(acc.references) != sorted(f for f, _ in local.references):
                    # references the server would not take would be lost without a word
                    raise ProtocolError(f"the server asked for references of frames {sorted(acc.references)}, but the "
                                        f"shot has them for {sorted(f for f, _ in local.references)}; check that "
                                        "client and server versions match")
                job.upload(frames=acc.frames, roles=acc.roles, references=acc.references, on_upload=on_upload)
            except ServerUnreachable:
                raise
            except BridgeError:
                self._cancel_quietly(job)  # do not leave a half-uploaded job behind
                raise
        return job

    def _cancel_quietly(self, job: Job) -> None:
        try:
            job.cancel()
        except BridgeError:
            pass  # the server will expire the upload

    def attach(self, job_id: str, *, shot: Mapping[str, Any] | None = None,
               base_dir: str | Path | None = None) -> Job:
        """A ``Job`` for an earlier submission (after a disconnect or restart). Pass
        the shot again to write stream-mode results to its ``output``."""
        self._ensure_hello()
        status = self.request(StatusRequest(attach=True), job_id=job_id).message
        local = LocalShot.from_dict(shot, base_dir) if shot is not None else None
        return Job(self, job_id, status.mode or "stream", local=local)

    def status(self, job_id: str) -> Status:
        self._ensure_hello()
        return self.request(StatusRequest(), job_id=job_id).message

    # ------------------------------------------------------------ messaging
    def send(self, message: Message, *, job_id: str | None = None, pixels: Iterable[Pixels] = ()) -> str:
        """Send one message (pixels without copies); returns its msg_id."""
        msg_id = new_id()
        kw = {"protocol": self.protocol} if self.protocol else {}
        frames = encode(message, job_id=job_id, pixels=tuple(pixels), msg_id=msg_id, **kw)
        beat = isinstance(message, Heartbeat)
        # never block: with no live connection (server down, CURVE refused) a DEALER send would wait forever
        if not beat and not self._socket.poll(int(self.timeout * 1000), zmq.POLLOUT):
            raise ServerUnreachable(f"cannot send to {self.endpoint} for {self.timeout:g} s: check that "
                                    "`renderer serve` runs there" + self._hint())
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
        except zmq.Again:
            if beat:
                return msg_id  # a heartbeat that cannot go now is simply skipped
            raise ServerUnreachable(f"cannot send to {self.endpoint}: no connection" + self._hint()) from None
        except zmq.ZMQError as exc:
            raise ServerUnreachable(f"cannot send to {self.endpoint}: {exc}") from None
        (self._beats if beat else self._outstanding).add(msg_id)
        return msg_id

    def request(self, message: Message, *, job_id: str | None = None, pixels: Iterable[Pixels] = (),
                timeout: float | None = None) -> Envelope:
        """Send and wait for the reply; an ``error`` reply raises its ``BridgeError`` subclass.
        If the server no longer knows this connection (it restarted), say hello again and retry once."""
        pixels = tuple(pixels)
        try:
            return self.wait_reply(self.send(message, job_id=job_id, pixels=pixels), timeout=timeout)
        except HelloRequired:
            if isinstance(message, Hello):
                raise
            self.hello()
            return self.wait_reply(self.send(message, job_id=job_id, pixels=pixels), timeout=timeout)

    def wait_reply(self, msg_ids: str | Iterable[str], timeout: float | None = None) -> Envelope:
        """The reply to one of ``msg_ids`` (the first to arrive)."""
        ids = {msg_ids} if isinstance(msg_ids, str) else set(msg_ids)
        started = time.monotonic()
        # the server answers at once; a reply this late was lost with a dropped connection
        limit = timeout if timeout is not None else max(3 * self.timeout, 10.0)
        deadline = started + limit
        while True:
            for msg_id in ids:
                if msg_id in self._replies:
                    return self._reply(self._replies.pop(msg_id))
            env = self._pump(started, deadline)
            if env is None:
                if timeout is not None:
                    raise Timeout(f"no reply within {timeout:g} s (the server is alive; it may be busy)")
                raise ServerUnreachable(f"no answer from {self.endpoint} within {limit:g} s although it answers "
                                        "heartbeats: the connection may have dropped; try again")

    def next_event(self, job_id: str, deadline: float | None = None) -> Envelope | None:
        """The next unsolicited message for ``job_id``; None once ``deadline`` passes."""
        started = time.monotonic()
        while True:
            if self._inbox.get(job_id):
                return self._inbox[job_id].popleft()
            if self._pump(started, deadline) is None:
                return None

    def drop_stale_status(self, job_id: str) -> None:
        """Forget ``status`` events already received for ``job_id`` (a fresher status is in hand)."""
        kept = [env for env in self._inbox.get(job_id, ()) if not isinstance(env.message, Status)]
        if job_id in self._inbox:
            self._inbox[job_id] = deque(kept, maxlen=10_000)

    def _hint(self) -> str:
        if self._curve:
            return "; with CURVE, that you use the server's public key and yours is in its allow-list"
        return "; if the server uses CURVE, pass its public key and your secret key"

    def _reply(self, env: Envelope) -> Envelope:
        if isinstance(env.message, Error):
            raise error_for_code(env.message.code, env.message.message, msg_id=env.parent_id, job_id=env.job_id)
        return env

    def _pump(self, started: float, deadline: float | None) -> Envelope | None:
        """Receive and file one message; None when ``deadline`` passes first.
        Heartbeats while waiting; raises ``ServerUnreachable`` on silence."""
        while True:
            now = time.monotonic()
            quiet_since = max(self._last_heard, started)
            if now - quiet_since > self.timeout:
                raise ServerUnreachable(f"no reply from {self.endpoint} for {self.timeout:g} s: check that "
                                        f"`renderer serve` runs there and is reachable{self._hint()}")
            if deadline is not None and now >= deadline:
                return None
            if now - self._last_beat >= self.heartbeat_interval:
                self._last_beat = now
                self.send(Heartbeat())
            wait = min(self.heartbeat_interval, quiet_since + self.timeout - now)
            if deadline is not None:
                wait = min(wait, deadline - now)
            if not self._socket.poll(max(1, int(wait * 1000))):
                continue
            frames = self._socket.recv_multipart(copy=False)
            self._last_heard = time.monotonic()
            try:
                env = decode(frames, limits=CLIENT_LIMITS, accept=S2C, peer="the server", me="this client")
            except VersionMismatch:
                raise
            except BridgeError as exc:
                raise ProtocolError(f"the server sent a message this client cannot read ({exc}); "
                                    "check that client and server versions match") from None
            if self._file(env):
                return env

    def _file(self, env: Envelope) -> bool:
        if env.parent_id in self._beats or isinstance(env.message, Heartbeat):
            self._beats.discard(env.parent_id)  # a heartbeat's answer (or an error about it): the server lives
            return True
        if env.parent_id is not None and env.parent_id in self._outstanding:
            self._outstanding.discard(env.parent_id)
            self._replies[env.parent_id] = env
        elif env.job_id is not None:
            self._inbox[env.job_id].append(env)
        elif isinstance(env.message, Error) and env.message.code == "version_mismatch":
            raise VersionMismatch(env.message.message)
        return True


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides `renderer render` takes: steps, preset, seed (None = unset)."""
    out = {}
    for key, value in overrides.items():
        if key not in ("steps", "preset", "seed"):
            raise WrongFieldType(f"unknown override '{key}'; allowed: steps, preset, seed")
        if value is not None:
            out[key] = value
    return out
