"""The output's last touches: the fine detail layer for the pixels no frame shows, and
``Finish``, which lays it, matched grain and the artist's paintings on the composited
frames and makes the source map (``pipeline.sourcemap``)."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..callbacks import Callbacks
from ..fill.detail import textured_region, unreached_detail, with_detail
from ..fill.grain import GrainModel, regrain
from ..fill.patchmatch import expected_rounds
from ..presets import Preset
from ..stages import StageClock, ticking
from .region import Region, work_box
from .sourcemap import plate_mask

if TYPE_CHECKING:
    from ..inpaint import InpaintResult


# the pre-fills that fill each frame from its own hole's border alone (``pipeline.holdout``)
SMOOTH_PREFILLS = ("telea", "diffusion")


def fine_detail(frames: np.ndarray, holes: np.ndarray, region: Region, work_holes: np.ndarray,
                distance: np.ndarray | None, preset: Preset, seed: int, model: GrainModel | None, clock: StageClock,
                cb: Callbacks | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(layer (H, W, 3) or None, textured bool (H, W) or None): the detail layer
    (``fill.detail``) for the pixels some frame leaves unreached (``distance`` 0 in
    ``work_holes``, at working size), in regions deep enough for texture; made from the
    work box, as every stage reads (decision 0039), timed on ``clock``. ``cb``: where its
    progress is reported (None: not reported, as when it is made again after the pre-fill
    stage, past the share of the bar that the detail stage has)."""
    if not preset.unreached_detail or distance is None:
        return None, None
    unreached = (work_holes & (distance == 0)).any(axis=0)
    if not unreached.any():
        return None, None
    textured = textured_region(plate_mask(region, unreached) & holes.any(axis=0))
    if not textured.any():
        return None, textured
    with clock("detail"), \
            ticking(cb, "detail", expected_rounds(textured), "fine detail") if cb is not None else nullcontext():
        return unreached_detail(frames, holes, textured, seed, model, work_box(region)), textured


@dataclass
class Finish:
    """The last touches on the output frames: the source map when asked for (``map_of``:
    indices -> (B, H, W, 5)); on the pixels the map calls synthesised (``synthesis_map``,
    the same function), the fine detail ``layer`` (``fill.detail``) within ``textured``
    (bool (H, W), the regions it is for) and grain (``model``, ``fill.grain``), where they
    are there to add."""

    map_of: Callable | None
    model: GrainModel | None
    seed: int
    numbers: list[int]
    # painted frame index -> (its hole, the frame with the painting in it): every preset's
    # output there is the painting, whatever its network made of it
    paintings: dict = field(default_factory=dict)
    synthesis_map: Callable | None = None
    layer: np.ndarray | None = None
    textured: np.ndarray | None = None

    def lay(self, layer: np.ndarray | None, textured: np.ndarray | None, synthesis_map: Callable) -> None:
        """The detail ``layer`` to lay within ``textured`` (``fine_detail``'s pair); the
        ``synthesis_map`` is read where there is a layer or grain to add."""
        self.layer, self.textured = layer, textured
        grainy = self.model is not None and not self.model.is_clean
        self.synthesis_map = synthesis_map if layer is not None or grainy else None

    def __call__(self, result: InpaintResult, frames: np.ndarray, idx: list[int]) -> None:
        for k, t in enumerate(idx):
            if t in self.paintings:
                hole, painted = self.paintings[t]
                frames[k] = np.where(hole[..., None], painted, frames[k])
        maps = self.map_of(idx) if self.map_of is not None else None
        if self.synthesis_map is not None:
            made = maps if maps is not None else self.synthesis_map(idx)
            grainy = self.model is not None and not self.model.is_clean
            for k, t in enumerate(idx):
                synthesised = made[k, ..., 1] > 0
                if synthesised.any() and self.layer is not None:
                    frames[k] = with_detail(frames[k], synthesised & self.textured, self.layer)
                if synthesised.any() and grainy:
                    frames[k] = regrain(frames[k], synthesised, self.model, self.seed, self.numbers[t])
        result.frames, result.source_map = frames, maps
