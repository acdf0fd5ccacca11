"""``python -m plugin submit SHOT.yaml --server tcp://HOST:PORT``: render a shot remotely.

Submits the shot to a ``renderer serve``, prints progress lines as they come,
and in stream mode writes the result EXRs locally. Takes the same overrides as
``renderer render`` (--steps, --preset, --seed). On failure: one line on
stderr and a non-zero exit code. Ctrl-C cancels the job on the server.
Torch-free: it talks to the renderer only through ``bridge``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 1, 2, 130


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("submit", help="render a shot on a render server",
                              description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("shot", metavar="SHOT.yaml", help="the shot file")
    p.add_argument("--server", required=True, metavar="tcp://HOST:PORT", help="where `renderer serve` listens")
    p.add_argument("--mode", choices=("stream", "shared"), default="stream",
                   help="stream: frames travel over the socket (default); shared: only paths travel")
    p.add_argument("--steps", type=_positive, default=None, help="total training steps (overrides the preset)")
    p.add_argument("--preset", default=None, help="training recipe (standard, paper, preview, ...)")
    p.add_argument("--seed", type=_natural, default=None, help="random seed")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SEC",
                   help="give up when the server is silent this long (default 30)")
    p.add_argument("--server-key", metavar="SERVER.key", help="CURVE: the server's public key file")
    p.add_argument("--client-key", metavar="CLIENT.key_secret", help="CURVE: your secret key file")
    p.add_argument("--quiet", action="store_true", help="print only the final line")
    p.set_defaults(run=run)
    return p


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number >= 1")
    return value


def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be a whole number >= 0")
    return value


def _say(text: str) -> None:
    print(text, flush=True)


def describe(event) -> str | None:
    """One progress line for an event (None: nothing worth printing)."""
    from bridge import events as ev

    if isinstance(event, ev.Queued):
        return f"queued: place {event.place}" if event.place else "queued"
    if isinstance(event, ev.Progress):
        eta = f"  eta {event.eta:.0f}s" if event.eta is not None else ""
        return (f"{event.stage} {event.step}/{event.total}  loss {event.loss:.5f}  "
                f"elapsed {event.elapsed:.1f}s{eta}")
    if isinstance(event, ev.Status):
        return f"{event.state}" + (f": {event.message}" if event.message else "")
    if isinstance(event, ev.Preview):
        return f"preview at step {event.step}: frames {', '.join(map(str, event.frames))}"
    if isinstance(event, ev.JobError):
        return None  # reported once, as the failure
    return None


def load_shot_file(path: str) -> dict:
    import yaml

    from bridge.errors import BridgeError

    shot_path = Path(path)
    if not shot_path.is_file():
        raise BridgeError(f"shot file not found: {shot_path}")
    try:
        data = yaml.safe_load(shot_path.read_text())
    except yaml.YAMLError as exc:
        raise BridgeError(f"{shot_path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise BridgeError(f"{shot_path}: expected a mapping of shot keys (source, mask, frames, output, ...)")
    return data


def run(args: argparse.Namespace) -> int:
    from bridge import Client, CurveClient
    from bridge.errors import BridgeError

    quiet = args.quiet
    say = (lambda text: None) if quiet else _say
    job = None
    try:
        if bool(args.server_key) != bool(args.client_key):
            raise BridgeError("CURVE needs both --server-key SERVER.key and --client-key CLIENT.key_secret")
        curve = CurveClient(args.server_key, args.client_key) if args.server_key else None
        shot = load_shot_file(args.shot)
        overrides = {k: v for k, v in (("steps", args.steps), ("preset", args.preset), ("seed", args.seed))
                     if v is not None}
        with Client(args.server, timeout=args.timeout, curve=curve, name="plugin-submit") as client:
            welcome = client.hello()
            major, minor = welcome.protocol
            say(f"connected to {welcome.server} at {args.server} (protocol {major}.{minor})")
            job = client.submit(shot, mode=args.mode, overrides=overrides, base_dir=Path(args.shot).resolve().parent,
                                on_upload=lambda done, total: say(f"uploaded {done}/{total}"))
            say(f"job {job.id} submitted ({args.mode} mode)")
            try:
                outcome = job.wait(on_event=lambda e: (line := describe(e)) and say(line))
            except KeyboardInterrupt:
                job.cancel()
                print(f"plugin submit: cancelled job {job.id}", file=sys.stderr)
                return EXIT_CANCELLED
            if outcome.status == "cancelled":
                print(f"plugin submit: error: job {job.id} was cancelled on the server", file=sys.stderr)
                return EXIT_CANCELLED
            outcome.raise_for_status()
            where = sorted(outcome.output_paths.values())
            _say(f"done: {len(where)} frame(s) written" + (f", {where[0]} .. {where[-1]}" if where else ""))
            maps = sorted(outcome.source_map_paths.values())
            if maps:
                _say(f"source map: {len(maps)} frame(s), {maps[0]} .. {maps[-1]}")
            return 0
    except BridgeError as exc:
        print(f"plugin submit: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("plugin submit: interrupted" + (f"; job {job.id} goes on" if job else ""), file=sys.stderr)
        return EXIT_CANCELLED
