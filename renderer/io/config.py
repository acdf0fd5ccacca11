"""shot.yaml: the contract farms and TDs write against.

The file is read once, here, into frozen dataclasses. Unknown keys are errors
that name the key; relative paths are resolved against the shot file's folder.
Derived values (frame lists, work folders) are computed by functions, never
written back into the config.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import fileseq
import yaml

from ..errors import ConfigError
from ..presets import PRESETS

OUTPUT_DATATYPES = ("half", "float")
GRAIN_MODES = ("match", "off")
COMPRESSIONS = ("zip", "zips", "piz", "dwaa", "dwab", "none", "rle", "b44", "pxr24")
DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class MaskConfig:
    """Where the hole comes from.

    ``path`` None means the matte is a channel of the plate itself.
    """

    path: str | None = None
    channel: str = "A"
    expand: int = 0
    feather: int = 0


@dataclass(frozen=True)
class ReferenceFrame:
    """A clean frame the artist painted: the whole frame of shot frame ``frame``, in the
    file ``path`` (an absolute path once loaded); the renderer takes the hole's pixels from it."""

    frame: int
    path: str


@dataclass(frozen=True)
class ShotConfig:
    """A validated shot. All paths are absolute."""

    source: str
    output: str
    mask: MaskConfig
    frames: tuple[int, ...]
    name: str = "shot"
    preset: str = "standard"
    steps: int | None = None
    seed: int = 0
    device: str = "auto"
    output_datatype: str = "half"
    compression: str = "zip"
    work_dir: str | None = None
    checkpoint_minutes: float = 3.0
    perceptual_weights: str | None = None
    window_frames: int = 64
    window_overlap: int = 8
    # clean frames painted by the artist, carried along the shot (``ReferenceFrame``)
    references: tuple[ReferenceFrame, ...] = ()
    # a sequence of its own saying where each output pixel came from (docs/source_map.md); None: not written
    source_map: str | None = None
    grain: str = "match"  # "match": the fill gets grain like the plate's; "off": clean fill
    shot_file: str | None = None

    def replace(self, **changes: Any) -> "ShotConfig":
        """A copy with ``changes`` applied and checked (for CLI overrides)."""
        merged = dataclasses.asdict(self)
        merged["mask"] = dataclasses.asdict(self.mask)
        merged["references"] = [dataclasses.asdict(r) for r in self.references]
        for key, value in changes.items():
            if value is not None:
                merged[key] = value
        return _check(merged)

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def frame_range(self) -> str:
        return str(fileseq.FrameSet(list(self.frames)))


_TOP_KEYS = {f.name for f in dataclasses.fields(ShotConfig)} - {"shot_file"}
_MASK_KEYS = {f.name for f in dataclasses.fields(MaskConfig)}


def load_shot(path: str | os.PathLike, path_mapping=None) -> ShotConfig:
    """Read and validate ``path`` (a shot.yaml).

    ``path_mapping`` is an optional callable ``str -> str`` applied to every
    path in the file before it is resolved (farm path mapping).
    """
    shot_path = Path(path)
    if not shot_path.is_file():
        raise ConfigError(f"shot file not found: {shot_path} (check the path you passed)")
    try:
        data = yaml.safe_load(shot_path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{shot_path}: not valid YAML ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{shot_path}: expected a mapping of keys (source, mask, frames, output, ...)")
    return shot_from_dict(data, base_dir=shot_path.resolve().parent, shot_file=str(shot_path.resolve()),
                          path_mapping=path_mapping)


def shot_from_dict(data: Mapping[str, Any], base_dir: str | os.PathLike = ".", *,
                   shot_file: str | None = None, path_mapping=None) -> ShotConfig:
    """Validate a shot given as a dict (the same keys as shot.yaml)."""
    data = dict(data)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"unknown key '{unknown[0]}' in shot; allowed keys: {', '.join(sorted(_TOP_KEYS))}")
    for required in ("source", "output"):
        if required not in data or data[required] in (None, ""):
            raise ConfigError(f"missing required key '{required}' in shot")
    base = Path(base_dir)
    mapper = path_mapping or (lambda p: p)

    def resolve(value: Any, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"'{key}' must be a path string, got {value!r}")
        mapped = mapper(os.path.expandvars(os.path.expanduser(value)))
        p = Path(mapped)
        return str(p if p.is_absolute() else (base / p))

    mask = data.get("mask", {})
    if mask is None:
        mask = {}
    if isinstance(mask, str):
        mask = {"path": mask}
    if not isinstance(mask, Mapping):
        raise ConfigError("'mask' must be a mapping with path/channel/expand/feather")
    mask = dict(mask)
    bad = sorted(set(mask) - _MASK_KEYS)
    if bad:
        raise ConfigError(f"unknown key 'mask.{bad[0]}' in shot; allowed: {', '.join(sorted(_MASK_KEYS))}")
    if mask.get("path") is not None:
        mask["path"] = resolve(mask["path"], "mask.path")
    data["mask"] = mask
    data["source"] = resolve(data["source"], "source")
    data["output"] = resolve(data["output"], "output")
    refs = data.get("references") or []
    if not isinstance(refs, (list, tuple)):
        raise ConfigError("'references' must be a list of {frame: N, path: FILE}")
    data["references"] = [_reference(r, resolve) for r in refs]
    for key in ("work_dir", "perceptual_weights", "source_map"):
        if data.get(key) is not None:
            data[key] = resolve(data[key], key)
    data["shot_file"] = shot_file
    return _check(data)


