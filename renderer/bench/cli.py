"""``renderer bench``: training throughput and scaling on the chosen device."""

from __future__ import annotations

import shlex
import sys

import click

from renderer.errors import RendererError


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{what}: write comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise click.BadParameter(f"{what}: need whole numbers >= 1, got {text!r}")
    return values


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
    from renderer.evaluate.cli import parse_size

    return tuple(parse_size(v.strip()) for v in text.split(",") if v.strip())


@click.command("bench")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto.")
@click.option("--preset", "presets", default="paper", show_default=True,
              help="Comma-separated presets for the throughput table (the first is used for scaling).")
@click.option("--size", default="96x192", show_default=True, help="Base size HEIGHTxWIDTH.")
@click.option("--frames", default=24, show_default=True, type=click.IntRange(1, None),
              help="Frames in the synthetic shot.")
@click.option("--batch", default=5, show_default=True, type=click.IntRange(1, None),
              help="Frames per training batch for the scaling sweeps.")
@click.option("--batches", default="1,3,5", show_default=True, help="Batch shapes for the throughput table.")
@click.option("--scale-frames", default="8,24,48", show_default=True, help="Frame counts for the scaling sweep.")
@click.option("--scale-sizes", default="96x192,192x384,256x512", show_default=True,
              help="Sizes for the scaling sweep.")
@click.option("--steps", default=3, show_default=True, type=click.IntRange(1, None), help="Timed steps per row.")
@click.option("--warmup", default=1, show_default=True, type=click.IntRange(0, None), help="Untimed steps first.")
@click.option("--no-precision", is_flag=True, help="Skip the mixed-precision / channels-last rows (CUDA).")
@click.option("--compile", "compiled", is_flag=True,
              help="Add a bf16 channels-last row with the network through torch.compile (CUDA).")
@click.option("--graphs", is_flag=True,
              help="Add fp32 and bf16 channels-last rows whose whole step replays from a CUDA graph (CUDA).")
@click.option("--threads", default=None, type=click.IntRange(1, None),
              help="torch CPU threads (default: torch's own); the matmul peak is measured with the same.")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Write bench.json, bench.md and bench_scaling.png here.")
@click.option("--roi", "roi", is_flag=True,
              help="Instead: time per step on a 2048x1080 plate with a 200x150 hole against its region alone.")
@click.option("--long-shots", "long_shots", default=None,
              help="Instead: peak memory and time per frame of whole renders of these shot lengths (e.g. 50,200,500).")
def bench(device, presets, size, frames, batch, batches, scale_frames, scale_sizes, steps, warmup, no_precision,
          compiled, graphs, threads, out_dir, roi, long_shots):
    """Measure training speed (steps/s, frames/s, FLOP/s as a fraction of this device's
    matmul peak) and peak memory, and how they scale with frames and resolution."""
    from renderer.evaluate.cli import parse_size, set_threads

    if roi or long_shots:
        set_threads(threads)
        _special_tables(roi, long_shots, device, steps)
        return

    from .core import BenchConfig
    from .suite import BenchPlan, bench_table, run_bench, write_bench_report

    h, w = parse_size(size)
    set_threads(threads)
    names = tuple(p.strip() for p in presets.split(",") if p.strip())
    if not names:
        raise click.BadParameter("give at least one preset", param_hint="--preset")
    base = BenchConfig(preset=names[0], frames=frames, batch=batch, height=h, width=w, steps=steps, warmup=warmup)
    plan = BenchPlan(base=base, presets=names, batches=_ints(batches, "--batches"),
                     scale_frames=_ints(scale_frames, "--scale-frames"), scale_sizes=_sizes(scale_sizes),
                     precision=not no_precision, compiled=compiled, graphs=graphs)

    def started(k, n, table, cfg):
        click.echo(f"[{k + 1}/{n}] {table}: {cfg.label} ...", err=True)

    def done(k, n, table, row):
        if row.error:
            click.echo(f"[{k + 1}/{n}]   {row.error}", err=True)
        else:
            click.echo(f"[{k + 1}/{n}]   {row.seconds_per_step:.3f} s/step, {row.frames_per_second:.2f} frames/s, "
                       f"{100 * row.peak_fraction:.1f} % of matmul peak", err=True)

    try:
        results = run_bench(plan, device, on_row=done, on_start=started)
        if out_dir:
            command = "renderer bench " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
                if len(sys.argv) > 2 and sys.argv[1] == "bench" else None
            paths = write_bench_report(results, out_dir, command=command)
    except RendererError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    click.echo(bench_table(results))
    if out_dir:
        click.echo(f"report: {paths['md']}")


def _special_tables(roi: bool, long_shots: str | None, device: str, steps: int) -> None:
    """The region-of-interest rule and long-shot scaling, as Markdown tables."""
    if roi:
        from .roi import roi_rows

        rows = roi_rows(steps=max(steps, 5), device="cpu" if device == "auto" else device)
        click.echo("| plate | hole | working size | s/step | total s |\n|---|---|---|---|---|")
        for r in rows:
            click.echo(f"| {r['plate']} | {r['hole']} | {r['working_size']} | {r['seconds_per_step']} | "
                       f"{r['total_seconds']} |")
        click.echo(f"time per step, full plate / region alone: "
                   f"{rows[0]['seconds_per_step'] / rows[1]['seconds_per_step']:.2f}x")
    if long_shots:
        from .long_shots import run_long_shot

        click.echo("| frames | windows | wall s | s/frame | peak RSS MB |\n|---|---|---|---|---|")
        for n in _ints(long_shots, "--long-shots"):
            row = run_long_shot(n)
            click.echo(f"| {row.frames} | {row.windows} | {row.wall_seconds} | {row.seconds_per_frame} | "
                       f"{row.peak_rss_mb} |")
