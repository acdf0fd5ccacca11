"""The generator: Deep Image Prior's skip encoder-decoder with two heads.

As in Zhang et al. 2019 (``docs/method.md#generator``): per level a 1x1 skip
path and a down path of two 5x5 convs (the first stride 2), then after the deeper
level a x2 nearest upsample, concat with the skip, BN, 3x3 conv, 1x1 conv. BN +
LeakyReLU(0.2) after every conv, reflection padding, biases on. An RGB head
(sigmoid) and a flow head (12 linear channels = 6 neighbours x (dx, dy), in units
of the per-stride max flow).

BatchNorm always normalises with the current batch's statistics
(``track_running_stats=False``): the paper never switches to eval mode, and this
makes that behaviour independent of ``.train()``/``.eval()``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ShapeError

FLOW_NEIGHBOURS = ((1, 1), (1, -1), (3, 1), (3, -1), (5, 1), (5, -1))  # (stride, direction)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, track_running_stats=False)


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    pad = (k - 1) // 2
    layers: list[nn.Module] = [nn.ReflectionPad2d(pad)] if pad else []
    layers.append(nn.Conv2d(cin, cout, k, stride=stride, bias=True))
    return nn.Sequential(*layers)


def _block(cin: int, cout: int, k: int, stride: int = 1) -> list[nn.Module]:
    return [_conv(cin, cout, k, stride), _bn(cout), nn.LeakyReLU(0.2, inplace=True)]


class _Level(nn.Module):
    def __init__(self, cin: int, channels: tuple[int, ...], skip: int):
        super().__init__()
        down = channels[0]
        self.skip = nn.Sequential(*_block(cin, skip, 1)) if skip else None
        self.down = nn.Sequential(*_block(cin, down, 5, 2), *_block(down, down, 5))
        self.deeper = _Level(down, channels[1:], skip) if len(channels) > 1 else None
        k = self.deeper.out_channels if self.deeper is not None else down
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        merged = skip + k
        self.merge = nn.Sequential(_bn(merged), *_block(merged, down, 3), *_block(down, down, 1))
        self.out_channels = down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.down(x)
        if self.deeper is not None:
            y = self.deeper(y)
        y = self.up(y)
        if self.skip is not None:
            y = torch.cat([self.skip(x), y], dim=1)
        return self.merge(y)


class SkipNet(nn.Module):
    """(B, in_channels, H, W) -> rgb (B, 3, H, W) in [0, 1], flow (B, 12, H, W).

    With ``residual`` the RGB head is linear and added to the input's first three
    channels (a pre-filled frame), so an untrained net returns its input.

    H and W must be multiples of 2**levels and at least 3 * 2**levels (see ``padded_size``).
    """

    def __init__(self, in_channels: int = 1, channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128),
                 skip: int = 4, flow_head: bool = True, residual: bool = False):
        super().__init__()
        self.levels = len(channels)
        self.residual = residual
        self.body = _Level(in_channels, tuple(channels), skip)
        self.rgb = nn.Conv2d(channels[0], 3, 1)
        if residual:  # start as the identity on the pre-filled input
            nn.init.zeros_(self.rgb.weight)
            nn.init.zeros_(self.rgb.bias)
        self.flow = nn.Conv2d(channels[0], 2 * len(FLOW_NEIGHBOURS), 1) if flow_head else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if x.ndim != 4:
            raise ShapeError(f"SkipNet takes (B, C, H, W), got {tuple(x.shape)}")
        unit = 2 ** self.levels
        h, w = x.shape[-2:]
        if h % unit or w % unit or h < 3 * unit or w < 3 * unit:
            raise ShapeError(f"SkipNet with {self.levels} levels needs sides that are multiples of {unit} "
                             f"and >= {3 * unit}, got {h}x{w}; pad with padded_size()")
        feat = self.body(x)
        if self.residual:  # a correction of the pre-filled frame in the input's first 3 channels
            rgb = x[:, :3] + self.rgb(feat)
        else:
            rgb = torch.sigmoid(self.rgb(feat))
        flow = self.flow(feat) if self.flow is not None else None
        return rgb, flow


def padded_size(h: int, w: int, levels: int) -> tuple[int, int]:
    """The smallest (H, W) >= (h, w) the net accepts: multiples of 2**levels, and at least
    3 * 2**levels so the deepest level keeps 3 pixels for its 5x5 reflection padding."""
    unit = 2 ** levels
    return (max(math.ceil(h / unit), 3) * unit, max(math.ceil(w / unit), 3) * unit)


def flow_channel(stride: int, direction: int) -> slice:
    """The two flow-head channels for neighbour (stride, direction)."""
    try:
        k = FLOW_NEIGHBOURS.index((stride, direction))
    except ValueError:
        raise ShapeError(f"no flow head for stride {stride}, direction {direction}") from None
    return slice(2 * k, 2 * k + 2)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
