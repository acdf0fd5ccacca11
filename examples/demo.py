"""`make demo`: render the bundled example shot and write a before/after contact sheet.

    .venv/bin/python examples/demo.py [--preset standard] [--steps N]

The contact sheet (examples/city/out/contact_sheet.png) shows, for a few frames,
the plate with the roto outlined in red, the result, and the clean original.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np

from renderer import api
from renderer.callbacks import Callbacks
from renderer.colour import linear_to_srgb
from renderer.io.exrio import read_image
from renderer.progress import ProgressReporter
from renderer.io.sequences import frame_path

HERE = os.path.dirname(os.path.abspath(__file__))


def to_display(linear: np.ndarray, scale: int) -> np.ndarray:
    srgb = (linear_to_srgb(linear[..., :3]) * 255 + 0.5).astype(np.uint8)[..., ::-1]
    return cv2.resize(srgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def contact_sheet(shot, out_png: str, picks: int = 4, scale: int = 2) -> None:
    truth_pattern = os.path.join(os.path.dirname(shot.source), "..", "truth", os.path.basename(shot.source))
    frames = [shot.frames[round(k * (len(shot.frames) - 1) / (picks - 1))] for k in range(picks)]
    rows = []
    for f in frames:
        plate = read_image(frame_path(shot.source, f)).pixels
        matte = read_image(frame_path(shot.mask.path, f)).pixels[..., 0] > 0.5
        result = read_image(frame_path(shot.output, f)).pixels
        before = to_display(plate, scale)
        edge = cv2.dilate(matte.astype(np.uint8), np.ones((3, 3), np.uint8)) - matte.astype(np.uint8)
        edge = cv2.resize(edge, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST) > 0
        before[edge] = (0, 0, 255)
        tiles = [before, to_display(result, scale)]
        truth_path = frame_path(truth_pattern, f)
        if os.path.isfile(truth_path):
            tiles.append(to_display(read_image(truth_path).pixels, scale))
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0))) for t in tiles], axis=1))
    sheet = np.concatenate(rows, axis=0)
    header = np.zeros((22, sheet.shape[1], 3), np.uint8)
    labels = ["plate + roto", "result", "clean original"]
    for k, label in enumerate(labels[: len(rows[0][0]) and 3]):
        cv2.putText(header, label, (6 + k * (sheet.shape[1] // 3), 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (255, 255, 255), 1, cv2.LINE_AA)
    cv2.imwrite(out_png, np.concatenate([header, sheet], axis=0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shot", default=os.path.join(HERE, "city", "shot.yaml"))
    parser.add_argument("--preset", default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    shot = api.load_shot(args.shot)
    reporter = ProgressReporter()
    started = time.monotonic()
    try:
        api.validate(shot)
        result = api.render(shot, preset=args.preset, steps=args.steps, device="cpu", fresh=True,
                            callbacks=Callbacks(on_progress=reporter, log=reporter.log))
    except api.RendererError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        reporter.close()
    sheet = os.path.join(os.path.dirname(shot.output), "contact_sheet.png")
    contact_sheet(shot, sheet)
    print(f"demo: {len(result.frames_written)} frames in {time.monotonic() - started:.0f}s "
          f"({result.steps} steps) -> {os.path.dirname(shot.output)}")
    print(f"demo: contact sheet -> {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
