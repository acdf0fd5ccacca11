"""Long shots in windows: how a shot is split, how the windows' fills are cross-faded, and
how many frames a window may hold in the memory there is.

A window's peak memory is its frames times the box its work reads (``pipeline.region.
work_box``) at plate resolution, times ``BYTES_PER_BOX_PIXEL``, over a fixed part for the
process and the network. A shot whose windows would not fit in the memory the machine
has is given shorter windows; the plan is kept in the work folder, so that ``render
--frames`` chunks on other machines find the checkpoints ``train`` made.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import ResourceError
from .io.exrio import Image
from .io.masks import union_box
from .io.shot import ShotReport
from .pipeline.region import region_around, work_box
from .presets import Preset

# peak bytes per pixel of a window's work box, per frame: the pre-fill made at plate
# resolution holds the frames, the completed flow both ways, the fill and its filtered
# copy. Measured over 1 GiB: 49.9 bytes on a 48-frame 2048x1152 drone shot (box 659x2048,
# 4.01 GiB peak RSS), 55.5 on a 48-frame 4096x2160 one (box 1092x4096, 12.09 GiB); on a
# box of the whole 4096x2160 frame (a third of it matted, trained), 70.7 for 12 frames
# (8.0 GiB) and 87.7 for 28 (21.2 GiB): 100 bytes for each frame added. Rounded to that.
BYTES_PER_BOX_PIXEL = 100
BASE_BYTES = 1 << 30  # the process, torch and the network at working size
MIN_WINDOW = 8  # frames: shorter windows leave the network too little of the shot to learn from
PLAN_FILE = "windows.json"


def plan_windows(n_frames: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Split ``n_frames`` into windows [a, b) of at most ``size`` frames that overlap
    by ``overlap`` frames; one window when the shot fits."""
    if n_frames <= size:
        return [(0, n_frames)]
    count = -(-(n_frames - overlap) // (size - overlap))
    size = -(-(n_frames + (count - 1) * overlap) // count)  # balance the windows
    starts = [round(k * (n_frames - size) / (count - 1)) for k in range(count)]
    return [(a, a + size) for a in starts]


def window_weights(n_frames: int, windows: list[tuple[int, int]], w: int) -> list[float]:
    """Cross-fade weights of window ``w`` for every frame of the shot (0 outside it):
    a linear ramp across each overlap with a neighbouring window, 1 elsewhere."""
    a, b = windows[w]
    weights = [0.0] * n_frames
    for i in range(a, b):
        wt = 1.0
        if w > 0 and i < windows[w - 1][1]:
            span = windows[w - 1][1] - a
            wt = min(wt, (i - a + 1) / (span + 1))
        if w + 1 < len(windows) and i >= windows[w + 1][0]:
            span = b - windows[w + 1][0]
            wt = min(wt, (b - i) / (span + 1))
        weights[i] = wt
    return weights


def blend_windows(image: Image, rgb_index, parts: list) -> np.ndarray:
    """``image``'s pixels, changed in place: the fills of the windows that rendered the frame,
    ``parts`` [(weight, box (y0, x0, y1, x1), composited rgb (h, w, 3), alpha (h, w))],
    cross-faded by weight where the alpha is above 0; every other pixel is the plate's. A
    window with nothing to fill gives (weight, None, None, None): the plate itself."""
    boxes = [p[1] for p in parts if p[1] is not None]
    if not boxes:
        return image.pixels
    uy0, ux0, uy1, ux1 = union_box(boxes)
    inside = image.pixels[uy0:uy1, ux0:ux1]
    source = inside[..., list(rgb_index)]
    total, weight = 0.0, 0.0
    alpha = np.zeros(source.shape[:2], np.float32)
    for wt, box, rgb, part_alpha in parts:
        placed = source.copy()
        if box is not None:
            y0, x0, y1, x1 = box
            placed[y0 - uy0:y1 - uy0, x0 - ux0:x1 - ux0] = rgb
            where = alpha[y0 - uy0:y1 - uy0, x0 - ux0:x1 - ux0]
            np.maximum(where, part_alpha, out=where)
        total = total + wt * placed
        weight += wt
    # blending two composites can round known pixels: those come from the plate itself
    inside[..., list(rgb_index)] = np.where(alpha[..., None] > 0, total / weight, source)
    return image.pixels


def window_bytes(report: ShotReport, frames, preset: Preset) -> int:
    """The peak memory a window of ``frames`` (frame numbers) is expected to need."""
    support = union_box(report.support.get(f) for f in frames)
    if support is None:  # nothing to fill: the plates pass through
        return BASE_BYTES
    y0, x0, y1, x1 = work_box(region_around(support, (report.height, report.width), preset))
    return BASE_BYTES + len(frames) * (y1 - y0) * (x1 - x0) * BYTES_PER_BOX_PIXEL


def memory_available() -> int:
    """Bytes this process may use: 80 % of what the system reports available (Linux
    /proc/meminfo), or half the physical memory elsewhere."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(0.8 * int(line.split()[1]) * 1024)
    except OSError:
        pass
    return int(0.5 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def plan_windows_within(report: ShotReport, frames: tuple[int, ...], preset: Preset, size: int, overlap: int,
                        budget: int) -> list[tuple[int, int]]:
    """``plan_windows`` of ``size`` frames, halved until every window's ``window_bytes`` fits
    in ``budget``; a ``ResourceError`` when even ``MIN_WINDOW`` frames do not fit."""
    while True:
        windows = plan_windows(len(frames), size, overlap)
        need = max(window_bytes(report, frames[a:b], preset) for a, b in windows)
        if need <= budget:
            return windows
        if size <= MIN_WINDOW:
            raise ResourceError(f"a window of {size} frames needs about {need / 2 ** 30:.1f} GiB and "
                                f"{budget / 2 ** 30:.1f} GiB are available: free memory, use a machine with more, "
                                f"or split the matte into smaller holes")
        size = max(MIN_WINDOW, size // 2)
        overlap = min(overlap, size // 4)


def read_plan(folder: Path, frames: tuple[int, ...]) -> list[tuple[int, int]] | None:
    """The window plan an earlier run of this shot kept in ``folder``, if it covers the same
    frames; None otherwise."""
    try:
        kept = json.loads((Path(folder) / PLAN_FILE).read_text())
        if kept.get("frames") == [frames[0], frames[-1], len(frames)]:
            return [tuple(w) for w in kept["windows"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def write_plan(folder: Path, frames: tuple[int, ...], windows: list[tuple[int, int]]) -> None:
    """Keep ``windows`` in ``folder`` for later runs of the shot (written, then renamed)."""
    path = Path(folder) / PLAN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{PLAN_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"frames": [frames[0], frames[-1], len(frames)], "windows": windows}))
    os.replace(tmp, path)
