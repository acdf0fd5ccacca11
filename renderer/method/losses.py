"""The paper's losses (``docs/method.md#losses``). Each is a plain mean over the whole
masked tensor, not over the mask's area: the weights 1 / 0.1 / 1 / 0.01 assume it.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ShapeError
from .warp import inbounds, warp


def _same(a: torch.Tensor, b: torch.Tensor, name: str) -> None:
    if a.shape != b.shape:
        raise ShapeError(f"{name}: shapes differ, {tuple(a.shape)} vs {tuple(b.shape)}")


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """L_r = MSE(out * known, I * known). output/target (B, 3, H, W); known (B, 1, H, W) in {0, 1}."""
    _same(output, target, "reconstruction_loss")
    return F.mse_loss(output * known, target * known)


def masked_mean_loss(output: torch.Tensor, target: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the pixels of ``region`` only (zero if it is empty).
    output/target (B, 3, H, W); region (B, 1, H, W) in {0, 1}. Unlike ``reconstruction_loss``
    it does not shrink with the region's share of the frame."""
    _same(output, target, "masked_mean_loss")
    return ((output - target) * region).pow(2).sum() / (region.sum() * output.shape[1]).clamp_min(1.0)


def flow_loss(pred: torch.Tensor, reference: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """L_f = MSE(F_hat * w, F_ref_normalised * w). pred/reference (B, 2, H, W) in units of the
    per-stride max flow; weight (B, 1, H, W) = both endpoints known and forward-backward valid."""
    _same(pred, reference, "flow_loss")
    return F.mse_loss(pred * weight, reference * weight)


def consistency_loss(current: torch.Tensor, neighbour: torch.Tensor, flow_px: torch.Tensor,
                     hole_union: torch.Tensor) -> torch.Tensor:
    """L_c = MSE(warp(I_j, F_ij) * m, stopgrad(I_i) * m), m = hole union * in-bounds.

    current I_i and neighbour I_j (B, 3, H, W); flow_px F(i->j) (B, 2, H, W) in pixels;
    hole_union (B, 1, H, W). The current frame is detached: gradients reach the
    neighbour's output and the predicted flow only.
    """
    _same(current, neighbour, "consistency_loss")
    mask = hole_union * inbounds(flow_px)
    return F.mse_loss(warp(neighbour, flow_px) * mask, current.detach() * mask)


class VGGFeatures(nn.Module):
    """VGG16 up to relu3_3 (torchvision's ``features`` indices 0-15), weights from a local file.

    Returns relu1_2, relu2_2, relu3_3. Input is BGR in [0, 1] with no ImageNet
    normalisation, as the paper's code feeds it.
    """

    CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256)
    TAPS = (3, 8, 15)

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*layers)
        for p in self.parameters():
            p.requires_grad_(False)

    @classmethod
    def from_file(cls, path: str) -> "VGGFeatures":
        if not os.path.isfile(path):
            raise ConfigError(f"perceptual_weights: {path} not found; name a local VGG16 state dict "
                              f"(torchvision layout) or leave the key out to train without the perceptual loss")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if k.startswith("features.") and int(k.split(".")[1]) <= 15}
        model = cls()
        missing = model.load_state_dict(state, strict=False).missing_keys
        if missing:
            raise ConfigError(f"perceptual_weights: {path} lacks {missing[0]} (is it a VGG16 state dict?)")
        return model

    def forward(self, bgr: torch.Tensor) -> list[torch.Tensor]:
        taps = []
        x = bgr
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.TAPS:
                taps.append(x)
        return taps


def feature_hole_masks(hole: torch.Tensor) -> list[torch.Tensor]:
    """The hole pushed through VGG16's topology with all-ones 3x3 convs and 2x2 max-pools,
    so it is dilated to each tapped feature's resolution. hole (B, 1, H, W) -> 3 masks."""
    ones = torch.ones(1, 1, 3, 3, device=hole.device, dtype=hole.dtype)
    x = hole
    out = []
    for v in VGGFeatures.CFG:
        if v == "M":
            x = F.max_pool2d(x, 2, 2)
        else:
            x = (F.conv2d(x, ones, padding=1) > 0).to(hole.dtype)
        out.append(x)
    # taps after conv index 1 (relu1_2), 4 (relu2_2), 8 (relu3_3) in CFG order
    return [out[1], out[4], out[8]]


def perceptual_loss(vgg: VGGFeatures, output_rgb: torch.Tensor, target_rgb: torch.Tensor,
                    hole: torch.Tensor) -> torch.Tensor:
    """L_p = sum over relu1_2/2_2/3_3 of MSE(phi(out) * (1 - psi(hole)), phi(I) * (1 - psi(hole)))."""
    _same(output_rgb, target_rgb, "perceptual_loss")
    to_bgr = [2, 1, 0]
    feats_o = vgg(output_rgb[:, to_bgr])
    with torch.no_grad():
        feats_t = vgg(target_rgb[:, to_bgr])
    total = output_rgb.new_zeros(())
    for fo, ft, m in zip(feats_o, feats_t, feature_hole_masks(hole)):
        keep = 1.0 - m
        total = total + F.mse_loss(fo * keep, ft * keep)
    return total
