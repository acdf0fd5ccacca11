"""The public API: what the CLI, the server, the evaluation harness and TDs call.

    from renderer import api
    shot = api.load_shot("shot.yaml")
    api.validate(shot)                       # raises a RendererError on bad input
    result = api.render(shot, steps=600)     # trains, writes the EXR sequence
    print(result.frames_written)

    # arrays in, arrays out (no files): scene-linear float32 (F,H,W,3), holes bool (F,H,W)
    out = api.inpaint(frames, holes, preset="paper", steps=500)
"""

from __future__ import annotations

import functools

from .callbacks import Callbacks, Progress
from .errors import (Cancelled, CheckpointError, ConfigError, DeviceError, InputError, InternalError, MatteError,
                     OutputError, RendererError)
from .io.config import MaskConfig, ShotConfig, load_shot, shot_from_dict, shot_to_dict
from .presets import PRESETS, get_preset

__all__ = [
    "Callbacks", "Progress", "ShotConfig", "MaskConfig", "load_shot", "shot_from_dict", "shot_to_dict",
    "validate", "render", "inpaint", "RenderResult", "InpaintResult", "ShotReport", "PRESETS", "get_preset",
    "RendererError", "ConfigError", "InputError", "MatteError", "OutputError", "CheckpointError",
    "DeviceError", "Cancelled", "InternalError",
]


def _guarded(func):
    """Every failure leaves the API as a ``RendererError``: a bug becomes ``InternalError``,
    whose message names the crash log (the original exception is its ``__cause__``)."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (RendererError, MemoryError):
            raise
        except Exception as exc:
            raise InternalError.from_exception(exc) from exc

    return call


@_guarded
def validate(shot: ShotConfig):
    """Check a shot without training: files present, sizes agree, frames complete,
    the matte channel exists and is not empty everywhere, output safe.
    Returns a ``ShotReport``; raises a ``RendererError`` subclass on bad input."""
    from .io.shot import validate_shot

    return validate_shot(shot)


@_guarded
def render(shot: ShotConfig, *, preset: str | None = None, steps: int | None = None,
           device: str | None = None, seed: int | None = None, fresh: bool = False,
           callbacks: Callbacks | None = None):
    """Train on ``shot`` and write its output sequence. Resumes from the shot's
    checkpoint unless ``fresh``. Returns a ``RenderResult``."""
    from .render import render_shot

    shot = shot.replace(preset=preset, steps=steps, device=device, seed=seed)
    return render_shot(shot, fresh=fresh, callbacks=callbacks)


@_guarded
def inpaint(frames, holes, *, preset: str = "standard", steps: int | None = None, device: str = "cpu",
            seed: int = 0, callbacks: Callbacks | None = None, work_dir=None, fresh: bool = True,
            perceptual_weights: str | None = None, cuda_graphs: bool = True, references=None,
            source_map: bool = False, grain: str = "match"):
    """Fill ``holes`` (bool (F,H,W), True = fill) in ``frames`` (scene-linear float32
    (F,H,W,3)). Known pixels come back unchanged. Returns an ``InpaintResult``.
    ``cuda_graphs``: on a GPU, replay the training step from CUDA graphs (see ``renderer.method.graphs``).
    ``references``: {frame index: (H,W,3) scene-linear}, clean frames the artist painted; each
    comes out on its own frame as painted and is carried, in each frame's light, to the others.
    ``source_map``: also return where each pixel came from (``InpaintResult.source_map``, docs/source_map.md).
    ``grain``: "match" (grain like the plate's on what no frame shows) or "off"."""
    from .inpaint import inpaint_arrays

    return inpaint_arrays(frames, holes, preset=get_preset(preset), steps=steps, device=device, seed=seed,
                          callbacks=callbacks, work_dir=work_dir, fresh=fresh,
                          perceptual_weights=perceptual_weights, cuda_graphs=cuda_graphs, references=references,
                          want_source_map=source_map, grain=grain)


def __getattr__(name):  # result types live with the code that makes them
    if name in ("RenderResult",):
        from .render import RenderResult

        return RenderResult
    if name in ("InpaintResult",):
        from .inpaint import InpaintResult

        return InpaintResult
    if name in ("ShotReport",):
        from .io.shot import ShotReport

        return ShotReport
    raise AttributeError(name)
