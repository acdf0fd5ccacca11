"""Reading a shot from disk, and checking it before any work starts.

``validate_shot`` reads headers and mattes only; ``load_shot_data`` reads the
plates too. Both raise ``InputError``/``MatteError``/``OutputError`` with a line
that names the file and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import ShotConfig
from .errors import InputError, MatteError, OutputError
from .exrio import Image, matte_index, paste_into, read_image, read_spec, rgb_indices
from .masks import composite_alpha, hole_from_matte
from .sequences import frame_path, has_frame_token, same_file

MISSING_SHOWN = 3


@dataclass
class ShotReport:
    """What ``validate`` found: frame count, plate size, hole coverage per frame."""

    frames: tuple[int, ...]
    width: int
    height: int
    channels: tuple[str, ...]
    hole_fraction: dict[int, float] = field(default_factory=dict)
    output_paths: dict[int, str] = field(default_factory=dict)

    @property
    def empty_frames(self) -> list[int]:
        return [f for f, v in self.hole_fraction.items() if v == 0.0]

    def summary(self) -> str:
        mean = 100.0 * float(np.mean(list(self.hole_fraction.values()) or [0.0]))
        return (f"{len(self.frames)} frames {self.frames[0]}-{self.frames[-1]}, {self.width}x{self.height}, "
                f"channels {','.join(self.channels)}; hole covers {mean:.2f}% on average, "
                f"empty on {len(self.empty_frames)} frame(s)")


@dataclass
class ShotData:
    """Pixels of a shot: rgb (F, H, W, 3) scene-linear, holes bool (F, H, W), alpha (F, H, W)."""

    rgb: np.ndarray
    holes: np.ndarray
    alpha: np.ndarray
    images: list[Image]
    rgb_index: tuple[int, int, int]


def _paths(pattern: str, frames: tuple[int, ...], what: str) -> dict[int, str]:
    if len(frames) > 1 and not has_frame_token(pattern):
        raise InputError(f"{what} pattern {pattern} has no frame number token (####, %04d, $F4 or @) "
                         f"but the shot has {len(frames)} frames")
    return {f: frame_path(pattern, f) for f in frames}


def _check_present(paths: dict[int, str], what: str) -> None:
    import os

    missing = [f for f, p in paths.items() if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(str(f) for f in missing[:MISSING_SHOWN]) + (" ..." if len(missing) > MISSING_SHOWN else "")
        raise InputError(f"{len(missing)} {what} frame(s) missing ({shown}), e.g. {paths[missing[0]]}; "
                         f"render them or change 'frames'")


def _matte(shot: ShotConfig, frame: int, plate_spec, matte_paths: dict[int, str] | None,
           plate: Image | None = None) -> np.ndarray:
    """The matte of ``frame`` over the plate's data window, float32 (H, W)."""
    if matte_paths is None:  # a channel of the plate itself
        img = plate if plate is not None else read_image(frame_path(shot.source, frame))
        k = matte_index(img.channels, shot.mask.channel, img.path)
        return img.pixels[..., k]
    img = read_image(matte_paths[frame])
    spec = img.spec
    same_display = (spec.full_width, spec.full_height) == (plate_spec.full_width, plate_spec.full_height)
    same_data = (spec.width, spec.height) == (plate_spec.width, plate_spec.height)
    if not (same_display or same_data):
        raise InputError(f"size mismatch: matte {img.path} is {spec.full_width}x{spec.full_height} but the plate "
                         f"is {plate_spec.full_width}x{plate_spec.full_height}; render the matte at plate size")
    k = matte_index(img.channels, shot.mask.channel, img.path)
    plane = img.pixels[..., k]
    if same_display:
        return paste_into(plane, img.origin, (plate_spec.x, plate_spec.y), (plate_spec.height, plate_spec.width))
    return plane


def validate_shot(shot: ShotConfig, read_pixels: bool = True) -> ShotReport:
    """Check everything a render needs. Reads every plate (a truncated frame often has an
    intact header) unless ``read_pixels`` is False, when only headers and mattes are read
    (``render_shot`` reads the pixels next anyway)."""
    plate_paths = _paths(shot.source, shot.frames, "source")
    _check_present(plate_paths, "plate")
    matte_paths = None
    if shot.mask.path:
        matte_paths = _paths(shot.mask.path, shot.frames, "mask")
        _check_present(matte_paths, "matte")
    output_paths = _paths(shot.output, shot.frames, "output")
    inputs = list(plate_paths.values()) + list((matte_paths or {}).values())
    for f, out in output_paths.items():
        for src in inputs:
            if same_file(out, src):
                raise OutputError(f"output {out} would overwrite an input file; choose another output pattern")

    first = read_spec(plate_paths[shot.frames[0]])
    channels = tuple(first.channelnames)
    rgb_indices(channels, plate_paths[shot.frames[0]])
    report = ShotReport(frames=shot.frames, width=first.width, height=first.height, channels=channels,
                        output_paths=output_paths)
    for f in shot.frames:
        plate = read_image(plate_paths[f]) if read_pixels else None
        spec = plate.spec if plate is not None else first if f == shot.frames[0] else read_spec(plate_paths[f])
        if (spec.width, spec.height, spec.x, spec.y) != (first.width, first.height, first.x, first.y):
            raise InputError(f"size mismatch: plate {plate_paths[f]} is {spec.width}x{spec.height} at "
                             f"({spec.x},{spec.y}) but frame {shot.frames[0]} is {first.width}x{first.height} at "
                             f"({first.x},{first.y}); every plate frame must share one data window")
        if tuple(spec.channelnames) != channels:
            raise InputError(f"channel mismatch: {plate_paths[f]} has {','.join(spec.channelnames)}, "
                             f"frame {shot.frames[0]} has {','.join(channels)}")
        hole = hole_from_matte(_matte(shot, f, spec, matte_paths, plate=plate), shot.mask.expand)
        report.hole_fraction[f] = float(hole.mean())
    if not any(report.hole_fraction.values()):
        where = shot.mask.path or shot.source
        raise MatteError(f"the matte is empty on every frame (no value > 0.5 in channel '{shot.mask.channel}' of "
                         f"{where}); check mask.channel and that the roto was rendered")
    return report


def load_shot_data(shot: ShotConfig, frames: tuple[int, ...] | None = None) -> ShotData:
    """Read plates and mattes for ``frames`` (default: the whole shot)."""
    frames = frames or shot.frames
    matte_paths = {f: frame_path(shot.mask.path, f) for f in frames} if shot.mask.path else None
    images, rgb, holes, alpha = [], [], [], []
    index = None
    for f in frames:
        img = read_image(frame_path(shot.source, f))
        index = index or rgb_indices(img.channels, img.path)
        hole = hole_from_matte(_matte(shot, f, img.spec, matte_paths, plate=img), shot.mask.expand)
        images.append(img)
        rgb.append(img.pixels[..., list(index)])
        holes.append(hole)
        alpha.append(composite_alpha(hole, shot.mask.feather))
    return ShotData(rgb=np.stack(rgb).astype(np.float32), holes=np.stack(holes), alpha=np.stack(alpha),
                    images=images, rgb_index=index)
