"""Helpers for the server tests: tiny shots, a fake job function, a subprocess server.

A plain module (not a conftest) so its name stays unique across test folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bridge.imageio import Image, read_exr, write_exr
from bridge.sequence import frame_path
from bridge.testing import wait_for_endpoint
from renderer.callbacks import Progress
from renderer.errors import Cancelled, InputError

REPO = Path(__file__).resolve().parents[2]
FRAMES = tuple(range(1001, 1007))
SIZE = (64, 64)
BOX = (20, 40, 24, 44)  # y0, y1, x0, x1 of the object to remove


def background(frame: int, h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    s = 0.5 * (frame - 1000)
    return np.stack([0.2 + 0.3 * (x + s) / w, 0.25 + 0.2 * y / h, 0.3 + 0.05 * np.sin((x + s) / 7.0)], axis=-1)


def write_shot(folder: Path, *, frames=FRAMES, size=SIZE, matte_file: bool = True, name: str = "shot",
               attributes: dict | None = None) -> dict:
    """Plates with a magenta box over a smooth background, and a matte covering the box.
    Returns a shot dict (paths relative to ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    h, w = size
    y0, y1, x0, x1 = BOX
    hole = np.zeros((h, w), np.float32)
    hole[y0:y1, x0:x1] = 1.0
    for f in frames:
        rgb = background(f, h, w)
        rgb[hole > 0] = (1.5, 0.0, 1.5)
        rgba = np.dstack([rgb, hole if not matte_file else np.ones((h, w), np.float32)])
        write_exr(folder / f"plate.{f}.exr", Image(rgba.astype(np.float16), ("R", "G", "B", "A"),
                                                    attributes=attributes or {}))
        if matte_file:
            write_exr(folder / f"matte.{f}.exr", Image(hole[..., None].astype(np.float16), ("A",)))
    shot = {"name": name, "source": "plate.####.exr", "output": "out/result.####.exr",
            "frames": f"{frames[0]}-{frames[-1]}", "checkpoint_minutes": 0.01}
    shot["mask"] = {"path": "matte.####.exr", "channel": "A"} if matte_file else {"channel": "A"}
    return shot


def hole_mask(size=SIZE) -> np.ndarray:
    y0, y1, x0, x1 = BOX
    hole = np.zeros(size, bool)
    hole[y0:y1, x0:x1] = True
    return hole


def check_result(path: str, frame: int, *, tol: float = 0.5) -> None:
    """A result frame: known pixels kept, the magenta object gone from the hole (a few training
    steps give a rough fill; the magenta box itself is ~0.9 away from the background)."""
    img = read_exr(path)
    rgb = img.pixels[..., :3].astype(np.float32)
    hole = hole_mask(rgb.shape[:2])
    known = background(frame, *rgb.shape[:2])
    assert np.allclose(rgb[~hole], known[~hole], atol=2e-3), f"frame {frame}: known pixels changed"
    assert np.all(np.isfinite(rgb))
    fill_error = np.abs(rgb[hole] - known[hole]).mean()
    assert fill_error < tol, f"frame {frame}: the hole was not filled (mean error {fill_error:.3f})"
    assert rgb[hole][:, 1].mean() > 0.1, "the magenta object is still there"


@dataclass
class FakeResult:
    output_paths: dict = field(default_factory=dict)


class FakeRunner:
    """Stands in for ``renderer.api.render``: honours should_stop, checkpoints its step
    in work_dir (so a restart resumes), reports progress and previews, and fills the
    hole with the mean of the known pixels, or with a reference's pixels on its frame.
    With ``shot.source_map`` it writes a map as the renderer's contract says (blue where
    a reference gave the pixel, red where it was carried, alpha 1, a ``distance`` channel)."""

    def __init__(self, step_time: float = 0.01, default_steps: int = 5, preview_every: int = 0):
        self.step_time, self.default_steps, self.preview_every = step_time, default_steps, preview_every
        self.calls: list[dict] = []
        self.started = threading.Event()

    def __call__(self, shot, *, preset=None, steps=None, seed=None, device=None, fresh=False, callbacks=None):
        total = steps or shot.steps or self.default_steps
        work = Path(shot.work_dir)
        work.mkdir(parents=True, exist_ok=True)
        ckpt = work / "fake.ckpt"
        start = int(ckpt.read_text()) if ckpt.exists() and not fresh else 0
        self.calls.append({"shot": shot, "steps": total, "start": start, "device": device, "preset": preset})
        self.started.set()
        t0 = time.monotonic()
        for step in range(start, total):
            if callbacks.should_stop():
                raise Cancelled(f"cancelled at step {step}; checkpoint kept")
            time.sleep(self.step_time)
            ckpt.write_text(str(step + 1))
            callbacks.on_progress(Progress(step + 1, total, 1.0 / (step + 1), time.monotonic() - t0,
                                           (total - step - 1) * self.step_time, "train", ""))
            if self.preview_every and (step + 1) % self.preview_every == 0:
                callbacks.on_preview(step + 1, {shot.frames[0]: np.zeros((64, 64, 3), np.float32)})
        out = {}
        painted = {r.frame: r.path for r in shot.references}
        for f in shot.frames:
            path = frame_path(shot.source, f)
            if not os.path.isfile(path):
                raise InputError(f"plate frame {f} not found: {path}")
            img = read_exr(path)
            px = img.pixels.astype(np.float32)
            matte = read_exr(frame_path(shot.mask.path, f)).pixels[..., 0] if shot.mask.path else px[..., 3]
            hole = matte > 0.5
            px[hole, :3] = px[~hole, :3].mean(axis=0)
            if f in painted:
                ref = read_exr(painted[f]).pixels.astype(np.float32)
                if ref.shape[:2] != px.shape[:2]:
                    raise InputError(f"reference frame {f} is {ref.shape[1]}x{ref.shape[0]}, the plate "
                                     f"{px.shape[1]}x{px.shape[0]}: paint on a frame of the plate's size")
                px[hole, :3] = ref[hole, :3]
            out[f] = write_exr(frame_path(shot.output, f), Image(px.astype(np.float16), img.channels,
                                                                  img.data_window, img.display_window,
                                                                  img.attributes))
            if shot.source_map:
                where = np.zeros(px.shape[:2] + (5,), np.float16)
                where[hole, 2 if f in painted else 0] = 1.0
                where[..., 3] = 1.0
                write_exr(frame_path(shot.source_map, f), Image(where, ("R", "G", "B", "A", "distance")))
        return FakeResult(out)


class ServeProcess:
    """`renderer serve` as a subprocess (the real renderer); ``endpoint`` once it listens."""

    def __init__(self, spool: Path, *extra: str, cwd: Path | None = None, bind: str = "tcp://127.0.0.1:*"):
        cmd = [sys.executable, "-c", "from renderer.serve.cli import serve; serve()", "--bind", bind,
               "--spool", str(spool), "--device", "cpu", *extra]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.log = Path(spool).parent / f"serve-{time.monotonic_ns()}.log"
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, cwd=cwd or REPO, env=env, stdout=subprocess.PIPE, stderr=self._log,
                                     text=True)
        self.endpoint = self._wait_ready(60)

    def _wait_ready(self, timeout: float) -> str:
        endpoint = wait_for_endpoint(self.proc, timeout)
        if endpoint is None:
            self.kill()
            raise RuntimeError(f"renderer serve did not start:\n{self.log.read_text()[-3000:]}")
        return endpoint

    def kill(self) -> None:
        """kill -9: no clean-up at all."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
