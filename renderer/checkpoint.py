"""Checkpoints: everything needed to carry on a run exactly where it stopped.

A checkpoint holds the model, the optimiser, the step, the random state, and two
fingerprints: of the shot's pixels (a checkpoint from another shot is refused)
and of the settings (preset, steps, seed). Files are written to a temporary name
and renamed, and loaded with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os

import torch

from . import __version__
from .errors import CheckpointError

FORMAT = 1
FILENAME = "checkpoint.pt"


def save(path: str, state: dict) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    payload = dict(state, format=FORMAT, version=__version__)
    tmp = f"{path}.{os.getpid()}.tmp"
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load(path: str, *, shot_fingerprint: str, settings: str, any_steps: bool = False) -> dict | None:
    """The checkpoint at ``path``, or None if there is none. Refuses one made for
    another shot or other settings, with what to do about it. ``any_steps``: a
    checkpoint made for another step count is taken too (inference trains nothing)."""
    if not os.path.isfile(path):
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same problem to the user
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc.__class__.__name__}); "
                              f"delete it or rerun with --fresh") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has an unknown format; rerun with --fresh to start over")
    if state.get("shot_fingerprint") != shot_fingerprint:
        raise CheckpointError(f"checkpoint {path} was made for a different shot (other plates or matte); "
                              f"rerun with --fresh to start over, or point work_dir elsewhere")
    if not _same_settings(state.get("settings"), settings, any_steps):
        raise CheckpointError(f"checkpoint {path} was made with other settings ({state.get('settings')}; "
                              f"now {settings}); rerun with the same settings to resume, or --fresh")
    return state


def _same_settings(made: str | None, wanted: str, any_steps: bool) -> bool:
    if not any_steps or made is None:
        return made == wanted
    try:
        made_dict = json.loads(made)
    except ValueError:
        return False
    return isinstance(made_dict, dict) and dict(made_dict, steps=None) == dict(json.loads(wanted), steps=None)


def steps_of(state: dict) -> int:
    """The step count a checkpoint's run was made for."""
    return int(json.loads(state["settings"])["steps"])
