"""The ``renderer`` command: parse, call ``renderer.api``, map errors to exit codes.

Every failure the user can fix is one line on stderr and a non-zero exit code
(see ``renderer.errors``); nothing is written before the input has been checked.
"""

from __future__ import annotations

import sys

import click

from .errors import InternalError, RendererError

_OVERRIDES = [
    click.option("--steps", type=click.IntRange(min=1), default=None,
                 help="Total training steps (overrides the preset)."),
    click.option("--preset", default=None, help="Training recipe: standard, paper, dip-vid, dip-frame, preview."),
    click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default=None, help="Where to train."),
    click.option("--seed", type=click.IntRange(min=0), default=None,
                 help="Random seed (same seed, same result on the CPU; CUDA runs differ inside the hole)."),
    click.option("--path-mapping", "path_mapping", type=click.Path(dir_okay=False), default=None,
                 help="OpenJD path-mapping rules file (JSON) applied to the shot's paths."),
]


def _with_overrides(func):
    for option in reversed(_OVERRIDES):
        func = option(func)
    return func


def _fail(exc: Exception, code: int) -> None:
    text = " ".join(str(exc).split())  # exactly one line, whatever a library put in the message
    click.echo(f"renderer: error: {text}", err=True)
    if not sys.stdout.isatty():
        click.echo(f"openjd_fail: {text}")
    sys.exit(code)


def _run(func):
    """Call ``func`` and turn errors into one stderr line and an exit code."""
    try:
        return func()
    except RendererError as exc:
        _fail(exc, exc.exit_code)
    except KeyboardInterrupt:
        _fail(RuntimeError("interrupted; the last checkpoint is kept, rerun to resume"), 130)
    except MemoryError:
        _fail(RuntimeError("out of memory; try a smaller working size, fewer frames or another device"), 7)
    except Exception as exc:  # a bug: one line naming the crash log, never a raw stack
        error = InternalError.from_exception(exc)
        _fail(error, error.exit_code)


def _load(shot_file: str, path_mapping: str | None, **overrides):
    from .io.config import load_shot

    mapper = None
    if path_mapping:
        from .io.pathmap import load_rules

        mapper = load_rules(path_mapping)
    shot = load_shot(shot_file, path_mapping=mapper)
    return shot.replace(**{k: v for k, v in overrides.items() if v is not None})


def _callbacks():
    from .callbacks import Callbacks
    from .distributed import is_main
    from .progress import ProgressReporter

    reporter = ProgressReporter(quiet=not is_main())  # under torchrun, rank 0 speaks for all
    return reporter, Callbacks(on_progress=reporter, log=reporter.log)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="internal-inpaint")
def main() -> None:
    """internal-inpaint: per-shot video inpainting for VFX."""


@main.command()
@click.argument("shot_file", type=click.Path())
@_with_overrides
@click.option("--fresh", is_flag=True, help="Ignore any checkpoint and start over.")
@click.option("--frames", default=None, help="Only these frames (e.g. 1001-1020), from a finished training.")
def render(shot_file, steps, preset, device, seed, path_mapping, fresh, frames):
    """Train on SHOT_FILE and write its output sequence (resumes from a checkpoint)."""

    def go():
        from .io.config import parse_frames
        from .render import render_shot

        shot = _load(shot_file, path_mapping, steps=steps, preset=preset, device=device, seed=seed)
        reporter, cb = _callbacks()
        chunk = parse_frames(frames) if frames else None
        try:
            result = render_shot(shot, fresh=fresh, callbacks=cb, frames=chunk, mode="infer" if chunk else "both",
                                 skip_existing=bool(chunk))
        finally:
            reporter.close()
        reporter.status(f"done: wrote {len(result.frames_written)} frame(s), skipped {len(result.frames_skipped)} "
                        f"already written, {result.steps_trained} steps in {result.train_seconds:.1f}s of training")
        if not sys.stdout.isatty():
            click.echo("openjd_progress: 100")

    _run(go)


@main.command()
@click.argument("shot_file", type=click.Path())
@_with_overrides
@click.option("--fresh", is_flag=True, help="Ignore any checkpoint and start over.")
def train(shot_file, steps, preset, device, seed, path_mapping, fresh):
    """Train on SHOT_FILE only; the checkpoint lands in the shot's work folder."""

    def go():
        from .render import render_shot

        shot = _load(shot_file, path_mapping, steps=steps, preset=preset, device=device, seed=seed)
        reporter, cb = _callbacks()
        try:
            result = render_shot(shot, fresh=fresh, callbacks=cb, mode="train")
        finally:
            reporter.close()
        reporter.status(f"done: trained {result.steps_trained} steps ({result.train_seconds:.1f}s)")

    _run(go)


@main.command()
@click.argument("shot_file", type=click.Path())
@click.option("--path-mapping", "path_mapping", type=click.Path(dir_okay=False), default=None,
              help="OpenJD path-mapping rules file (JSON).")
def validate(shot_file, path_mapping):
    """Check SHOT_FILE without training: files present, sizes agree, frames complete."""

    def go():
        from .io.shot import validate_shot

        shot = _load(shot_file, path_mapping)
        report = validate_shot(shot)
        click.echo(f"ok: {shot.name}: {report.summary()}")
        if report.empty_frames:
            click.echo(f"note: the matte is empty on frame(s) {', '.join(map(str, report.empty_frames[:10]))}; "
                       f"they are copied unchanged")

    _run(go)


@main.command()
def presets():
    """List the training recipes."""
    from .presets import PRESETS

    for p in PRESETS.values():
        click.echo(f"{p.name:10s} {p.steps():>7d} steps  {p.description}")


def _register_optional() -> None:
    """Commands that live with their own packages."""
    import importlib

    for module, names in (("renderer.serve.cli", ("serve", "keys")), ("renderer.evaluate.cli", ("evaluate",)),
                          ("renderer.bench.cli", ("bench",))):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        for name in names:
            if hasattr(mod, name):
                main.add_command(getattr(mod, name), name)


_register_optional()

if __name__ == "__main__":  # python -m renderer.cli
    main()
