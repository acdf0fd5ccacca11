"""One optimisation step and the sliding-window inference (pure functions of
model, data and batch; the loop in ``renderer.loop`` owns iteration and state)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from ..errors import ConfigError
from ..presets import Preset
from .losses import consistency_loss, flow_loss, masked_mean_loss, perceptual_loss, reconstruction_loss
from .model import flow_channel
from .prepare import Prepared, frame_index, network_input
from .schedule import Segment


@dataclass
class Batch:
    """The tensors of one training step, all (B, C, Hp, Wp): views into ``Prepared``, or a
    CUDA graph's static copies of them. ``x`` the network input; ``target``/``known`` the
    encoded frames and their known pixels; ``extra`` the known pixels a self-supervised
    configuration blanked (None: no extra-hole loss); ``flow_target``/``flow_weight``/
    ``hole_union`` for the flow and consistency losses at the flow sources (None: no flow
    term); ``hole`` for the perceptual loss (None: off). The rest says how to read them and
    is the same for every batch of one ``kind``."""

    x: torch.Tensor
    target: torch.Tensor
    known: torch.Tensor
    extra: torch.Tensor | None = None
    flow_target: torch.Tensor | None = None
    flow_weight: torch.Tensor | None = None
    hole_union: torch.Tensor | None = None
    hole: torch.Tensor | None = None
    src: slice = field(default_factory=lambda: slice(None))
    nbr: slice = field(default_factory=lambda: slice(None))
    channel: slice = field(default_factory=lambda: slice(0, 2))
    max_abs: float = 1.0

    TENSORS = ("x", "target", "known", "extra", "flow_target", "flow_weight", "hole_union", "hole")

    @property
    def kind(self) -> tuple:
        """What a CUDA graph of this step bakes in: shapes, which terms are on, and the
        constants (slices, flow scale) the losses read."""
        shapes = tuple(None if getattr(self, n) is None else tuple(getattr(self, n).shape) for n in self.TENSORS)
        return shapes, (self.src.start, self.src.stop), (self.nbr.start, self.nbr.stop), \
            (self.channel.start, self.channel.stop), float(self.max_abs)

    def static_copy(self) -> "Batch":
        """The same batch in buffers of its own (a graph reads its inputs from fixed addresses)."""
        return replace(self, **{n: getattr(self, n).clone() for n in self.TENSORS if getattr(self, n) is not None})

    def copy_into(self, static: "Batch") -> None:
        """Write this batch's tensors into ``static``'s buffers (device-to-device copies)."""
        for n in self.TENSORS:
            value = getattr(self, n)
            if value is not None:
                getattr(static, n).copy_(value)


def gather(prep: Prepared, seg: Segment, preset: Preset, config: int = 0, *, vgg=None) -> Batch:
    """The batch of segment ``seg`` in input configuration ``config`` (views, no copies)."""
    idx = list(seg.frames)
    sel = frame_index(idx)
    batch = Batch(x=network_input(prep, sel, preset, config), target=prep.target[sel], known=prep.known[sel])
    if preset.w_extra_hole > 0 and config > 0:
        # the known pixels this configuration blanked and pre-filled: where the correction is learnt
        batch.extra = prep.cfg_hole[config][sel] * batch.known
    if preset.use_flow and len(idx) > 1 and (seg.stride, seg.direction) in prep.flow_target:
        key = (seg.stride, seg.direction)
        n = len(idx)
        # batch positions of the flow's sources and their neighbours, and the sources' frame numbers
        batch.src, batch.nbr = (slice(0, n - 1), slice(1, n)) if seg.direction > 0 else (slice(1, n), slice(0, n - 1))
        frames_src = frame_index(idx[batch.src])
        batch.flow_target = prep.flow_target[key][frames_src]
        batch.flow_weight = prep.flow_weight[key][frames_src]
        batch.hole_union = prep.hole_union[key][frames_src]
        batch.channel = flow_channel(seg.stride, seg.direction)
        batch.max_abs = float(prep.max_abs[seg.stride])
    if vgg is not None and preset.w_perceptual > 0:
        batch.hole = prep.hole[sel]
    return batch


def step_on(model, optimizer, batch: Batch, preset: Preset, *, vgg=None, precision: str = "auto",
            autocast_cache: bool = True) -> dict[str, torch.Tensor]:
    """One Adam step on ``batch``: forward, the paper's losses, backward, update.

    Returns the loss terms as detached 0-d tensors on the device: reading them is the
    caller's choice (a host sync), so the step itself never waits for the device. Nothing
    here reads the host or allocates from it, so a CUDA graph can capture the whole step
    (then ``autocast_cache`` must be False).
    """
    optimizer.zero_grad(set_to_none=True)
    device = batch.target.device
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16(device, precision),
                        cache_enabled=autocast_cache):
        rgb, flow = model(batch.x)
    rgb = rgb.float()
    total = preset.w_recon * reconstruction_loss(rgb, batch.target, batch.known)
    parts = {"recon": total.detach()}
    if batch.extra is not None:
        l_e = masked_mean_loss(rgb, batch.target, batch.extra)
        total = total + preset.w_extra_hole * l_e
        parts["extra_hole"] = l_e.detach()
    if flow is not None and batch.flow_target is not None:
        pred = flow.float()[batch.src][:, batch.channel]
        l_f = flow_loss(pred, batch.flow_target, batch.flow_weight)
        l_c = consistency_loss(rgb[batch.src], rgb[batch.nbr], pred * batch.max_abs, batch.hole_union)
        total = total + preset.w_flow * l_f + preset.w_consistency * l_c
        parts["flow"] = l_f.detach()
        parts["consistency"] = l_c.detach()
    if vgg is not None and batch.hole is not None:
        l_p = perceptual_loss(vgg, rgb, batch.target, batch.hole)
        total = total + preset.w_perceptual * l_p
        parts["perceptual"] = l_p.detach()
    total.backward()
    optimizer.step()
    parts["total"] = total.detach()
    return parts


def train_step(model, optimizer, prep: Prepared, seg: Segment, preset: Preset, *, vgg=None,
               config: int = 0, lr: float | None = None, precision: str = "auto") -> dict[str, torch.Tensor]:
    """One eager Adam step on the batch ``seg`` (input configuration ``config``), at
    learning rate ``lr`` (None: the optimiser's own). ``precision`` "auto": on a CUDA device
    with bf16 the forward pass runs under bf16 autocast (losses stay fp32); "fp32": never;
    "bf16": always (CPU too, for tests). See ``step_on`` for what it returns."""
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    return step_on(model, optimizer, gather(prep, seg, preset, config, vgg=vgg), preset, vgg=vgg,
                   precision=precision)


PRECISIONS = ("auto", "fp32", "bf16")


def use_bf16(device: torch.device, precision: str = "auto") -> bool:
    """Whether to autocast to bf16: "auto" means on CUDA devices that have it (bf16 needs
    no loss scaling, unlike fp16)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        return device.type == "cuda" and torch.cuda.is_bf16_supported()
    return precision == "bf16"


def central_windows(n_frames: int, size: int) -> dict[int, int]:
    """For each frame, the start of the window of ``size`` consecutive frames in
    which it sits most centrally (the paper keeps each frame's central prediction)."""
    size = min(size, n_frames)
    half = size // 2
    return {i: min(max(i - half, 0), n_frames - size) for i in range(n_frames)}


@torch.no_grad()
def infer(model, prep: Prepared, preset: Preset, indices: list[int] | None = None, config: int = 0) -> torch.Tensor:
    """Sliding-window inference with batch statistics. Returns encoded RGB in [0, 1]
    (len(indices), 3, H, W) cropped to the image box."""
    n = prep.n_frames
    indices = list(range(n)) if indices is None else list(indices)
    size = min(preset.batch_frames, n) if not preset.per_frame else 1
    starts = central_windows(n, size)
    top, left, h, w = prep.box
    out: dict[int, torch.Tensor] = {}
    for start in sorted({starts[i] for i in indices}):
        window = list(range(start, start + size))
        rgb, _ = model(network_input(prep, window, preset, config))
        for k, i in enumerate(window):
            if starts[i] == start and i in indices:
                out[i] = rgb[k, :, top:top + h, left:left + w].clamp(0.0, 1.0)
    return torch.stack([out[i] for i in indices])
