"""Write an evaluation's results: JSON of every number, a Markdown report with the
table, quality-versus-time curves, and contact sheets.

Files in ``out_dir``: ``results.json``, ``report.md``, ``curves.png``,
``contact_<shot>.png`` (one per shot).
"""

from __future__ import annotations

import json
import math
import os
import re
import time

import numpy as np

from . import metrics
from .runner import EvaluationResults, finite_or_none

HOLE_TINT = np.array([1.0, 0.15, 0.1], np.float32)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return finite_or_none(value)


def shot_summary(shot) -> dict:
    """Plain data about one shot, including the ground truth's own warping error (the floor)."""
    gt = metrics.to_display(shot.frames)
    return {
        "shot": shot.label,
        "clip": shot.clip.source,
        "start": shot.clip.start,
        "frames": int(shot.frames.shape[0]),
        "height": int(shot.frames.shape[1]),
        "width": int(shot.frames.shape[2]),
        "matte": shot.spec.matte,
        "matte_seed": shot.spec.matte_seed,
        "hole_fraction": float(shot.holes.mean()),
        "gt_warp_error": metrics.warp_error(gt, shot.holes, shot.warp_ref),
        "median_flow_px": float(np.median(np.hypot(shot.warp_ref.forward[..., 0], shot.warp_ref.forward[..., 1]))),
    }


def results_dict(res: EvaluationResults) -> dict:
    cfg = res.config
    return _jsonable({
        "format": "internal-inpaint evaluation v1",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(res.finished)),
        "elapsed_seconds": res.finished - res.started,
        "config": {
            "frames": cfg.frames, "height": cfg.height, "width": cfg.width, "methods": list(cfg.methods),
            "steps": dict(cfg.steps), "snapshot_every": cfg.snapshot_every, "device": cfg.device, "seed": cfg.seed,
            "shots": [dict(clip=s.clip, start=s.start, matte=s.matte, matte_seed=s.matte_seed, label=s.label)
                      for s in cfg.shots],
        },
        "environment": res.environment,
        "metrics_space": "display sRGB [0,1] (scene-linear clipped to [0,1], sRGB transfer)",
        "warp_error_scale": "MSE (the tables show x 1e3)",
        "detail_definition": "hole gradient energy of the display luma, output over ground truth (1 = as sharp)",
        "shots": [shot_summary(s) for s in res.shots],
        "results": [r.as_dict() for r in res.results],
    })


