"""Render production-scale shots with default settings and measure what a farm sees.

    .venv/bin/python benchmarks/production/run.py OUT.md SHOT_DIR [SHOT_DIR ...]

Each shot (made by ``make_shot.py``) is rendered with ``renderer render --fresh`` under
``/usr/bin/time -v``. For each: exit code, frames written, known pixels bit-exact
against the plate, wall seconds, peak RSS, the seconds of each stage (the log's time
line) and the hole PSNR against ``truth/`` in display space. Rows are appended to
OUT.md as they finish; each render's log is kept as SHOT_DIR/render.log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import numpy as np
import OpenImageIO as oiio
import yaml

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from renderer.evaluate import metrics  # noqa: E402

HEADER = ("| shot | plate | frames | hole % | exit | written | known bit-exact | wall s | s/frame | peak RSS GiB "
          "| hole PSNR dB | stages (s) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def read(path: str) -> np.ndarray:
    buf = oiio.ImageBuf(path)
    return np.asarray(buf.get_pixels(oiio.FLOAT), np.float32)


def measure(shot_dir: str) -> str:
    cfg = yaml.safe_load(open(os.path.join(shot_dir, "shot.yaml")))
    first, last = (int(v) for v in str(cfg["frames"]).split("-"))
    frames = range(first, last + 1)
    renderer = os.path.join(os.path.dirname(sys.executable), "renderer")
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v", renderer, "render", "--fresh", os.path.join(shot_dir, "shot.yaml")],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - start
    with open(os.path.join(shot_dir, "render.log"), "w") as log:  # the choice and time lines, for the record
        log.write(proc.stdout + proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    stages = re.findall(r"openjd_status: time: (.*)", proc.stdout)
    written = exact = 0
    errors, hole_px, size, fraction = [], 0, "", []
    for f in frames:
        out = os.path.join(shot_dir, "out", f"o.{f:04d}.exr")
        plate = read(os.path.join(shot_dir, "plates", f"p.{f:04d}.exr"))
        matte = read(os.path.join(shot_dir, "roto", f"m.{f:04d}.exr"))[..., 0]
        size = f"{plate.shape[1]}x{plate.shape[0]}"
        fraction.append(float((matte > 0.5).mean()))
        if not os.path.isfile(out):
            continue
        written += 1
        result = read(out)
        known = matte <= 0
        exact += int(np.array_equal(result[known], plate[known]))
        hole = matte > 0.5
        truth = read(os.path.join(shot_dir, "truth", f"p.{f:04d}.exr"))
        diff = metrics.to_display(result[..., :3])[hole] - metrics.to_display(truth)[hole]
        errors.append(float((diff ** 2).sum()))
        hole_px += int(hole.sum()) * 3
    psnr = 10 * np.log10(1.0 / (sum(errors) / max(hole_px, 1))) if hole_px else float("nan")
    peak = int(rss.group(1)) / 2 ** 20 if rss else float("nan")
    tail = " ".join(proc.stderr.strip().splitlines()[-1:]) if proc.returncode else ""
    return (f"| {os.path.basename(shot_dir.rstrip('/'))} | {size} | {len(frames)} | {100 * np.mean(fraction):.2f} "
            f"| {proc.returncode} {tail[:80]} | {written} | {exact}/{written} | {wall:.0f} | {wall / len(frames):.2f} "
            f"| {peak:.2f} | {psnr:.2f} | {stages[-1] if stages else ''} |\n")


def main(out_md: str, shots: list[str]) -> None:
    if not os.path.isfile(out_md):
        with open(out_md, "w") as fh:
            fh.write(HEADER)
    for shot in shots:
        row = measure(shot)
        with open(out_md, "a") as fh:
            fh.write(row)
        print(row, end="", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
