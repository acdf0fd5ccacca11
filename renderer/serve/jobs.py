"""Turning a ``submit`` into the shot the renderer will run, safely.

Stream mode: the client's paths are replaced by files in the job's spool
folder. Shared mode: every path must lie under a shared root. Either way the
shot is validated by ``renderer.io.config.shot_from_dict`` (torch-free) and the
paths it resolves to are confined again, so nothing the renderer reads or
writes escapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.errors import BadShot, LimitExceeded, PathRefused, WrongFieldType
from bridge.messages import Status, Submit
from bridge.sequence import parse_frames

from ..io.config import ShotConfig, shot_from_dict
from ..errors import RendererError
from .config import ServerConfig
from .confine import confine, confine_frames, real_roots
from .spool import JobRow, Spool

OVERRIDES = ("steps", "preset", "seed")
ROLES = ("plate", "matte")


def build_job(submit: Submit, job_dir: Path, config: ServerConfig) -> tuple[dict, dict, ShotConfig]:
    """(settings, expect, shot) for a submission; raises a ``BridgeError`` naming the problem."""
    if submit.mode not in ("stream", "shared"):
        raise WrongFieldType(f"mode must be 'stream' or 'shared', got {submit.mode[:32]!r}")
    shot = dict(submit.shot)
    overrides = {k: v for k, v in submit.overrides.items() if v is not None}
    bad = sorted(set(overrides) - set(OVERRIDES))
    if bad:
        raise WrongFieldType(f"unknown override '{bad[0][:64]}'; allowed: {', '.join(OVERRIDES)}")
    shot.pop("device", None)  # the server decides where each job runs
    if "work_dir" in shot:
        raise PathRefused("work_dir is chosen by the server (inside its spool); leave it out of the shot")
    shot["work_dir"] = "work"  # paths inside the job folder stay relative: the spool may move
    mask = shot.get("mask")
    if isinstance(mask, str):
        mask = {"path": mask}
    roots = real_roots(config.shared_roots)
    frames = _frames(shot, config)
    if submit.mode == "stream":
        pad = max(4, *(len(str(abs(f))) for f in frames))
        token = "#" * pad
        shot["source"] = f"in/plate.{token}.exr"
        shot["output"] = f"out/result.{token}.exr"
        if isinstance(mask, dict) and mask.get("path") is not None:
            mask = dict(mask, path=f"in/matte.{token}.exr")
    else:
        for key in ("source", "output"):
            if key in shot:
                shot[key] = confine(shot[key], roots, key)
        if isinstance(mask, dict) and mask.get("path") is not None:
            mask = dict(mask, path=confine(mask["path"], roots, "mask.path"))
    if mask is not None:
        shot["mask"] = mask
    if shot.get("perceptual_weights") is not None:
        shot["perceptual_weights"] = confine(shot["perceptual_weights"], roots, "perceptual_weights")
    cfg = validate(shot, overrides, job_dir, config)
    roles = []
    if submit.mode == "stream":
        roles = ["plate"] + (["matte"] if cfg.mask.path else [])
    else:
        confine_paths(cfg, roots)
    settings = {"shot": shot, "overrides": overrides}
    expect = {"frames": list(cfg.frames), "roles": roles}
    return settings, expect, cfg


def validate(shot: dict, overrides: dict, job_dir: Path, config: ServerConfig) -> ShotConfig:
    """The renderer's own validation of shot + overrides (relative paths resolve inside
    ``job_dir``), plus the server's limits."""
    try:
        cfg = shot_from_dict(shot, base_dir=job_dir)
        cfg = cfg.replace(**{k: overrides.get(k) for k in OVERRIDES})
    except RendererError as exc:
        raise BadShot(f"the shot was refused: {exc}") from None
    except (TypeError, ValueError) as exc:  # a value of a type the renderer's checks did not expect
        raise BadShot(f"the shot was refused: a setting has the wrong type ({exc})") from None
    if len(cfg.frames) > config.limits.max_frames:
        raise LimitExceeded(f"the shot has {len(cfg.frames)} frames; this server takes at most "
                            f"{config.limits.max_frames} per job (split the shot)")
    if cfg.steps is not None and cfg.steps > config.max_steps:
        raise LimitExceeded(f"steps {cfg.steps} is over this server's limit of {config.max_steps}")
    return cfg


def confine_paths(cfg: ShotConfig, roots: tuple[str, ...]) -> None:
    """Re-check the paths the renderer will really use (after its own resolution)."""
    confine_frames(cfg.source, cfg.frames, roots, "source")
    confine_frames(cfg.output, cfg.frames, roots, "output")
    if cfg.mask.path:
        confine_frames(cfg.mask.path, cfg.frames, roots, "mask.path")
    if cfg.perceptual_weights:
        confine(cfg.perceptual_weights, roots, "perceptual_weights")


def _frames(shot: dict, config: ServerConfig) -> list[int]:
    """The shot's frames, counted before any big list is built (a bad range cannot exhaust memory)."""
    limit = config.limits.max_frames
    try:
        return parse_frames(shot.get("frames"), limit=limit)
    except ValueError as exc:
        if "over the limit" in str(exc):
            raise LimitExceeded(f"{exc}: this server takes at most {limit} frames per job (split the shot)") \
                from None
        raise BadShot(f"the shot was refused: {exc}") from None


def status_of(job: JobRow, spool: Spool, **extra: Any) -> Status:
    """The ``status`` message for a job."""
    err = job.error or {}
    outputs = job.outputs or {}
    return Status(state=job.state, mode=job.mode, place=spool.place(job.id) if job.state == "queued" else None,
                  message=extra.get("message", err.get("message", "")), error_code=err.get("code", ""),
                  missing=spool.missing(job) if job.state == "uploading" else [],
                  output_frames=list(outputs.get("frames", [])) if job.state == "done" else [],
                  output_paths=list(outputs.get("paths", [])) if job.state == "done" and job.mode == "shared" else [])
