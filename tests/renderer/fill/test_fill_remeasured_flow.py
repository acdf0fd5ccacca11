"""The flow inside a hole measured again on the fill (``fill.flow.remeasured_flow``): the
diffusion only guesses the motion behind a hole from its border, and the fill brings in
the texture that moves there, so DIS can see it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from renderer.errors import ShapeError
from renderer.fill.flow import FLOW_DILATE, completed_flow, grown_holes, remeasured_flow


H, W = 128, 192


def square_moving_over_a_still_plate(n=6, speed=3):
    """(F, H, W, 3) scene-linear: a still textured plate with a textured 40 px square that
    moves ``speed`` px a frame to the right across its middle; bool (F, H, W): a fixed box
    that holds the square in every frame, so the flow completed from the box's still
    border calls the square still."""
    rng = np.random.default_rng(0)
    plate = cv2.GaussianBlur(rng.random((H, W, 3)).astype(np.float32), (0, 0), 1.2) * 0.8
    patch = cv2.GaussianBlur(rng.random((40, 40, 3)).astype(np.float32), (0, 0), 1.0) * 0.8 + 0.2
    frames = np.repeat(plate[None], n, axis=0)
    for t in range(n):
        x = 50 + speed * t
        frames[t, 44:84, x:x + 40] = patch
    holes = np.zeros((n, H, W), bool)
    holes[:, 34:94, 40:100 + speed * n] = True
    return frames, holes


@pytest.mark.parametrize("max_pixels", [1 << 20, H * W // 2])  # the flow at full size, and at half size
def test_the_flow_inside_the_hole_is_measured_on_the_fill_and_kept_outside(max_pixels):
    frames, holes = square_moving_over_a_still_plate()
    flow = completed_flow(frames, holes, max_pixels=max_pixels)
    # the fill the first pass could not make but a perfect one would: the footage itself
    again = remeasured_flow(frames, holes, flow, max_pixels=max_pixels)
    inner = (slice(None, -1), slice(54, 74), slice(60, 80))  # the square's middle, in frames 0-4
    before = np.stack([flow.forward[t] for t in range(len(frames))])
    after = np.stack([again.forward[t] for t in range(len(frames))])
    assert np.abs(before[inner][..., 0]).mean() < 1.0, "the completion calls the square still"
    # measured again it moves about 3 px a frame (DIS finds 2.8 at full size, 2.2 at half)
    assert np.abs(after[inner][..., 0] - 3.0).mean() < 1.0
    grown = grown_holes(holes, 1, FLOW_DILATE)
    if max_pixels > frames.shape[1] * frames.shape[2]:
        for t in range(len(frames)):
            assert np.array_equal(again.forward[t][~grown[t]], flow.forward[t][~grown[t]])
            assert np.array_equal(again.backward[t][~grown[t]], flow.backward[t][~grown[t]])
    else:  # the half-size flows, before they are scaled up
        small = grown_holes(holes, 2, FLOW_DILATE)
        assert np.array_equal(again.forward.small[~small], flow.forward.small[~small])
    with pytest.raises(ShapeError):
        remeasured_flow(frames[:-1], holes, flow, max_pixels=max_pixels)


@pytest.mark.parametrize("max_pixels", [1 << 20, H * W // 2])  # the flow at full size, and at half size
def test_the_flow_keeps_its_completion_where_the_fill_guessed(max_pixels):
    frames, holes = square_moving_over_a_still_plate()
    flow = completed_flow(frames, holes, max_pixels=max_pixels)
    guessed = np.zeros_like(holes)
    guessed[:, :, :70] = holes[:, :, :70]  # the hole's left part, with the square's left half under it
    again = remeasured_flow(frames, holes, flow, max_pixels=max_pixels, guessed=guessed)
    measured = remeasured_flow(frames, holes, flow, max_pixels=max_pixels)
    left, right = (slice(None, -1), slice(54, 74), slice(56, 66)), (slice(None, -1), slice(54, 74), slice(72, 82))
    after = np.stack([again.forward[t] for t in range(len(frames))])
    assert np.abs(after[left][..., 0]).mean() < 1.0, "where the fill guessed, the completion's still flow stays"
    assert np.abs(after[right][..., 0] - 3.0).mean() < 1.0, "the rest of the square is measured on the fill"
    factor = 1 if max_pixels > frames.shape[1] * frames.shape[2] else 2
    kept = grown_holes(guessed, factor, 0)
    grown = grown_holes(holes, factor, FLOW_DILATE)
    ours, theirs = (again.forward, measured.forward) if factor == 1 else (again.forward.small, measured.forward.small)
    base = flow.forward if factor == 1 else flow.forward.small
    ours, theirs, base = (np.stack([f[t] for t in range(len(frames))]) for f in (ours, theirs, base))
    assert np.array_equal(ours[kept], base[kept])
    assert np.array_equal(ours[grown & ~kept], theirs[grown & ~kept])
    with pytest.raises(ShapeError):
        remeasured_flow(frames, holes, flow, max_pixels=max_pixels, guessed=guessed[:-1])
