"""Which frames each batch holds, and for how many steps (``docs/method.md#schedule``).

A batch is ``batch_frames`` frames b, b+s, ... at stride s with one flow direction;
it gets K consecutive Adam steps. A pass is ``batches_per_pass`` random batches,
then K steps on the fixed median window. ``plan`` scales the paper's shape down
(or up) to exactly ``total_steps`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..presets import Preset


@dataclass(frozen=True)
class Segment:
    """K consecutive steps on one batch."""

    frames: tuple[int, ...]
    stride: int
    direction: int  # +1: flow to the next frame in the batch, -1: to the previous
    steps: int


def batch_combinations(n_frames: int, preset: Preset) -> list[tuple[tuple[int, ...], int, int]]:
    """Every (frames, stride, direction) the shot allows, in a fixed order."""
    size = min(preset.batch_frames, n_frames)
    directions = (1, -1) if preset.both_directions else (1,)
    combos = []
    for s in preset.strides:
        span = (size - 1) * s
        for start in range(0, n_frames - span):
            frames = tuple(range(start, start + span + 1, s))
            for d in directions:
                combos.append((frames, s, d))
    if not combos:  # fewer frames than one batch at the smallest stride
        combos.append((tuple(range(n_frames)), 1, 1))
    return combos


def median_window(n_frames: int, preset: Preset) -> tuple[int, ...]:
    size = min(preset.batch_frames, n_frames)
    start = min(n_frames // 2, n_frames - size)
    return tuple(range(start, start + size))


def scaled_shape(preset: Preset, total_steps: int) -> tuple[int, int, int]:
    """(passes, batches_per_pass, steps_per_batch) near the paper's proportions for ``total_steps``."""
    ratio = total_steps / max(preset.full_steps, 1)
    cube = ratio ** (1.0 / 3.0)
    k = int(min(max(round(preset.steps_per_batch * cube), 1), max(preset.steps_per_batch, 1)))
    passes = int(min(max(round(preset.passes * cube), 1), max(preset.passes, 1)))
    per_pass = max(1, round(total_steps / (passes * k)) - int(preset.median_window))
    return passes, per_pass, k


def plan(n_frames: int, preset: Preset, total_steps: int, seed: int) -> list[Segment]:
    """The whole run as segments whose steps add up to exactly ``total_steps``."""
    rng = np.random.default_rng(seed)
    combos = batch_combinations(n_frames, preset)
    passes, per_pass, k = scaled_shape(preset, total_steps)
    order: list[int] = []

    def next_combo() -> tuple[tuple[int, ...], int, int]:
        if not order:
            order.extend(rng.permutation(len(combos)).tolist())
        return combos[order.pop(0)]

    segments: list[Segment] = []
    done = 0
    while done < total_steps:
        for _ in range(per_pass):
            frames, s, d = next_combo()
            segments.append(Segment(frames, s, d, k))
            done += k
        if preset.median_window:
            segments.append(Segment(median_window(n_frames, preset), 1, 1, k))
            done += k
        if len(segments) > 10 * total_steps + 10:  # pragma: no cover - k >= 1 guarantees progress
            break
    # trim to exactly total_steps
    out, count = [], 0
    for seg in segments:
        if count >= total_steps:
            break
        take = min(seg.steps, total_steps - count)
        out.append(Segment(seg.frames, seg.stride, seg.direction, take))
        count += take
    return out


def step_lookup(segments: list[Segment]) -> list[int]:
    """Cumulative step at which each segment starts (for resuming mid-plan)."""
    starts, acc = [], 0
    for seg in segments:
        starts.append(acc)
        acc += seg.steps
    return starts
