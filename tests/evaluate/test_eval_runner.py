"""The runner, report and ``renderer evaluate`` command, end to end on a tiny clip."""

import json
import types

import numpy as np
import OpenImageIO as oiio
import pytest
from click.testing import CliRunner
from eval_helpers import panning_clip

from renderer.evaluate import baselines, cli
from renderer.evaluate.errors import MethodError
from renderer.evaluate.methods import method_names
from renderer.evaluate.report import write_report
from renderer.evaluate.runner import EtaModel, EvaluationConfig, ShotSpec, contact_indices, run_evaluation


@pytest.fixture()
def plate(tmp_path):
    frames = panning_clip(6, 32, 64, dx=2, seed=4) ** 2.2
    for i, f in enumerate(frames):
        path = str(tmp_path / f"plate.{i + 1:04d}.exr")
        spec = oiio.ImageSpec(64, 32, 3, "float")
        out = oiio.ImageOutput.create(path)
        out.open(path, spec)
        out.write_image(np.ascontiguousarray(f))
        out.close()
    return str(tmp_path / "plate.####.exr")


@pytest.fixture()
def fake_inpaint(monkeypatch):
    """Stand-in for renderer.api.inpaint: snapshots a black fill, then a Telea fill, and returns that."""
    calls = []

    def inpaint(frames, holes, *, preset, steps, device, seed, callbacks):
        calls.append(dict(preset=preset, steps=steps, device=device, seed=seed))
        if preset == "dip-frame":
            raise RuntimeError("boom")
        out = baselines.telea(frames, holes)
        from renderer.callbacks import Progress

        callbacks.on_progress(Progress(steps // 2, steps, 0.1, 1.0, 1.0, "train"))
        callbacks.on_snapshot(steps // 2, 1.5, np.where(holes[..., None], 0.0, frames))
        callbacks.on_snapshot(steps, 3.0, out)
        return types.SimpleNamespace(frames=out, steps=steps, train_seconds=3.0, kept="network")

    monkeypatch.setattr("renderer.api.inpaint", inpaint)
    return calls


def _config(plate, methods, **kw):
    shots = (ShotSpec(clip=plate, matte="blob"), ShotSpec(clip=plate, matte="wire"))
    return EvaluationConfig(shots=shots, methods=tuple(methods), frames=6, height=32, width=64,
                            steps={"*": 8, "paper": 10}, snapshot_every=4, contact_frames=2, **kw)


def test_run_and_report(plate, fake_inpaint, tmp_path):
    events = []
    res = run_evaluation(_config(plate, ["telea", "flowprop", "paper", "dip-vid", "dip-frame"]),
                         on_event=events.append)
    assert [c["preset"] for c in fake_inpaint] == ["paper", "dip-vid", "dip-frame"] * 2
    assert [c["steps"] for c in fake_inpaint[:2]] == [10, 8]
    assert len(res.results) == 10
    paper = res.result("plate/blob", "paper")
    assert [p.step for p in paper.curve] == [5, 10] and paper.steps == 10 and paper.train_seconds == 3.0
    assert paper.curve[0].hole_psnr < paper.curve[1].hole_psnr  # the black-hole snapshot is worse
    telea = res.result("plate/blob", "telea")
    assert paper.quality["hole_psnr"] == pytest.approx(telea.quality["hole_psnr"])
    assert telea.wall_seconds > 0 and telea.peak_rss_mib > 0 and len(telea.curve) == 1
    assert all(r.quality["known_changed_fraction"] == 0 for r in res.results if not r.error)
    failed = res.result("plate/wire", "dip-frame")
    assert failed.error.startswith("RuntimeError: boom")
    assert {r.method for r in res.failures} == {"dip-frame"}
    # progress: every (shot, method) starts and ends, with time left
    starts = [(e.shot_index, e.method) for e in events if e.message == "start"]
    assert len(starts) == 10
    assert all(e.total_eta is not None and e.total_eta >= 0 for e in events)
    assert events[-1].total_eta == 0.0

    paths = write_report(res, str(tmp_path / "report"), command="renderer evaluate ...")
    data = json.loads(open(paths["json"]).read())  # strict JSON: no NaN/Infinity
    assert len(data["results"]) == 10 and len(data["shots"]) == 2
    assert data["shots"][0]["gt_warp_error"] >= 0
    row = next(r for r in data["results"] if r["method"] == "flowprop" and r["shot"] == "plate/blob")
    assert set(row) >= {"hole_psnr", "hole_ssim", "warp_error", "known_changed_fraction", "wall_seconds",
                        "peak_rss_mib", "curve", "detail"}
    assert 0 < row["detail"] < 10
    text = open(paths["report"]).read()
    assert "| hole PSNR dB | hole SSIM | detail | warp err ×10⁻³ |" in text
    results = text[text.index("## Results"):text.index("## Quality")]
    table = [line for line in results.splitlines() if line.startswith("| plate/")]
    assert len(table) == 12  # 5 methods and the floor, for each of the 2 shots
    assert {line.count("|") for line in table} == {13}  # failed and floor rows keep the 12 columns
    assert "| plate/blob | flowprop |" in text and "failed: RuntimeError" in text
    assert "| 10, kept network |" in text and data["results"][0]["kept"] is None  # a baseline keeps nothing
    assert "curves.png" in text and "contact_plate_blob.png" in text
    sheet = oiio.ImageBuf(paths["contact plate/blob"])
    assert sheet.spec().width >= 7 * 200  # input + 5 methods + ground truth, 240 px panels
    assert oiio.ImageBuf(paths["curves"]).spec().width > 500


def test_unknown_method_fails_before_any_work(plate):
    with pytest.raises(MethodError, match="unknown method 'magic'"):
        run_evaluation(_config(plate, ["telea", "magic"]))


def test_cli_runs_baselines_and_prints_progress(plate, tmp_path):
    out = tmp_path / "ev"
    result = CliRunner().invoke(cli.evaluate, ["--clip", plate, "--matte", "blob", "--matte", "logo",
                                               "--methods", "telea,flowprop", "--frames", "5", "--size", "32x64",
                                               "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "report.md").is_file() and (out / "results.json").is_file()
    assert (out / "contact_plate_logo.png").is_file()
    assert "[shot 2/2 plate/logo] [method 2/2 flowprop]" in result.output
    assert "left" in result.output


def test_cli_runs_the_measuring_baselines_with_the_detail_column(plate, tmp_path):
    out = tmp_path / "ev"
    result = CliRunner().invoke(cli.evaluate, ["--shot", f"{plate}:blob", "--methods", "propagation,temporal-nearest",
                                               "--frames", "5", "--size", "32x64", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    rows = {r["method"]: r for r in data["results"]}
    assert set(rows) == {"propagation", "temporal-nearest"}
    for r in rows.values():
        assert r["error"] is None and r["known_changed_fraction"] == 0 and r["detail"] > 0
    text = (out / "report.md").read_text()
    assert "| plate/blob | propagation |" in text and "| plate/blob | temporal-nearest |" in text


def test_the_new_baselines_are_listed():
    assert {"propagation", "temporal-nearest"} <= set(method_names())
    assert set(baselines.BASELINES) == set(cli.BASELINE_NAMES)
    text = CliRunner().invoke(cli.evaluate, ["--help"]).output
    assert all(name in text for name in baselines.BASELINES)


def test_cli_shot_pairs_a_clip_with_its_own_matte(plate, tmp_path):
    out = tmp_path / "ev"
    result = CliRunner().invoke(cli.evaluate, ["--shot", f"{plate}@1:wire", "--methods", "telea", "--frames", "4",
                                               "--size", "32x64", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert [s["shot"] for s in data["shots"]] == ["plate/wire"] and data["shots"][0]["start"] == 1
    bad = CliRunner().invoke(cli.evaluate, ["--shot", "clip.mp4", "--out", str(out)])
    assert bad.exit_code == 2 and "PATH[@START]:MATTE" in bad.output
    none = CliRunner().invoke(cli.evaluate, ["--out", str(out)])
    assert none.exit_code == 2 and "--clip" in none.output


def test_cli_exit_codes(plate, tmp_path, fake_inpaint):
    runner = CliRunner()
    bad = runner.invoke(cli.evaluate, ["--clip", plate, "--size", "32by64", "--out", str(tmp_path / "a")])
    assert bad.exit_code == 2 and "HEIGHTxWIDTH" in bad.output
    failed = runner.invoke(cli.evaluate, ["--clip", plate, "--matte", "blob", "--methods", "telea,dip-frame",
                                          "--frames", "4", "--size", "32x64", "--quiet", "--out", str(tmp_path / "b")])
    assert failed.exit_code == 7 and "1 run(s) failed" in failed.output
    assert (tmp_path / "b" / "results.json").is_file()  # the numbers are still written


def test_option_parsers():
    assert cli.parse_steps(("500", "dip-frame=2500,paper=1000")) == {"*": 500, "dip-frame": 2500, "paper": 1000}
    assert cli.parse_clip("a/b.mp4@40") == ("a/b.mp4", 40)
    assert cli.parse_clip("a/b@c.mp4") == ("a/b@c.mp4", 0)
    assert cli.parse_size("96x192") == (96, 192)
    assert cli.format_seconds(3725) == "1h02m" and cli.format_seconds(75) == "1m15s"
    assert contact_indices(24, 3) == [4, 12, 20]


def test_eta_learns_from_measured_runs():
    eta = EtaModel()
    method = types.SimpleNamespace(name="paper", kind="preset", expected_steps=lambda: 100)
    prior = eta.predict(method, 24, 96 * 192)
    eta.record("paper", 50.0, eta.units(method, 24, 96 * 192))
    assert eta.predict(method, 24, 96 * 192) == pytest.approx(50.0)
    assert eta.predict(method, 24, 2 * 96 * 192) == pytest.approx(100.0)
    assert prior != pytest.approx(50.0)


@pytest.mark.slow
def test_a_real_preset_runs_through_the_harness(plate):
    res = run_evaluation(EvaluationConfig(shots=(ShotSpec(clip=plate, matte="blob"),), methods=("dip-vid",),
                                          frames=6, height=32, width=64, steps={"*": 2}, snapshot_every=1))
    r = res.results[0]
    assert r.error is None, r.error
    assert r.steps == 2 and [p.step for p in r.curve] == [1, 2]
    assert r.quality["known_changed_fraction"] == 0.0
