"""Score a rendered production shot (made by ``make_shot.py``, rendered by ``run.py``)
against the per-frame baselines, as ``renderer evaluate`` scores methods.

    .venv/bin/python benchmarks/production/score.py SHOT_DIR [SHOT_DIR ...]

For each shot: hole PSNR, SSIM, detail and warp error (display space, the definitions of
``docs/evaluation.md``) of the render in ``out/``, of per-frame Telea and of the copy from
the nearest frame that shows each pixel (``temporal-nearest``), both made here on the
plates; the footage's own warp error; and the render's choice and training lines from
``render.log``. Prints one Markdown row per shot and method, then as comments each
fill's hole PSNR pooled over every hole pixel and where the render's warp error comes
from (``warp_breakdown``). Where the render also wrote a source map into ``source/``
(``source_map: source/s.####.exr`` in shot.yaml, docs/source_map.md), the pooled hole
PSNR of the render and of Telea over the pixels it carried and over those it
synthesised (``by_source``). Last, the render against the marks a held-out plate is
judged by (``held_out_marks``).
"""

from __future__ import annotations

import glob
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from renderer.evaluate import metrics  # noqa: E402
from renderer.fill.classical import telea  # noqa: E402
from renderer.fill.still import still_copy  # noqa: E402
from renderer.io.exrio import read_image  # noqa: E402


def load(pattern: str) -> np.ndarray:
    paths = sorted(glob.glob(pattern))
    if not paths:
        sys.exit(f"nothing matches {pattern}")
    return np.stack([read_image(p).pixels for p in paths])


def render_log(shot_dir: str) -> str:
    """The text of the shot's render.log ("" where there is none)."""
    path = os.path.join(shot_dir, "render.log")
    if not os.path.isfile(path):
        return ""
    with open(path) as fh:
        return fh.read()


def log_lines(text: str) -> list[str]:
    """The render's held-out, training and time lines, as its log ``text`` has them."""
    wanted = ("learning:", "training stopped", "held-out check", "held-out error by step", "time:")
    return [m.group(1) for m in re.finditer(r"openjd_status: (.*)", text) if m.group(1).startswith(wanted)]


def pooled_psnr(shown: np.ndarray, shown_truth: np.ndarray, holes: np.ndarray) -> float:
    """Hole PSNR of a fill over every hole pixel of the shot at once (both in display
    space, ``metrics.to_display``): frames with large holes weigh more than in the
    per-frame mean."""
    return metrics.psnr_from_mse(float(((shown - shown_truth) ** 2).mean(axis=-1)[holes].mean()))


def warp_breakdown(shown: np.ndarray, shown_truth: np.ndarray, holes: np.ndarray, reference) -> str:
    """Where a fill's warp error comes from (both in display space): the share of its
    excess over the footage's that its five worst frame pairs carry, and its warp error
    against the footage's over the pairs whose holes stay within a third and a tenth of
    the frame."""
    fill = metrics.warp_error_per_pair(shown, holes, reference)
    footage = metrics.warp_error_per_pair(shown_truth, holes, reference)
    counted = ~np.isnan(fill)
    excess = np.where(counted, fill - footage, 0.0)
    worst = np.argsort(excess)[::-1][:5]
    if excess[counted].sum() > 0:
        share = excess[worst].sum() / excess[counted].sum()
        parts = [f"the five pairs from frames {', '.join(str(int(t)) for t in sorted(worst))} carry "
                 f"{100 * share:.0f} % of the excess over {int(counted.sum())} pairs"]
    else:
        parts = [f"no excess over the footage's over {int(counted.sum())} pairs"]
    size = holes.reshape(len(holes), -1).mean(axis=1)
    for name, limit in (("a third", 1 / 3), ("a tenth", 0.1)):
        within = counted & (np.maximum(size[:-1], size[1:]) <= limit)
        if within.any():
            parts.append(f"pairs with holes within {name} of the frame ({int(within.sum())}): "
                         f"{1e3 * fill[within].mean():.2f} against the footage's {1e3 * footage[within].mean():.2f}")
    return "; ".join(parts)


def by_source(shown: dict[str, np.ndarray], shown_truth: np.ndarray, holes: np.ndarray,
              source: np.ndarray) -> str:
    """Each fill's pooled hole PSNR (display space) over the hole pixels the render
    carried from other frames and over those it synthesised, as its source map (F, H, W,
    5; docs/source_map.md) marks them: where each kind of fill wins or loses."""
    parts = []
    for kind, channel in (("carried", 0), ("synthesised", 1)):
        region = holes & (source[..., channel] > 0.5)
        if not region.any():
            continue
        scores = ", ".join(f"{fill} {pooled_psnr(out, shown_truth, region):.2f}" for fill, out in shown.items())
        parts.append(f"{kind} ({100 * region.sum() / holes.sum():.0f} % of the hole): {scores}")
    return "; ".join(parts)


# the marks a held-out plate is judged by: hole PSNR above both per-frame baselines, detail
# at least DETAIL_MARK, warp error at most WARP_MARK times the footage's, and where the
# output is not the network's, training at most TRAINING_SHARE_MARK of the render's wall time
DETAIL_MARK = 0.8
WARP_MARK = 3.0
TRAINING_SHARE_MARK = 0.25
NETWORK_CHOICES = ("network", "blend")


