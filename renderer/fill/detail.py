"""Fine detail for the pixels no frame shows: a texture layer over the smooth fill.

Where no chain of flow reaches (a fixed box over a locked-off shot), every fill the
pipeline has is smooth: diffusion and Telea interpolate from the border, and the network,
trained on the shot's known pixels, regresses to the same mean. A viewer sees a blurry
patch. Exemplar-based completion (``fill.patchmatch``) copies texture from the frame's
known patches, but its placement is a guess: alone it lost 2.1 dB of hole PSNR against
the smooth fill on the development shot, and frame by frame it flickers.

So the smooth fill keeps the low frequencies (the colours and light, where it is right on
average) and the patch-based fill gives only its fine detail: its difference from its own
Gaussian blur (sigma ``DETAIL_SIGMA``) in ACEScct, made from patches copied whole (the
fill's ``sharp`` step) and scaled so that the fill is as sharp as the footage around the
hole where it is softer (``ring_gain``). The layer is made once per shot window,
on one frame, over the regions some frame leaves unreached that have room for texture
(``textured_region``), and laid on each frame's unreached pixels there: the same texture
every frame, steady where the background is still.
Where the plate has grain, the layer is taken from the degrained frame (``fill.grain``)
and fresh grain is added afterwards. Limits: with a moving camera the unreached pixels
are few, and the layer stays put in the frame while the background moves under it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..colour import decode, display_like, encode
from ..errors import ShapeError
from ..io.masks import depth_inside, dilated
from .grain import GrainModel, degrain
from .patch_level import LUMA
from .patchmatch import patchmatch_frame

# px, in ACEScct: the detail kept from the patch-based fill. On bikes.mp4 from frame 140
# (48 frames at 272x640, a fixed box, 76 % of it unreached), over seamed propagation:
# 1.0 -> -0.09 dB, detail 0.43; 2.0 -> -0.39 dB, detail 0.88; 3.0 -> -0.63 dB, detail 1.05 (a voted
# fill, unscaled: before decision 0052)
DETAIL_SIGMA = 2.0
# px: how deep an unreached region must reach (from the nearest pixel outside it) to get
# the layer. A region narrower than the layer's own scale (a sliver or a speck left by the
# chains beside a propagated fill, decision 0033) is not a blurry patch: the fill's pixels
# around it carry the footage's detail, and a texture there only adds its misplaced
# variance (-0.03 to -0.35 dB on four people shots, detail +0.00 to +0.01).
DETAIL_MIN_DEPTH = 2.0 * DETAIL_SIGMA
# px: the known pixels around the hole whose sharpness the layer is scaled to (decision
# 0035's ring): near enough to be the same surface, wide enough to hold its texture
RING_PX = 16
# the most the layer is amplified: further up, what grows is the patch fill's pixel noise
# rather than texture a viewer reads (decision 0035, sigma 0.7 amplified 2-3 times)
MAX_GAIN = 2.0


def textured_region(unreached: np.ndarray) -> np.ndarray:
    """bool (H, W): the 8-connected regions of ``unreached`` (bool (H, W), the pixels some
    frame leaves unreached) that the detail layer is for: those with a pixel at least
    ``DETAIL_MIN_DEPTH`` px (Euclidean) from every pixel outside them."""
    if unreached.ndim != 2:
        raise ShapeError(f"textured_region needs a bool (H, W) mask, got {unreached.shape}")
    if not unreached.any():
        return np.zeros(unreached.shape, bool)
    depth = depth_inside(unreached)
    count, labels = cv2.connectedComponents(unreached.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[labels[depth >= DETAIL_MIN_DEPTH]] = True
    keep[0] = False  # label 0 is every pixel outside
    return keep[labels]


def pair_sum(linear: np.ndarray, region: np.ndarray) -> tuple[np.floating, int]:
    """(the summed squared differences of ``display_like`` luma, Rec.709 ``LUMA`` as the
    detail metric's, between horizontal and vertical neighbours both in ``region``
    (bool (H, W)) of ``linear`` (H, W, 3) scene-linear; how many such pairs there are).
    The held-out check's detail (``pipeline.holdout.held_out_detail``) sums it too."""
    luma = display_like(np.maximum(linear, 0.0)) @ LUMA
    across, down = region[:, 1:] & region[:, :-1], region[1:] & region[:-1]
    dx, dy = np.diff(luma, axis=1), np.diff(luma, axis=0)
    return (dx[across] ** 2).sum() + (dy[down] ** 2).sum(), int(across.sum() + down.sum())


def pair_energy(linear: np.ndarray, region: np.ndarray) -> float:
    """``pair_sum`` per pair: the detail metric's energy per neighbour pair in ``region``
    (bool (H, W)) of ``linear`` (H, W, 3) scene-linear. NaN where no pair lies in it."""
    total, pairs = pair_sum(linear, region)
    return float(total / pairs) if pairs else float("nan")


