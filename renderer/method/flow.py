"""Reference optical flow of the input video (OpenCV DIS) and its validity.

No flow network weights exist offline, so DIS stands in for PWC-Net. Flows are
computed on the frames with the object still present, forward and backward for
each stride, and checked forward-backward as in the paper:
valid where ||f(x) + b(x + f(x))||^2 < 2 ln 2.

Conventions: a flow F(i->j) is (H, W, 2) in pixels, (dx, dy), such that
frame_i(x) ~ frame_j(x + F(x)).
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import linear_to_srgb
from ..errors import ShapeError
from ..parallel import map_frames

FB_THRESHOLD = 2.0 * math.log(2.0)


def to_gray8(frame_linear: np.ndarray) -> np.ndarray:
    """Scene-linear (H, W, 3) -> display uint8 grey for DIS."""
    srgb = linear_to_srgb(frame_linear)
    grey = srgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return np.clip(grey * 255.0 + 0.5, 0, 255).astype(np.uint8)


def dis_flow(a: np.ndarray, b: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Flow from grey uint8 ``a`` to ``b``: (H, W, 2) float32 with a(x) ~ b(x + F(x))."""
    if a.shape != b.shape or a.ndim != 2 or a.dtype != np.uint8:
        raise ShapeError(f"dis_flow needs two equal (H, W) uint8 images, got {a.shape} {a.dtype}, {b.shape}")
    dis = cv2.DISOpticalFlow_create(preset)
    return dis.calc(a, b, None).astype(np.float32)


def sample(image: np.ndarray, flow: np.ndarray, origin: tuple[int, int] = (0, 0),
           border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """Bilinearly sample ``image`` (H, W[, C]) at x + flow(x); outside reads 0 (or, with
    ``border`` ``cv2.BORDER_REPLICATE``, the nearest edge pixel).

    ``flow`` (h, w, 2) may cover only the box of ``image`` whose top-left pixel is
    ``origin`` (y, x): each pixel's sample is the one the whole frame's flow gives there."""
    h, w = flow.shape[:2]
    y0, x0 = origin
    gx, gy = np.meshgrid(np.arange(x0, x0 + w, dtype=np.float32), np.arange(y0, y0 + h, dtype=np.float32))
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=border, borderValue=0)


def fb_error(forward: np.ndarray, backward: np.ndarray, border: int = cv2.BORDER_CONSTANT) -> np.ndarray:
    """The forward-backward miss ||f + b(x+f)||^2, (H, W): forward F(i->j), backward F(j->i),
    both (H, W, 2); ``border`` as ``sample``'s, for landings outside the frame."""
    if forward.shape != backward.shape or forward.shape[-1] != 2:
        raise ShapeError(f"fb_error needs two (H, W, 2) flows, got {forward.shape} and {backward.shape}")
    return np.sum((forward + sample(backward, forward, border=border)) ** 2, axis=-1)


def fb_valid(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Forward-backward check: bool (H, W), True where ``fb_error`` < 2 ln 2.

    forward F(i->j), backward F(j->i), both (H, W, 2). Points that leave the frame are invalid.
    """
    if forward.shape != backward.shape or forward.shape[-1] != 2:
        raise ShapeError(f"fb_valid needs two (H, W, 2) flows, got {forward.shape} and {backward.shape}")
    h, w = forward.shape[:2]
    err = fb_error(forward, backward)
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    tx, ty = gx + forward[..., 0], gy + forward[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    return (err < FB_THRESHOLD) & inside


@dataclass
class ReferenceFlow:
    """Flows for every (stride, direction) the schedule may ask for.

    ``flows[(s, d)]`` is (F, H, W, 2): for frame i, the flow to i + s (d=+1) or i - s (d=-1);
    zero where that neighbour does not exist. ``valid[(s, d)]`` is bool (F, H, W).
    ``max_abs[s]`` is the global max |flow| for stride s (the paper's flow_value_max).
    """

    flows: dict[tuple[int, int], np.ndarray]
    valid: dict[tuple[int, int], np.ndarray]
    max_abs: dict[int, float]


def reference_flow(frames_linear: np.ndarray, strides=(1, 3, 5), *, progress=None) -> ReferenceFlow:
    """DIS flows of (F, H, W, 3) scene-linear frames for each stride, both directions."""
    if frames_linear.ndim != 4 or frames_linear.shape[-1] != 3:
        raise ShapeError(f"frames must be (F, H, W, 3), got {frames_linear.shape}")
    n, h, w = frames_linear.shape[:3]
    grey = [to_gray8(f) for f in frames_linear]
    flows, valid, max_abs = {}, {}, {}
    pairs = [(s, i) for s in strides for i in range(n - s)]
    for s in dict.fromkeys(s for s, _ in pairs):  # the strides the shot is long enough for, in order
        for d in (1, -1):
            flows[(s, d)] = np.zeros((n, h, w, 2), np.float32)
            valid[(s, d)] = np.zeros((n, h, w), bool)
    lock, done = threading.Lock(), [0]

    def pair(k: int) -> None:  # each pair writes its own slots
        s, i = pairs[k]
        fwd = dis_flow(grey[i], grey[i + s])
        bwd = dis_flow(grey[i + s], grey[i])
        flows[(s, 1)][i], flows[(s, -1)][i + s] = fwd, bwd
        valid[(s, 1)][i] = fb_valid(fwd, bwd)
        valid[(s, -1)][i + s] = fb_valid(bwd, fwd)
        if progress is not None:
            with lock:
                done[0] += 1
                progress(done[0], len(pairs))

    map_frames(pair, len(pairs))
    for s in strides:
        if (s, 1) in flows:
            max_abs[s] = max(float(np.abs(flows[(s, 1)]).max()), float(np.abs(flows[(s, -1)]).max()), 1e-3)
    return ReferenceFlow(flows=flows, valid=valid, max_abs=max_abs)


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """A short content hash of arrays (shapes included)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def cached_reference_flow(frames_linear: np.ndarray, strides, cache_dir: str | None, *, progress=None,
                          log=None) -> ReferenceFlow:
    """``reference_flow``, cached as .npz in ``cache_dir`` keyed by the frames' content."""
    if not cache_dir:
        return reference_flow(frames_linear, strides, progress=progress)
    key = fingerprint_arrays(frames_linear, np.asarray(strides))
    path = os.path.join(cache_dir, f"flow-{key}.npz")
    if os.path.isfile(path):
        try:
            data = np.load(path)
            flows, valid, max_abs = {}, {}, {}
            for s in strides:
                for d in (1, -1):
                    if f"f_{s}_{d}" in data:
                        flows[(s, d)] = data[f"f_{s}_{d}"]
                        valid[(s, d)] = data[f"v_{s}_{d}"]
                if f"m_{s}" in data:
                    max_abs[s] = float(data[f"m_{s}"])
            if log:
                log(f"reference flow: loaded from cache {path}")
            return ReferenceFlow(flows, valid, max_abs)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is recomputed
    ref = reference_flow(frames_linear, strides, progress=progress)
    os.makedirs(cache_dir, exist_ok=True)
    payload = {}
    for (s, d), f in ref.flows.items():
        payload[f"f_{s}_{d}"] = f
        payload[f"v_{s}_{d}"] = ref.valid[(s, d)]
    for s, m in ref.max_abs.items():
        payload[f"m_{s}"] = np.float32(m)
    tmp = f"{path}.{os.getpid()}.tmp.npz"  # ranks of a data-parallel run may race here
    np.savez(tmp, **payload)
    os.replace(tmp, path)
    return ref
