"""One optimisation step and the sliding-window inference (pure functions of
model, data and batch; the loop in ``engine`` owns iteration and state)."""

from __future__ import annotations

import torch

from .errors import ConfigError
from .losses import consistency_loss, flow_loss, masked_mean_loss, perceptual_loss, reconstruction_loss
from .model import flow_channel
from .prepare import Prepared, frame_index, network_input
from .presets import Preset
from .schedule import Segment


def train_step(model, optimizer, prep: Prepared, seg: Segment, preset: Preset, *, vgg=None,
               config: int = 0, lr: float | None = None, precision: str = "auto") -> dict[str, torch.Tensor]:
    """One Adam step on the batch ``seg`` (input configuration ``config``).

    Returns the loss terms as detached 0-d tensors on the device: reading them is the
    caller's choice (a host sync), so the step itself never waits for the device.
    ``precision`` "auto": on a CUDA device with bf16 the forward pass runs under bf16
    autocast (losses stay fp32); "fp32": never; "bf16": always (CPU too, for tests).
    """
    idx = list(seg.frames)
    sel = frame_index(idx)
    if lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = lr
    optimizer.zero_grad(set_to_none=True)
    device = prep.target.device
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16(device, precision)):
        rgb, flow = model(network_input(prep, sel, preset, config))
    rgb = rgb.float()
    flow = flow.float() if flow is not None else None
    target, known = prep.target[sel], prep.known[sel]
    total = preset.w_recon * reconstruction_loss(rgb, target, known)
    parts = {"recon": total.detach()}
    if preset.w_extra_hole > 0 and config > 0:
        # the known pixels this configuration blanked and pre-filled: where the correction is learnt
        l_e = masked_mean_loss(rgb, target, prep.cfg_hole[config][sel] * known)
        total = total + preset.w_extra_hole * l_e
        parts["extra_hole"] = l_e.detach()
    if preset.use_flow and flow is not None and len(idx) > 1 and (seg.stride, seg.direction) in prep.flow_target:
        key = (seg.stride, seg.direction)
        n = len(idx)
        # batch positions of the flow's sources and their neighbours, and the sources' frame numbers
        src, nbr = (slice(0, n - 1), slice(1, n)) if seg.direction > 0 else (slice(1, n), slice(0, n - 1))
        frames_src = frame_index(idx[src])
        pred = flow[src][:, flow_channel(seg.stride, seg.direction)]
        l_f = flow_loss(pred, prep.flow_target[key][frames_src], prep.flow_weight[key][frames_src])
        l_c = consistency_loss(rgb[src], rgb[nbr], pred * prep.max_abs[seg.stride], prep.hole_union[key][frames_src])
        total = total + preset.w_flow * l_f + preset.w_consistency * l_c
        parts["flow"] = l_f.detach()
        parts["consistency"] = l_c.detach()
    if vgg is not None and preset.w_perceptual > 0:
        l_p = perceptual_loss(vgg, rgb, target, prep.hole[sel])
        total = total + preset.w_perceptual * l_p
        parts["perceptual"] = l_p.detach()
    total.backward()
    optimizer.step()
    parts["total"] = total.detach()
    return parts


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
