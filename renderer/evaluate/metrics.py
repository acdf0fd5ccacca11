"""Quality metrics for inpainted video, computed in display-referred sRGB [0, 1].

Every function is pure and takes numpy arrays:

* videos: float32 (F, H, W, 3); display sRGB in [0, 1] unless the name says ``linear``
* holes:  bool (F, H, W), True = the pixel was filled (the matte)

``docs/evaluation.md`` states each definition in words; the code here is the
reference. Frames whose hole is empty are skipped by the hole metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from renderer.colour import linear_to_srgb
from renderer.method.flow import dis_flow, fb_valid, sample

from .errors import MetricInputError

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


# ---------------------------------------------------------------- guards
def _check_video(x: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[-1] != 3:
        raise MetricInputError(f"{name} must be a (F, H, W, 3) array, got {getattr(x, 'shape', type(x))}")
    if not np.issubdtype(x.dtype, np.floating):
        raise MetricInputError(f"{name} must be floating point, got {x.dtype}")
    return x


def _check_pair(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> None:
    _check_video(out, "output")
    _check_video(gt, "ground truth")
    if out.shape != gt.shape:
        raise MetricInputError(f"output {out.shape} and ground truth {gt.shape} differ in shape")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != out.shape[:3]:
        raise MetricInputError(f"holes must be bool (F, H, W) = {out.shape[:3]}, "
                               f"got {getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")


# ---------------------------------------------------------------- colour
def to_display(frames_linear: np.ndarray) -> np.ndarray:
    """Scene-linear (..., 3) -> display sRGB in [0, 1]: clip to [0, 1], then the
    piecewise sRGB transfer (12.92 x below 0.0031308, 1.055 x^(1/2.4) - 0.055 above)."""
    return linear_to_srgb(frames_linear)


def grey8(frame_srgb: np.ndarray) -> np.ndarray:
    """Display sRGB (H, W, 3) in [0, 1] -> uint8 (H, W) Rec.709-weighted grey, for DIS."""
    g = np.asarray(frame_srgb, dtype=np.float32) @ LUMA
    return np.clip(g * 255.0 + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- PSNR
def psnr_from_mse(mse: float) -> float:
    """10 log10(1 / mse) for signals in [0, 1]; +inf when mse == 0."""
    if mse < 0 or math.isnan(mse):
        raise MetricInputError(f"mse must be >= 0, got {mse}")
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def hole_mse_per_frame(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F,) mean squared error over the hole pixels (all 3 channels) of each frame;
    NaN for a frame whose hole is empty."""
    _check_pair(out, gt, holes)
    sq = ((out.astype(np.float64) - gt.astype(np.float64)) ** 2).sum(axis=-1)
    counts = holes.sum(axis=(1, 2))
    sums = np.where(holes, sq, 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / (3.0 * np.maximum(counts, 1)), np.nan)


def hole_psnr_per_frame(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F,) PSNR over each frame's hole pixels; NaN where the hole is empty, +inf where exact."""
    mse = hole_mse_per_frame(out, gt, holes)
    return np.array([np.nan if np.isnan(m) else psnr_from_mse(float(m)) for m in mse])


