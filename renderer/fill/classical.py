"""Fills of one frame from the pixels around its hole: OpenCV's Telea, a harmonic
(diffusion) fill, and Telea blended into pixels already filled (Poisson blending).

Images are float (H, W, C) scene-linear (any non-negative values), holes bool (H, W),
True = fill; known pixels come back as they were, bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import display_like, srgb_to_linear
from ..errors import ShapeError
from ..parallel import map_frames

TELEA_RADIUS = 5
TELEA_SCALE = 255.0
DIFFUSION_SWEEPS = 300  # Jacobi sweeps of ``diffuse_into``
TELEA_PIXELS = 1 << 18  # px: a larger hole box is filled on a reduced copy (``telea_frame``)
# px: wider Gaussian blurs run on a copy reduced so that the blur there is this wide. A
# direct blur costs its width per pixel: the start of ``diffuse_into`` for a third of a
# 4096x2160 frame reached sigma 1024 and took minutes a frame.
DIRECT_BLUR_SIGMA = 32.0
# px: a region whose box is larger is diffused on a reduced copy (``diffuse_reduced``); the
# development shots' holes stay below it. KNIT_SWEEPS: full-size sweeps after enlarging.
DIFFUSE_PIXELS = 1 << 18
KNIT_SWEEPS = 30


def check_video(frames: np.ndarray, holes: np.ndarray) -> None:
    """Raise ``ShapeError`` unless frames is (F, H, W, 3) and holes bool (F, H, W)."""
    if not isinstance(frames, np.ndarray) or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ShapeError(f"frames must be (F, H, W, 3), got {getattr(frames, 'shape', type(frames))}")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != frames.shape[:3]:
        raise ShapeError(f"holes must be bool {frames.shape[:3]}, got "
                         f"{getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")


def reduced(image: np.ndarray, hole: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, C) float, bool (H, W) -> the image reduced to ``size`` (width, height) by the
    area mean of its known pixels, and the reduced hole: every reduced pixel with a hole
    pixel under it, or, where that is all of them (a thin known rim), every one with no
    known pixel under it. Area means of zeros are exactly zero, so neither test depends on
    rounding."""
    hole_share = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    known_share = cv2.resize((~hole).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    known = np.where(hole[..., None], 0.0, image).astype(np.float32)
    small = cv2.resize(known, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], image.shape[-1])
    small /= np.maximum(known_share, 1e-6)[..., None]
    small_hole = hole_share > 0.0
    if small_hole.all():
        small_hole = known_share <= 0.0
    return small, small_hole


