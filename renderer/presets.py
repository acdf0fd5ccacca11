"""Named training recipes. Torch-free, so config validation stays light.

``paper`` is Zhang et al. 2019 as ``docs/method.md`` describes it;
``dip-vid`` and ``dip-frame`` are the paper's ablations on the same code;
``standard`` is our faster default (see README, "Presets").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """Everything that distinguishes one recipe from another."""

    name: str
    description: str
    # generator
    channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128)
    skip_channels: int = 4
    input_mode: str = "noise"  # "noise": fixed U(0,0.1) map; "masked": masked frame + hole
    # losses (plain means over the whole masked tensor, as the paper)
    w_recon: float = 1.0
    w_flow: float = 0.1
    w_consistency: float = 1.0
    w_perceptual: float = 0.01  # only when a local VGG16 weights file is named
    use_flow: bool = True
    # schedule
    batch_frames: int = 5
    strides: tuple[int, ...] = (1, 3, 5)
    both_directions: bool = True
    steps_per_batch: int = 100
    passes: int = 20
    batches_per_pass: int = 50
    median_window: bool = True
    lr: float = 1e-2
    lr_final_fraction: float = 1.0  # cosine decay to lr * this (1.0 = constant, as the paper)
    per_frame: bool = False  # dip-frame: a fresh network for every frame
    # extra self-supervised holes from other frames' mattes (Ouyang et al. 2021):
    # how many training configurations of them (0 = none)
    extra_hole_configs: int = 0
    # weight of the reconstruction error averaged over those extra holes alone (in the plain
    # mean over the frame they are a few per cent of the pixels, and the correction they
    # teach is drowned by the identity the known pixels teach)
    w_extra_hole: float = 0.0
    # pre-fill every hole from flow-guided propagation; the net learns a correction (residual)
    propagation_prior: bool = False
    residual: bool = False
    # hold out one more configuration and keep the best of network / propagation / Telea on it
    select_on_validation: bool = False
    # train only when at least this share of the hole is shown by no other frame
    # (``pipeline.payoff``); 0: always train
    learn_min_unreached: float = 0.0
    # lay the fine detail of a patch-based fill over the pixels no frame shows (``fill.detail``)
    unreached_detail: bool = False
    # region of interest and working resolution
    roi: bool = False
    roi_margin: float = 0.0
    max_working_pixels: int | None = None
    default_steps: int | None = None  # None: the full schedule

    @property
    def full_steps(self) -> int:
        return self.passes * (self.batches_per_pass + int(self.median_window)) * self.steps_per_batch

    def steps(self, override: int | None = None) -> int:
        if override is not None:
            return override
        return self.default_steps if self.default_steps is not None else self.full_steps


PAPER = Preset(
    name="paper",
    description="Zhang et al. 2019 (DIP-Vid-Flow) exactly: noise input, flow + consistency, 102,000 steps",
)

DIP_VID = replace(
    PAPER,
    name="dip-vid",
    description="the paper's DIP-Vid ablation: the video net with reconstruction loss only",
    use_flow=False,
    w_flow=0.0,
    w_consistency=0.0,
    strides=(1,),
    both_directions=False,
    median_window=False,
    batches_per_pass=96,
)

DIP_FRAME = replace(
    PAPER,
    name="dip-frame",
    description="the paper's DIP baseline: a fresh net per frame, reconstruction only",
    use_flow=False,
    w_flow=0.0,
    w_consistency=0.0,
    batch_frames=1,
    strides=(1,),
    both_directions=False,
    median_window=False,
    per_frame=True,
    passes=1,
    batches_per_pass=1,
    steps_per_batch=5000,
)

STANDARD = replace(
    PAPER,
    name="standard",
    description="fast default: propagation pre-fill; a residual net trained on extra holes where no frame "
                "shows the hole; detail and grain there; ROI crop",
    channels=(16, 32, 64, 128, 128),
    input_mode="masked",
    extra_hole_configs=3,
    w_extra_hole=5.0,
    propagation_prior=True,
    residual=True,
    select_on_validation=True,
    learn_min_unreached=0.02,
    unreached_detail=True,
    steps_per_batch=10,
    passes=6,
    batches_per_pass=8,
    lr=5e-3,
    lr_final_fraction=0.1,
    roi=True,
    roi_margin=0.5,
    max_working_pixels=128 * 256,
    default_steps=300,
)

PREVIEW = replace(
    STANDARD,
    name="preview",
    description="a quick look: the standard recipe with a short schedule",
    default_steps=60,
)

PRESETS: dict[str, Preset] = {p.name: p for p in (STANDARD, PAPER, DIP_VID, DIP_FRAME, PREVIEW)}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
