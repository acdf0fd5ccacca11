"""Steadiness in the held-out check: the plate's motion, a fill's flicker along it on
held-out pixels, and the pre-fill choice that sees it."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.callbacks import Callbacks
from renderer.colour import linear_to_srgb, srgb_to_linear
from renderer.errors import ShapeError
from renderer.pipeline.holdout import choose_fill, held_out_score, input_configurations
from renderer.presets import STANDARD
from renderer.pipeline.steadiness import held_out_flicker, plate_motion
from standard_kit import box_holes, smooth_video


def shot():
    """A textured plate panning 2 px a frame, a real hole, and held-out holes that jump
    to a new place every frame (as the check's do)."""
    frames = smooth_video(8, 48, 64, speed=2)
    real = box_holes(8, 48, 64, 4, 4, 8, move=0)
    held = np.zeros_like(real)
    for k in range(8):
        held[k, 24:36, 16 + 3 * k:28 + 3 * k] = True
    return frames, real, held


def test_plate_motion_finds_the_pan_and_leaves_out_the_real_hole():
    frames, real, _ = shot()
    motion = plate_motion(frames, real)
    assert motion.forward.shape == (7, 48, 64, 2) and motion.usable.shape == (7, 48, 64)
    inner = motion.usable[:, 16:40, 16:48]
    assert inner.mean() > 0.9
    # frame t is frame t+1 moved 2 px right: F(t->t+1) = (-2, 0)
    assert np.median(motion.forward[:, 16:40, 16:48, 0][inner]) == pytest.approx(-2.0, abs=0.25)
    assert np.median(np.abs(motion.forward[:, 16:40, 16:48, 1][inner])) < 0.25
    assert not motion.usable[:, 4:12, 4:12].any(), "the real hole's pixels are not the footage"


def test_the_footage_is_steady_and_a_shimmering_fill_is_not():
    frames, real, held = shot()
    motion = plate_motion(frames, real)
    assert held_out_flicker(held, frames, motion) == 0.0
    rng = np.random.default_rng(1)
    texture = rng.normal(0.0, 0.05, frames.shape).astype(np.float32)
    fresh = np.where(held[..., None], frames + texture, frames)  # a new texture every frame
    # the same misplaced texture every frame, carried along the pan (2 px left a frame) as the plate is
    carried = np.stack([np.roll(texture[0], -2 * k, axis=1) for k in range(8)])
    steady = np.where(held[..., None], frames + carried, frames)
    assert np.mean((steady - frames)[held] ** 2) == pytest.approx(np.mean((fresh - frames)[held] ** 2), rel=0.1)
    assert held_out_flicker(held, fresh, motion) > 1.3 * held_out_flicker(held, steady, motion) > 0.0


def test_flicker_raises_the_score_and_turns_a_tie_of_errors():
    frames, real, held = shot()
    frames = srgb_to_linear(0.2 + 0.6 * linear_to_srgb(frames)).astype(np.float32)
    motion = plate_motion(frames, real)
    union = real | held
    sign = np.where(np.arange(8) % 2 == 0, 1.0, -1.0).astype(np.float32)[:, None, None, None]

    def lifted(f, h, by):  # the held-out pixels raised by ``by`` in display values
        return np.where(h[..., None], srgb_to_linear(linear_to_srgb(f) + by), f).astype(np.float32)

    # the same error on every held-out pixel: one fill lifts it steadily, the other alternately
    fills = {"alternating": lambda f, h: lifted(f, h, 0.1 * sign), "steady": lambda f, h: lifted(f, h, 0.1)}
    made = {name: fn(frames, union) for name, fn in fills.items()}
    plain = {name: held_out_score(frames, real, union, f) for name, f in made.items()}
    assert plain["steady"] == pytest.approx(plain["alternating"], rel=0.05)
    seen = {name: held_out_score(frames, real, union, f, motion) for name, f in made.items()}
    assert seen["alternating"] > seen["steady"] > plain["steady"]
    assert choose_fill(frames, real, union, fills, margin=0.1, motion=motion)[0] == "steady"


def test_shapes_are_checked():
    frames, real, held = shot()
    motion = plate_motion(frames, real)
    with pytest.raises(ShapeError):
        plate_motion(frames, real[:, :, :10])
    with pytest.raises(ShapeError):
        held_out_flicker(held, frames[:, :, :10], motion)
    with pytest.raises(ShapeError):
        held_out_flicker(held[:4], frames[:4], motion)


def test_the_pre_fill_check_scores_flicker_along_the_plates_motion():
    """The held-out configuration carries the plate's motion, and the scores the check
    logs and hands on to the final choice are the error with the flicker added."""
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    lines = []
    configs, errors, name = input_configurations(frames, holes, STANDARD, 0, Callbacks(log=lines.append))
    held_out = configs[-1]
    assert held_out.motion is not None and held_out.motion.forward.shape == (7, 48, 64, 2)
    assert all(c.motion is None for c in configs[:-1])
    union = held_out.holes
    flicker = held_out_flicker(union & ~holes, held_out.prefill, held_out.motion)
    assert flicker > 0.0
    assert errors[name] == pytest.approx(held_out_score(frames, holes, union, held_out.prefill, held_out.motion))
    assert errors[name] > held_out_score(frames, holes, union, held_out.prefill)
    assert any("flicker" in line and f"{errors[name]:.5f}" in line for line in lines)
