"""Turn frames and holes into the tensors one training run needs.

Everything here happens once per run, before the first step: encoding into the
training space, padding to a size the network accepts, the fixed noise input,
and, per (stride, direction), the normalised reference flow, its weight mask and
the hole union used by the consistency loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .colour import encode
from .errors import ShapeError
from .flow import ReferenceFlow, sample
from .model import padded_size
from .presets import Preset

NOISE_SCALE = 0.1


@dataclass
class Prepared:
    """Tensors on the training device. Spatial size is the padded (Hp, Wp); the
    image sits at ``box`` = (top, left, H, W) inside it.

    target (F, 3, Hp, Wp) encoded frames; known (F, 1, ..) 1 on known image pixels;
    hole (F, 1, ..) 1 in the hole; noise (F, 1, ..) the fixed U(0, 0.1) input;
    masked (F, 3, ..) the encoded frame with the hole blanked (or pre-filled by a prior);
    flow_target/flow_weight/hole_union keyed by (stride, direction).
    """

    target: torch.Tensor
    known: torch.Tensor
    hole: torch.Tensor
    noise: torch.Tensor
    masked: torch.Tensor | None
    box: tuple[int, int, int, int]
    flow_target: dict = field(default_factory=dict)
    flow_weight: dict = field(default_factory=dict)
    hole_union: dict = field(default_factory=dict)
    max_abs: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return self.target.shape[0]


def _pad(a: np.ndarray, top: int, left: int, hp: int, wp: int, mode: str) -> np.ndarray:
    """Pad the two spatial axes (1, 2) of (F, H, W, ...) to (Hp, Wp)."""
    h, w = a.shape[1:3]
    widths = [(0, 0), (top, hp - h - top), (left, wp - w - left)] + [(0, 0)] * (a.ndim - 3)
    if mode == "reflect" and (hp - h > h - 1 or wp - w > w - 1):
        mode = "symmetric" if (hp - h <= 2 * h and wp - w <= 2 * w) else "edge"
    return np.pad(a, widths, mode=mode)


def _to(a: np.ndarray, device: torch.device) -> torch.Tensor:
    """(F, H, W[, C]) numpy -> (F, C, H, W) float32 tensor on ``device``."""
    t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    if t.ndim == 3:
        t = t.unsqueeze(1)
    else:
        t = t.permute(0, 3, 1, 2)
    return t.contiguous().to(device)


def prepare(frames_linear: np.ndarray, holes: np.ndarray, preset: Preset, ref: ReferenceFlow | None,
            device: torch.device, seed: int, prior_linear: np.ndarray | None = None) -> Prepared:
    """frames (F, H, W, 3) scene-linear float32, holes bool (F, H, W) -> ``Prepared``."""
    if frames_linear.ndim != 4 or frames_linear.shape[-1] != 3:
        raise ShapeError(f"frames must be (F, H, W, 3), got {frames_linear.shape}")
    if holes.shape != frames_linear.shape[:3]:
        raise ShapeError(f"holes {holes.shape} must match frames {frames_linear.shape[:3]}")
    n, h, w = holes.shape
    hp, wp = padded_size(h, w, len(preset.channels))
    top, left = (hp - h) // 2, (wp - w) // 2
    enc = encode(frames_linear)
    inside = np.zeros((n, hp, wp), np.float32)
    inside[:, top:top + h, left:left + w] = 1.0
    hole_p = _pad(holes.astype(np.float32), top, left, hp, wp, "constant")
    known_p = inside * (1.0 - hole_p)
    enc_p = _pad(enc, top, left, hp, wp, "reflect")

    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, 1, hp, wp, generator=gen) * NOISE_SCALE

    masked = None
    if preset.input_mode == "masked":
        fill = encode(prior_linear) if prior_linear is not None else np.zeros_like(enc)
        base = np.where(holes[..., None], fill, enc)
        masked = _to(_pad(base, top, left, hp, wp, "reflect"), device)

    prep = Prepared(target=_to(enc_p, device), known=_to(known_p, device), hole=_to(hole_p, device),
                    noise=noise.to(device), masked=masked, box=(top, left, h, w))
    if ref is None or not preset.use_flow:
        return prep
    for (s, d), flows in ref.flows.items():
        m = ref.max_abs[s]
        valid = ref.valid[(s, d)]
        # hole_i U warp(hole_j, F_ref(i->j)) > 0, for every frame i that has a neighbour j = i + d*s
        union = np.zeros((n, h, w), np.float32)
        for i in range(n):
            j = i + d * s
            if 0 <= j < n:
                warped = sample(holes[j].astype(np.float32), flows[i])
                union[i] = np.maximum(holes[i], warped > 0)
        weight = (1.0 - union) * valid
        prep.flow_target[(s, d)] = _to(_pad(flows / m, top, left, hp, wp, "constant"), device)
        prep.flow_weight[(s, d)] = _to(_pad(weight, top, left, hp, wp, "constant"), device)
        prep.hole_union[(s, d)] = _to(_pad(union, top, left, hp, wp, "constant"), device)
        prep.max_abs[s] = m
    return prep


def network_input(prep: Prepared, idx: list[int], preset: Preset,
                  extra_hole: torch.Tensor | None = None) -> torch.Tensor:
    """The generator's input for frames ``idx``: the fixed noise map, or for the
    ``masked`` mode [masked frame, hole, noise]. ``extra_hole`` (B, 1, Hp, Wp) blanks
    more pixels for self-supervision (the loss still sees them as known)."""
    noise = prep.noise[idx]
    if preset.input_mode != "masked":
        return noise
    hole = prep.hole[idx]
    rgb = prep.masked[idx]
    if extra_hole is not None:
        hole = torch.maximum(hole, extra_hole)
        rgb = rgb * (1.0 - extra_hole)
    return torch.cat([rgb, hole, noise], dim=1)


def input_channels(preset: Preset) -> int:
    return 5 if preset.input_mode == "masked" else 1