def telea_frame(frame: np.ndarray, hole: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """One frame: (H, W, C) float, bool (H, W) -> (H, W, C) float32 with the hole filled by
    ``cv2.inpaint(..., INPAINT_TELEA)`` run per channel on float32 (no 8-bit rounding).

    OpenCV's float Telea assumes 8-bit-like magnitudes (on [0, 1] data it overshoots to
    about [-1, 2]), so values are scaled by 255 around the call and back after. It runs on
    the hole's box grown by the radius (it reads nothing further); a box of more than
    ``TELEA_PIXELS`` is filled on a reduced copy and enlarged (bilinear), since the
    middle of so large a fill is smooth anyway, and the full-size call took 13 s a frame
    for a third of a 4096x2160 frame."""
    frame = np.asarray(frame, dtype=np.float32)
    if not hole.any():
        return frame.copy()
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    grow = radius + 2
    y0, y1, x0, x1 = max(ys.min() - grow, 0), min(ys.max() + grow + 1, h), max(xs.min() - grow, 0), \
        min(xs.max() + grow + 1, w)
    sub, sub_hole = frame[y0:y1, x0:x1], hole[y0:y1, x0:x1]
    out = frame.copy()
    if (y1 - y0) * (x1 - x0) > TELEA_PIXELS:
        factor = int(np.ceil(np.sqrt((y1 - y0) * (x1 - x0) / TELEA_PIXELS)))
        size = (max(-(-(x1 - x0) // factor), 1), max(-(-(y1 - y0) // factor), 1))
        small, small_hole = reduced(sub, sub_hole, size)
        filled = cv2.resize(telea_frame(small, small_hole, radius), (x1 - x0, y1 - y0),
                            interpolation=cv2.INTER_LINEAR).reshape(sub.shape)
    else:
        mask = sub_hole.astype(np.uint8)
        channels = [cv2.inpaint(np.ascontiguousarray(sub[..., c] * TELEA_SCALE), mask, radius, cv2.INPAINT_TELEA)
                    for c in range(frame.shape[-1])]
        filled = np.stack(channels, axis=-1) / TELEA_SCALE
    out[y0:y1, x0:x1] = np.where(sub_hole[..., None], filled, sub)
    return out


def finite_frames(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, H, W, C) float -> ((F, H, W, C) float32, bool (F, H, W)): the frames with every
    pixel that holds a value that is not a number (NaN, or infinity) in any channel
    replaced by the mean of the finite pixels nearest it (the smallest square window, 3, 7,
    15 ... px wide, that holds some), and where those pixels were. The frames themselves
    when every value is finite. A frame with no finite pixel becomes 0.

    A renderer's NaN or a comp's division by zero in one pixel must not spread: every fill
    reads its neighbours (Telea, diffusion, DIS, the network), and one NaN there poisons
    all it touches."""
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 4:
        raise ShapeError(f"finite_frames needs (F, H, W, C) frames, got {frames.shape}")
    # a frame at a time, and a frame whose sum is finite has no such value: a mask of the
    # whole window's values would add a byte per value at 4K, and take a second a shot at 1080p
    bad = np.zeros(frames.shape[:3], bool)
    for t, frame in enumerate(frames):
        if not np.isfinite(frame.sum(dtype=np.float64)):
            bad[t] = ~np.isfinite(frame).all(axis=-1)
    if not bad.any():
        return frames, bad
    out = frames.copy()
    h, w = bad.shape[1:]
    for t in np.flatnonzero(bad.any(axis=(1, 2))):
        todo = bad[t].copy()
        frame = np.where(todo[..., None], 0.0, out[t]).astype(np.float32)
        if todo.all():
            out[t] = 0.0
            continue
        known = (~todo).astype(np.float32)
        size = 3
        while todo.any():
            total = cv2.boxFilter(frame * known[..., None], -1, (size, size), normalize=False,
                                  borderType=cv2.BORDER_CONSTANT).reshape(frame.shape)
            count = cv2.boxFilter(known, -1, (size, size), normalize=False, borderType=cv2.BORDER_CONSTANT)
            now = todo & (count > 0)
            frame[now] = total[now] / count[now][:, None]
            known[now], todo[now] = 1.0, False
            size = min(2 * size + 1, 2 * max(h, w) + 1)
        out[t] = frame
    return out, bad


def telea(frames: np.ndarray, holes: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """Per-frame Telea inpainting of (F, H, W, 3) with holes (F, H, W) -> (F, H, W, 3) float32."""
    check_video(frames, holes)
    return np.stack(map_frames(lambda t: telea_frame(frames[t], holes[t], radius), len(frames)))


def border_diffusion(frames: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F, H, W, 3) scene-linear with holes bool (F, H, W) -> (F, H, W, 3) float32: each
    frame's hole filled by the harmonic interpolation of its border on display values, the
    fill pixels no chain reaches get where the footage surrounds them (``blended_telea`` at
    weight 0)."""
    check_video(frames, holes)

    def fill(t: int) -> np.ndarray:
        if not holes[t].any():
            return np.asarray(frames[t], np.float32)
        return blended_telea(frames[t], holes[t], frames[t], holes[t], weight=0.0)

    return np.stack(map_frames(fill, len(frames)))


def wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(H, W) or (H, W, C) float32 -> the same shape: ``cv2.GaussianBlur`` with ``sigma``,
    on a copy reduced by ``sigma / DIRECT_BLUR_SIGMA`` (area mean) and enlarged back
    (bilinear) when ``sigma`` is above ``DIRECT_BLUR_SIGMA``: at those widths the blur is
    smooth on the scale of the reduction, and its cost stays that of a small blur."""
    if sigma <= DIRECT_BLUR_SIGMA:
        return cv2.GaussianBlur(image, (0, 0), sigma).reshape(image.shape)
    h, w = image.shape[:2]
    factor = sigma / DIRECT_BLUR_SIGMA
    small = cv2.resize(image, (max(int(round(w / factor)), 1), max(int(round(h / factor)), 1)),
                       interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(small, (0, 0), DIRECT_BLUR_SIGMA)
    return cv2.resize(blurred, (w, h), interpolation=cv2.INTER_LINEAR).reshape(image.shape)


FOUR_NEIGHBOUR_MEAN = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], np.float32)


def diffuse_into(field: np.ndarray, region: np.ndarray, iterations: int = DIFFUSION_SWEEPS) -> np.ndarray:
    """Replace ``field`` (H, W, C) float inside bool ``region`` (H, W) by diffusion from the
    region's border: an approximate solution of Laplace's equation (harmonic fill).

    Start: the known values averaged with Gaussian weights at growing scales (the smallest
    scale that reaches a pixel wins), then ``iterations`` Jacobi sweeps of the 4-neighbour
    mean inside the region, with the known pixels held fixed. All zeros if nothing is known.
    A region whose box holds more than ``DIFFUSE_PIXELS`` is solved on a reduced copy
    (``diffuse_reduced``).
    """
    field = np.asarray(field, dtype=np.float32)
    if field.ndim != 3 or region.shape != field.shape[:2]:
        raise ShapeError(f"diffuse_into needs (H, W, C) and (H, W), got {field.shape}, {region.shape}")
    if not region.any():
        return field.copy()
    if region.all():
        return np.zeros_like(field)
    ys, xs = np.nonzero(region)
    box = (slice(max(ys.min() - 1, 0), ys.max() + 2), slice(max(xs.min() - 1, 0), xs.max() + 2))
    if (box[0].stop - box[0].start) * (box[1].stop - box[1].start) > DIFFUSE_PIXELS:
        return diffuse_reduced(field, region, box, iterations)
    known = (~region).astype(np.float32)
    value = field * known[..., None]
    out = value.copy()
    todo = region.copy()
    sigma = 1.0
    while todo.any():
        wsum = wide_blur(known, sigma)
        vsum = wide_blur(value, sigma)
        reach = todo & (wsum > 1e-3)
        out[reach] = vsum[reach] / wsum[reach][:, None]
        todo &= ~reach
        sigma *= 2.0
        if sigma > 4 * max(field.shape[:2]):
            out[todo] = value.sum(axis=(0, 1)) / known.sum()
            break
    return _sweep(out, region, box, iterations)


def _sweep(out: np.ndarray, region: np.ndarray, box: tuple[slice, slice], iterations: int) -> np.ndarray:
    """``iterations`` Jacobi sweeps of ``out`` (H, W, C) inside ``region``, in place. The
    sweeps change only the region, and read one pixel beyond it: they run on ``box``, the
    region's box grown by one pixel (the same sums, so the same result, at a fraction of
    the frame's cost)."""
    sub = np.ascontiguousarray(out[box])
    sub = sub.reshape(sub.shape[:2]) if sub.shape[2] == 1 else sub  # OpenCV's own one-channel shape
    inside = region[box].astype(np.uint8)
    for _ in range(iterations):
        cv2.copyTo(cv2.filter2D(sub, -1, FOUR_NEIGHBOUR_MEAN, borderType=cv2.BORDER_REPLICATE), inside, sub)
    out[box] = sub.reshape(out[box].shape)
    return out


def diffuse_reduced(field: np.ndarray, region: np.ndarray, box: tuple[slice, slice],
                    iterations: int = DIFFUSION_SWEEPS) -> np.ndarray:
    """``diffuse_into`` for a large region: solved on a copy reduced (area mean of the known
    pixels) until the region's box holds at most ``DIFFUSE_PIXELS``, where the reduced
    pixels not wholly known are solved (all but those with no hole pixel under them, or,
    where there are none, with a known one), then enlarged (bilinear) into the region and
    knit to its border by ``KNIT_SWEEPS`` sweeps at full size. A harmonic fill is smooth,
    so the reduction loses nothing a viewer sees, and at full size 300 sweeps spread a
    value only about 17 px: reduced, the same sweeps reach further. ``box``: the region's
    box grown by one pixel, as ``diffuse_into`` found it."""
    h, w = region.shape
    area = (box[0].stop - box[0].start) * (box[1].stop - box[1].start)
    factor = int(np.ceil(np.sqrt(area / DIFFUSE_PIXELS))) + 1
    size = (max(-(-w // factor), 1), max(-(-h // factor), 1))
    small, small_region = reduced(field, region, size)
    solved = diffuse_into(small, small_region, iterations)
    up = cv2.resize(solved, (w, h), interpolation=cv2.INTER_LINEAR).reshape(field.shape)
    out = field.copy()
    out[region] = up[region]
    return _sweep(out, region, box, KNIT_SWEEPS)


def blended_telea(frame: np.ndarray, hole: np.ndarray, filled: np.ndarray, rest: np.ndarray,
                  weight: float = 1.0) -> np.ndarray:
    """Telea from the hole's true border, blended into the pixels around ``rest``.

    frame (H, W, C) the plate; hole bool (H, W) its unknown pixels; filled (H, W, C) with
    every pixel outside bool ``rest`` (part of ``hole``) known or already filled ->
    (H, W, C) float32: ``filled`` with ``rest`` set to ``weight`` x Telea of the whole hole
    plus the harmonic interpolation (``diffuse_into``) of ``filled - weight x Telea`` from
    rest's border. At weight 1: the gradients of a fill drawn from real pixels, the values
    of the fill around it (Poisson blending, Pérez et al. 2003); where nothing around
    ``rest`` differs from Telea, this is Telea. At weight 0: ``diffuse_into(filled, rest)``.
    Diffusion is linear, so weight 0.5 is the mean of the two, for one diffusion.

    All of it is done on display values (``colour.display_like``, highlights kept; back
    through ``colour.srgb_to_linear``), the space fills are judged in. Made in scene-linear,
    a few bright pixels on the border (lit windows, lamps) lift the whole region: on eight
    fixed boxes filled from their true border, scene-linear was the worst space on seven,
    0.49 dB under display values on the mean (decision 0051)."""
    if filled.shape != frame.shape or hole.shape != frame.shape[:2] or rest.shape != hole.shape:
        raise ShapeError(f"blended_telea needs (H, W, C) frame and fill and (H, W) masks, got "
                               f"{frame.shape}, {filled.shape}, {hole.shape}, {rest.shape}")
    base = weight * display_like(telea_frame(frame, hole)) if weight else np.zeros(frame.shape, np.float32)
    shown = display_like(filled)
    correction = diffuse_into(np.where(rest[..., None], 0.0, shown - base).astype(np.float32), rest)
    return np.where(rest[..., None], srgb_to_linear(base + correction), filled).astype(np.float32)
