"""The benchmark suite: throughput at batch shapes, scaling with frames and resolution,
and on CUDA the effect of mixed precision and channels-last; plus its report.

Files written by ``write_bench_report``: ``bench.json`` (every number), ``bench.md``
(the tables) and ``bench_scaling.png`` (time per step and peak memory against
frames and against pixels).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Callable

import torch

from .core import BenchConfig, BenchRow, bench_config, matmul_peak, resolve_device
from .errors import BenchError


@dataclass(frozen=True)
class BenchPlan:
    """What to measure. ``base`` fixes the preset, size, frames, batch and step counts;
    ``batches`` are the batch shapes of the throughput table (per preset in ``presets``);
    ``scale_frames`` / ``scale_sizes`` are the scaling sweeps (with ``base``'s other
    settings); ``precision`` adds mixed-precision and channels-last rows (CUDA only), and
    ``compiled`` one more with the network through ``torch.compile``, ``graphs`` two more
    (fp32, and bf16 channels-last) replayed from CUDA graphs."""

    base: BenchConfig = BenchConfig()
    presets: tuple[str, ...] = ("paper",)
    batches: tuple[int, ...] = (1, 3, 5)
    scale_frames: tuple[int, ...] = (8, 24, 48)
    scale_sizes: tuple[tuple[int, int], ...] = ((96, 192), (192, 384), (256, 512))
    precision: bool = True
    compiled: bool = False
    graphs: bool = False

    def configs(self, device: torch.device) -> list[tuple[str, BenchConfig]]:
        """(table, config) pairs in the order they run (smaller first, so the process's
        RSS residue from earlier rows stays small)."""
        out: list[tuple[str, BenchConfig]] = []
        for preset in self.presets:
            for b in self.batches:
                if b > self.base.frames:
                    raise BenchError(f"batch {b} is larger than the shot ({self.base.frames} frames)")
                out.append(("throughput", replace(self.base, preset=preset, batch=b)))
        for f in self.scale_frames:
            if f < self.base.batch:
                raise BenchError(f"scaling frame count {f} is below the batch ({self.base.batch})")
            out.append(("scaling-frames", replace(self.base, frames=f)))
        for h, w in self.scale_sizes:
            out.append(("scaling-size", replace(self.base, height=h, width=w)))
        if self.precision and device.type == "cuda":
            for amp in ("fp32", "bf16"):
                for cl in (False, True):
                    out.append(("precision", replace(self.base, amp=amp, channels_last=cl)))
        if self.compiled and device.type == "cuda":
            out.append(("precision", replace(self.base, amp="bf16", channels_last=True, compiled=True)))
        if self.graphs and device.type == "cuda":
            out.append(("precision", replace(self.base, amp="fp32", graphs=True)))
            out.append(("precision", replace(self.base, amp="bf16", channels_last=True, graphs=True)))
            if self.compiled:  # fused kernels, replayed: the fewest launches
                out.append(("precision", replace(self.base, amp="bf16", channels_last=True, compiled=True,
                                                 graphs=True)))
        return out


@dataclass
class BenchResults:
    device: str
    environment: dict
    peak: dict
    rows: list[tuple[str, BenchRow]] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0


def environment(device: torch.device) -> dict:
    env = {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
           "cpus": os.cpu_count(), "platform": platform.platform(), "device": str(device)}
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
        env["cudnn_tf32"] = bool(torch.backends.cudnn.allow_tf32)
    return env


def run_bench(plan: BenchPlan, device_name: str = "cpu", *,
              on_row: Callable[[int, int, str, BenchRow], None] | None = None,
              on_start: Callable[[int, int, str, BenchConfig], None] | None = None) -> BenchResults:
    """Measure the device's matmul peak, then every configuration of ``plan``."""
    device = resolve_device(device_name)
    started = time.time()
    peak = {"fp32": asdict(matmul_peak(device, torch.float32))}
    if device.type == "cuda":
        peak["bf16"] = asdict(matmul_peak(device, torch.bfloat16))
    results = BenchResults(device=str(device), environment=environment(device), peak=peak, started=started)
    configs = plan.configs(device)
    for k, (table, cfg) in enumerate(configs):
        if on_start:
            on_start(k, len(configs), table, cfg)
        try:
            row = bench_config(cfg, device)
        except torch.cuda.OutOfMemoryError as exc:  # a size too big for this card is a result, not a crash
            row = BenchRow(config=asdict(cfg), device=str(device), error=f"out of memory: {exc}".splitlines()[0])
            torch.cuda.empty_cache()
        except Exception as exc:  # torch.compile and graph capture can fail on a toolchain: a result too
            if not (cfg.compiled or cfg.graphs):
                raise
            asked = (("torch.compile", cfg.compiled), ("CUDA graph capture", cfg.graphs))
            what = " or ".join(name for name, on in asked if on)
            row = BenchRow(config=asdict(cfg), device=str(device), error=f"{what} failed: {exc}".splitlines()[0])
        results.rows.append((table, row))
        if on_row:
            on_row(k, len(configs), table, row)
    normalize(results)
    results.finished = time.time()
    return results


