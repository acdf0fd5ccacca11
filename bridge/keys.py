"""CURVE keys: make a pair, load one, and configure a socket with them.

Key files are ZeroMQ certificates (``NAME.key`` public, ``NAME.key_secret``
secret, as ``zmq.auth.create_certificates`` writes them). Secret files are
owner-only (0600) and are refused when others can read them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

from .errors import KeyFileError


def make_keypair(directory: str | os.PathLike, name: str) -> tuple[Path, Path]:
    """Write ``NAME.key`` and ``NAME.key_secret`` (0600) in ``directory``."""
    if not zmq.has("curve"):
        raise KeyFileError("this libzmq was built without CURVE; install pyzmq wheels from PyPI")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    public, secret = (folder / f"{name}.key", folder / f"{name}.key_secret")
    for existing in (public, secret):
        if existing.exists():
            raise KeyFileError(f"{existing} already exists; choose another name or delete it first")
    old = os.umask(0o077)
    try:
        pub, sec = zmq.auth.create_certificates(str(folder), name)
    finally:
        os.umask(old)
    os.chmod(sec, 0o600)
    return Path(pub), Path(sec)


def load_public(path: str | os.PathLike) -> bytes:
    """The z85 public key in a ``.key`` (or ``.key_secret``) file."""
    public, _ = _load(path)
    return public


def load_secret(path: str | os.PathLike) -> tuple[bytes, bytes]:
    """(public, secret) from a ``.key_secret`` file that only its owner can read."""
    p = Path(path)
    if p.exists() and os.name == "posix" and p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{p} is readable by other users; run: chmod 600 {p}")
    public, secret = _load(p)
    if not secret:
        raise KeyFileError(f"{p} holds no secret key; pass the NAME.key_secret file made by `renderer keys`")
    return public, secret


def _load(path: str | os.PathLike) -> tuple[bytes, bytes | None]:
    p = Path(path)
    if not p.is_file():
        raise KeyFileError(f"key file not found: {p} (make one with `renderer keys --dir DIR --name NAME`)")
    try:
        return zmq.auth.load_certificate(str(p))
    except (ValueError, OSError) as exc:
        raise KeyFileError(f"{p} is not a ZeroMQ certificate ({exc}); make one with `renderer keys`") from None


@dataclass(frozen=True)
class CurveClient:
    """What a client needs: the server's public key file and its own secret key file."""

    server_public: str
    client_secret: str

    def apply(self, socket: zmq.Socket) -> None:
        public, secret = load_secret(self.client_secret)
        socket.curve_publickey = public
        socket.curve_secretkey = secret
        socket.curve_serverkey = load_public(self.server_public)


def allowed_keys(directory: str | os.PathLike) -> list[bytes]:
    """Public keys in the allow-list folder (every ``*.key`` file)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise KeyFileError(f"allow-list folder not found: {folder}; put clients' NAME.key files there")
    return [load_public(p) for p in sorted(folder.glob("*.key"))]