def render_times(log_text: str) -> tuple[float | None, float | None, list[str]]:
    """(training seconds from the log's last time line, 0 where it has none; the render's
    wall seconds as ``/usr/bin/time -v`` wrote them, None where it has none; the fills the
    render kept, one for each side of a cut)."""
    stages = re.findall(r"openjd_status: time: (.*)", log_text)
    training = None
    if stages:  # a render that skipped learning has no training entry on its time line
        spent = re.search(r"training ([0-9.]+) s", stages[-1])
        training = float(spent.group(1)) if spent else 0.0
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([0-9:.]+)", log_text)
    wall = None
    if clock:
        wall = 0.0
        for part in clock.group(1).split(":"):
            wall = wall * 60 + float(part)
    kept = re.findall(r"openjd_status: held-out check .*; keeping (\S+)", log_text)
    kept += re.findall(r"openjd_status: learning: skipped.*; keeping (\S+)", log_text)
    return training, wall, kept


def held_out_marks(scores: dict[str, dict], floor: float, log_text: str) -> str:
    """One line: the render against each mark a held-out plate is judged by, ``yes`` or
    ``no`` with its figure. ``scores``: ``metrics.quality`` of "render", "telea" and
    "temporal-nearest"; ``floor``: the footage's own warp error; ``log_text``: render.log."""
    render = scores["render"]
    marks = []
    for baseline in ("telea", "temporal-nearest"):
        lead = render["hole_psnr"] - scores[baseline]["hole_psnr"]
        marks.append(f"above {baseline} {'yes' if lead > 0 else 'no'} ({lead:+.2f} dB)")
    marks.append(f"detail >= {DETAIL_MARK} {'yes' if render['detail'] >= DETAIL_MARK else 'no'} "
                 f"({render['detail']:.2f})")
    ratio = render["warp_error"] / floor if floor > 0 else float("inf")
    marks.append(f"warp <= {WARP_MARK:g}x the footage's {'yes' if ratio <= WARP_MARK else 'no'} ({ratio:.1f}x)")
    training, wall, kept = render_times(log_text)
    if set(kept) & set(NETWORK_CHOICES):
        marks.append(f"training share: not judged, the output is the network's ({', '.join(kept)})")
    elif training is None or wall is None:
        marks.append("training share: not judged, render.log has no time line or wall time")
    else:
        share = training / wall
        marks.append(f"training <= {TRAINING_SHARE_MARK:.0%} of the wall time where the output is "
                     f"{', '.join(kept) or 'not named'} "
                     f"{'yes' if share <= TRAINING_SHARE_MARK else 'no'} ({training:.1f} of {wall:.0f} s, {share:.0%})")
    return "; ".join(marks)


def main(shots: list[str]) -> None:
    print("| shot | fill | hole PSNR dB | SSIM | detail | warp ×10⁻³ (footage's) |\n|---|---|---|---|---|---|")
    for shot_dir in shots:
        name = os.path.basename(shot_dir.rstrip("/"))
        plates = np.maximum(load(f"{shot_dir}/plates/*.exr")[..., :3], 0.0)
        holes = load(f"{shot_dir}/roto/*.exr")[..., 0] > 0.5
        truth = load(f"{shot_dir}/truth/*.exr")[..., :3]
        fills = {"render": load(f"{shot_dir}/out/*.exr")[..., :3]}
        fills["telea"] = telea(plates, holes)
        fills["temporal-nearest"] = still_copy(plates, holes)
        shown_truth = metrics.to_display(truth)
        reference = metrics.warp_reference(shown_truth)
        floor = metrics.warp_error(shown_truth, holes, reference)
        scores = {}
        for fill, out in fills.items():
            q = scores[fill] = metrics.quality(out, truth, plates, holes, reference)
            print(f"| {name} | {fill} | {q['hole_psnr']:.2f} | {q['hole_ssim']:.3f} | {q['detail']:.2f} "
                  f"| {1e3 * q['warp_error']:.2f} ({1e3 * floor:.2f}) |", flush=True)
        shown = {fill: metrics.to_display(out) for fill, out in fills.items()}
        print(f"<!-- {name}: pooled hole PSNR dB: "
              + ", ".join(f"{fill} {pooled_psnr(shown[fill], shown_truth, holes):.2f}" for fill in fills) + " -->")
        print(f"<!-- {name}: render's warp error: {warp_breakdown(shown['render'], shown_truth, holes, reference)} -->")
        if glob.glob(f"{shot_dir}/source/*.exr"):
            source = load(f"{shot_dir}/source/*.exr")
            kept = {fill: shown[fill] for fill in ("render", "telea")}
            print(f"<!-- {name}: pooled hole PSNR dB by source: {by_source(kept, shown_truth, holes, source)} -->")
        log_text = render_log(shot_dir)
        for line in log_lines(log_text):
            print(f"<!-- {name}: {line[:400]} -->")
        print(f"<!-- {name}: held-out marks: {held_out_marks(scores, floor, log_text)} -->")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
