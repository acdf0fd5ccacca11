"""``renderer serve`` and ``renderer keys`` (registered on ``renderer.cli:main``)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click

from bridge.errors import BridgeError
from bridge.wire import Limits

from .config import DEFAULT_BIND

DEFAULT_SPOOL = os.path.join(os.environ.get("XDG_STATE_HOME", "~/.local/state"), "internal-inpaint", "spool")


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"renderer: error: {message}", err=True)
    sys.exit(code)


@click.command()
@click.option("--bind", default=DEFAULT_BIND, show_default=True,
              help="Address to listen on. Anything but loopback needs --curve-secret and --allow.")
@click.option("--spool", default=DEFAULT_SPOOL, show_default=True, type=click.Path(file_okay=False),
              help="Folder for the job queue (SQLite), uploaded frames, results and checkpoints.")
@click.option("--device", "devices", multiple=True, type=click.Choice(["cpu", "cuda", "auto"]),
              help="A render device; repeat for several (one training job at a time on each). Default: auto.")
@click.option("--shared-root", "shared_roots", multiple=True, type=click.Path(file_okay=False, exists=True),
              help="Enable shared mode: reads and writes are confined to these folders (repeatable).")
@click.option("--curve-secret", type=click.Path(dir_okay=False), default=None,
              help="The server's NAME.key_secret (from `renderer keys`): turns on CURVE encryption.")
@click.option("--allow", "allow_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of client public keys (NAME.key) allowed to connect under CURVE.")
@click.option("--result-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="How long finished results stay fetchable.")
@click.option("--max-frame-mb", type=click.IntRange(min=1), default=256, show_default=True,
              help="Largest image accepted, in MiB.")
@click.option("--max-frames", type=click.IntRange(min=1), default=10000, show_default=True,
              help="Most frames in one job.")
@click.option("--max-jobs-per-client", type=click.IntRange(min=1), default=16, show_default=True,
              help="Unfinished jobs one client (one key) may have at once.")
@click.option("--preview-every", type=click.IntRange(min=0), default=0,
              help="Steps between previews sent to clients (0: the renderer's default).")
@click.option("-v", "--verbose", is_flag=True, help="Log every refused message.")
def serve(bind, spool, devices, shared_roots, curve_secret, allow_dir, result_hours, max_frame_mb, max_frames,
          max_jobs_per_client, preview_every, verbose) -> None:
    """Render shots for remote clients (plugins, `python -m plugin submit`)."""
    from .config import ServerConfig
    from .server import Server

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    frame_bytes = max_frame_mb * 2**20
    limits = Limits(max_frame_bytes=frame_bytes, max_message_bytes=frame_bytes + 2**20, max_frames=max_frames)
    try:
        config = ServerConfig(spool=Path(os.path.expanduser(spool)), bind=bind, devices=tuple(devices) or ("auto",),
                              shared_roots=tuple(os.path.abspath(r) for r in shared_roots),
                              curve_secret=curve_secret, allow_dir=allow_dir, limits=limits,
                              result_ttl=result_hours * 3600, preview_every=preview_every,
                              max_jobs_per_owner=max_jobs_per_client)
        server = Server(config)
    except BridgeError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot use the spool folder {spool}: {exc}")

    def stop(signum, frame):
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def announce():
        server.ready.wait()
        if server.endpoint:
            click.echo(f"serving on {server.endpoint}")
            sys.stdout.flush()

    threading.Thread(target=announce, daemon=True).start()
    try:
        server.serve_forever()
    except BridgeError as exc:
        _fail(str(exc))
    except Exception as exc:  # zmq bind errors and the like, before serving starts
        if server.endpoint is None:
            _fail(f"cannot listen on {bind}: {exc} (is another server using that port?)")
        raise


@click.command()
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False),
              help="Folder to write the key pair into.")
@click.option("--name", default="server", show_default=True, help="Key name: NAME.key and NAME.key_secret.")
def keys(directory, name) -> None:
    """Make a CURVE key pair for a server or a client."""
    from bridge.keys import make_keypair

    try:
        public, secret = make_keypair(directory, name)
    except BridgeError as exc:
        _fail(str(exc))
    click.echo(f"public key: {public}  (give it to the other side: clients need the server's; "
               "servers list clients' in their --allow folder)")
    click.echo(f"secret key: {secret}  (owner-only; never share it)")
