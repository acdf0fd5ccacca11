"""Loading evaluation clips (ground truth) and matte sequences at a chosen size.

A clip is a video file (anything OpenCV decodes: 8-bit display sRGB, converted to
scene-linear with the inverse sRGB transfer) or an image sequence pattern
(``plate.####.exr``, ``%04d``, ``$F4``, ``@``; EXR is taken as scene-linear already).
Frames are centre-cropped to the target aspect ratio, then resized with INTER_AREA
(video: in display sRGB like the paper's pipeline; EXR: in scene-linear).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from renderer.colour import srgb_to_linear

from .errors import ClipError, MatteSpecError

VIDEO_SUFFIXES = (".mp4", ".mpg", ".mpeg", ".mov", ".avi", ".mkv", ".webm", ".m4v")


@dataclass(frozen=True)
class Clip:
    """Ground-truth frames of one shot: ``frames`` float32 (F, H, W, 3) scene-linear."""

    name: str
    source: str
    start: int
    frames: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.frames.shape[:3]


def centre_crop_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(h, w[, C]) -> (height, width[, C]): the largest centred crop with the target aspect
    ratio, resized with INTER_AREA (INTER_LINEAR when enlarging)."""
    h, w = image.shape[:2]
    if height < 1 or width < 1:
        raise ClipError(f"target size must be positive, got {height}x{width}")
    target = width / height
    if w / h > target:
        cw, ch = max(1, round(h * target)), h
    else:
        cw, ch = w, max(1, round(w / target))
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = np.ascontiguousarray(image[y0:y0 + ch, x0:x0 + cw])
    interp = cv2.INTER_AREA if (ch >= height and cw >= width) else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interp)


def is_video(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_SUFFIXES


def read_video(path: str, start: int, count: int, height: int, width: int) -> np.ndarray:
    """Frames ``start`` .. ``start + count - 1`` of a video -> float32 (count, H, W, 3) scene-linear."""
    if not os.path.isfile(path):
        raise ClipError(f"clip not found: {path}")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise ClipError(f"OpenCV cannot open {path} (is it a video file?)")
    frames = []
    try:
        index = 0
        while len(frames) < count:
            ok, bgr = cap.read()
            if not ok:
                break
            if index >= start:
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
                frames.append(centre_crop_resize(rgb, height, width))
            index += 1
    finally:
        cap.release()
    if len(frames) < count:
        raise ClipError(f"{path}: asked for frames {start}..{start + count - 1}, the video ends at {index - 1}")
    return srgb_to_linear(np.clip(np.stack(frames), 0.0, 1.0))


def _sequence_frames(pattern: str) -> list[int]:
    from renderer.io.sequences import frames_on_disk, has_frame_token

    if not has_frame_token(pattern):
        raise ClipError(f"{pattern}: an image sequence needs a frame token (####, %04d, $F4 or @)")
    found = sorted(frames_on_disk(pattern))
    if not found:
        raise ClipError(f"no frames on disk for {pattern}")
    return found


def read_sequence_rgb(pattern: str, start: int, count: int, height: int, width: int) -> np.ndarray:
    """Images ``start``.. (an index into the frames on disk, in order) of a sequence ->
    float32 (count, H, W, 3). EXR is read as scene-linear; other formats as display sRGB."""
    from renderer.io.exrio import read_image, rgb_indices
    from renderer.io.sequences import frame_path

    numbers = _sequence_frames(pattern)[start:start + count]
    if len(numbers) < count:
        raise ClipError(f"{pattern}: asked for {count} frames from index {start}, found {len(numbers)}")
    out = []
    for n in numbers:
        path = frame_path(pattern, n)
        image = read_image(path)
        rgb = image.pixels[..., list(rgb_indices(image.channels, path))]
        if not path.lower().endswith(".exr"):
            rgb = srgb_to_linear(np.clip(rgb, 0.0, 1.0))
        out.append(centre_crop_resize(rgb.astype(np.float32), height, width))
    return np.stack(out).astype(np.float32)


def load_clip(path: str, *, start: int = 0, count: int = 24, height: int = 96, width: int = 192,
              name: str | None = None) -> Clip:
    """A video file or an image sequence -> ``Clip`` of ``count`` frames at height x width."""
    if count < 2:
        raise ClipError(f"an evaluation shot needs at least 2 frames, got {count}")
    if start < 0:
        raise ClipError(f"start must be >= 0, got {start}")
    if is_video(path):
        frames = read_video(path, start, count, height, width)
    else:
        frames = read_sequence_rgb(path, start, count, height, width)
    stem = os.path.basename(path).split(".")[0] or "clip"
    return Clip(name=name or stem, source=os.path.abspath(path), start=start, frames=frames)


def load_matte_sequence(pattern: str, *, start: int = 0, count: int, height: int, width: int,
                        channel: str = "A") -> np.ndarray:
    """A matte image sequence -> bool (count, H, W), True where the matte is > 0.5 after the
    same centre crop and INTER_AREA resize as the clip. A one-channel image is used as is;
    otherwise ``channel`` (alpha by default), falling back to the first channel."""
    from renderer.io.exrio import matte_index, read_image
    from renderer.errors import MatteError
    from renderer.io.sequences import frame_path

    try:
        numbers = _sequence_frames(pattern)[start:start + count]
    except ClipError as exc:
        raise MatteSpecError(str(exc)) from None
    if len(numbers) < count:
        raise MatteSpecError(f"{pattern}: asked for {count} matte frames from index {start}, found {len(numbers)}")
    out = []
    for n in numbers:
        path = frame_path(pattern, n)
        image = read_image(path)
        try:
            index = matte_index(image.channels, channel, path)
        except MatteError:
            index = 0
        plane = np.ascontiguousarray(image.pixels[..., index], dtype=np.float32)
        out.append(centre_crop_resize(plane, height, width) > 0.5)
    holes = np.stack(out)
    if not holes.any():
        raise MatteSpecError(f"{pattern}: the matte is empty on every frame")
    return holes
