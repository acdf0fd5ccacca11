"""Profile the training step on CUDA: host-to-device copies and host syncs per step.

The GPU path promises no host-device traffic inside the step (frames, reference flow and
holes are resident on the device; batches are slices). This counts what the CUDA
profiler sees over a few steps of the paper net at 192x384, bf16 + channels-last.
Usage: python benchmarks/gpu/h2d_probe.py [STEPS]
"""

import sys

import torch
from torch.profiler import ProfilerActivity, profile

from renderer.bench.core import BenchConfig, build_step


def main(steps: int = 5) -> None:
    cfg = BenchConfig(preset="paper", frames=24, batch=5, height=192, width=384, amp="bf16", channels_last=True)
    step, _, _, _ = build_step(cfg, torch.device("cuda"))
    for _ in range(3):
        step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
    counts: dict[str, int] = {}
    for ev in prof.events():
        name = ev.name
        for key in ("Memcpy HtoD", "Memcpy DtoH", "cudaStreamSynchronize", "cudaDeviceSynchronize",
                    "cudaMemcpyAsync", "cudaLaunchKernel", "cuLaunchKernel"):
            if key in name:
                counts[key] = counts.get(key, 0) + 1
    print(f"over {steps} training steps (the final torch.cuda.synchronize is one of the syncs):")
    for key, n in sorted(counts.items()):
        print(f"  {key}: {n} ({n / steps:.1f} per step)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
