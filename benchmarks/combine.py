"""Print one Markdown table from several ``renderer evaluate`` results.json files.

    .venv/bin/python benchmarks/combine.py benchmarks/evaluation-baselines \
        benchmarks/evaluation benchmarks/evaluation-standard

Rows are grouped by shot; a (shot, method) pair is taken from the first folder that has
it, so list the folder whose rows should win first. Shots must agree (same clip, start,
frames, size and matte) or the script stops.
"""

from __future__ import annotations

import json
import os
import sys


def load(folder: str) -> dict:
    with open(os.path.join(folder, "results.json")) as f:
        return json.load(f)


def num(x, digits=2, scale=1.0) -> str:
    if x is None:
        return "—"
    if x == "inf":
        return "∞"
    return f"{x * scale:.{digits}f}"


def main(folders: list[str]) -> str:
    shots: dict[str, dict] = {}
    rows: dict[tuple[str, str], dict] = {}
    order: list[str] = []
    for folder in folders:
        data = load(folder)
        for s in data["shots"]:
            key = s["shot"]
            same = {k: s[k] for k in ("clip", "start", "frames", "height", "width", "matte", "matte_seed")}
            if key in shots and {k: shots[key][k] for k in same} != same:
                raise SystemExit(f"{folder}: shot {key} differs from an earlier folder: {same} vs {shots[key]}")
            if key not in shots:
                shots[key] = same
                order.append(key)
        for r in data["results"]:
            rows.setdefault((r["shot"], r["method"]), dict(r, source=os.path.basename(folder.rstrip("/"))))
        floors = {s["shot"]: s["gt_warp_error"] for s in data["shots"]}
        for key, v in floors.items():
            shots[key].setdefault("floor", v)
    out = ["| shot | method | steps | hole PSNR dB | hole SSIM | warp ×10⁻³ | known changed | wall s | from |",
           "|---|---|---|---|---|---|---|---|---|"]
    for shot in order:
        mine = [r for (s, _), r in rows.items() if s == shot]
        best = max((r["hole_psnr"] for r in mine if not r.get("error") and isinstance(r.get("hole_psnr"), float)),
                   default=None)
        for r in mine:
            if r.get("error"):
                out.append(f"| {shot} | {r['method']} | | failed: {r['error']} | | | | | {r['source']} |")
                continue
            psnr = num(r["hole_psnr"])
            if r["hole_psnr"] == best:
                psnr = f"**{psnr}**"
            out.append(f"| {shot} | {r['method']} | {r['steps'] or '—'} | {psnr} | {num(r['hole_ssim'], 3)} | "
                       f"{num(r['warp_error'], 2, 1e3)} | {r['known_changed_fraction']:.3g} | "
                       f"{num(r['wall_seconds'], 1)} | {r['source']} |")
        out.append(f"| {shot} | *ground truth (warp floor)* | | | | {num(shots[shot]['floor'], 2, 1e3)} | | | |")
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    print(main(sys.argv[1:]))
