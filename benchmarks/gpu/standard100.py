"""`standard` on a long shot, timed stage by stage: the issue's "100 frames at 384x192 in
under 10 s" measurement, without the evaluation harness's snapshots and metrics.

    python benchmarks/gpu/standard100.py [--frames 100] [--device cuda] [--runs 2] [--cv-threads N]

Runs ``api.inpaint`` with the default preset ``runs`` times in one process (the first run
pays CUDA's start-up; a ``renderer serve`` box pays it once), and prints each run's wall
time, its stages (``InpaintResult.stage_seconds``) and its hole PSNR and warp error
against the clip (``renderer.evaluate.metrics``, as ``renderer evaluate`` reports them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=os.environ.get("CLIP"), required="CLIP" not in os.environ,
                    help="bikes.mp4 of the development clips (or set CLIP)")
    ap.add_argument("--start", type=int, default=2)
    ap.add_argument("--matte", default="blob")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--size", default="192x384", help="HxW")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--preset", default="standard")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--cv-threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's own)")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()

    import cv2

    from renderer import api
    from renderer.callbacks import Callbacks
    from renderer.evaluate import metrics
    from renderer.evaluate.clips import load_clip
    from renderer.evaluate.mattes import synthetic_matte
    from renderer.parallel import usable_cores

    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    h, w = (int(v) for v in args.size.lower().split("x"))
    clip = load_clip(args.clip, start=args.start, count=args.frames, height=h, width=w)
    holes = synthetic_matte(args.matte, args.frames, h, w, 0)
    ref = metrics.warp_reference(metrics.to_display(clip.frames))
    print(f"{os.path.basename(args.clip)}@{args.start}:{args.matte}, {args.frames} frames at {h}x{w}, "
          f"{usable_cores()} cores, OpenCV threads {cv2.getNumThreads()}", flush=True)
    rows = []
    for run in range(args.runs):
        start = time.perf_counter()
        result = api.inpaint(clip.frames, holes, preset=args.preset, device=args.device,
                             callbacks=Callbacks(log=lambda text: print("  " + text, flush=True)))
        wall = time.perf_counter() - start
        q = metrics.quality(result.frames, clip.frames, clip.frames, holes, ref)
        rows.append({"run": run + 1, "wall_s": round(wall, 2), "hole_psnr": round(q["hole_psnr"], 2),
                     "warp_e3": round(q["warp_error"] * 1e3, 2),
                     "stages_s": {k: round(v, 2) for k, v in result.stage_seconds.items()}})
        print(f"run {run + 1}: wall {wall:.1f} s, hole PSNR {q['hole_psnr']:.2f} dB, "
              f"warp {q['warp_error'] * 1e3:.2f}e-3", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "cores": usable_cores(), "runs": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