# ---------------------------------------------------------------- pictures
def overlay_matte(frame_srgb: np.ndarray, hole: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """(H, W, 3) display image with the hole tinted red and outlined -> (H, W, 3)."""
    import cv2

    out = frame_srgb.copy()
    out[hole] = (1 - alpha) * out[hole] + alpha * HOLE_TINT
    edge = cv2.morphologyEx(hole.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    out[edge & hole] = HOLE_TINT
    return np.clip(out, 0, 1)


def contact_sheet(res: EvaluationResults, shot, path: str) -> str:
    """Rows: contact frames. Columns: input with the matte, each method's result, ground truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .runner import contact_indices

    idx = contact_indices(res.config.frames, res.config.contact_frames)
    rows = [r for r in res.results if r.shot == shot.label and r.contact is not None]
    columns = [("input + matte", [overlay_matte(metrics.to_display(shot.frames[i]), shot.holes[i]) for i in idx])]
    for r in rows:
        title = f"{r.method}\n{r.quality['hole_psnr']:.2f} dB"
        columns.append((title, [metrics.to_display(f) for f in r.contact]))
    columns.append(("ground truth", [metrics.to_display(shot.frames[i]) for i in idx]))
    h, w = shot.frames.shape[1:3]
    scale = max(1.0, 240.0 / w)  # each panel at least 240 px wide
    dpi = 100
    fig_w = len(columns) * w * scale / dpi
    fig_h = len(idx) * h * scale / dpi + 0.8
    fig, axes = plt.subplots(len(idx), len(columns), figsize=(fig_w, fig_h), dpi=dpi, squeeze=False)
    for c, (title, images) in enumerate(columns):
        for r_, img in enumerate(images):
            ax = axes[r_][c]
            ax.imshow(img, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r_ == 0:
                ax.set_title(title, fontsize=9)
            if c == 0:
                ax.set_ylabel(f"frame {idx[r_]}", fontsize=9)
    fig.suptitle(f"{shot.label}: input, results (hole PSNR over the shot), ground truth", fontsize=10,
                 y=1 - 0.05 / fig_h, va="top")
    fig.subplots_adjust(left=0.02, right=0.998, bottom=0.005, top=1 - 0.72 / fig_h, wspace=0.03, hspace=0.03)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def curves_plot(res: EvaluationResults, path: str) -> str:
    """Hole PSNR against seconds (log axis), one panel per shot, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [s.label for s in res.shots]
    methods = list(res.config.methods)
    cmap = plt.get_cmap("tab10")
    colours = {m: cmap(i % 10) for i, m in enumerate(methods)}
    n = len(labels)
    cols = min(n, 2)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6.0 * cols, 4.0 * nrows), squeeze=False)
    for k, label in enumerate(labels):
        ax = axes[k // cols][k % cols]
        for m in methods:
            r = res.result(label, m)
            if r is None or r.error or not r.curve:
                continue
            xs = [max(p.seconds, 1e-3) for p in r.curve]
            ys = [p.hole_psnr for p in r.curve]
            if len(xs) == 1:
                ax.scatter(xs, ys, color=colours[m], marker="s", s=40, label=m, zorder=3)
            else:
                ax.plot(xs, ys, color=colours[m], marker="o", ms=3, lw=1.5, label=m)
        ax.set_xscale("log")
        ax.set_xlabel("seconds (training time; baselines: wall time)")
        ax.set_ylabel("hole PSNR, dB (display sRGB)")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="best")
    for k in range(n, nrows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- text
def _fmt(x, digits=2, scale=1.0):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "∞"
    return f"{x * scale:.{digits}f}"


def _secs(x) -> str:
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _steps(r) -> str:
    """The steps cell: steps trained, and for a preset the fill its output is."""
    steps = "—" if r.steps is None else str(r.steps)
    return steps if r.kept is None else f"{steps}, kept {r.kept}"


def results_table(res: EvaluationResults, summaries: list[dict]) -> str:
    """The Markdown table of every result, grouped by shot, best hole PSNR in bold."""
    head = ("| shot | method | hole PSNR dB | hole SSIM | detail | warp err ×10⁻³ | full PSNR dB | known changed "
            "| steps (output) | wall s | train s | peak RSS MiB (Δ) |")
    lines = [head, "|" + "---|" * 12]
    floors = {s["shot"]: s["gt_warp_error"] for s in summaries}
    for s in res.shots:
        rows = [r for r in res.results if r.shot == s.label]
        ok = [r for r in rows if not r.error]
        best = max((r.quality["hole_psnr"] for r in ok), default=None)
        for r in rows:
            if r.error:
                lines.append(f"| {s.label} | {r.method} | failed: {r.error} |" + " |" * 9)
                continue
            q = r.quality
            psnr = _fmt(q["hole_psnr"])
            if best is not None and q["hole_psnr"] == best:
                psnr = f"**{psnr}**"
            mem = "—" if r.peak_rss_mib is None else f"{r.peak_rss_mib:.0f} ({_fmt(r.peak_rss_delta_mib, 0)})"
            if r.cuda_peak_mib is not None:
                mem += f", CUDA {r.cuda_peak_mib:.0f}"
            lines.append(f"| {s.label} | {r.method} | {psnr} | {_fmt(q['hole_ssim'], 3)} | "
                         f"{_fmt(q['detail'])} | {_fmt(q['warp_error'], 2, 1e3)} | {_fmt(q['full_psnr'])} | "
                         f"{q['known_changed_fraction']:.3g} | {_steps(r)} | "
                         f"{_secs(r.wall_seconds)} | {_secs(r.train_seconds)} | {mem} |")
        floor = _fmt(floors[s.label], 2, 1e3)
        lines.append(f"| {s.label} | *ground truth (warp floor)* | | | | {floor} | | | | | | |")
    return "\n".join(lines)


def write_report(res: EvaluationResults, out_dir: str, command: str | None = None) -> dict[str, str]:
    """Write results.json, curves.png, contact sheets and report.md into ``out_dir``.
    Returns {what: path}."""
    os.makedirs(out_dir, exist_ok=True)
    data = results_dict(res)
    paths = {"json": os.path.join(out_dir, "results.json")}
    with open(paths["json"], "w") as f:
        json.dump(data, f, indent=1, allow_nan=False)
    paths["curves"] = curves_plot(res, os.path.join(out_dir, "curves.png"))
    sheets = []
    for shot in res.shots:
        p = contact_sheet(res, shot, os.path.join(out_dir, f"contact_{_slug(shot.label)}.png"))
        sheets.append((shot.label, os.path.basename(p)))
        paths[f"contact {shot.label}"] = p
    cfg = res.config
    shots_lines = ["| shot | clip frames | matte | hole % of frame | median GT flow px/frame |",
                   "|---|---|---|---|---|"]
    for s in data["shots"]:
        shots_lines.append(f"| {s['shot']} | {os.path.basename(s['clip'])} {s['start']}–{s['start'] + s['frames'] - 1} "
                           f"| {s['matte']} | {100 * s['hole_fraction']:.1f} | {s['median_flow_px']:.2f} |")
    env = res.environment
    text = [
        "# Inpainting evaluation",
        "",
        f"{len(res.shots)} shot(s) of {cfg.frames} frames at {cfg.height}×{cfg.width}; methods: "
        f"{', '.join(cfg.methods)}; device {cfg.device}; seed {cfg.seed}; "
        f"{(res.finished - res.started) / 60:.1f} min in all.",
        f"Environment: Python {env.get('python')}, torch {env.get('torch', '—')} "
        f"({env.get('torch_threads', '?')} threads), OpenCV {env.get('opencv', '—')}, {env.get('cpus')} CPUs.",
        "",
    ]
    if command:
        text += ["Reproduce:", "", "```", command, "```", ""]
    failures = res.failures
    if failures:
        text += ["**Failed runs:** " + "; ".join(f"{r.shot} {r.method} ({r.error})" for r in failures), ""]
    text += [
        "## Shots", "", *shots_lines, "",
        "## Results", "",
        "Metrics in display sRGB [0, 1]; definitions in `docs/evaluation.md`. Warp error is an MSE ×10⁻³ "
        "(lower is smoother; a blurry static fill can score below the ground truth's own floor, so read it "
        "next to PSNR). *Detail* is the fill's fine-detail energy in the hole over the truth's (1 = as sharp "
        "as the footage, below 1 a smear, above 1 exaggerated texture). *known changed* must be 0. "
        "Peak RSS is the whole process; Δ is the rise during the run.",
        "",
        results_table(res, data["shots"]), "",
        "## Quality against time", "", "![hole PSNR against seconds](curves.png)", "",
        "## Contact sheets", "",
    ]
    for label, name in sheets:
        text += [f"### {label}", "", f"![{label}]({name})", ""]
    paths["report"] = os.path.join(out_dir, "report.md")
    with open(paths["report"], "w") as f:
        f.write("\n".join(text))
    return paths
