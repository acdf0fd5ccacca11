"""Steadiness on the held-out holes: the plate's motion over them, the flicker a fill adds
to the footage's own change along it, and the held-out check's ranking with it."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.callbacks import Callbacks
from renderer.errors import ShapeError
from renderer.parallel import frames_finished
from renderer.pipeline.holdout import (
    choose_fill, held_out_error, held_out_score, held_out_steadiness, input_configurations, prefill_calls)
from renderer.pipeline.steadiness import MOTION_MARGIN, held_out_motion
from renderer.presets import STANDARD
from standard_kit import box_holes, smooth_video

N, H, W, SPEED = 8, 96, 128, 2


def shot():
    """A texture moving SPEED px a frame to the left, a real hole and beside it a held-out
    box that moves with the texture, so most held-out pixels stay held out along the motion."""
    frames = smooth_video(N, H, W, speed=SPEED, seed=3)
    real = box_holes(N, H, W, 20, 20, 16, move=0)
    union = real | box_holes(N, H, W, 50, 90, 24, move=-SPEED)
    return frames, real, union


def noisy(frames, region, sigma, fresh_every_frame, seed=0):
    """``frames`` with Gaussian noise of ``sigma`` on ``region``: drawn anew every frame, or
    one pattern carried along with the texture (steady: it moves as the footage does)."""
    rng = np.random.default_rng(seed)
    out = frames.copy()
    n, h, w = region.shape
    pattern = rng.normal(0.0, sigma, (h, w + n * SPEED, 3)).astype(np.float32)
    for t in range(n):
        noise = rng.normal(0.0, sigma, (h, w, 3)).astype(np.float32) if fresh_every_frame \
            else pattern[:, SPEED * t:SPEED * t + w]
        out[t][region[t]] += noise[region[t]]
    return out


def test_the_motion_over_the_held_out_pixels_is_the_plates_own_and_covers_their_box():
    frames, real, union = shot()
    motion = held_out_motion(frames, union & ~real)
    region = (union & ~real).any(axis=0)
    ys, xs = np.nonzero(region)
    assert motion.origin == (max(ys.min() - MOTION_MARGIN, 0), max(xs.min() - MOTION_MARGIN, 0))
    rows, columns = motion.box
    assert rows.stop == min(ys.max() + MOTION_MARGIN + 1, H) and columns.stop == min(xs.max() + MOTION_MARGIN + 1, W)
    assert motion.forward.shape == (N - 1, rows.stop - rows.start, columns.stop - columns.start, 2)
    inner = motion.valid & (union & ~real)[:-1, rows, columns]
    assert inner.mean() > 0.0
    assert np.allclose(np.median(motion.forward[inner], axis=0), (-SPEED, 0.0), atol=0.25)
    assert held_out_motion(frames[:1], (union & ~real)[:1]) is None
    assert held_out_motion(frames, np.zeros_like(real)) is None
    with pytest.raises(ShapeError):
        held_out_motion(frames, real[:, :10])


def test_fresh_noise_each_frame_flickers_and_noise_that_moves_with_the_footage_does_not():
    frames, real, union = shot()
    region = union & ~real
    motion = held_out_motion(frames, region)
    sigma = 0.05
    fresh = noisy(frames, region, sigma, fresh_every_frame=True)
    steady = noisy(frames, region, sigma, fresh_every_frame=False)
    assert held_out_steadiness(frames, real, union, frames, motion) == 0.0
    assert held_out_steadiness(frames, real, union, frames, None) == 0.0
    # the same error in every frame, so the same MSE; only one of them changes along the motion
    assert held_out_error(frames, real, union, fresh) == pytest.approx(held_out_error(frames, real, union, steady),
                                                                       rel=0.15)
    flicker = held_out_steadiness(frames, real, union, fresh, motion)
    assert held_out_steadiness(frames, real, union, steady, motion) < 0.1 * flicker
    # two independent draws differ by twice their variance (display values are near the linear ones'
    # scale here: the texture lies between 0 and 1)
    assert 0.5 * sigma ** 2 < flicker < 8.0 * sigma ** 2
    # a constant offset is an error, not a flicker, also where the held-out box stays put while
    # the texture moves through it: a landing outside it is the plate's, and is not compared
    for box in (union, real | box_holes(N, H, W, 50, 90, 24, move=0)):
        offset = frames.copy()
        offset[box & ~real] += 0.1
        assert held_out_steadiness(frames, real, box, offset, held_out_motion(frames, box & ~real)) < 1e-6


def test_the_check_prefers_the_steady_fill_of_equal_error_and_ranks_by_it():
    frames, real, union = shot()
    region = union & ~real
    motion = held_out_motion(frames, region)
    fresh = noisy(frames, region, 0.05, fresh_every_frame=True)
    steady = noisy(frames, region, 0.05, fresh_every_frame=False)
    assert held_out_score(frames, real, union, fresh, motion) > 1.3 * held_out_score(frames, real, union, steady,
                                                                                      motion)
    # without the motion the two are level, within their draws
    assert held_out_score(frames, real, union, fresh) == pytest.approx(held_out_score(frames, real, union, steady),
                                                                       rel=0.15)
    fills = {"flickering": lambda f, h: fresh, "steady": lambda f, h: steady}
    assert choose_fill(frames, real, union, fills, motion=motion)[0] == "steady"
    # the default keeps its place unless the steady rival leads by the margin
    assert choose_fill(frames, real, union, fills, margin=0.9, motion=motion)[0] == "flickering"


def test_the_fill_stage_counts_each_call_it_makes_the_motion_included():
    frames, real, _ = shot()
    before = frames_finished()
    configs, _, _ = input_configurations(frames, real, STANDARD, 0, Callbacks())
    assert configs[-1].motion is not None and configs[0].motion is None
    assert frames_finished() - before == prefill_calls(STANDARD, N)
