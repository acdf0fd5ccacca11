"""``renderer serve``: the ROUTER loop that owns the socket.

One thread runs the loop (receive, check, handle, reply); one worker thread
per device renders (``worker.py``). The loop never renders and never blocks
on a client, so cancel and status requests are answered at once even while
a job trains. Every message a client sends gets exactly one reply, an
``error`` when it cannot be acted on, and the loop goes on whatever it is
sent.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import OrderedDict
from contextlib import contextmanager
from typing import Iterator

import zmq

from bridge.errors import BridgeError
from bridge.keys import load_secret
from bridge.messages import C2S, MAX_STR, Accepted, Error
from bridge.wire import decode, encode, new_id

from .config import ServerConfig
from .handlers import Handlers, Peer
from .jobs import status_of
from .spool import Spool
from .worker import Outbox, Runner, Worker, default_runner, wait_idle

MAX_PEERS = 4096
BATCH = 64  # client messages handled before worker events get a turn


class Server(Handlers):
    """A render server. ``runner`` is the job function (``renderer.api.render`` by default)."""

    def __init__(self, config: ServerConfig, *, runner: Runner | None = None,
                 logger: logging.Logger | None = None):
        self.config = config
        self.runner = runner or default_runner
        self.log = logger or logging.getLogger("renderer.serve")
        self.spool = Spool(config.spool)
        self.peers: OrderedDict[bytes, Peer] = OrderedDict()
        self.subscribers: dict[str, bytes] = {}
        self.places: dict[str, int] = {}
        self.cancels: dict[str, threading.Event] = {}
        self.wake = threading.Condition()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.endpoint: str | None = None
        self.workers: list[Worker] = []
        self.messages_handled = 0
        self.errors_sent = 0
        self._stop = threading.Event()
        self._context = zmq.Context()
        self._router: zmq.Socket | None = None

    # ------------------------------------------------------------ lifecycle
    def stop(self) -> None:
        """Ask the loop to finish (running jobs are paused and resume on restart)."""
        self._stop.set()

    def serve_forever(self) -> None:
        auth = None
        router = self._router = self._context.socket(zmq.ROUTER)
        pull = self._context.socket(zmq.PULL)
        try:
            router.linger = 0
            router.setsockopt(zmq.ROUTER_MANDATORY, 1)
            router.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a client reconnecting with its id takes it over
            router.setsockopt(zmq.MAXMSGSIZE, self.config.limits.max_frame_bytes + 2**20)
            # bounded buffering per client (in message parts): a client that floods or never reads cannot
            # make the server hold more than a few of its frames; inbound floods meet TCP back-pressure,
            # outbound messages over the mark are dropped (with a warning)
            router.setsockopt(zmq.RCVHWM, 32)
            router.setsockopt(zmq.SNDHWM, 64)
            router.setsockopt(zmq.HEARTBEAT_IVL, 2000)
            router.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(max(6.0, self.config.client_timeout) * 1000))
            if self.config.curve_secret:
                auth = self._curve(router)
            router.bind(self.config.bind)
            self.endpoint = router.last_endpoint.decode()
            address = f"inproc://serve-events-{id(self)}"
            pull.bind(address)
            outbox = Outbox(self._context, address)
            for job_id in self.spool.recover():
                self.log.info("job %s: was running when the server stopped; resumes first", job_id)
            self.workers = [Worker(device, self.spool, self.config, self.runner, outbox, self.wake, self.stopping,
                                   self.cancels) for device in self.config.devices]
            for worker in self.workers:
                worker.start()
            self.log.info("serving on %s (spool %s, devices %s)", self.endpoint, self.config.spool,
                          ", ".join(self.config.devices))
            self.ready.set()
            self._loop(router, pull)
        finally:
            self.stopping.set()
            with self.wake:
                self.wake.notify_all()
            wait_idle(self.workers, timeout=60)
            router.close(linger=0)
            pull.close(linger=0)
            if auth is not None:
                auth.stop()
            self._context.destroy(linger=0)
            self.spool.close()
            self.ready.set()

    def _curve(self, router: zmq.Socket):
        from zmq.auth.thread import ThreadAuthenticator

        public, secret = load_secret(self.config.curve_secret)
        auth = ThreadAuthenticator(self._context, log=self.log.getChild("auth"))
        auth.start()
        auth.configure_curve(domain="*", location=str(self.config.allow_dir))
        router.curve_server = True
        router.curve_publickey, router.curve_secretkey = public, secret
        return auth

    def _loop(self, router: zmq.Socket, pull: zmq.Socket) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(pull, zmq.POLLIN)
        next_sweep = next_expiry = 0.0
        while not self._stop.is_set():
            ready = dict(poller.poll(100))
            if pull in ready:
                self._drain_outbox(pull)
            if router in ready:
                for _ in range(BATCH):
                    try:
                        frames = router.recv_multipart(zmq.NOBLOCK, copy=False)
                    except zmq.Again:
                        break
                    self.on_message(frames)
            now = time.monotonic()
            if now >= next_sweep:
                next_sweep = now + 1.0
                self._forget_silent_clients()
            if now >= next_expiry:
                next_expiry = now + self.config.housekeeping_interval
                for job_id in self.spool.expire(self.config.result_ttl, self.config.upload_ttl):
                    self.log.info("job %s: expired; its files are deleted", job_id)
                    self.subscribers.pop(job_id, None)

    # ------------------------------------------------------------ messages
    def on_message(self, frames: list) -> None:
        """Handle one client message and send its one reply. Never raises."""
        self.messages_handled += 1
        identity = frames[0].bytes
        peer = self._peer(identity, frames[0])
        parent = job_id = None
        try:
            env = decode(frames[1:], limits=self.config.limits, accept=C2S, peer="the client", me="this server")
            parent, job_id = env.msg_id, env.job_id
            reply = self.handler_for(env.msg_type)(peer, env)
        except BridgeError as exc:
            parent, job_id = parent or exc.msg_id, job_id or exc.job_id
            self.log.debug("refused a message from %s: %s", identity.hex(), exc)
            reply = Error(code=exc.code, message=exc.message[:MAX_STR])
        except Exception as exc:  # a bug: log it, tell the client, keep serving
            ref = new_id()[:8]
            self.log.error("internal error %s:\n%s", ref, traceback.format_exc())
            reply = Error(code="internal", message=f"internal server error (log reference {ref}, "
                                                   f"{type(exc).__name__}); the server goes on; report it")
        message, pixels = reply if isinstance(reply, tuple) else (reply, ())
        if isinstance(message, Error):
            self.errors_sent += 1
        if isinstance(message, Accepted):
            job_id = message.job_id
        self.send(identity, encode(message, job_id=job_id, parent_id=parent, pixels=pixels))

    def send(self, identity: bytes, frames: list) -> bool:
        try:
            self._router.send_multipart([identity, *frames], flags=zmq.NOBLOCK, copy=False)
            return True
        except zmq.Again:
            self.log.warning("client %s is not reading; a message to it was dropped", identity.hex())
        except zmq.ZMQError:  # EHOSTUNREACH: the client has gone
            self._gone(identity)
        return False

    def _peer(self, identity: bytes, frame: zmq.Frame) -> Peer:
        owner = "local"
        if self.config.curve_secret:
            try:
                owner = frame.get("User-Id") or "local"
            except zmq.ZMQError:
                owner = "local"
        peer = self.peers.get(identity)
        if peer is not None and peer.owner != owner:  # another key took over this routing id: start afresh
            self._gone(identity, forget=True)
            peer = None
        if peer is None:
            peer = self.peers[identity] = Peer(identity=identity, owner=owner)
            while len(self.peers) > MAX_PEERS:
                self._gone(next(iter(self.peers)), forget=True)
        self.peers.move_to_end(identity)
        peer.last_seen = time.monotonic()
        return peer

    def _gone(self, identity: bytes, forget: bool = False) -> None:
        for job_id in [j for j, ident in self.subscribers.items() if ident == identity]:
            del self.subscribers[job_id]
        if forget:
            self.peers.pop(identity, None)

    def _forget_silent_clients(self) -> None:
        limit = time.monotonic() - self.config.client_timeout
        followed = set(self.subscribers.values())
        for identity, peer in list(self.peers.items()):
            if peer.last_seen < limit and identity in followed:
                self.log.info("client %s silent for %.0f s: taken as gone; its jobs go on",
                              identity.hex(), self.config.client_timeout)
                self._gone(identity)

    # ------------------------------------------------------------ job events
    def subscribe(self, job_id: str, identity: bytes) -> None:
        self.subscribers[job_id] = identity

    def job_queued(self, job_id: str) -> None:
        with self.wake:
            self.wake.notify_all()
        self.state_changed(job_id, notify=False)

    def state_changed(self, job_id: str, notify: bool = True) -> None:
        """Send the job's status to its client, and new places to every queued job's client."""
        if notify:
            self._send_status(job_id)
        queue = self.spool.queue()
        for place, queued_id in enumerate(queue, start=1):
            if self.places.get(queued_id) != place:
                self.places[queued_id] = place
                if queued_id != job_id or not notify:
                    self._send_status(queued_id)
        for stale in set(self.places) - set(queue):
            del self.places[stale]

    def _send_status(self, job_id: str) -> None:
        identity = self.subscribers.get(job_id)
        job = self.spool.get(job_id)
        if identity is not None and job is not None:
            self.send(identity, encode(status_of(job, self.spool), job_id=job_id))

    def _drain_outbox(self, pull: zmq.Socket) -> None:
        for _ in range(1000):
            try:
                frames = pull.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            kind, job_id = frames[0].bytes, frames[1].bytes.decode()
            if kind == b"fwd":
                identity = self.subscribers.get(job_id)
                if identity is not None:
                    self.send(identity, frames[2:])
            elif kind == b"state":
                self.state_changed(job_id)


@contextmanager
def running(config: ServerConfig, *, runner: Runner | None = None, timeout: float = 30.0) -> Iterator[Server]:
    """Run a server on a thread for the duration of a ``with`` block (tests, tools)."""
    server = Server(config, runner=runner)
    thread = threading.Thread(target=server.serve_forever, name="renderer-serve", daemon=True)
    thread.start()
    if not server.ready.wait(timeout) or server.endpoint is None:
        server.stop()
        raise BridgeError(f"the server did not start within {timeout:.0f} s (see its log)")
    try:
        yield server
    finally:
        server.stop()
        thread.join(timeout)

