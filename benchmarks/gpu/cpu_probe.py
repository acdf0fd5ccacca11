"""How much CPU a GPU box gives the pre-fill's OpenCV work: the cores it reports, its
cgroup quota, and one ``masked_flow`` (Telea + DIS, 100 frames at 128x256) on 1, 4 and
every thread, with OpenCV's own threads on and off.

    python benchmarks/gpu/cpu_probe.py [CLIP]
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def main() -> None:
    import cv2

    import renderer.parallel as parallel
    from renderer.fill.flow import masked_flow
    from renderer.evaluate.clips import load_clip
    from renderer.evaluate.mattes import synthetic_matte

    if len(sys.argv) < 2:
        sys.exit(__doc__)
    clip = sys.argv[1]
    quota = open("/sys/fs/cgroup/cpu.max").read().strip() if os.path.exists("/sys/fs/cgroup/cpu.max") else "n/a"
    print(f"os.cpu_count {os.cpu_count()}, usable {parallel.usable_cores()}, cgroup cpu.max {quota}, "
          f"OpenCV threads {cv2.getNumThreads()}", flush=True)
    frames = load_clip(clip, start=2, count=100, height=128, width=256).frames
    holes = synthetic_matte("blob", 100, 128, 256, 0)
    every = parallel.usable_cores()
    default_cv = cv2.getNumThreads()
    for cv_threads in (default_cv, 1):
        cv2.setNumThreads(cv_threads)
        for workers in sorted({1, 4, every}):
            parallel.usable_cores = lambda w=workers: w
            start = time.perf_counter()
            masked_flow(frames, holes)
            print(f"masked_flow, {workers} threads, OpenCV threads {cv_threads}: "
                  f"{time.perf_counter() - start:.2f} s", flush=True)


if __name__ == "__main__":
    main()
