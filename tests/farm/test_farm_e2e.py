"""End to end: `openjd run examples/farm/inpaint_job.yaml` on a tiny shot, through path mapping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from farm_helpers import TEMPLATE, run, tool, tool_env

FRAMES = list(range(1001, 1007))
SIZE = 64


def _write_exr(path: Path, pixels: np.ndarray, channels: list[str]) -> None:
    spec = oiio.ImageSpec(SIZE, SIZE, len(channels), oiio.HALF)
    spec.channelnames = channels
    spec.attribute("compression", "zip")
    out = oiio.ImageOutput.create(str(path))
    assert out is not None and out.open(str(path), spec), oiio.geterror()
    assert out.write_image(np.ascontiguousarray(pixels, dtype=np.float32)), out.geterror()
    out.close()


def _read_exr(path: Path) -> tuple[np.ndarray, list[str]]:
    inp = oiio.ImageInput.open(str(path))
    assert inp is not None, oiio.geterror()
    try:
        return inp.read_image(oiio.FLOAT), list(inp.spec().channelnames)
    finally:
        inp.close()


def make_tiny_shot(root: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """6 frames of a 64x64 half-float plate (RGB) and matte (A): a 12px square hole drifting right."""
    (root / "plate").mkdir(parents=True)
    (root / "matte").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    texture = rng.random((SIZE, SIZE, 3), dtype=np.float32) * 0.1
    frames = {}
    for i, frame in enumerate(FRAMES):
        plate = np.stack([np.roll(xx, i, axis=1), yy, 0.5 * (xx + yy)], axis=-1) * 0.8 + texture
        matte = np.zeros((SIZE, SIZE, 1), np.float32)
        matte[26:38, 10 + 4 * i:22 + 4 * i] = 1.0
        _write_exr(root / "plate" / f"plate.{frame}.exr", plate, ["R", "G", "B"])
        _write_exr(root / "matte" / f"matte.{frame}.exr", matte, ["A"])
        frames[frame] = (plate.astype(np.float16).astype(np.float32), matte[..., 0] > 0.5)
    return frames


SHOT_YAML = (
    "name: farmtest\n"
    "source: Z:\\proj\\plate\\plate.####.exr\n"
    "mask: {path: 'z:/PROJ/matte/matte.####.exr', channel: A}\n"
    "frames: 1001-1006\n"
    "output: Z:\\proj\\out\\inpaint.####.exr\n"
    "preset: preview\n"
    "steps: 4\n"
    "seed: 0\n"
    "device: cpu\n")


def _rules(proj: Path) -> dict:
    return {"version": "pathmapping-1.0", "path_mapping_rules": [
        {"source_path_format": "WINDOWS", "source_path": "Z:\\proj", "destination_path": str(proj)}]}


def test_tiny_shot_loads_through_path_mapping(tmp_path):
    """The fixture itself: the Windows-authored shot.yaml maps onto real, readable frames."""
    from renderer.io.config import load_shot
    from renderer.io.exrio import matte_index, read_image
    from renderer.io.pathmap import rules_from_dict
    from renderer.io.sequences import frame_path

    proj = tmp_path / "proj"
    plates = make_tiny_shot(proj)
    (proj / "shot.yaml").write_text(SHOT_YAML)
    shot = load_shot(proj / "shot.yaml", path_mapping=rules_from_dict(_rules(proj)))
    assert shot.frames == tuple(FRAMES) and shot.output == str(proj / "out" / "inpaint.####.exr")
    for frame in (FRAMES[0], FRAMES[-1]):
        plate = read_image(frame_path(shot.source, frame))
        matte = read_image(frame_path(shot.mask.path, frame))
        assert plate.pixels.shape == (SIZE, SIZE, 3)
        hole = matte.pixels[..., matte_index(matte.channels, shot.mask.channel)] > 0.5
        assert np.array_equal(hole, plates[frame][1]) and hole.sum() == 144
        assert np.array_equal(plate.pixels, plates[frame][0])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_openjd_run_trains_and_renders_every_frame(tmp_path):
    proj = tmp_path / "proj"
    plates = make_tiny_shot(proj)
    # Train runs the template's Steps (3), Render the shot's own (4): inference takes the finished checkpoint.
    # shot.yaml written on a Windows workstation: every path is mapped onto this host by the farm's rules
    shot = proj / "shot.yaml"
    shot.write_text(SHOT_YAML)
    rules = _rules(proj)

    proc = run([tool("openjd"), "run", str(TEMPLATE), "-p", f"ShotFile={shot}", "-p", "Frames=1001-1006",
                "-p", "ChunkSize=4", "-p", "Steps=3", "--path-mapping-rules", json.dumps(rules)],
               timeout=540, env=tool_env(), cwd=tmp_path)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert "Session ended successfully" in log
    progress = [int(float(v)) for v in re.findall(r"openjd_progress:\s*([0-9.]+)", log)]
    assert progress and all(0 <= p <= 100 for p in progress), log[-3000:]

    out = proj / "out"
    written = sorted(p.name for p in out.glob("inpaint.*.exr"))
    assert written == [f"inpaint.{f}.exr" for f in FRAMES], written
    work = out / ".inpaint.work"
    assert work.is_dir() and any(work.iterdir()), "Train left no checkpoint in the shot's work folder"
    for frame, (plate, hole) in plates.items():
        pixels, channels = _read_exr(out / f"inpaint.{frame}.exr")
        assert pixels.shape[:2] == (SIZE, SIZE) and channels[:3] == ["R", "G", "B"]
        assert np.isfinite(pixels).all()
        assert np.array_equal(pixels[~hole][:, :3], plate[~hole]), f"known pixels changed in frame {frame}"

    # a rerun of one chunk skips frames already written (resumable, idempotent farm work)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("inpaint.*.exr")}
    again = run([tool("openjd"), "run", str(TEMPLATE), "--step", "Render", "-tp", "Frame=1001-1003",
                 "-p", f"ShotFile={shot}", "--path-mapping-rules", json.dumps(rules)],
                timeout=300, env=tool_env(), cwd=tmp_path)
    assert again.returncode == 0, (again.stdout + again.stderr)[-4000:]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("inpaint.*.exr")} == before