def hole_psnr(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> float:
    """Mean over frames (with a non-empty hole) of the per-frame hole PSNR, in dB."""
    per = hole_psnr_per_frame(out, gt, holes)
    per = per[~np.isnan(per)]
    if per.size == 0:
        raise MetricInputError("every hole is empty: nothing to measure")
    return float(np.mean(per))


def full_psnr(out: np.ndarray, gt: np.ndarray) -> float:
    """Mean over frames of the whole-frame PSNR, in dB (+inf if identical)."""
    _check_video(out, "output")
    _check_video(gt, "ground truth")
    if out.shape != gt.shape:
        raise MetricInputError(f"output {out.shape} and ground truth {gt.shape} differ in shape")
    mse = ((out.astype(np.float64) - gt.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return float(np.mean([psnr_from_mse(float(m)) for m in mse]))


# ---------------------------------------------------------------- SSIM
def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM map of two (H, W, C) images in [0, 1] -> (H, W), the mean over channels.

    Wang et al. 2004: Gaussian window 11x11, sigma 1.5, C1 = (0.01)^2, C2 = (0.03)^2,
    borders by reflection (OpenCV BORDER_REFLECT_101).
    """
    if a.shape != b.shape or a.ndim != 3:
        raise MetricInputError(f"ssim_map needs two equal (H, W, C) images, got {a.shape} and {b.shape}")
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2

    def blur(x):
        return cv2.GaussianBlur(x, (SSIM_WINDOW, SSIM_WINDOW), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT_101)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    s = num / den
    return s.mean(axis=-1) if s.ndim == 3 else s


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1), half-open, of the True pixels of a (H, W) mask; None if empty."""
    ys = np.flatnonzero(mask.any(axis=1))
    if ys.size == 0:
        return None
    xs = np.flatnonzero(mask.any(axis=0))
    return int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1


def hole_ssim_per_frame(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F,) SSIM map (computed on the whole frame) averaged over the hole's bounding box;
    NaN where the hole is empty."""
    _check_pair(out, gt, holes)
    result = np.full(out.shape[0], np.nan)
    for i in range(out.shape[0]):
        box = bounding_box(holes[i])
        if box is None:
            continue
        y0, y1, x0, x1 = box
        result[i] = float(ssim_map(out[i], gt[i])[y0:y1, x0:x1].mean())
    return result


def hole_ssim(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> float:
    """Mean over frames (with a non-empty hole) of the hole-bounding-box SSIM."""
    per = hole_ssim_per_frame(out, gt, holes)
    per = per[~np.isnan(per)]
    if per.size == 0:
        raise MetricInputError("every hole is empty: nothing to measure")
    return float(np.mean(per))


# ---------------------------------------------------------------- fine detail
def hole_gradient_energy(video: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(F,) fine-detail energy of each frame inside its hole, float64.

    video: display sRGB (F, H, W, 3); holes: bool (F, H, W). Luma Y = Rec.709 weights of the
    display values; with the forward differences dx = Y(y, x+1) - Y(y, x) and
    dy = Y(y+1, x) - Y(y, x), the energy is the sum of dx^2 over the horizontal pairs whose
    two pixels are both in the hole plus the sum of dy^2 over such vertical pairs. A pair
    that crosses the hole's border is left out: the seam is not detail (hole PSNR sees it)."""
    _check_video(video, "video")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != video.shape[:3]:
        raise MetricInputError(f"holes must be bool (F, H, W) = {video.shape[:3]}, "
                               f"got {getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")
    luma = video.astype(np.float64) @ LUMA.astype(np.float64)
    dx = np.diff(luma, axis=2)
    dy = np.diff(luma, axis=1)
    inside_x = holes[:, :, 1:] & holes[:, :, :-1]
    inside_y = holes[:, 1:, :] & holes[:, :-1, :]
    return np.where(inside_x, dx * dx, 0.0).sum(axis=(1, 2)) + np.where(inside_y, dy * dy, 0.0).sum(axis=(1, 2))


def detail(out: np.ndarray, gt: np.ndarray, holes: np.ndarray) -> float:
    """E_out / E_truth, each the ``hole_gradient_energy`` summed over every frame (pooled,
    so frames with small holes weigh little): 1.0 = as much fine detail inside the hole as
    the footage, below 1 a smear, above 1 invented or exaggerated texture. NaN when the
    truth has no energy there (a flat region, or holes too thin for a pair).

    out, gt: display sRGB (F, H, W, 3); holes: bool (F, H, W)."""
    _check_pair(out, gt, holes)
    truth = float(hole_gradient_energy(gt, holes).sum())
    if truth == 0.0:
        return math.nan
    return float(hole_gradient_energy(out, holes).sum()) / truth


# ---------------------------------------------------------------- temporal warping error
@dataclass(frozen=True)
class WarpReference:
    """Ground-truth motion for the warping error, computed once per shot.

    ``forward[t]`` is the flow F(t -> t+1) (H, W, 2) of the ground truth, (dx, dy) with
    gt_t(x) ~ gt_{t+1}(x + F(x)); ``valid[t]`` is bool (H, W): the forward-backward check
    ||F(t->t+1)(x) + F(t+1->t)(x + F(x))||^2 < 2 ln 2 passed and x + F(x) is inside the frame.
    Both have F - 1 entries.
    """

    forward: np.ndarray
    valid: np.ndarray


def warp_reference(gt: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> WarpReference:
    """DIS flow (medium preset) of the ground truth (F, H, W, 3) display sRGB, both ways,
    between consecutive frames, with the forward-backward validity mask."""
    _check_video(gt, "ground truth")
    if gt.shape[0] < 2:
        raise MetricInputError("the warping error needs at least 2 frames")
    grey = [grey8(f) for f in gt]
    fwd, valid = [], []
    for t in range(gt.shape[0] - 1):
        f = dis_flow(grey[t], grey[t + 1], preset)
        b = dis_flow(grey[t + 1], grey[t], preset)
        fwd.append(f)
        valid.append(fb_valid(f, b))
    return WarpReference(forward=np.stack(fwd), valid=np.stack(valid))


def warp_error_per_pair(out: np.ndarray, holes: np.ndarray, ref: WarpReference) -> np.ndarray:
    """(F-1,) warping error of each consecutive pair; NaN where no pixel qualifies.

    For pair (t, t+1): warped = out_{t+1} sampled bilinearly at x + F(t->t+1)(x);
    region = (hole_t(x) or hole_{t+1} sampled at x + F(x) > 0) and valid_t(x);
    error = mean over region pixels and the 3 channels of (out_t - warped)^2.
    """
    _check_video(out, "output")
    n = out.shape[0]
    if holes.shape != out.shape[:3] or holes.dtype != bool:
        raise MetricInputError(f"holes must be bool {out.shape[:3]}, got {holes.dtype} {holes.shape}")
    if ref.forward.shape[0] != n - 1 or ref.forward.shape[1:3] != out.shape[1:3]:
        raise MetricInputError(f"warp reference is for {ref.forward.shape[0] + 1} frames of "
                               f"{ref.forward.shape[1:3]}, output is {n} frames of {out.shape[1:3]}")
    result = np.full(n - 1, np.nan)
    for t in range(n - 1):
        flow = ref.forward[t]
        warped = sample(np.ascontiguousarray(out[t + 1], dtype=np.float32), flow)
        next_hole = sample(holes[t + 1].astype(np.float32), flow) > 0
        region = (holes[t] | next_hole) & ref.valid[t]
        if region.any():
            diff = (out[t].astype(np.float64) - warped.astype(np.float64)) ** 2
            result[t] = float(diff[region].mean())
    return result


def warp_error(out: np.ndarray, holes: np.ndarray, ref: WarpReference) -> float:
    """Mean over consecutive pairs of ``warp_error_per_pair`` (an MSE; reports show it x 10^3).
    NaN when no pair has a qualifying pixel."""
    per = warp_error_per_pair(out, holes, ref)
    per = per[~np.isnan(per)]
    return float(np.mean(per)) if per.size else math.nan


# ---------------------------------------------------------------- contract: known pixels
def known_changed_fraction(out_linear: np.ndarray, input_linear: np.ndarray, holes: np.ndarray) -> float:
    """Fraction of known pixels (not in the hole) whose output differs from the input in
    any channel, compared exactly in the method's own (scene-linear) values. Must be 0."""
    _check_pair(out_linear, input_linear, holes)
    known = ~holes
    count = int(known.sum())
    if count == 0:
        return 0.0
    changed = np.any(out_linear != input_linear, axis=-1) & known
    return float(changed.sum()) / count


def known_changed_count(out_linear: np.ndarray, input_linear: np.ndarray, holes: np.ndarray) -> int:
    """Number of known pixels whose output differs from the input (see ``known_changed_fraction``)."""
    _check_pair(out_linear, input_linear, holes)
    return int((np.any(out_linear != input_linear, axis=-1) & ~holes).sum())


# ---------------------------------------------------------------- all at once
def quality(out_linear: np.ndarray, gt_linear: np.ndarray, input_linear: np.ndarray, holes: np.ndarray,
            ref: WarpReference | None) -> dict:
    """Every quality metric of one result. Returns plain data (floats and lists) for JSON.

    out_linear, gt_linear, input_linear: scene-linear (F, H, W, 3); ``input_linear`` is what the
    method was given (the ground truth, whose hole the method must not look at).
    """
    _check_pair(out_linear, gt_linear, holes)
    out, gt = to_display(out_linear), to_display(gt_linear)
    per_psnr = hole_psnr_per_frame(out, gt, holes)
    per_ssim = hole_ssim_per_frame(out, gt, holes)
    ok = ~np.isnan(per_psnr)
    result = {
        "hole_psnr": float(np.mean(per_psnr[ok])) if ok.any() else math.nan,
        "hole_ssim": float(np.mean(per_ssim[ok])) if ok.any() else math.nan,
        "full_psnr": full_psnr(out, gt),
        "warp_error": warp_error(out, holes, ref) if ref is not None else math.nan,
        "detail": detail(out, gt, holes),
        "known_changed_fraction": known_changed_fraction(out_linear, input_linear, holes),
        "known_changed_pixels": known_changed_count(out_linear, input_linear, holes),
        "per_frame_hole_psnr": [float(v) for v in per_psnr],
        "per_frame_hole_ssim": [float(v) for v in per_ssim],
    }
    return result


# ---------------------------------------------------------------- fine-scale energy (grain)
def fine_energy(out_linear: np.ndarray, holes: np.ndarray) -> float:
    """Fine-scale energy inside the hole, pooled over every frame: with Y the Rec.709 luma
    (``LUMA``) of the display values (``to_display``) and B its Gaussian blur (sigma 1.5 px,
    OpenCV's kernel, whole frame, borders by reflection, BORDER_REFLECT_101), the mean
    over hole pixels of (Y - B)^2. Grain, noise and fine texture live there; a smooth fill has
    little. The ratio fine_energy(fill) / fine_energy(truth) says whether a fill's grain
    matches the plate's (1.0 = as much).

    out_linear: scene-linear (F, H, W, 3); holes: bool (F, H, W)."""
    _check_video(out_linear, "output")
    if not isinstance(holes, np.ndarray) or holes.dtype != bool or holes.shape != out_linear.shape[:3]:
        raise MetricInputError(f"holes must be bool (F, H, W) = {out_linear.shape[:3]}, "
                               f"got {getattr(holes, 'dtype', type(holes))} {getattr(holes, 'shape', '')}")
    sigma = 1.5  # px: the blur whose residual is the "fine scale"
    pad = int(math.ceil(4 * sigma)) + 2  # past OpenCV's kernel radius for this sigma: a crop blurs as the frame
    total, count = 0.0, 0
    for t in range(out_linear.shape[0]):
        box = bounding_box(holes[t])
        if box is None:
            continue
        y0, y1, x0, x1 = box
        h, w = holes.shape[1:]
        cy0, cy1, cx0, cx1 = max(0, y0 - pad), min(h, y1 + pad), max(0, x0 - pad), min(w, x1 + pad)
        luma = np.ascontiguousarray(to_display(out_linear[t, cy0:cy1, cx0:cx1]) @ LUMA, dtype=np.float32)
        fine = luma - cv2.GaussianBlur(luma, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
        inside = holes[t, cy0:cy1, cx0:cx1]
        total += float(np.sum(fine[inside].astype(np.float64) ** 2))
        count += int(inside.sum())
    if count == 0:
        raise MetricInputError("every hole is empty: nothing to measure")
    return total / count
