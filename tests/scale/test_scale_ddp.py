"""One shot trained data-parallel by torchrun on CPU (gloo, 2 processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from renderer_helpers import cli_env, make_shot

TORCHRUN = Path(sys.executable).with_name("torchrun")


def torchrun(shot_file: Path, *extra: str) -> subprocess.Popen:
    cmd = [str(TORCHRUN), "--nproc_per_node=2", "--standalone", "-m", "renderer", "train", str(shot_file), *extra]
    return subprocess.Popen(cmd, cwd=shot_file.parent, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_ddp_finishes_with_rank0_checkpoint_and_resumes_after_a_kill(tmp_path):
    shot = make_shot(tmp_path / "s", n=8, steps=40, preset="paper", checkpoint_minutes=0.002)
    ckpt = shot.work / "checkpoint.pt"
    proc = torchrun(shot.shot_file)
    deadline = time.monotonic() + 300
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert ckpt.exists(), proc.communicate()[0][-3000:]
    os.killpg(proc.pid, signal.SIGKILL)  # the whole worker group dies mid-run
    proc.wait()
    killed_at = torch.load(ckpt, weights_only=True)["step"]
    assert 0 < killed_at < 40

    proc = torchrun(shot.shot_file)
    out, _ = proc.communicate(timeout=540)
    assert proc.returncode == 0, out[-3000:]
    assert "resumed from step" in out
    state = torch.load(ckpt, weights_only=True)
    assert state["step"] == 40 and state["rank"] == 0
    assert [p.name for p in shot.work.glob("checkpoint*")] == ["checkpoint.pt"]
    # rank 0 speaks for the group: one "done" line, not one per rank
    assert out.count("openjd_status: done") == 1
