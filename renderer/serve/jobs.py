"""Turning a ``submit`` into the shot the renderer will run, safely.

Stream mode: the client's paths are replaced by files in the job's spool
folder (references included; a source map, when asked for, is written beside
the results). Shared mode: every path must lie under a shared root. Either way the
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
SOURCE_MAP = "out/source_map.{token}.exr"  # stream mode: beside the results, in the job folder


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
    references = _references(shot, config)
    if submit.mode == "stream":
        pad = max(4, *(len(str(abs(f))) for f in frames))
        token = "#" * pad
        shot["source"] = f"in/plate.{token}.exr"
        shot["output"] = f"out/result.{token}.exr"
        if isinstance(mask, dict) and mask.get("path") is not None:
            mask = dict(mask, path=f"in/matte.{token}.exr")
        if references is not None:
            shot["references"] = [dict(r, path=f"in/reference.{r['frame']:0{pad}d}.exr") for r in references]
        if shot.get("source_map"):  # the client's name means "send the map back"; the file is ours
            shot["source_map"] = SOURCE_MAP.format(token=token)
        else:
            shot.pop("source_map", None)
    else:
        for key in ("source", "output", "source_map"):
            if shot.get(key) is not None:
                shot[key] = confine(shot[key], roots, key)
        if isinstance(mask, dict) and mask.get("path") is not None:
            mask = dict(mask, path=confine(mask["path"], roots, "mask.path"))
        if references is not None:
            shot["references"] = [dict(r, path=confine(r["path"], roots, f"reference {r['frame']}"))
                                  for r in references]
    if mask is not None:
        shot["mask"] = mask
    if shot.get("perceptual_weights") is not None:
        shot["perceptual_weights"] = confine(shot["perceptual_weights"], roots, "perceptual_weights")
    cfg = validate(shot, overrides, job_dir, config)
    roles, uploads = [], []
    if submit.mode == "stream":
        roles = ["plate"] + (["matte"] if cfg.mask.path else [])
        uploads = [r.frame for r in cfg.references]
    else:
        confine_paths(cfg, roots)
    if cfg.source_map is not None and cfg.source_map in (cfg.source, cfg.output, cfg.mask.path):
        raise BadShot(f"source_map {cfg.source_map} is also the shot's source, matte or output: give the map a "
                      "path of its own")
    settings = {"shot": shot, "overrides": overrides}
    expect = {"frames": list(cfg.frames), "roles": roles, "references": uploads}
    return settings, expect, cfg


def expected_uploads(expect: dict) -> int:
    """How many images a stream job needs: every role of every frame, plus one per reference
    (``references`` is absent from jobs spooled before references existed)."""
    return len(expect["frames"]) * len(expect["roles"]) + len(expect.get("references", ()))


def _references(shot: dict, config: ServerConfig) -> list[dict] | None:
    """The shot's references as [{frame, path}], checked for shape and count before the
    renderer's own checks (which compare every reference with every frame)."""
    value = shot.get("references")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(r, dict) and set(r) == {"frame", "path"} for r in value):
        raise BadShot("the shot was refused: 'references' must be a list of {frame: N, path: FILE}")
    if len(value) > config.limits.max_references:
        raise LimitExceeded(f"the shot has {len(value)} references; this server takes at most "
                            f"{config.limits.max_references} per job")
    for ref in value:
        if isinstance(ref["frame"], bool) or not isinstance(ref["frame"], int) or not isinstance(ref["path"], str):
            raise BadShot(f"the shot was refused: a reference is {{frame: whole number, path: FILE}}, got "
                          f"{ref!r}"[:300])
    return value


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
    if cfg.source_map:
        confine_frames(cfg.source_map, cfg.frames, roots, "source_map")
    for ref in cfg.references:
        confine(ref.path, roots, f"reference {ref.frame}")
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
    outputs = (job.outputs or {}) if job.state == "done" else {}
    shared = job.mode == "shared"
    return Status(state=job.state, mode=job.mode, place=spool.place(job.id) if job.state == "queued" else None,
                  message=extra.get("message", err.get("message", "")), error_code=err.get("code", ""),
                  missing=spool.missing(job) if job.state == "uploading" else [],
                  output_frames=list(outputs.get("frames", [])),
                  output_paths=list(outputs.get("paths", [])) if shared else [],
                  source_map_frames=list(outputs.get("map_frames", [])),
                  source_map_paths=list(outputs.get("map_paths", [])) if shared else [])
