"""The propagation pre-fill on the CPU: the NumPy/OpenCV implementation against the torch
port (``renderer.fill.device``) run on the CPU, on development shots from a clip.

    .venv/bin/python benchmarks/fill_ports.py CLIP_DIR [FRAMES HEIGHT WIDTH]

Prints seconds per fill (best of two), hole PSNR against the clean frames, and the
largest difference between the two fills.
"""

from __future__ import annotations

import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from renderer.evaluate import metrics  # noqa: E402
from renderer.evaluate.clips import load_clip  # noqa: E402
from renderer.evaluate.mattes import synthetic_matte  # noqa: E402
from renderer.fill import device, propagate  # noqa: E402


def best_of_two(fn):
    times, out = [], None
    for _ in range(2):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, min(times)


def main(clips: str, count: int = 24, height: int = 96, width: int = 192) -> None:
    torch.set_num_threads(os.cpu_count() or 1)
    shots = [("bikes.mp4", 2, "blob"), ("cityCC0.mpg", 40, "logo"),
             ("bikes.mp4", 2, "logo"), ("cityCC0.mpg", 40, "blob")]
    print(f"{'shot':<14} {'numpy s':>8} {'torch s':>8} {'numpy dB':>9} {'torch dB':>9} {'max diff':>9}")
    for clip, start, matte in shots:
        frames = load_clip(os.path.join(clips, clip), start=start, count=count, height=height, width=width).frames
        holes = synthetic_matte(matte, count, height, width, 0)
        ours, t_np = best_of_two(lambda: propagate.seamed_propagation(frames, holes))
        port, t_torch = best_of_two(lambda: device.seamed_propagation(frames, holes, device="cpu"))
        truth = metrics.to_display(frames)

        def psnr(out):
            return metrics.hole_psnr(metrics.to_display(out), truth, holes)

        name = f"{clip.split('.')[0][:5]}/{matte}"
        print(f"{name:<14} {t_np:8.2f} {t_torch:8.2f} {psnr(ours):9.2f} {psnr(port):9.2f} "
              f"{float(abs(ours - port).max()):9.4f}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 5):
        sys.exit(__doc__)
    main(sys.argv[1], *(int(v) for v in sys.argv[2:]))
