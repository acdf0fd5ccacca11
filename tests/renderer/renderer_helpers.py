"""Helpers for the renderer tests: tiny EXR shots written with OpenImageIO directly
(not through renderer.io.exrio, so the reader is tested against an independent
writer), a CLI runner and small numeric helpers. A plain module with a unique
name (not conftest), so that other test folders' conftest files cannot shadow it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
RENDERER = str(VENV_BIN / "renderer") if (VENV_BIN / "renderer").exists() else (shutil.which("renderer") or "renderer")


# --------------------------------------------------------------------------- EXR writing
def write_exr(path, pixels: np.ndarray, channels, *, datatype: str = "half", origin=(0, 0),
              display=None, attrs: dict | None = None) -> None:
    """Write (H, W, C) ``pixels`` with OpenImageIO. ``origin`` is the data window's (x, y);
    ``display`` is (x, y, width, height) of the display window (default: the data window)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    h, w, c = pixels.shape
    assert c == len(channels)
    spec = oiio.ImageSpec(w, h, c, datatype)
    spec.channelnames = tuple(channels)
    spec.x, spec.y = origin
    if display is None:
        display = (origin[0], origin[1], w, h)
    spec.full_x, spec.full_y, spec.full_width, spec.full_height = display
    spec.attribute("compression", "zip")
    for key, value in (attrs or {}).items():
        spec.attribute(key, value)
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    out = oiio.ImageOutput.create(str(path))
    assert out is not None, oiio.geterror()
    assert out.open(str(path), spec), out.geterror()
    assert out.write_image(pixels), out.geterror()
    out.close()


def read_exr(path) -> tuple[np.ndarray, oiio.ImageSpec]:
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    spec = oiio.ImageSpec(inp.spec())
    px = np.asarray(inp.read_image(0, 0, 0, spec.nchannels, "float"), dtype=np.float32)
    inp.close()
    return px.reshape(spec.height, spec.width, spec.nchannels), spec


def as_half(a: np.ndarray) -> np.ndarray:
    """Values exactly representable in half float, as float32."""
    return np.asarray(a, dtype=np.float16).astype(np.float32)


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def distance_to(hole: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance (H, W) of every pixel to the nearest True pixel of ``hole``."""
    ys, xs = np.nonzero(hole)
    assert len(ys), "empty hole"
    h, w = hole.shape
    gy, gx = np.mgrid[0:h, 0:w]
    d2 = (gy[..., None] - ys) ** 2 + (gx[..., None] - xs) ** 2
    return np.sqrt(d2.min(axis=-1))


def smooth_texture(h: int, w: int, dx: float = 0.0, dy: float = 0.0, seed: int = 3) -> np.ndarray:
    """A smooth band-limited pattern in [-1, 1] sampled at (x - dx, y - dy): shifting it by
    (dx, dy) is exact at any sub-pixel offset."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    x, y = xx - dx, yy - dy
    v = np.zeros((h, w))
    for _ in range(6):
        lam, th, ph = rng.uniform(12, 30), rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi)
        v += np.sin(2 * np.pi * (np.cos(th) * x + np.sin(th) * y) / lam + ph)
    return v / 6.0


# --------------------------------------------------------------------------- tiny shots
HOLE_VALUE = -2.0  # the "object": no fill can produce it (the net's range decodes to >= -0.007)
PLATE_CHANNELS = ("R", "G", "B", "A", "mask.A", "depth.Z")
ATTRS = {"custom:show": "tst", "custom:take": 7, "custom:fstop": 2.8, "Software": "renderer-tests"}


