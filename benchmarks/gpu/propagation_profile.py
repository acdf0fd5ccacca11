"""Seamed propagation on the device, timed: the OpenCV version, the torch port (warm, each
call synchronised), its CPU share (``masked_flow``: Telea and DIS), and the torch
profiler's heaviest operators. 100 frames at 128x256 (the working size of a 100-frame
192x384 shot), bikes/blob.

    python benchmarks/gpu/propagation_profile.py [CLIP]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main() -> None:
    import torch

    from renderer.evaluate import metrics
    from renderer.fill import device as propagate_torch, propagate
    from renderer.fill.flow import masked_flow
    from renderer.evaluate.clips import load_clip
    from renderer.evaluate.mattes import synthetic_matte

    if len(sys.argv) < 2:
        sys.exit(__doc__)
    clip = sys.argv[1]
    frames = load_clip(clip, start=2, count=100, height=128, width=256).frames
    holes = synthetic_matte("blob", 100, 128, 256, 0)
    dev = "cuda" if torch.cuda.is_available() else "cpu"

    def psnr(out):
        return metrics.hole_psnr(metrics.to_display(out), metrics.to_display(frames), holes)

    def timed(fn):
        if dev == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        if dev == "cuda":
            torch.cuda.synchronize()
        return out, time.perf_counter() - start

    out, seconds = timed(lambda: propagate.seamed_propagation(frames, holes))
    print(f"OpenCV seamed: {seconds:.2f} s, {psnr(out):.2f} dB", flush=True)
    _, seconds = timed(lambda: masked_flow(frames, holes))
    print(f"masked_flow (CPU share): {seconds:.2f} s", flush=True)
    for guarded in (False, True):
        timed(lambda: propagate_torch.seamed_propagation(frames, holes, guarded, device=dev))  # warm-up
        out, seconds = timed(lambda: propagate_torch.seamed_propagation(frames, holes, guarded, device=dev))
        print(f"torch {'guarded' if guarded else 'seamed'} on {dev}: {seconds:.2f} s, {psnr(out):.2f} dB", flush=True)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if dev == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        propagate_torch.seamed_propagation(frames, holes, device=dev)
    key = "self_cuda_time_total" if dev == "cuda" else "self_cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=14), flush=True)


if __name__ == "__main__":
    main()
