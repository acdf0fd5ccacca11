"""``renderer.colour``'s transfer functions on torch tensors, for work that stays on the device
(the GPU propagation, the held-out checks). Same constants, same float32 results to rounding."""

from __future__ import annotations

import torch

from .colour import TOE_CUT_ENCODED, TOE_CUT_LINEAR, TOE_OFFSET, TOE_SLOPE


def encode(x: torch.Tensor) -> torch.Tensor:
    """Scene-linear -> ACEScct clipped to [0, 1] (``colour.encode``)."""
    log = (torch.log2(x.clamp(min=TOE_CUT_LINEAR)) + 9.72) / 17.52
    return torch.where(x <= TOE_CUT_LINEAR, TOE_SLOPE * x + TOE_OFFSET, log).clamp(0.0, 1.0)


def decode(y: torch.Tensor) -> torch.Tensor:
    """ACEScct -> scene-linear (``colour.decode``)."""
    lin = torch.exp2(y.clamp(max=2.0) * 17.52 - 9.72)
    return torch.where(y <= TOE_CUT_ENCODED, (y - TOE_OFFSET) / TOE_SLOPE, lin)


def display_like(x: torch.Tensor) -> torch.Tensor:
    """Scene-linear -> the sRGB transfer, highlights kept (``colour.display_like``)."""
    x = x.clamp(min=0.0)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=1e-12) ** (1 / 2.4) - 0.055)


def srgb_to_linear(s: torch.Tensor) -> torch.Tensor:
    """Display sRGB -> scene-linear, above 1.0 too (``colour.srgb_to_linear``)."""
    return torch.where(s <= 0.04045, s / 12.92, ((s.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)
