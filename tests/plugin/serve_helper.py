"""Start a real `renderer serve` on loopback for the plugin and host tests, and write tiny shots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bridge.testing import wait_for_endpoint

REPO = Path(__file__).resolve().parents[2]


class Server:
    """A `renderer serve` subprocess; ``endpoint`` is where it listens."""

    def __init__(self, spool: Path, *, shared_root: Path | None = None, preview_every: int = 0, extra=()):
        cmd = [sys.executable, "-m", "renderer.cli", "serve", "--bind", "tcp://127.0.0.1:*", "--spool", str(spool),
               "--device", "cpu"]
        if shared_root is not None:
            cmd += ["--shared-root", str(shared_root)]
        if preview_every:
            cmd += ["--preview-every", str(preview_every)]
        cmd += [str(a) for a in extra]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.log = spool.parent / "server.log"
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                     preexec_fn=_die_with_parent)
        self.endpoint = self._wait_ready(timeout=120)

    def _wait_ready(self, timeout: float) -> str:
        endpoint = wait_for_endpoint(self.proc, timeout)
        if endpoint is None:
            self.stop()
            raise RuntimeError(f"renderer serve did not start; its log:\n{self.log.read_text()[-3000:]}")
        return endpoint

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies first (no orphaned servers)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_endpoint() -> str:
    """A loopback address nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def write_exr(path: Path, pixels: np.ndarray, channels) -> None:
    import OpenImageIO as oiio

    h, w, c = pixels.shape
    spec = oiio.ImageSpec(w, h, c, "half")
    spec.channelnames = tuple(channels)
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    out.open(str(path), spec)
    out.write_image(np.ascontiguousarray(pixels, dtype=np.float32))
    out.close()


def read_exr(path) -> np.ndarray:
    import OpenImageIO as oiio

    buf = oiio.ImageBuf(str(path))
    return np.asarray(buf.get_pixels(oiio.FLOAT), dtype=np.float32).reshape(buf.spec().height, buf.spec().width, -1)


def clean_plate(frame: int, h: int, w: int) -> np.ndarray:
    """A smooth, slowly moving scene-linear background (what the fill should look like)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    shift = 0.5 * (frame % 100)
    r = 0.20 + 0.30 * (x + shift) / w
    g = 0.25 + 0.20 * y / h
    b = 0.30 + 0.05 * np.sin((x + shift) / 7.0)
    return np.stack([r, g, b], axis=-1)


def write_shot(folder: Path, *, frames=range(1001, 1007), size=(64, 64), box=(24, 40, 20, 44)):
    """A tiny shot: plates with a magenta object over a clean background, and a matte (alpha)
    covering it. Returns (plate pattern, matte pattern, clean frames dict, hole bool (h, w))."""
    folder.mkdir(parents=True, exist_ok=True)
    h, w = size
    y0, y1, x0, x1 = box
    hole = np.zeros((h, w), bool)
    hole[y0:y1, x0:x1] = True
    clean = {}
    for f in frames:
        bg = clean_plate(f, h, w)
        clean[f] = bg
        plate = bg.copy()
        plate[hole] = (1.5, 0.0, 1.5)  # the thing to remove
        write_exr(folder / f"plate.{f:04d}.exr", np.dstack([plate, np.ones((h, w), np.float32)]), "RGBA")
        write_exr(folder / f"matte.{f:04d}.exr", hole[..., None].astype(np.float32), ("A",))
    return str(folder / "plate.####.exr"), str(folder / "matte.####.exr"), clean, hole


PAINT = (0.1, 0.8, 0.1)  # what the artist paints into the hole of a reference frame


def write_reference(path: Path, frame: int, *, size=(64, 64), box=(24, 40, 20, 44)) -> str:
    """A clean frame as an artist paints it: the whole frame of ``frame``, the hole painted
    over in ``PAINT`` (a colour no fill would make up, so its use shows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    y0, y1, x0, x1 = box
    rgb = clean_plate(frame, h, w)
    rgb[y0:y1, x0:x1] = PAINT
    write_exr(path, np.dstack([rgb, np.ones((h, w), np.float32)]), "RGBA")
    return str(path)
