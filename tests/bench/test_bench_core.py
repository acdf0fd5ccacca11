"""FLOP counting, the matmul peak, one timed configuration, and the ``renderer bench`` command."""

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from renderer.bench import cli
from renderer.bench.core import (TRAIN_FLOPS_FACTOR, BenchConfig, bench_config, build_step, conv_flops,
                                 conv_forward_flops, matmul_peak)
from renderer.bench.errors import BenchError
from renderer.bench.suite import BenchPlan
from renderer.errors import RendererError


def test_conv_flops_are_counted_analytically():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 5, stride=2, padding=2),
                        nn.Conv2d(4, 4, 1, groups=2), nn.BatchNorm2d(4))
    x = torch.zeros(2, 3, 10, 12)
    expected = (2 * 3 * 9 * 8 * 10 * 12 * 2      # 3x3, full size
                + 2 * 8 * 25 * 4 * 5 * 6 * 2     # 5x5 stride 2 -> 5x6
                + 2 * 2 * 1 * 4 * 5 * 6 * 2)     # 1x1, 2 groups: 2 inputs per output
    assert conv_flops(net, x) == expected
    assert conv_forward_flops(nn.Conv2d(16, 32, 3), (1, 32, 7, 7)) == 2 * 16 * 9 * 32 * 49
    with pytest.raises(BenchError):
        conv_flops(nn.Sequential(nn.ReLU()), x)


def test_matmul_peak_is_positive_and_guarded():
    peak = matmul_peak(torch.device("cpu"), size=128, repeats=2)
    assert peak.flops > 1e6 and peak.size == 128 and peak.dtype == "float32"
    with pytest.raises(BenchError):
        matmul_peak(torch.device("cpu"), size=4)


def test_one_configuration_measures_the_real_training_step():
    cfg = BenchConfig(preset="preview", frames=3, batch=2, height=48, width=96, steps=2, warmup=0)
    row = bench_config(cfg, torch.device("cpu"), probe_size=256)
    assert row.error is None
    assert row.working == (96, 96)  # the 5-level net pads small frames up to 3 * 2**5
    assert row.parameters > 1_000_000
    assert len(row.step_times) == 2 and row.seconds_per_step > 0
    assert row.frames_per_second == pytest.approx(2 * row.steps_per_second)
    step, model, batch, _ = build_step(cfg, torch.device("cpu"))
    assert row.flops_per_step == TRAIN_FLOPS_FACTOR * conv_flops(model, batch)
    assert 0 < row.peak_fraction < 5  # a ratio, not an absolute
    assert row.peak_rss_mib > 0 and row.cuda_peak_mib is None


def test_training_step_changes_the_weights():
    step, model, _, _ = build_step(BenchConfig(preset="preview", frames=2, batch=1, height=48, width=96),
                                   torch.device("cpu"))
    before = model.rgb.weight.detach().clone()
    step()
    assert not torch.equal(before, model.rgb.weight)


def test_precision_is_what_the_row_says():
    """"fp32" must not be silently autocast (train_step autocasts to bf16 on CUDA by default)."""
    from renderer.method.step import use_bf16

    cpu = torch.device("cpu")
    assert not use_bf16(cpu) and not use_bf16(cpu, "fp32") and use_bf16(cpu, "bf16")
    assert not use_bf16(torch.device("cuda"), "fp32")
    with pytest.raises(RendererError, match="precision must be one of"):
        use_bf16(cpu, "fp16")
    weights = {}
    for amp in ("fp32", "bf16"):
        step, model, _, _ = build_step(BenchConfig(preset="preview", frames=2, batch=1, height=48, width=96, amp=amp),
                                       cpu)
        step()
        weights[amp] = model.rgb.weight.detach().clone()
    assert not torch.equal(weights["fp32"], weights["bf16"])  # same seed: only the numerics differ


def test_plan_shapes_and_guards():
    plan = BenchPlan(base=BenchConfig(frames=8, batch=5), presets=("paper", "dip-vid"), batches=(1, 5),
                     scale_frames=(8, 16), scale_sizes=((96, 192),))
    cpu = plan.configs(torch.device("cpu"))
    assert [t for t, _ in cpu] == ["throughput"] * 4 + ["scaling-frames"] * 2 + ["scaling-size"]
    cuda = plan.configs(torch.device("cuda"))
    precision = [c for t, c in cuda if t == "precision"]
    assert {(c.amp, c.channels_last) for c in precision} == {("fp32", False), ("fp32", True), ("bf16", False),
                                                               ("bf16", True)}
    compiled = [c for t, c in BenchPlan(base=BenchConfig(frames=8), compiled=True).configs(torch.device("cuda"))
                if c.compiled]
    assert [(c.amp, c.channels_last) for c in compiled] == [("bf16", True)]
    assert not [c for _, c in BenchPlan(compiled=True).configs(torch.device("cpu")) if c.compiled]
    with pytest.raises(BenchError) as info:
        BenchPlan(base=BenchConfig(frames=4), batches=(5,)).configs(torch.device("cpu"))
    assert isinstance(info.value, RendererError)
    with pytest.raises(BenchError):
        bench_config(BenchConfig(amp="fp8"), torch.device("cpu"))


@pytest.mark.slow
def test_cli_writes_table_json_and_plot(tmp_path):
    result = CliRunner().invoke(cli.bench, ["--preset", "preview", "--size", "48x96", "--frames", "2", "--batch", "1",
                                            "--batches", "1", "--scale-frames", "2", "--scale-sizes", "48x96",
                                            "--steps", "1", "--warmup", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "| throughput | preview |" in result.output and "of peak" in result.output
    data = json.loads((tmp_path / "bench.json").read_text())
    assert [r["table"] for r in data["rows"]] == ["throughput", "scaling-frames", "scaling-size"]
    assert data["matmul_peak"]["fp32"]["flops"] > 0
    assert (tmp_path / "bench_scaling.png").stat().st_size > 10_000
    bad = CliRunner().invoke(cli.bench, ["--device", "tpu", "--batches", "1"])
    assert bad.exit_code != 0 and "unknown device" in bad.output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_mixed_precision_and_channels_last():
    for amp, cl in (("fp32", False), ("bf16", True)):
        row = bench_config(BenchConfig(preset="paper", frames=6, batch=5, amp=amp, channels_last=cl, steps=2),
                           torch.device("cuda"))
        assert row.cuda_peak_mib > 0 and row.seconds_per_step > 0 and 0 < row.peak_fraction < 2


def test_normalize_uses_the_best_probe_of_the_run():
    from renderer.bench.core import BenchRow
    from renderer.bench.suite import BenchResults, normalize

    def row(flops, fraction, probes, amp="fp32"):
        return BenchRow(config={"amp": amp}, device="cpu", flops_per_step=flops, peak_fraction=fraction,
                        probe_flops=probes)

    a, b, c = row(10e9, 0.25, [20e9, 40e9]), row(20e9, 0.5, [10e9]), row(5e9, 0.5, [100e9], amp="bf16")
    results = BenchResults(device="cpu", environment={}, peak={}, rows=[("t", a), ("t", b), ("t", c)])
    normalize(results)
    assert a.normalized_seconds_per_step == pytest.approx(10e9 / (0.25 * 40e9))
    assert b.normalized_seconds_per_step == pytest.approx(20e9 / (0.5 * 40e9))
    assert c.normalized_seconds_per_step == pytest.approx(5e9 / (0.5 * 100e9))  # per dtype
