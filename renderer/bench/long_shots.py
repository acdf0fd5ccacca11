"""Long-shot scaling: peak memory and time per frame as the shot grows.

Each shot length runs as its own ``renderer render`` process (so its peak RSS is
its own, read with ``os.wait4``) on a synthetic shot at a small size, split into
windows of ``window_frames``. Memory should stay flat: frames are read per window
and only the overlap is held between windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import yaml


@dataclass
class LongShotRow:
    frames: int
    windows: int
    wall_seconds: float
    seconds_per_frame: float
    peak_rss_mb: float


def _write(path: Path, pixels: np.ndarray, channels) -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], len(channels), "half")
    spec.channelnames = channels
    out = oiio.ImageOutput.create(str(path))
    out.open(str(path), spec)
    out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
    out.close()


def make_long_shot(root: Path, n: int, size=(48, 64), window_frames: int = 16, window_overlap: int = 4,
                   steps: int = 2, preset: str = "paper") -> Path:
    """A synthetic drifting texture with a moving square hole; returns the shot.yaml path."""
    h, w = size
    (root / "plates").mkdir(parents=True, exist_ok=True)
    (root / "roto").mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    base = rng.random((h + 8, w + n + 8, 3)).astype(np.float32)
    for k in range(n):
        f = 1001 + k
        plate = base[4:4 + h, k % (n + 4):k % (n + 4) + w]
        if plate.shape[1] < w:
            plate = base[4:4 + h, :w]
        matte = np.zeros((h, w, 1), np.float32)
        x = 8 + (k % (w - 24))
        matte[h // 3:h // 3 + 10, x:x + 10] = 1.0
        _write(root / "plates" / f"p.{f:04d}.exr", plate, ("R", "G", "B"))
        _write(root / "roto" / f"m.{f:04d}.exr", matte, ("A",))
    shot = {"source": "plates/p.####.exr", "mask": {"path": "roto/m.####.exr"}, "frames": f"1001-{1000 + n}",
            "output": "out/o.####.exr", "preset": preset, "steps": steps, "device": "cpu",
            "window_frames": window_frames, "window_overlap": window_overlap}
    path = root / "shot.yaml"
    path.write_text(yaml.safe_dump(shot))
    return path


def run_long_shot(n: int, **kwargs) -> LongShotRow:
    from ..windows import plan_windows

    with tempfile.TemporaryDirectory(prefix=f"long{n}-") as tmp:
        shot = make_long_shot(Path(tmp), n, **kwargs)
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "renderer", "render", str(shot)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"long-shot render of {n} frames failed: {proc.stderr.read().decode()[-500:]}")
        written = len(list((Path(tmp) / "out").glob("o.*.exr")))
        if written != n:
            raise RuntimeError(f"long-shot render wrote {written} of {n} frames")
    windows = len(plan_windows(n, kwargs.get("window_frames", 16), kwargs.get("window_overlap", 4)))
    return LongShotRow(frames=n, windows=windows, wall_seconds=round(wall, 1),
                       seconds_per_frame=round(wall / n, 3), peak_rss_mb=round(usage.ru_maxrss / 1024.0, 1))


def long_shot_table(lengths=(50, 200, 500), **kwargs) -> list[dict]:
    return [asdict(run_long_shot(n, **kwargs)) for n in lengths]


if __name__ == "__main__":  # python -m renderer.bench.long_shots 50 200 500
    lengths = [int(a) for a in sys.argv[1:]] or [50, 200, 500]
    print("| frames | windows | wall s | s/frame | peak RSS MB |\n|---|---|---|---|---|")
    for row in long_shot_table(lengths):
        print(f"| {row['frames']} | {row['windows']} | {row['wall_seconds']} | {row['seconds_per_frame']} | "
              f"{row['peak_rss_mb']} |")