def _reference(item: Any, resolve) -> dict:
    """One entry of ``references`` as plain data, its path resolved."""
    if isinstance(item, ReferenceFrame):
        return dataclasses.asdict(item)
    if not isinstance(item, Mapping) or set(item) != {"frame", "path"}:
        raise ConfigError(f"each reference must be {{frame: N, path: FILE}}, got {item!r}")
    frame = item["frame"]
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise ConfigError(f"reference frame must be a whole frame number, got {frame!r}")
    return {"frame": frame, "path": resolve(item["path"], "references.path")}


def parse_frames(value: Any) -> tuple[int, ...]:
    """'1001-1016', '1001-1016x2', 1001, or a list of ints -> sorted unique frames."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            frames = [value]
        elif isinstance(value, (list, tuple)):
            frames = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]  # no 1001.5 -> 1001
            if len(frames) != len(value):
                raise ValueError
        elif isinstance(value, str):
            frames = list(fileseq.FrameSet(value.replace(" ", "")))
        else:
            raise ValueError
    except (ValueError, TypeError, fileseq.ParseException):
        raise ConfigError(f"bad frame range {value!r}: write it as FIRST-LAST, e.g. 1001-1016") from None
    frames = sorted(set(frames))
    if not frames:
        raise ConfigError(f"frame range {value!r} is empty")
    return tuple(frames)


def _check(data: dict[str, Any]) -> ShotConfig:
    mask = data["mask"] if isinstance(data["mask"], MaskConfig) else MaskConfig(**data["mask"])
    if not isinstance(mask.channel, str) or not mask.channel:
        raise ConfigError("mask.channel must be a channel name such as A or mask.A")
    for key in ("expand", "feather"):
        value = getattr(mask, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
            raise ConfigError(f"mask.{key} must be a whole number of pixels >= 0, got {value!r}")
    mask = dataclasses.replace(mask, expand=int(mask.expand), feather=int(mask.feather))
    data = dict(data, mask=mask)
    if "frames" not in data or data["frames"] is None:
        raise ConfigError("missing required key 'frames' (e.g. frames: 1001-1016)")
    data["frames"] = parse_frames(data["frames"])

    if data.get("preset") is None:
        data.pop("preset", None)
    if "preset" in data and data["preset"] not in PRESETS:
        raise ConfigError(f"unknown preset {data['preset']!r}; choose one of: {', '.join(PRESETS)}")
    if data.get("steps") is not None:
        steps = data["steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ConfigError(f"steps must be a whole number >= 1, got {steps!r}")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a whole number >= 0, got {seed!r}")
    if data.get("device", "auto") not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got {data.get('device')!r}")
    if data.get("output_datatype", "half") not in OUTPUT_DATATYPES:
        raise ConfigError(f"output_datatype must be half or float, got {data.get('output_datatype')!r}")
    if str(data.get("compression", "zip")).lower() not in COMPRESSIONS:
        raise ConfigError(f"compression must be one of {', '.join(COMPRESSIONS)}, got {data.get('compression')!r}")
    for key, low in (("window_frames", 5), ("window_overlap", 0)):
        value = data.get(key, 64 if key == "window_frames" else 8)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{key} must be a whole number >= {low}, got {value!r}")
    if data.get("window_overlap", 8) >= data.get("window_frames", 64):
        raise ConfigError("window_overlap must be smaller than window_frames")
    minutes = data.get("checkpoint_minutes", 3.0)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes <= 0:
        raise ConfigError(f"checkpoint_minutes must be a positive number, got {minutes!r}")
    if data.get("grain", "match") not in GRAIN_MODES:
        raise ConfigError(f"grain must be match or off, got {data.get('grain')!r}")
    refs = [r if isinstance(r, ReferenceFrame) else ReferenceFrame(**r) for r in data.get("references") or ()]
    seen = set()
    for ref in refs:
        if ref.frame not in data["frames"]:
            raise ConfigError(f"reference frame {ref.frame} is outside the shot's frames {data['frames'][0]}-"
                              f"{data['frames'][-1]}: paint a frame of the range, or widen 'frames'")
        if ref.frame in seen:
            raise ConfigError(f"two references for frame {ref.frame}: keep one")
        seen.add(ref.frame)
    data["references"] = tuple(sorted(refs, key=lambda r: r.frame))
    if data.get("name") is not None and not isinstance(data["name"], str):
        raise ConfigError("name must be a string")
    if data.get("name") is None:
        data.pop("name", None)
    try:
        return ShotConfig(**data)
    except TypeError as exc:  # pragma: no cover - guarded by key checks above
        raise ConfigError(str(exc)) from None


def shot_to_dict(shot: ShotConfig) -> dict[str, Any]:
    """The shot as plain data (for the bridge and for logs)."""
    out = dataclasses.asdict(shot)
    out["frames"] = shot.frame_range
    out["references"] = [dataclasses.asdict(r) for r in shot.references]
    out.pop("shot_file", None)
    return out


def work_dir(shot: ShotConfig) -> Path:
    """Where checkpoints and the flow cache live: beside the output unless set."""
    if shot.work_dir:
        return Path(shot.work_dir)
    out = Path(shot.output)
    stem = out.name.split(".")[0] or shot.name
    return out.parent / f".{stem}.work"
