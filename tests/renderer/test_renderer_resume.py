"""Item 11: resume after kill -9; a checkpoint from another shot is refused; --fresh."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import numpy as np
import pytest

from renderer_helpers import RENDERER, as_half, cli_env, make_shot, read_exr, run_cli, write_exr
from renderer.errors import CheckpointError

STEPS = 10  # 0.5-1.5 s a step for 4 frames of the paper net on one core: ~10-20 s in all


@pytest.mark.slow
def test_resume_after_kill(tmp_path):
    shot = make_shot(tmp_path / "shot", n=4, preset="paper", steps=STEPS, checkpoint_minutes=0.005)
    ckpt = shot.work / "checkpoint.pt"
    proc = subprocess.Popen([RENDERER, "render", str(shot.shot_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env(), stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not ckpt.exists():
            assert proc.poll() is None, f"render ended before its first checkpoint: {proc.communicate()}"
            assert time.monotonic() < deadline, "no checkpoint within 180 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not any(shot.out(f).exists() for f in shot.frames)

    again = run_cli("render", shot.shot_file)
    assert again.returncode == 0, again.stderr[-3000:]
    found = re.search(r"resumed from step (\d+) of (\d+)", again.stdout)
    assert found, again.stdout[-3000:]
    assert found.group(2) == str(STEPS) and 0 < int(found.group(1)) < STEPS
    for f in shot.frames:
        out, _ = read_exr(shot.out(f))
        assert np.isfinite(out).all()


@pytest.mark.slow
def test_checkpoint_from_another_shot_is_refused_and_fresh_starts_over(tmp_path):
    shot = make_shot(tmp_path / "shot", n=3, preset="paper", steps=2)
    first = run_cli("render", shot.shot_file)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (shot.work / "checkpoint.pt").exists()

    # another shot in the same place: the plates changed
    px, spec = read_exr(shot.plate(shot.frames[0]))
    px[5:9, 5:9, :3] += 0.25
    px = as_half(px)
    write_exr(shot.plate(shot.frames[0]), px, tuple(spec.channelnames), origin=(spec.x, spec.y),
              display=(spec.full_x, spec.full_y, spec.full_width, spec.full_height))
    refused = run_cli("render", shot.shot_file)
    assert refused.returncode == CheckpointError.exit_code == 5
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "--fresh" in lines[0] and "different shot" in lines[0], refused.stderr

    fresh = run_cli("render", shot.shot_file, "--fresh")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert "resumed from step" not in fresh.stdout
    assert all(shot.out(f).exists() for f in shot.frames)
    out, _ = read_exr(shot.out(shot.frames[0]))
    np.testing.assert_array_equal(out[5:9, 5:9, :3], px[5:9, 5:9, :3])  # the new plate's known pixels
