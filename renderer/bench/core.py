"""Training throughput of the generator, as fractions of the device's own matmul peak.

* ``matmul_peak(device, dtype)``: the best FLOP/s of a large square ``torch.matmul``,
  measured in the same run, so achieved FLOP/s can be read as a ratio that holds on
  a noisy machine.
* ``conv_flops(model, x)``: convolution FLOPs of one forward pass, counted
  analytically with forward hooks: 2 * Cin/groups * Cout * kh * kw * Hout * Wout per
  image. A training step is counted as 3x the forward (forward, grad of the input,
  grad of the weights). BatchNorm, activations, upsampling, losses and the optimiser
  are not counted (they are a few per cent of the convolutions' FLOPs but can take
  a larger share of the time).
* ``bench_config``: builds a preset's real training step (the training loop's ``prepare`` and
  ``train_step`` on a synthetic clip) and times it.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import nn

from renderer.evaluate.resources import measure

from .errors import BenchError


# ---------------------------------------------------------------- device helpers
def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BenchError("device 'cuda' asked for, but no CUDA GPU is usable here; use --device cpu")
    if not (name == "cpu" or name.startswith("cuda")):
        raise BenchError(f"unknown device {name!r}; use cpu, cuda or auto")
    return torch.device(name)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------- peak
@dataclass(frozen=True)
class Peak:
    """Best observed matmul throughput: ``flops`` per second for ``dtype`` at ``size``."""

    dtype: str
    size: int
    flops: float
    tf32: bool = False


def matmul_peak(device: torch.device, dtype: torch.dtype = torch.float32, size: int | None = None,
                repeats: int | None = None, tf32: bool | None = None) -> Peak:
    """Time ``repeats`` (size x size) @ (size x size) products and return the best FLOP/s
    (2 size^3 per product). On CUDA, TF32 for fp32 follows ``tf32`` (default: whatever
    cuDNN convolutions use, so the ratio compares like with like)."""
    if size is None:
        size = 2048 if device.type == "cpu" else 8192
    if repeats is None:
        repeats = 5 if device.type == "cpu" else 20
    if size < 16 or repeats < 1:
        raise BenchError(f"matmul_peak needs size >= 16 and repeats >= 1, got {size}, {repeats}")
    use_tf32 = False
    previous = None
    if device.type == "cuda" and dtype == torch.float32:
        use_tf32 = torch.backends.cudnn.allow_tf32 if tf32 is None else tf32
        previous = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = use_tf32
    try:
        # drawn where they are used: on a GPU, 2 x 8192^2 host draws and copies cost a second
        # per probe, far longer than the product being timed
        gen = torch.Generator(device=device).manual_seed(0)
        a = torch.randn(size, size, generator=gen, device=device).to(dtype)
        b = torch.randn(size, size, generator=gen, device=device).to(dtype)
        torch.matmul(a, b)  # warm-up
        synchronize(device)
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.matmul(a, b)
            synchronize(device)
            best = min(best, time.perf_counter() - t0)
    finally:
        if previous is not None:
            torch.backends.cuda.matmul.allow_tf32 = previous
    return Peak(dtype=str(dtype).replace("torch.", ""), size=size, flops=2.0 * size ** 3 / best, tf32=use_tf32)


# ---------------------------------------------------------------- FLOPs
def conv_forward_flops(conv: nn.Conv2d, out_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward of ``conv`` producing ``out_shape`` (B, Cout, Hout, Wout):
    2 * Cin/groups * kh * kw per output element (a multiply and an add), bias ignored."""
    b, cout, h, w = out_shape
    kh, kw = conv.kernel_size
    return 2 * (conv.in_channels // conv.groups) * kh * kw * cout * h * w * b


def conv_flops(model: nn.Module, *inputs) -> int:
    """Convolution FLOPs of one forward of ``model(*inputs)``, counted with forward hooks
    (no gradients are recorded)."""
    total = 0

    def hook(module, _inp, out):
        nonlocal total
        total += conv_forward_flops(module, tuple(out.shape))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not handles:
        raise BenchError("the model has no Conv2d layers to count")
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total


TRAIN_FLOPS_FACTOR = 3  # forward + grad wrt input + grad wrt weights


# ---------------------------------------------------------------- one configuration
@dataclass(frozen=True)
class BenchConfig:
    """One measurement: ``preset`` trained on batches of ``batch`` frames of a ``frames``-frame
    synthetic shot at ``height`` x ``width``; ``amp`` ("fp32", or "bf16" autocast) and
    ``channels_last`` change the numerics and the memory layout; ``compiled`` runs the
    network through ``torch.compile`` (its compile time is in the warm-up, not the timing);
    ``graphs`` replays the whole step from a CUDA graph (``renderer.method.graphs``; the capture is
    in the warm-up)."""

    preset: str = "paper"
    frames: int = 24
    batch: int = 5
    height: int = 96
    width: int = 192
    steps: int = 5
    warmup: int = 2
    amp: str = "fp32"
    channels_last: bool = False
    compiled: bool = False
    graphs: bool = False

    @property
    def label(self) -> str:
        extra = "" if self.amp == "fp32" else f" {self.amp}"
        extra += " channels-last" if self.channels_last else ""
        extra += " compiled" if self.compiled else ""
        extra += " graphs" if self.graphs else ""
        return f"{self.preset} {self.height}x{self.width} F={self.frames} B={self.batch}{extra}"


@dataclass
class BenchRow:
    """What one configuration measured. ``working`` is the padded size the net runs at."""

    config: dict
    device: str
    working: tuple[int, int] = (0, 0)
    parameters: int = 0
    seconds_per_step: float = 0.0
    steps_per_second: float = 0.0
    frames_per_second: float = 0.0
    flops_per_step: float = 0.0
    achieved_flops: float = 0.0
    peak_flops: float = 0.0  # median matmul probe between the timed steps (same dtype)
    peak_fraction: float = 0.0
    peak_rss_mib: float | None = None
    peak_rss_delta_mib: float | None = None
    cuda_peak_mib: float | None = None
    step_times: list = field(default_factory=list)
    probe_flops: list = field(default_factory=list)
    normalized_seconds_per_step: float | None = None  # set by the suite: at the run's best observed peak
    error: str | None = None


def synthetic_shot(frames: int, height: int, width: int, seed: int = 0):
    """A smooth panning texture (scene-linear) and a moving elliptical hole: what the
    step's cost depends on (sizes), with flows DIS can follow."""
    import cv2

    from renderer.evaluate.mattes import blob

    rng = np.random.default_rng(seed)
    pad = 2 * frames + 8
    big = cv2.GaussianBlur(rng.random((height + pad, width + 2 * pad, 3)).astype(np.float32), (0, 0), 3)
    big = (big - big.min()) / (big.max() - big.min() + 1e-6)
    clip = np.stack([big[4:4 + height, 2 * t:2 * t + width] for t in range(frames)]) ** 2.2
    return clip.astype(np.float32), blob(frames, height, width, seed)


_AMP_DTYPES = {"fp32": None, "bf16": torch.bfloat16}


def _to_channels_last(prep) -> None:
    for name, value in list(vars(prep).items()):
        if isinstance(value, torch.Tensor) and value.ndim == 4:
            setattr(prep, name, value.contiguous(memory_format=torch.channels_last))
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, torch.Tensor) and v.ndim == 4:
                    value[k] = v.contiguous(memory_format=torch.channels_last)


