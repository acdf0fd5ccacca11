"""Reading a shot from disk, and checking it before any work starts.

``validate_shot`` checks every frame; ``load_shot_window`` reads the part of the
plates and mattes that the work needs. Both raise ``InputError``/``MatteError``/``OutputError`` with a line
that names the file and what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import InputError, MatteError, OutputError
from .config import ShotConfig
from .exrio import Image, matte_index, paste_into, read_image, read_spec, rgb_indices
from .masks import box_around, composite_alpha, hole_from_matte, union_box
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
    # per frame: (y0, x0, y1, x1) around the pixels the output changes (compositing weight > 0), or None
    support: dict[int, tuple[int, int, int, int] | None] = field(default_factory=dict)

    @property
    def empty_frames(self) -> list[int]:
        return [f for f, v in self.hole_fraction.items() if v == 0.0]

    def summary(self) -> str:
        mean = 100.0 * float(np.mean(list(self.hole_fraction.values()) or [0.0]))
        return (f"{len(self.frames)} frames {self.frames[0]}-{self.frames[-1]}, {self.width}x{self.height}, "
                f"channels {','.join(self.channels)}; hole covers {mean:.2f}% on average, "
                f"empty on {len(self.empty_frames)} frame(s)")


@dataclass
class ShotWindow:
    """The part of some frames of a shot that the work reads: ``box`` (y0, x0, y1, x1) in
    the plates' data window of ``frame_size`` (H, W), and inside it rgb (F, h, w, 3)
    scene-linear float32, holes bool (F, h, w) and alpha (F, h, w); outside it no pixel
    needs a fill. ``plate_paths`` maps each frame number to its plate."""

    rgb: np.ndarray
    holes: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int]
    frame_size: tuple[int, int]
    rgb_index: tuple[int, int, int]
    plate_paths: dict[int, str]



def _paths(pattern: str, frames: tuple[int, ...], what: str) -> dict[int, str]:
    if len(frames) > 1 and not has_frame_token(pattern):
        raise InputError(f"{what} pattern {pattern} has no frame number token (####, %04d, $F4 or @) "
                         f"but the shot has {len(frames)} frames")
    return {f: frame_path(pattern, f) for f in frames}


def _check_present(paths: dict[int, str], what: str) -> None:
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
    if shot.source_map:
        written = set(output_paths.values())
        for f, path in _paths(shot.source_map, shot.frames, "source_map").items():
            if any(same_file(path, src) for src in inputs) or path in written:
                raise OutputError(f"source_map {path} would overwrite an input or output file; "
                                  f"choose another source_map pattern")
    for ref in shot.references:
        if not os.path.isfile(ref.path):
            raise InputError(f"reference frame {ref.frame}: file not found: {ref.path}")

    first = read_spec(plate_paths[shot.frames[0]])
    for ref in shot.references:
        spec = read_spec(ref.path)
        if (spec.width, spec.height) != (first.width, first.height):
            raise InputError(f"reference frame {ref.frame} ({ref.path}) is {spec.width}x{spec.height}, the plate "
                             f"{first.width}x{first.height}: paint on a frame of the plate's size")
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
        report.support[f] = box_around(composite_alpha(hole, shot.mask.feather) > 0)
    if all(v == 1.0 for v in report.hole_fraction.values()):
        where = shot.mask.path or shot.source
        raise MatteError(f"the matte covers the whole frame on every frame (channel '{shot.mask.channel}' of "
                         f"{where}): no pixel is left to fill from; check that white marks what to remove "
                         f"(invert the matte if it is the other way round)")
    if not any(report.hole_fraction.values()):
        where = shot.mask.path or shot.source
        raise MatteError(f"the matte is empty on every frame (no value > 0.5 in channel '{shot.mask.channel}' of "
                         f"{where}); check mask.channel and that the roto was rendered")
    return report


def load_shot_window(shot: ShotConfig, frames: tuple[int, ...],
                     box_for: Callable[[tuple[int, int, int, int] | None, tuple[int, int]], tuple[int, int, int, int]],
                     progress: Callable[[int, int], None] | None = None) -> ShotWindow:
    """Read ``frames`` of a shot keeping only the box the work reads. The mattes are read
    first; ``box_for(support, (H, W))`` turns the box around every pixel with a
    compositing weight (None: none) into the box to keep. Then the plates are read one at
    a time and cut to it, so memory follows the box, not the plate. ``progress(done,
    total)`` counts the files read."""
    total = 2 * len(frames)
    plate_paths = {f: frame_path(shot.source, f) for f in frames}
    matte_paths = {f: frame_path(shot.mask.path, f) for f in frames} if shot.mask.path else None
    cut = []  # per frame: the box around its alpha's support, and its hole and alpha there
    size = None
    for f in frames:
        plate = read_image(plate_paths[f]) if matte_paths is None else None
        spec = plate.spec if plate is not None else read_spec(plate_paths[f])
        size = (spec.height, spec.width)
        hole = hole_from_matte(_matte(shot, f, spec, matte_paths, plate=plate), shot.mask.expand)
        alpha = composite_alpha(hole, shot.mask.feather)
        box = box_around(alpha > 0)
        if box is None:
            cut.append(None)
        else:
            y0, x0, y1, x1 = box
            cut.append((box, hole[y0:y1, x0:x1].copy(), alpha[y0:y1, x0:x1].copy()))
        if progress is not None:
            progress(len(cut), total)
    box = box_for(union_box([c[0] for c in cut if c is not None]), size)
    by0, bx0, by1, bx1 = box
    n, h, w = len(frames), by1 - by0, bx1 - bx0
    holes = np.zeros((n, h, w), bool)
    alpha = np.zeros((n, h, w), np.float32)
    for k, c in enumerate(cut):
        if c is not None:
            (y0, x0, y1, x1), hole_k, alpha_k = c
            holes[k, y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = hole_k
            alpha[k, y0 - by0:y1 - by0, x0 - bx0:x1 - bx0] = alpha_k
    rgb = np.empty((n, h, w, 3), np.float32)
    index = None
    for k, f in enumerate(frames):
        img = read_image(plate_paths[f])
        index = index or rgb_indices(img.channels, img.path)
        rgb[k] = img.pixels[by0:by1, bx0:bx1][..., list(index)]
        if progress is not None:
            progress(len(frames) + k + 1, total)
    return ShotWindow(rgb=rgb, holes=holes, alpha=alpha, box=box, frame_size=size, rgb_index=index,
                      plate_paths=plate_paths)