def normalize(results: BenchResults) -> None:
    """Give each row the step time it would have at the best matmul peak observed in the run
    (``flops_per_step / (peak_fraction * best probe)``, per dtype): on a shared machine this
    undoes most of the load that came and went between rows."""
    best: dict[str, float] = {}
    for _, row in results.rows:
        if row.probe_flops:
            key = row.config["amp"]
            best[key] = max(best.get(key, 0.0), max(row.probe_flops))
    for _, row in results.rows:
        if row.probe_flops and row.peak_fraction > 0:
            row.normalized_seconds_per_step = row.flops_per_step / (row.peak_fraction * best[row.config["amp"]])


# ---------------------------------------------------------------- report
def _mib(x) -> str:
    return "—" if x is None else f"{x:.0f}"


def _opt(x, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _gflops(x: float) -> str:
    return f"{x / 1e9:.1f}"


def row_line(table: str, row: BenchRow) -> str:
    c = row.config
    size = f"{c['height']}×{c['width']} (net {row.working[0]}×{row.working[1]})"
    variant = c["amp"] + (" CL" if c["channels_last"] else "") + (" compiled" if c.get("compiled") else "") \
            + (" graphs" if c.get("graphs") else "")
    if row.error:
        return (f"| {table} | {c['preset']} | {size} | {c['frames']} | {c['batch']} | {variant} | {row.error} |"
                + " |" * 8)
    mem = _mib(row.cuda_peak_mib) if row.cuda_peak_mib is not None else _mib(row.peak_rss_mib)
    delta = "" if row.cuda_peak_mib is not None else f" (Δ {_mib(row.peak_rss_delta_mib)})"
    return (f"| {table} | {c['preset']} | {size} | {c['frames']} | {c['batch']} | {variant} | "
            f"{row.seconds_per_step:.3f} | {_opt(row.normalized_seconds_per_step)} | {row.steps_per_second:.2f} | "
            f"{row.frames_per_second:.2f} | "
            f"{row.flops_per_step / 1e9:.1f} | {_gflops(row.achieved_flops)} | {_gflops(row.peak_flops)} | "
            f"{100 * row.peak_fraction:.1f} % | {mem}{delta} |")


def bench_table(results: BenchResults) -> str:
    mem = "peak CUDA alloc MiB" if results.device.startswith("cuda") else "peak RSS MiB (Δ)"
    lines = [f"| table | preset | size | frames | batch | numerics | s/step | s/step at best peak | steps/s | frames/s "
             f"| GFLOP/step | GFLOP/s | matmul peak GFLOP/s | of peak | {mem} |", "|" + "---|" * 15]
    lines += [row_line(t, r) for t, r in results.rows]
    return "\n".join(lines)


def scaling_plot(results: BenchResults, path: str) -> str:
    """Two panels: against frame count, and against pixels; seconds per step (left axis)
    and peak memory (right axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cuda = results.device.startswith("cuda")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, table, xkey, xlabel in ((axes[0], "scaling-frames", "frames", "frames in the shot (batch fixed)"),
                                    (axes[1], "scaling-size", "pixels", "pixels per frame (as given; net pads up)")):
        rows = [r for t, r in results.rows if t == table and not r.error]
        if not rows:
            ax.axis("off")
            continue
        xs = [r.config["frames"] if xkey == "frames" else r.config["height"] * r.config["width"] for r in rows]
        ys = [r.seconds_per_step for r in rows]
        norm = [r.normalized_seconds_per_step or r.seconds_per_step for r in rows]
        mem = [(r.cuda_peak_mib if cuda else r.peak_rss_mib) or 0.0 for r in rows]
        ax.plot(xs, ys, "o", color="tab:blue", alpha=0.35, label="s/step, measured")
        ax.plot(xs, norm, "o-", color="tab:blue", label="s/step at the run's best peak")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("seconds per step", color="tab:blue")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        twin = ax.twinx()
        twin.plot(xs, mem, "s--", color="tab:red", label="peak memory")
        twin.set_ylabel("peak CUDA alloc MiB" if cuda else "peak RSS MiB", color="tab:red")
        twin.set_ylim(bottom=0)
        for x, r in zip(xs, rows):
            ax.annotate(f"{r.config['height']}×{r.config['width']}" if xkey == "pixels" else f"F={x}",
                        (x, r.normalized_seconds_per_step or r.seconds_per_step), textcoords="offset points",
                        xytext=(4, -12), fontsize=8)
        base = rows[0].config
        ax.set_title(f"{base['preset']}, batch {base['batch']}, {results.device}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_bench_report(results: BenchResults, out_dir: str, command: str | None = None) -> dict[str, str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = {"json": os.path.join(out_dir, "bench.json"), "md": os.path.join(out_dir, "bench.md"),
             "plot": os.path.join(out_dir, "bench_scaling.png")}
    data = {"format": "internal-inpaint bench v1", "device": results.device, "environment": results.environment,
            "matmul_peak": results.peak, "elapsed_seconds": results.finished - results.started,
            "flops_counted": "conv layers only, analytic, x3 for forward + backward",
            "rows": [dict(table=t, **asdict(r)) for t, r in results.rows]}
    with open(paths["json"], "w") as f:
        json.dump(data, f, indent=1)
    scaling_plot(results, paths["plot"])
    peak = results.peak["fp32"]
    env = results.environment
    text = ["# Training benchmark", "",
            f"Device {results.device}" + (f" ({env['gpu']})" if "gpu" in env else "") +
            f", torch {env['torch']}, {env['threads']} thread(s), {env['cpus']} CPUs; "
            f"fp32 matmul peak at the start {peak['flops'] / 1e9:.1f} GFLOP/s ({peak['size']}² matmul"
            + (", TF32" if peak.get("tf32") else "") + "). "
            f"{(results.finished - results.started) / 60:.1f} min in all.", ""]
    if command:
        text += ["```", command, "```", ""]
    text += ["*of peak*: conv FLOPs per step (counted analytically, ×3 for the backward) over the step's time, "
             "divided by a matmul probe run right after that step in the same dtype; the median over the timed "
             "steps. *matmul peak* is the median probe. s/step is the median of the timed steps; "
             "*s/step at best peak* is GFLOP/step ÷ (of peak × the best probe of the run), the step time on this "
             "machine when least loaded. Memory is over building and stepping (RSS: whole process, "
             "Δ = rise during the row).", "",
             bench_table(results), "", "![scaling](bench_scaling.png)", ""]
    with open(paths["md"], "w") as f:
        f.write("\n".join(text))
    return paths
