"""``renderer evaluate``: run methods side by side on shots with ground truth and write a report."""

from __future__ import annotations

import os
import shlex
import sys
import time

import click

from renderer.errors import RendererError

from .errors import EvaluationError
from .mattes import MATTES

DEFAULT_METHODS = "telea,flowprop,propagation,temporal-nearest,patchmatch,paper,dip-vid,dip-frame"
# the baselines' names, spelled out: importing ``baselines`` pulls in torch, too slow for --help
BASELINE_NAMES = ("telea", "flowprop", "propagation", "temporal-nearest", "patchmatch")


def parse_size(text: str) -> tuple[int, int]:
    """'96x192' (height x width) -> (96, 192)."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"write the size as HEIGHTxWIDTH, e.g. 96x192 (got {text!r})") from None
    if h < 16 or w < 16:
        raise click.BadParameter(f"size {text} is too small (16x16 at least)")
    return h, w


def parse_clip(text: str) -> tuple[str, int]:
    """'path/clip.mp4@40' -> (path, 40); no '@' means start 0."""
    path, sep, start = text.rpartition("@")
    if not sep or not start.isdigit():
        return text, 0
    return path, int(start)


def parse_steps(values: tuple[str, ...]) -> dict:
    """('500', 'dip-frame=250') -> {'*': 500, 'dip-frame': 250}."""
    steps: dict = {}
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            name, sep, number = part.rpartition("=")
            key = name if sep else "*"
            if not number.isdigit() or int(number) < 1:
                raise click.BadParameter(f"steps must be N or METHOD=N with N >= 1 (got {part!r})")
            steps[key] = int(number)
    return steps


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op CPU threads (None: leave torch's default)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


def check_matte(matte: str) -> None:
    """A matte is a synthetic kind or a sequence pattern (which has a folder or a frame token)."""
    if matte not in MATTES and not os.path.dirname(matte) and not any(t in matte for t in ("#", "%", "@", "$F")):
        raise click.BadParameter(f"unknown matte {matte!r}: use {', '.join(MATTES)} or a sequence path",
                                 param_hint="--matte")


def format_seconds(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class ProgressPrinter:
    """One line per event on stderr, at most every ``interval`` seconds (always at a method's
    start and end): which shot, which method, how far, and time left."""

    def __init__(self, interval: float = 2.0, stream=None):
        self.interval = interval
        self.stream = stream or sys.stderr
        self._last = 0.0

    def __call__(self, ev) -> None:
        now = time.monotonic()
        edge = ev.message == "start" or ev.message.startswith(("done", "failed"))
        if not edge and now - self._last < self.interval:
            return
        self._last = now
        frac = "" if ev.fraction is None else f" {100 * ev.fraction:3.0f}%"
        line = (f"[shot {ev.shot_index + 1}/{ev.shots} {ev.shot}] [method {ev.method_index + 1}/{ev.methods} "
                f"{ev.method}]{frac} {ev.message} | method ~{format_seconds(ev.method_eta)} left | "
                f"all ~{format_seconds(ev.total_eta)} left")
        print(line, file=self.stream, flush=True)


@click.command("evaluate")
@click.option("--clip", "clips", multiple=True, metavar="PATH[@START]",
              help="Ground-truth clip: a video file or an image sequence (plate.####.exr); "
                   "@START is the first frame index. Repeat for several clips.")
@click.option("--shot", "shot_args", multiple=True, metavar="PATH[@START]:MATTE",
              help="One clip with its own matte (instead of every --clip with every --matte). Repeatable.")
@click.option("--matte", "mattes", multiple=True, default=("blob", "logo"), show_default=True,
              metavar="KIND|PATTERN",
              help=f"Synthetic matte kind ({', '.join(MATTES)}) or a matte sequence pattern. Repeatable; "
                   "every clip is evaluated with every matte.")
@click.option("--methods", default=DEFAULT_METHODS, show_default=True,
              help=f"Comma-separated methods: baselines ({', '.join(BASELINE_NAMES)}) and presets "
                   "(paper, dip-vid, dip-frame, standard, ...).")
@click.option("--frames", default=24, show_default=True, type=click.IntRange(2, None), help="Frames per shot.")
@click.option("--size", default="96x192", show_default=True, help="Working size HEIGHTxWIDTH.")
@click.option("--steps", "steps", multiple=True, metavar="N|METHOD=N",
              help="Training steps for the presets (default: each preset's own); repeatable.")
@click.option("--snapshot-every", default=50, show_default=True, type=click.IntRange(0, None),
              help="Steps between quality snapshots for the curves (0: final only).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--seed", default=0, show_default=True, type=int, help="Training seed.")
@click.option("--matte-seed", default=0, show_default=True, type=int, help="Seed of the synthetic mattes.")
@click.option("--contact-frames", default=3, show_default=True, type=click.IntRange(1, 12),
              help="Frames per contact sheet.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for report.md, results.json, curves.png and contact sheets.")
@click.option("--threads", default=None, type=click.IntRange(1, None),
              help="torch CPU threads (default: torch's own). On a shared, oversubscribed machine 1 can be "
                   "several times faster than 2.")
@click.option("--no-cuda-graphs", "no_graphs", is_flag=True,
              help="On CUDA, train eagerly instead of replaying each step from a CUDA graph (for comparison).")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def evaluate(clips, shot_args, mattes, methods, frames, size, steps, snapshot_every, device, seed, matte_seed,
             contact_frames, out_dir, threads, no_graphs, quiet):
    """Run inpainting methods side by side on clips with ground truth, and report quality,
    temporal stability, time and memory (see docs/evaluation.md)."""
    from .report import write_report
    from .runner import EvaluationConfig, ShotSpec, run_evaluation

    height, width = parse_size(size)
    set_threads(threads)
    if not clips and not shot_args:
        raise click.UsageError("give at least one --clip (crossed with every --matte) or --shot")
    pairs = [(text, matte) for text in clips for matte in mattes]
    for text in shot_args:
        clip, sep, matte = text.rpartition(":")
        if not sep or not clip or not matte:
            raise click.BadParameter(f"write a shot as PATH[@START]:MATTE, got {text!r}", param_hint="--shot")
        pairs.append((clip, matte))
    shots = []
    for text, matte in pairs:
        path, start = parse_clip(text)
        check_matte(matte)
        shots.append(ShotSpec(clip=path, start=start, matte=matte, matte_seed=matte_seed))
    config = EvaluationConfig(shots=tuple(shots), methods=tuple(m.strip() for m in methods.split(",") if m.strip()),
                              frames=frames, height=height, width=width, steps=parse_steps(steps),
                              snapshot_every=snapshot_every, device=device, seed=seed,
                              contact_frames=contact_frames, cuda_graphs=not no_graphs)
    printer = None if quiet else ProgressPrinter()

    def log(text: str) -> None:
        if not quiet:
            click.echo(text, err=True)

    command = "renderer evaluate " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 2 and sys.argv[1] == "evaluate" else None

    def partial(results) -> None:  # a long run leaves a readable report after every shot
        write_report(results, out_dir, command=command)
        log(f"partial report ({len(results.shots)} of {len(config.shots)} shots): {out_dir}/report.md")

    try:
        results = run_evaluation(config, on_event=printer, log=log, on_shot_done=partial)
        paths = write_report(results, out_dir, command=command)
    except RendererError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    click.echo(f"report: {paths['report']}")
    click.echo(f"numbers: {paths['json']}")
    if results.failures:
        names = ", ".join(f"{r.shot} {r.method}" for r in results.failures)
        click.echo(f"error: {len(results.failures)} run(s) failed: {names}", err=True)
        sys.exit(EvaluationError.exit_code)
