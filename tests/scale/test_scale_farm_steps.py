"""`renderer train` then `renderer render --frames` chunks: inference only, frames already written skipped."""

from __future__ import annotations

import pytest

from renderer_helpers import make_shot, read_exr, run_cli, write_exr


@pytest.mark.slow
def test_train_then_render_chunks_without_retraining(tmp_path):
    shot = make_shot(tmp_path / "s", n=6, steps=3, preset="paper")
    train = run_cli("train", str(shot.shot_file), "--steps", "2")  # a farm's Train step may carry its own count
    assert train.returncode == 0, train.stderr
    assert not any(shot.out(f).exists() for f in shot.frames), "train writes no frames"
    ckpt = shot.work / "checkpoint.pt"
    stamp = ckpt.stat().st_mtime_ns

    first = run_cli("render", str(shot.shot_file), "--frames", "1001-1003")
    assert first.returncode == 0, first.stderr
    assert [shot.out(f).exists() for f in shot.frames] == [True] * 3 + [False] * 3
    assert ckpt.stat().st_mtime_ns == stamp, "a chunk render must not retrain or rewrite the checkpoint"
    assert "training step" not in first.stdout

    written = {f: shot.out(f).stat().st_mtime_ns for f in shot.frames[:3]}
    again = run_cli("render", str(shot.shot_file), "--frames", "1001-1006")
    assert again.returncode == 0, again.stderr
    assert all(shot.out(f).exists() for f in shot.frames)
    assert {f: shot.out(f).stat().st_mtime_ns for f in shot.frames[:3]} == written, "existing frames are skipped"
    assert "skipped 3 already written" in again.stdout


def test_render_chunk_without_training_is_refused(tmp_path):
    shot = make_shot(tmp_path / "s", n=6, steps=3, preset="paper")
    proc = run_cli("render", str(shot.shot_file), "--frames", "1001-1002")
    assert proc.returncode == 5, proc.stderr
    assert "renderer train" in proc.stderr
    assert not any(shot.out(f).exists() for f in shot.frames)


@pytest.mark.slow
def test_a_chunk_after_train_refuses_a_checkpoint_made_for_other_mattes(tmp_path):
    shot = make_shot(tmp_path / "s", n=4, steps=2, preset="paper")
    assert run_cli("train", str(shot.shot_file)).returncode == 0
    first = shot.frames[0]
    pixels = read_exr(shot.matte(first))[0]
    pixels[:4, :4] = 1.0  # the artist moved the roto after training
    write_exr(shot.matte(first), pixels, ("A",))
    proc = run_cli("render", str(shot.shot_file), "--frames", f"{first}-{first}", "--steps", "9")
    assert proc.returncode == 5, proc.stderr
    assert "different shot" in proc.stderr and not shot.out(first).exists()
