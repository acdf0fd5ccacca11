"""Grain matching (``renderer.fill.grain``) on a real clip with synthetic film-like grain:
is the grain measured right, and does a regrained Telea fill carry the plate's grain?

    .venv/bin/python benchmarks/grain.py CLIP [--frames 48] [--no-hd]

CLIP is a video file of 8-bit display sRGB (e.g. the 640x272 bikes.mp4); its first
FRAMES frames become scene-linear with the inverse sRGB transfer. Two runs:

1. **grainy**: film-like grain added fresh to every frame in ACEScct, brightness-dependent
   (``true_std``: larger in the shadows, blue grainiest, as in colour negative), each
   channel's white noise blurred by a Gaussian of ``TRUE_SIZE`` px. A fixed box hole
   (14 % of the width, 30 % of the height, centred) is filled per frame by Telea; then
   fresh grain from a model estimated on the grainy plate's known pixels is added to the
   hole. Also the full practice: degrain, Telea, regrain.
2. **clean**: the clip as it is, to see what the estimator reads there (the codec's noise
   and 8-bit steps).

Printed: estimated against true std per brightness level and channel (the clip's own
noise adds to the grain, so the row also gives sqrt(true^2 + clean clip's^2)), estimated
against true size, the fine-energy ratio (``metrics.fine_energy``, fill / grainy truth) and
hole PSNR (display sRGB, against the grainy truth and against the clean clip) of each
fill, and the estimation time. Unless ``--no-hd``, the estimation time on a 48-frame
1280x720 grainy plate too (the clip scaled up).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from renderer.colour import acescct_to_linear, linear_to_acescct, srgb_to_linear  # noqa: E402
from renderer.evaluate import metrics  # noqa: E402
from renderer.fill import telea  # noqa: E402
from renderer.fill.grain import degrain, estimate_grain, regrain  # noqa: E402

TRUE_SIZE = 0.8  # px: the Gaussian sigma of the synthetic grain
CHANNEL_GAIN = np.array([1.0, 0.85, 1.3], np.float32)  # R, G, B: blue grainiest
HOLE_WIDTH, HOLE_HEIGHT = 0.14, 0.30  # of the frame
SEED = 2024


def true_std(b: np.ndarray) -> np.ndarray:
    """The synthetic grain's std (ACEScct units) at encoded brightness b (..., 3): 0.020 in
    deep shadow falling to 0.008 from 0.6 up (linear 1.0 is 0.55), times CHANNEL_GAIN."""
    b = np.asarray(b, np.float32)
    return (0.008 + 0.012 * np.clip(1.0 - b / 0.6, 0.0, 1.0)) * CHANNEL_GAIN


def read_clip(path: str, count: int, size: tuple[int, int] | None = None) -> np.ndarray:
    """The first ``count`` frames, scene-linear float32 (F, H, W, 3); scaled (cubic, in
    display sRGB) to ``size`` = (width, height) when given."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {path}")
    frames = []
    while len(frames) < count:
        ok, bgr = capture.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        if size is not None:
            rgb = np.clip(cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        frames.append(srgb_to_linear(rgb))
    capture.release()
    if len(frames) < count:
        raise SystemExit(f"{path} has {len(frames)} frames, {count} are needed")
    return np.stack(frames)


def add_grain(clean: np.ndarray, seed: int) -> np.ndarray:
    """``clean`` with fresh synthetic grain in every frame (its own generator, not the module's)."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(clean)
    for t, frame in enumerate(clean):
        enc = linear_to_acescct(frame)
        noise = rng.standard_normal(enc.shape).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), TRUE_SIZE)
        noise /= noise.std(axis=(0, 1))
        out[t] = acescct_to_linear(enc + true_std(np.clip(enc, 0.0, 1.0)) * noise)
    return out


def box_holes(shape: tuple[int, int, int]) -> np.ndarray:
    f, h, w = shape
    hh, ww = int(round(HOLE_HEIGHT * h)), int(round(HOLE_WIDTH * w))
    holes = np.zeros(shape, bool)
    holes[:, (h - hh) // 2:(h - hh) // 2 + hh, (w - ww) // 2:(w - ww) // 2 + ww] = True
    return holes


def timed_estimate(plate: np.ndarray, known: np.ndarray):
    estimate_grain(plate[:2], known[:2])  # warm OpenCV up
    start = time.perf_counter()
    model = estimate_grain(plate, known)
    return model, time.perf_counter() - start


def regrained(fill: np.ndarray, holes: np.ndarray, model) -> np.ndarray:
    return np.stack([regrain(fill[t], holes[t], model, SEED, t) for t in range(len(fill))])


def report_fills(fills: dict, truth: np.ndarray, clean: np.ndarray, holes: np.ndarray) -> None:
    e_truth = metrics.fine_energy(truth, holes)
    disp_truth, disp_clean = metrics.to_display(truth), metrics.to_display(clean)
    print(f"  {'fill':<26}{'fine energy / truth':>20}{'PSNR vs truth':>15}{'PSNR vs clean':>15}")
    for name, out in fills.items():
        disp = metrics.to_display(out)
        psnr_truth = metrics.hole_psnr(disp, disp_truth, holes)
        psnr_clean = metrics.hole_psnr(disp, disp_clean, holes)
        print(f"  {name:<26}{metrics.fine_energy(out, holes) / e_truth:>20.3f}"
              f"{psnr_truth:>12.2f} dB{psnr_clean:>12.2f} dB")


def print_table(model, clean_model=None) -> None:
    levels = np.asarray(model.levels)
    est = np.asarray(model.std)
    true = true_std(np.repeat(levels[:, None], 3, axis=1))
    print(f"  {'level':>6}  {'estimated R G B':>24}  {'true R G B':>24}  {'sqrt(true^2 + clean^2)':>24}")
    for i, b in enumerate(levels):
        row = f"  {b:6.3f}  " + " ".join(f"{v:7.4f}" for v in est[i]) + "  " + " ".join(f"{v:7.4f}" for v in true[i])
        if clean_model is not None:
            both = np.sqrt(true[i] ** 2 + clean_model.std_at(np.full(3, b, np.float32)) ** 2)
            row += "  " + " ".join(f"{v:7.4f}" for v in both)
        print(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip")
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--no-hd", action="store_true", help="skip the 1280x720 timing")
    args = parser.parse_args()

    clean = read_clip(args.clip, args.frames)
    holes = box_holes(clean.shape[:3])
    known = ~holes
    f, h, w = holes.shape
    print(f"clip {os.path.basename(args.clip)}: {f} frames of {w}x{h}; hole {int(holes[0].any(0).sum())}x"
          f"{int(holes[0].any(1).sum())} px, centred, every frame")

    # ---- the clean clip: what its own noise reads as
    clean_model, clean_seconds = timed_estimate(clean, known)
    print(f"\nclean clip: strength {clean_model.strength:.5f}, is_clean {clean_model.is_clean}, "
          f"size {tuple(round(s, 2) for s in clean_model.size)} px, {clean_model.samples} px measured, "
          f"{clean_seconds:.3f} s")
    print_table(clean_model)

    # ---- the grainy plate
    grainy = add_grain(clean, SEED)
    model, seconds = timed_estimate(grainy, known)
    print(f"\ngrainy plate: strength {model.strength:.5f}, is_clean {model.is_clean}, "
          f"size {tuple(round(s, 2) for s in model.size)} px (true {TRUE_SIZE}), "
          f"{model.samples} px measured, {seconds:.3f} s")
    print_table(model, clean_model)
    b = np.clip(linear_to_acescct(grainy[known]), 0.0, 1.0)[::17]  # the known pixels' brightness, sampled
    rel = model.std_at(b) / true_std(b) - 1.0
    print(f"  std at the known pixels' own brightness, estimated / true - 1: median {np.median(rel):+.3f}, "
          f"|.| 90th percentile {np.percentile(np.abs(rel), 90):.3f}")

    start = time.perf_counter()
    filled = telea(grainy, holes)
    telea_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with_grain = regrained(filled, holes, model)
    regrain_seconds = time.perf_counter() - start
    start = time.perf_counter()
    degrained = degrain(grainy, model, holes)
    degrain_seconds = time.perf_counter() - start
    filled_clean = telea(degrained, holes)
    print(f"\nfills (Telea {telea_seconds:.2f} s, regrain {regrain_seconds:.3f} s, degrain {degrain_seconds:.2f} s "
          f"for {f} frames):")
    report_fills({"Telea": filled,
                  "Telea + regrain": with_grain,
                  "degrain, Telea": filled_clean,
                  "degrain, Telea, regrain": regrained(filled_clean, holes, model),
                  "clean clip + regrain": regrained(np.where(holes[..., None], clean, grainy), holes, model)},
                 grainy, clean, holes)

    share = metrics.fine_energy(clean, holes) / metrics.fine_energy(grainy, holes)
    print(f"  the clip's own texture (and codec noise) is {share:.3f} of the grainy truth's fine energy in the hole, "
          f"the added grain about {1.0 - share:.3f}")

    print("\nthe clean clip's own fills (truth: the clean clip):")
    clean_fill = telea(clean, holes)
    report_fills({"Telea": clean_fill, "Telea + regrain (its model)": regrained(clean_fill, holes, clean_model)},
                 clean, clean, holes)

    if not args.no_hd:
        del grainy, filled, with_grain, degrained, filled_clean
        hd = add_grain(read_clip(args.clip, 48, (1280, 720)), SEED + 1)
        hd_known = ~box_holes(hd.shape[:3])
        hd_model, hd_seconds = timed_estimate(hd, hd_known)
        print(f"\n48 frames of 1280x720 (scaled up, grain added at that size): estimate {hd_seconds:.3f} s, "
              f"size {tuple(round(s, 2) for s in hd_model.size)} px, strength {hd_model.strength:.5f}, "
              f"{hd_model.samples} px measured")


if __name__ == "__main__":
    main()
