"""What a render server is started with (``renderer serve`` options)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

from bridge.errors import BridgeError
from bridge.keys import allowed_keys, load_secret
from bridge.wire import Limits

DEFAULT_BIND = "tcp://127.0.0.1:5555"


@dataclass(frozen=True)
class ServerConfig:
    """Server settings. ``shared_roots`` empty = shared mode off.

    Off loopback, ``curve_secret`` (the server's secret key file) and
    ``allow_dir`` (a folder of clients' public ``*.key`` files) are required."""

    spool: Path
    bind: str = DEFAULT_BIND
    devices: tuple[str, ...] = ("auto",)
    shared_roots: tuple[str, ...] = ()
    curve_secret: str | None = None
    allow_dir: str | None = None
    limits: Limits = field(default_factory=Limits)
    heartbeat_interval: float = 1.0
    client_timeout: float = 10.0  # a client silent this long is taken as gone (its jobs go on)
    result_ttl: float = 24 * 3600.0  # finished jobs (and their results) are kept this long
    upload_ttl: float = 6 * 3600.0  # a stream upload idle this long is dropped
    max_active_jobs: int = 64  # uploading + queued + running, all clients
    max_jobs_per_owner: int = 16
    max_steps: int = 1_000_000
    preview_every: int = 0  # steps between previews (0: the renderer's default cadence / off)
    preview_max_width: int = 512
    housekeeping_interval: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "spool", Path(self.spool))
        if not re.fullmatch(r"tcp://[^\s/]+:(\d+|\*)|ipc://\S+|inproc://\S+", self.bind):
            raise BridgeError(f"bad --bind {self.bind!r}: write it as tcp://HOST:PORT, e.g. {DEFAULT_BIND}")
        if not self.devices:
            raise BridgeError("give at least one --device")
        if self.curve_secret is None and not is_loopback(self.bind):
            raise BridgeError(f"binding {self.bind} is off loopback and needs CURVE: make keys with "
                              "`renderer keys`, then pass --curve-secret SERVER.key_secret --allow CLIENT_KEYS_DIR")
        if self.curve_secret is not None and self.allow_dir is None:
            raise BridgeError("--curve-secret needs --allow DIR (a folder of the clients' public NAME.key files)")
        if self.curve_secret is not None:
            load_secret(self.curve_secret)  # fail now, with the reason, not when the first client calls
            allowed_keys(self.allow_dir)


def is_loopback(bind: str) -> bool:
    """True for tcp binds to 127.x / ::1 / localhost, and for ipc/inproc."""
    if not bind.startswith("tcp://"):
        return True
    host = bind[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # an interface name or '*': treat as off loopback