def build_step(cfg: BenchConfig, device: torch.device, seed: int = 0):
    """The training loop's step for ``cfg`` -> (step(), model, input batch, preset).

    Uses ``renderer.method.prepare.prepare``, ``renderer.method.model.SkipNet`` and
    ``renderer.method.step.train_step`` exactly as the training loop does, with the schedule fixed to
    one batch of ``cfg.batch`` consecutive frames (stride 1, forward flow)."""
    from renderer.method.flow import reference_flow
    from renderer.method.graphs import GraphedSteps, capturable_adam
    from renderer.method.model import SkipNet
    from renderer.method.prepare import input_channels, network_input, prepare
    from renderer.presets import get_preset
    from renderer.method.schedule import Segment
    from renderer.method.step import train_step

    if cfg.amp not in _AMP_DTYPES:
        raise BenchError(f"amp must be one of {', '.join(_AMP_DTYPES)}, got {cfg.amp!r}")
    if cfg.batch < 1 or cfg.frames < cfg.batch:
        raise BenchError(f"need 1 <= batch <= frames, got batch {cfg.batch}, frames {cfg.frames}")
    preset = get_preset(cfg.preset)
    preset = replace(preset, batch_frames=cfg.batch, strides=tuple(s for s in preset.strides if s < cfg.frames))
    frames, holes = synthetic_shot(cfg.frames, cfg.height, cfg.width, seed)
    ref = reference_flow(frames, preset.strides) if preset.use_flow else None
    prep = prepare(frames, holes, preset, ref, device, seed)
    torch.manual_seed(seed)
    model = SkipNet(input_channels(preset), preset.channels, preset.skip_channels, flow_head=preset.use_flow)
    model = model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
        _to_channels_last(prep)
    if cfg.graphs and device.type != "cuda":
        raise BenchError("CUDA graphs need a CUDA device; drop --graphs or use --device cuda")
    start = min(cfg.frames // 2, cfg.frames - cfg.batch)
    seg = Segment(tuple(range(start, start + cfg.batch)), 1, 1, 1)
    model.train()
    runner = torch.compile(model) if cfg.compiled else model
    if cfg.graphs:
        optimizer = capturable_adam(model.parameters(), preset.lr)
        graphed = GraphedSteps(runner, optimizer, preset, precision=cfg.amp)

        def step() -> None:
            graphed(prep, seg, 0, preset.lr)
            if graphed.failure is not None:  # the training loop would go on eagerly; a row must not pass that off
                raise BenchError(f"CUDA graph capture failed ({graphed.failure}); this row would time eager steps")
        return step, model, network_input(prep, list(seg.frames), preset), preset

    optimizer = torch.optim.Adam(model.parameters(), lr=preset.lr)

    def step() -> None:
        train_step(runner, optimizer, prep, seg, preset, precision=cfg.amp)

    return step, model, network_input(prep, list(seg.frames), preset), preset


def peak_dtype(cfg: BenchConfig) -> torch.dtype:
    """The matmul dtype a configuration's convolutions mostly run in."""
    return _AMP_DTYPES[cfg.amp] or torch.float32


def bench_config(cfg: BenchConfig, device: torch.device, seed: int = 0, probe_size: int | None = None) -> BenchRow:
    """Time ``cfg.steps`` training steps after ``cfg.warmup`` and measure peak memory
    (RSS on CPU, CUDA allocator peak on CUDA) over building and stepping.

    After every timed step a short matmul probe (in the configuration's dtype) measures the
    device's peak as it is loaded at that moment; the row's fraction is the median over steps
    of (conv FLOPs / step time) / probe peak, so other work on the machine slows both alike."""
    if cfg.amp not in _AMP_DTYPES:
        raise BenchError(f"amp must be one of {', '.join(_AMP_DTYPES)}, got {cfg.amp!r}")
    if probe_size is None:
        probe_size = 1024 if device.type == "cpu" else 8192
    row = BenchRow(config=asdict(cfg), device=str(device))
    fractions, peaks = [], []
    with measure(cuda=device.type == "cuda") as usage:
        step, model, batch, _ = build_step(cfg, device, seed)
        row.working = tuple(batch.shape[-2:])
        row.parameters = sum(p.numel() for p in model.parameters())
        row.flops_per_step = float(TRAIN_FLOPS_FACTOR * conv_flops(model, batch))
        for _ in range(cfg.warmup):
            step()
        synchronize(device)
        for _ in range(cfg.steps):
            t0 = time.perf_counter()
            step()
            synchronize(device)
            dt = time.perf_counter() - t0
            probe = matmul_peak(device, peak_dtype(cfg), size=probe_size, repeats=2).flops
            row.step_times.append(dt)
            row.probe_flops.append(probe)
            peaks.append(probe)
            fractions.append(row.flops_per_step / dt / probe)
    row.seconds_per_step = float(np.median(row.step_times))
    row.steps_per_second = 1.0 / row.seconds_per_step
    row.frames_per_second = cfg.batch * row.steps_per_second
    row.achieved_flops = row.flops_per_step * row.steps_per_second
    row.peak_flops = float(np.median(peaks))
    row.peak_fraction = float(np.median(fractions))
    row.peak_rss_mib = usage.peak_rss_mib
    row.peak_rss_delta_mib = usage.peak_rss_delta_mib
    row.cuda_peak_mib = usage.cuda_peak_mib
    del step, model, batch
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row
