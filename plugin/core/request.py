"""The job an artist's node asks for, built and checked on the UI thread before any I/O.

    request = build_request(settings, plate="/plates/sh010.####.exr", matte="/roto/sh010.####.exr",
                            frames=range(1001, 1017), name="Inpaint1")

``build_request`` checks that every plate and matte frame of the range is on disk and
that the output would not overwrite either, and turns the node's settings into the
shot keys the renderer validates (``JobRequest.shot``). ``job.JobRunner`` runs it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from . import errors
from .placement import output_pattern, source_map_pattern
from .references import check_reference_files
from .sequences import describe_frames, exr_channel, frame_path, missing_frames, to_hash
from .settings import NodeSettings

# CURVE keys for renderers off this machine, set by the pipeline (not knobs): the server's
# public NAME.key and this artist's NAME.key_secret, both made by `renderer keys`.
ENV_SERVER_KEY = "INPAINT_SERVER_KEY"
ENV_CLIENT_KEY = "INPAINT_CLIENT_KEY"


@dataclass(frozen=True)
class JobRequest:
    """Everything the worker thread needs; built on the UI thread by ``build_request``."""

    server: str
    shot: dict[str, Any]  # shot.yaml keys, absolute paths
    mode: str  # stream or shared
    overrides: dict[str, Any]
    frames: tuple[int, ...]
    output: str  # hash pattern of the result
    timeout: float = 10.0
    curve: tuple[str, str] | None = None  # (server public key file, client secret key file)
    source_map: str | None = None  # hash pattern of the source map; None: not asked for


def build_request(settings: NodeSettings, *, plate: str, matte: str | None, frames: Iterable[int],
                  name: str = "inpaint", matte_channel: str | None = None, output: str | None = None,
                  timeout: float = 10.0, references: Mapping[int, str] | None = None) -> JobRequest:
    """Check the gathered inputs and build the job (on the UI thread, before any I/O thread).

    ``plate``/``matte``: frame patterns on disk (``####``, ``%04d``, ``$F4``); ``matte``
    None means the hole is a channel of the plate. ``matte_channel`` overrides the
    Matte channel knob (for a matte the host rendered itself). ``references``: frame ->
    painted file (from ``references.reference_frames``). Raises ``BadPlate``,
    ``BadMatte``, ``BadReference`` or ``SettingsError`` with what to fix.
    """
    frames = tuple(sorted(set(frames)))
    if not frames:
        raise errors.SettingsError("the frame range is empty: check Frame range, First and Last")
    plate = on_disk(plate, frames, errors.BadPlate, "plate", "render or copy them, or narrow the frame range")
    if matte is not None:
        matte = on_disk(matte, frames, errors.BadMatte, "matte", "the roto must cover every frame of the range")
    out = output or output_pattern(settings.output, plate)
    if out in (plate, matte):
        raise errors.SettingsError(f"Output {out} would overwrite the plate or matte: choose another path")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    mask: dict[str, Any] = {"channel": exr_channel(matte_channel or settings.matte_channel),
                            "expand": settings.expand, "feather": settings.feather}
    if matte is not None:
        mask["path"] = matte
    shot = {"name": name, "source": plate, "mask": mask, "frames": describe_frames(frames).replace(" ", ""),
            "output": out, "output_datatype": settings.datatype, "grain": settings.grain}
    painted = check_reference_files(references or {})
    if painted:
        shot["references"] = [{"frame": f, "path": p} for f, p in painted.items()]
    source_map = source_map_pattern(out) if settings.source_map else None
    if source_map:
        shot["source_map"] = source_map
    overrides: dict[str, Any] = {"preset": settings.preset}
    if settings.steps:
        overrides["steps"] = settings.steps
    return JobRequest(server=settings.server, shot=shot, mode=settings.transfer, overrides=overrides,
                      frames=frames, output=out, timeout=timeout, curve=curve_keys(), source_map=source_map)


def on_disk(pattern: str, frames: tuple[int, ...], error: type[errors.PluginError], what: str, advice: str) -> str:
    """``pattern`` as an absolute hash pattern, once every one of ``frames`` is on disk;
    otherwise ``error`` naming the missing ``what`` frames, where they were looked for,
    and the ``advice``."""
    pattern = to_hash(os.path.abspath(pattern))
    missing = missing_frames(pattern, frames)
    if missing:
        raise error(f"{what} frames {describe_frames(missing)} are missing "
                    f"(looked for {frame_path(pattern, missing[0])}); {advice}")
    return pattern


def curve_keys(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The CURVE key files named by ``INPAINT_SERVER_KEY``/``INPAINT_CLIENT_KEY`` (None: no CURVE)."""
    server, client = environ.get(ENV_SERVER_KEY, ""), environ.get(ENV_CLIENT_KEY, "")
    if bool(server) != bool(client):
        raise errors.SettingsError(f"set both {ENV_SERVER_KEY} (the renderer's public .key) and {ENV_CLIENT_KEY} "
                                   "(your .key_secret), or neither; ask your pipeline team")
    return (server, client) if server else None
