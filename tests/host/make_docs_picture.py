"""Make docs/blender_before_after.png from a real Blender round trip (not a test).

    .venv/bin/python tests/host/make_docs_picture.py [--steps 400] [--out docs/blender_before_after.png]

Builds a short plate from the CC0 clip ../shared/data/clips/cityCC0.mpg (Kivy
examples, CC0; converted to scene-linear EXR), a roto matte over a moving ellipse,
starts `renderer serve`, and runs tests/host/blender_roundtrip.py in .venv-host's
Blender exactly as the host test does. The picture shows the plate with the matte
outlined, and what the compositor rendered from the result node.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
CLIP = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips" / "cityCC0.mpg"  # ../shared beside the repo


def helper():
    spec = importlib.util.spec_from_file_location("plugin_serve_helper", REPO / "tests" / "plugin" / "serve_helper.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def srgb_to_linear(x):
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x):
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)


def write_shot(sh, folder: Path, first: int, count: int, size, start_frame: int, hole):
    folder.mkdir(parents=True, exist_ok=True)
    cap = cv2.VideoCapture(str(CLIP))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start_frame)
    w, h = size
    for i in range(count):
        ok, bgr = cap.read()
        if not ok:
            raise SystemExit(f"cannot read frame {start_frame + i} of {CLIP}")
        rgb = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)[..., ::-1].astype(np.float32) / 255.0
        yy, xx = np.mgrid[0:h, 0:w]
        x, y, rx, ry = hole  # an object-like ellipse drifting across the frame
        cx, cy = w * (x + 0.01 * i), h * y
        matte = ((((xx - cx) / (w * rx)) ** 2 + ((yy - cy) / (h * ry)) ** 2) <= 1).astype(np.float32)
        sh.write_exr(folder / f"plate.{first + i:04d}.exr",
                     np.dstack([srgb_to_linear(rgb), np.ones((h, w), np.float32)]), "RGBA")
        sh.write_exr(folder / f"matte.{first + i:04d}.exr", matte[..., None], ("A",))
    return str(folder / "plate.####.exr"), str(folder / "matte.####.exr")


def picture(sh, plate, matte, comp, frame, out: Path, scale=3):
    p = sh.read_exr(plate.replace("####", f"{frame:04d}"))[..., :3]
    m = sh.read_exr(matte.replace("####", f"{frame:04d}"))[..., 0] > 0.5
    c = sh.read_exr(comp.replace("####", f"{frame:04d}"))[..., :3]

    def show(img):
        img = (linear_to_srgb(img) * 255 + 0.5).astype(np.uint8)[..., ::-1].copy()
        return cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

    before = show(p)
    edge = cv2.resize(m.astype(np.uint8), None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(edge, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(before, contours, -1, (40, 40, 255), 2)
    after = show(c)
    pad = np.full((before.shape[0], 8, 3), 255, np.uint8)
    strip = np.hstack([before, pad, after])
    band = np.full((28, strip.shape[1], 3), 255, np.uint8)
    labels = (("before: plate + roto matte (red)", 6), ("after: Blender compositor, result node", before.shape[1] + 14))
    for text, x in labels:
        cv2.putText(band, text, (x, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack([band, strip]), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--preset", default="standard")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", default="192,108")
    ap.add_argument("--start", type=int, default=40, help="first clip frame used")
    ap.add_argument("--hole", default="0.42,0.55,0.11,0.22", help="ellipse centre x,y and radii, as fractions")
    ap.add_argument("--out", default=str(REPO / "docs" / "blender_before_after.png"))
    args = ap.parse_args()
    sh = helper()
    size = tuple(int(v) for v in args.size.split(","))
    first, last = 1001, 1000 + args.frames
    with tempfile.TemporaryDirectory(prefix="inpaint_docs_") as tmp:
        tmp = Path(tmp)
        hole = tuple(float(v) for v in args.hole.split(","))
        plate, matte = write_shot(sh, tmp / "shot", first, args.frames, size, args.start, hole)
        server = sh.Server(tmp / "spool")
        try:
            env = dict(os.environ, PYTHONPATH=str(REPO), BLENDER_USER_RESOURCES=str(tmp / "blender_user"))
            cmd = [str(REPO / ".venv-host" / "bin" / "python"), str(REPO / "tests" / "host" / "blender_roundtrip.py"),
                   "--endpoint", server.endpoint, "--plate", plate, "--matte", matte, "--first", str(first),
                   "--last", str(last), "--size", args.size, "--preset", args.preset, "--steps", str(args.steps),
                   "--work", str(tmp / "blender"), "--report", str(tmp / "report.json")]
            subprocess.run(cmd, env=env, check=False, timeout=3600)
        finally:
            server.stop()
        report = json.loads((tmp / "report.json").read_text())
        if not report["ok"]:
            raise SystemExit(report.get("traceback"))
        print(json.dumps({k: report[k] for k in ("status", "render_seconds", "result_node")}, indent=1))
        picture(sh, plate, matte, report["comp"], first + args.frames // 2, Path(args.out))
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
