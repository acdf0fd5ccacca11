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

from ..colour import encode
from ..errors import ShapeError
from ..presets import Preset
from .flow import ReferenceFlow, sample
from .model import padded_size

NOISE_SCALE = 0.1


@dataclass
class Prepared:
    """Tensors on the training device. Spatial size is the padded (Hp, Wp); the
    image sits at ``box`` = (top, left, H, W) inside it.

    target (F, 3, Hp, Wp) encoded frames; known (F, 1, ..) 1 on known image pixels;
    hole (F, 1, ..) 1 in the hole; noise (F, 1, ..) the fixed U(0, 0.1) input;
    For the ``masked`` input: cfg_rgb (K, F, 3, ..) encoded frames whose holes are
    blanked or pre-filled, cfg_hole (K, F, 1, ..) those holes; configuration 0 is the
    real hole (what inference sees), the others add self-supervised extra holes.
    flow_target/flow_weight/hole_union keyed by (stride, direction).
    """

    target: torch.Tensor
    known: torch.Tensor
    hole: torch.Tensor
    noise: torch.Tensor
    cfg_rgb: torch.Tensor | None
    cfg_hole: torch.Tensor | None
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
            device: torch.device, seed: int, configs: list | None = None,
            held_out: np.ndarray | None = None) -> Prepared:
    """frames (F, H, W, 3) scene-linear float32, holes bool (F, H, W) -> ``Prepared``.

    ``configs`` (for the masked input) is a list of ``pipeline.holdout.Configuration``, the
    first being the real hole; None blanks the real hole with zeros. ``held_out`` bool
    (F, H, W): known pixels kept out of every loss, so that a check on them afterwards
    measures the network on pixels it never fitted."""
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
    if held_out is not None:
        if held_out.shape != holes.shape:
            raise ShapeError(f"held_out {held_out.shape} must match holes {holes.shape}")
        known_p = known_p * (1.0 - _pad(held_out.astype(np.float32), top, left, hp, wp, "constant"))
    enc_p = _pad(enc, top, left, hp, wp, "reflect")

    gen = torch.Generator().manual_seed(seed)
    noise = torch.rand(n, 1, hp, wp, generator=gen) * NOISE_SCALE

    cfg_rgb = cfg_hole = None
    if preset.input_mode == "masked":
        rgbs, hls = [], []
        for cfg_holes, prefill in ([(c.holes, c.prefill) for c in configs] if configs else [(holes, None)]):
            base = enc.copy()  # the pre-fill is read in the hole alone: only those pixels are encoded
            base[cfg_holes] = encode(prefill[cfg_holes]) if prefill is not None else 0.0
            rgbs.append(_to(_pad(base, top, left, hp, wp, "reflect"), device))
            hls.append(_to(_pad(cfg_holes.astype(np.float32), top, left, hp, wp, "constant"), device))
        cfg_rgb, cfg_hole = torch.stack(rgbs), torch.stack(hls)

    prep = Prepared(target=_to(enc_p, device), known=_to(known_p, device), hole=_to(hole_p, device),
                    noise=noise.to(device), cfg_rgb=cfg_rgb, cfg_hole=cfg_hole, box=(top, left, h, w))
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


def frame_index(frames) -> slice | list[int]:
    """Frames b, b+s, b+2s, ... (every batch the schedule makes) as a slice: indexing a
    device tensor with it is a view, where a list would copy an index tensor from the host."""
    f = [int(i) for i in frames]
    if len(f) == 1:
        return slice(f[0], f[0] + 1)
    s = f[1] - f[0]
    if s > 0 and all(b - a == s for a, b in zip(f, f[1:])):
        return slice(f[0], f[-1] + 1, s)
    return f


def network_input(prep: Prepared, idx, preset: Preset, config: int = 0) -> torch.Tensor:
    """The generator's input for frames ``idx``: the fixed noise map, or for the
    ``masked`` mode [pre-filled frame, hole, noise] of configuration ``config``."""
    noise = prep.noise[idx]
    if preset.input_mode != "masked":
        return noise
    return torch.cat([prep.cfg_rgb[config][idx], prep.cfg_hole[config][idx], noise], dim=1)


def input_channels(preset: Preset) -> int:
    return 5 if preset.input_mode == "masked" else 1