def ring_gain(frame_linear: np.ndarray, hole: np.ndarray, base: np.ndarray, fine: np.ndarray,
              box: tuple[int, int, int, int]) -> float:
    """The factor g >= 1 on ``fine`` that makes decode(``base`` + g ``fine``) at least as
    sharp inside the hole as the footage within ``RING_PX`` of it (``pair_energy``),
    capped at ``MAX_GAIN``; 1.0 where either cannot be measured. ``frame_linear``
    (H, W, 3) scene-linear and ``hole`` bool (H, W); ``base`` and ``fine`` (h, w, 3)
    ACEScct over ``box`` (y0, y1, x0, x1) of it.

    A patch fill is softer than its sources where it had to blend them, and the blur takes
    the coarser part of its contrast with it: softer than the surface right around the
    hole, the fill reads as a smear, so the layer is raised to the ring's sharpness. A fill
    sharper than the ring is left as made: it copied texture the footage has further out,
    and a box often hides more of it than its 16 px border shows (decision 0052)."""
    y0, y1, x0, x1 = box
    if base.shape != fine.shape or base.shape[:2] != (y1 - y0, x1 - x0):
        raise ShapeError(f"ring_gain needs base and fine over the box {box}, got {base.shape}, {fine.shape}")
    target = pair_energy(frame_linear, dilated(hole, RING_PX) & ~hole)
    inside = hole[y0:y1, x0:x1]
    flat = pair_energy(decode(base), inside)
    full = pair_energy(decode(base + fine), inside)
    if not (np.isfinite(target) and np.isfinite(full)) or full <= flat:
        return 1.0
    return float(np.clip(np.sqrt(max(target - flat, 0.0) / (full - flat)), 1.0, MAX_GAIN))


def detail_layer(frame_linear: np.ndarray, hole: np.ndarray, *, seed: int = 0,
                 grain: GrainModel | None = None) -> np.ndarray:
    """(H, W, 3) float32 in ACEScct: the fine detail a patch-based completion of ``hole``
    (bool (H, W)) in ``frame_linear`` (H, W, 3) scene-linear puts there, 0 outside the hole.
    With a ``grain`` model that is not clean the frame is degrained first."""
    if frame_linear.ndim != 3 or frame_linear.shape[-1] != 3 or hole.shape != frame_linear.shape[:2]:
        raise ShapeError(f"detail_layer needs (H, W, 3) and (H, W), got {frame_linear.shape}, {hole.shape}")
    layer = np.zeros(frame_linear.shape, np.float32)
    if not hole.any() or hole.all():
        return layer
    frame = np.maximum(np.asarray(frame_linear, dtype=np.float32), 0.0)
    if grain is not None and not grain.is_clean:
        frame = degrain(frame[None], grain, hole[None])[0]
    filled, _ = patchmatch_frame(frame, hole, seed=seed, sharp=True)
    ys, xs = np.nonzero(hole)
    pad = int(4 * DETAIL_SIGMA) + 1
    y0, x0 = max(ys.min() - pad, 0), max(xs.min() - pad, 0)
    y1, x1 = min(ys.max() + pad + 1, hole.shape[0]), min(xs.max() + pad + 1, hole.shape[1])
    box = encode(np.maximum(filled[y0:y1, x0:x1], 0.0))
    base = cv2.GaussianBlur(box, (0, 0), DETAIL_SIGMA).reshape(box.shape)
    fine = box - base
    gain = ring_gain(frame, hole, base, fine, (y0, y1, x0, x1))
    layer[y0:y1, x0:x1] = np.where(hole[y0:y1, x0:x1, None], gain * fine, 0.0)
    return layer


def with_detail(frame_linear: np.ndarray, where: np.ndarray, layer: np.ndarray) -> np.ndarray:
    """(H, W, 3): ``frame_linear`` with ``layer`` (``detail_layer``) added, in ACEScct, at
    the pixels of bool (H, W) ``where``; every other pixel unchanged, bit for bit."""
    if layer.shape != frame_linear.shape or where.shape != frame_linear.shape[:2]:
        raise ShapeError(f"with_detail needs (H, W, 3) twice and (H, W), got {frame_linear.shape}, "
                         f"{layer.shape}, {where.shape}")
    out = np.array(frame_linear, dtype=np.float32, copy=True)
    if where.any():
        out[where] = decode(encode(np.maximum(out[where], 0.0)) + layer[where])
    return out


def unreached_detail(frames: np.ndarray, holes: np.ndarray, union: np.ndarray, seed: int,
                     model: GrainModel | None, box: tuple[int, int, int, int]) -> np.ndarray:
    """``detail_layer`` over ``union`` (bool (H, W), the pixels some frame leaves unreached,
    in regions deep enough for texture: ``textured_region``), made on
    the frame with the most of them hidden (the middle one of a fixed box), its own hole
    blanked too. The patch-based fill takes its texture from ``box`` (y0, x0, y1, x1, which
    holds ``union``) alone; the layer is 0 outside it."""
    covered = (holes & union[None]).sum(axis=(1, 2))
    best = np.flatnonzero(covered == covered.max())
    t = int(best[len(best) // 2])
    y0, x0, y1, x1 = box
    layer = np.zeros(frames.shape[1:], np.float32)
    layer[y0:y1, x0:x1] = detail_layer(np.ascontiguousarray(frames[t, y0:y1, x0:x1]),
                                       (union | holes[t])[y0:y1, x0:x1], seed=seed, grain=model)
    return layer