@dataclass
class Shot:
    root: Path
    shot_file: Path
    frames: list[int]
    plate_pattern: str
    matte_pattern: str
    out_pattern: str
    origin: tuple[int, int]
    display: tuple[int, int, int, int]
    holes: dict[int, np.ndarray] = field(default_factory=dict)  # raw hole in plate data coords
    config: dict = field(default_factory=dict)

    def plate(self, f: int) -> Path:
        return self.root / self.plate_pattern.replace("####", f"{f:04d}")

    def matte(self, f: int) -> Path:
        return self.root / self.matte_pattern.replace("####", f"{f:04d}")

    def out(self, f: int) -> Path:
        return self.root / self.out_pattern.replace("####", f"{f:04d}")

    @property
    def work(self) -> Path:
        return self.root / "out" / ".shot.work"

    def write_config(self, **changes) -> None:
        cfg = dict(self.config)
        for k, v in changes.items():
            if v is None:
                cfg.pop(k, None)
            else:
                cfg[k] = v
        self.config = cfg
        self.shot_file.write_text(yaml.safe_dump(cfg, sort_keys=False))


def make_shot(root: Path, *, n: int = 6, size=(64, 64), overscan=(4, 2), first: int = 1001,
              expand: int = 1, feather: int = 2, preset: str = "paper", steps: int = 3,
              hole_box=(27, 27, 9, 9), move: int = 2, **config) -> Shot:
    """A tiny half-float shot: RGBA + mask.A + depth.Z plates whose data window is the
    display window grown by ``overscan`` = (ox, oy) on every side, a separate one-channel
    matte at display size, a moving square hole, and shot.yaml."""
    root = Path(root)
    W, H = size
    ox, oy = overscan
    dw, dh = W + 2 * ox, H + 2 * oy
    frames = list(range(first, first + n))
    shot = Shot(root=root, shot_file=root / "shot.yaml", frames=frames,
                plate_pattern="plates/plate.####.exr", matte_pattern="roto/roto.####.exr",
                out_pattern="out/shot.####.exr", origin=(-ox, -oy), display=(0, 0, W, H))
    rng = np.random.default_rng(11)
    hy, hx, hh, hw = hole_box
    for k, f in enumerate(frames):
        tex = smooth_texture(dh, dw, dx=1.0 * k, dy=0.5 * k)
        rgb = np.stack([0.4 + 0.35 * tex, 0.25 + 0.2 * tex[::-1], 0.1 + 0.08 * tex[:, ::-1]], -1)
        rgb[0:3, 0:5] = 17.25  # a highlight well above 1.0, far from the hole
        rgb[-3:, -5:, 1] = -0.125  # negative scene-linear values (camera noise), far from the hole
        matte = np.zeros((H, W), np.float32)  # display window coords
        y0, x0 = hy, hx + move * k
        matte[y0:y0 + hh, x0:x0 + hw] = 1.0
        matte[y0 - 1, x0:x0 + hw] = 0.5  # exactly 0.5 is not a hole (> 0.5 is)
        hole = np.zeros((dh, dw), bool)
        hole[oy:oy + H, ox:ox + W] = matte > 0.5
        rgb[hole] = HOLE_VALUE
        alpha = np.clip(0.5 + 0.5 * tex, 0, 1)
        extra = rng.normal(size=(dh, dw)) * 100.0
        px = np.concatenate([rgb, alpha[..., None], np.zeros((dh, dw, 1)), extra[..., None]], -1)
        px[..., 4] = 0.0
        px[oy:oy + H, ox:ox + W, 4] = matte
        write_exr(shot.plate(f), as_half(px), PLATE_CHANNELS, origin=(-ox, -oy), display=(0, 0, W, H),
                  attrs=ATTRS)
        write_exr(shot.matte(f), as_half(matte[..., None]), ("A",))
        shot.holes[f] = hole
    shot.config = {"name": "shot", "source": shot.plate_pattern,
                   "mask": {"path": shot.matte_pattern, "channel": "A", "expand": expand, "feather": feather},
                   "frames": f"{frames[0]}-{frames[-1]}", "output": shot.out_pattern, "preset": preset,
                   "steps": steps, "device": "cpu"}
    shot.config.update(config)
    shot.write_config()
    return shot


# --------------------------------------------------------------------------- CLI
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["MKL_NUM_THREADS"] = "1"
    env.pop("PYTHONWARNINGS", None)
    return env


def run_cli(*args: str, cwd=None, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([RENDERER, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=cli_env(), stdin=subprocess.DEVNULL)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with (size, mtime_ns), to prove nothing was written."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns if p.is_file() else 0)
    return out
