"""Small differentiable image operators (torch), as the paper's code defines them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..errors import ShapeError

INBOUNDS_THRESHOLD = 0.999


def _grid(flow: torch.Tensor) -> torch.Tensor:
    b, _, h, w = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype).view(1, h, 1).expand(b, h, w)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype).view(1, 1, w).expand(b, h, w)
    gx = (xs + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (ys + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    return torch.stack([gx, gy], dim=-1)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(x) = image(x + flow(x)), bilinear, zeros outside.

    image (B, C, H, W); flow (B, 2, H, W) in pixels, channel 0 = dx, 1 = dy.
    Coordinates are normalised by (W - 1) and (H - 1): ``align_corners=True``,
    the PyTorch 1.0 semantics the paper's code relies on.
    """
    if image.ndim != 4 or flow.ndim != 4 or flow.shape[1] != 2 or image.shape[0] != flow.shape[0] \
            or image.shape[-2:] != flow.shape[-2:]:
        raise ShapeError(f"warp needs image (B,C,H,W) and flow (B,2,H,W) of the same B, H, W; "
                         f"got {tuple(image.shape)} and {tuple(flow.shape)}")
    return F.grid_sample(image, _grid(flow), mode="bilinear", padding_mode="zeros", align_corners=True)


def inbounds(flow: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) float mask: 1 where x + flow(x) samples inside the frame (warped ones > 0.999)."""
    ones = torch.ones(flow.shape[0], 1, *flow.shape[-2:], device=flow.device, dtype=flow.dtype)
    return (warp(ones, flow) > INBOUNDS_THRESHOLD).to(flow.dtype)


def fb_consistent(forward: torch.Tensor, backward: torch.Tensor) -> torch.Tensor:
    """Forward-backward check (B, 1, H, W) bool: exp(-||f + b(x+f)||^2 / 2) > 0.5.

    forward F(i->j) and backward F(j->i), each (B, 2, H, W) in pixels.
    """
    if forward.shape != backward.shape:
        raise ShapeError(f"fb_consistent: flows differ in shape {tuple(forward.shape)} vs {tuple(backward.shape)}")
    residual = forward + warp(backward, forward)
    return torch.exp(-(residual ** 2).sum(dim=1, keepdim=True) / 2.0) > 0.5
