"""On a still pair of frames, the flow of flat regions that touch the hole is not trusted:
it is completed from the textured pixels around them (``fill.flow.completion_regions``)."""

from __future__ import annotations

import cv2
import numpy as np

from renderer.fill.classical import diffuse_into
from renderer.fill.flow_regions import STILL_MOTION, completion_regions, connected_reach, flat_mask, is_still


def sky_and_city(h=48, w=64, seed=0):
    """uint8 display grey: a flat sky over the top third, fine texture below."""
    rng = np.random.default_rng(seed)
    grey = np.full((h, w), 40, np.uint8)
    grey[h // 3:] = rng.integers(0, 255, (h - h // 3, w))
    return grey


def test_flat_means_no_texture_for_dis_against_the_rest_of_the_frame():
    grey = sky_and_city()
    flat = flat_mask(grey)
    assert flat[:10].all(), "the sky, away from the skyline, is flat"
    assert not flat[22:].any(), "the city is textured"
    soft = cv2.GaussianBlur(grey, (0, 0), 3.0)  # a soft plate: its city is textured for this frame
    flat = flat_mask(soft)
    assert flat[:4].all() and flat[26:].mean() < 0.05
    assert not flat_mask(np.full((20, 30), 40, np.uint8)).any(), "a frame with no texture at all has no flat part"


def test_only_flat_pixels_connected_to_the_hole_are_taken():
    flat = np.zeros((20, 30), bool)
    flat[:, :10] = True  # a flat region the hole touches
    flat[:, 20:] = True  # another, cut off from it by texture
    grown = np.zeros_like(flat)
    grown[8:12, 8:14] = True
    reach = connected_reach(flat, grown)
    assert reach[:, :8].all() and not reach[:, 20:].any()
    assert not (reach & grown).any(), "the grown hole is not part of the reach"


def test_a_still_pair_completes_the_flat_sky_from_the_city_and_a_moving_one_does_not():
    n, h, w = 2, 48, 64
    grey = sky_and_city(h, w)
    flat = np.stack([flat_mask(grey)] * n)
    grown = np.zeros((n, h, w), bool)
    grown[:, 10:22, 20:40] = True  # a hole on the skyline
    forward = np.zeros((n, h, w, 2), np.float32)
    forward[0, ..., 1][flat[0]] = -1.0  # DIS's guess in the flat sky: 1 px a frame, nothing there to measure
    regions_f, regions_b = completion_regions(grown, flat, forward)
    assert regions_f[0][:8].all() and regions_b[1][:8].all(), "the sky's flow is replaced on the still pair"
    assert not regions_f[0][26:].any(), "the city's own flow is kept"
    completed = diffuse_into(forward[0], regions_f[0])
    assert np.abs(completed[grown[0]]).max() < 0.05, "the hole takes the city's stillness, not the sky's guess"
    plain = diffuse_into(forward[0], grown[0])
    assert np.abs(plain[grown[0]]).max() > 0.3, "without it the hole took the sky's motion"

    moving = forward.copy()
    moving[0, 16:, :, 0] = 2.0  # the city pans: the pair is not still, DIS's flat flow is kept
    assert not is_still(moving[0], ~flat[0] & ~grown[0])
    regions_f, regions_b = completion_regions(grown, flat, moving)
    assert np.array_equal(regions_f, grown) and np.array_equal(regions_b, grown)


def test_stillness_is_the_median_of_the_textured_pixels():
    flow = np.zeros((10, 10, 2), np.float32)
    textured = np.ones((10, 10), bool)
    flow[:4] = 5.0  # a minority moves
    assert is_still(flow, textured)
    flow[:6] = STILL_MOTION * 2
    assert not is_still(flow, textured)
    assert not is_still(np.zeros_like(flow), np.zeros_like(textured)), "too few textured pixels to say"


def skyline_shot(n=6, h=64, w=96):
    """A still camera: a flat dark sky over a textured city, and a bright object (the hole)
    moving up and across the skyline: the shot whose flat sky DIS fills with motion."""
    rng = np.random.default_rng(0)
    frame = (0.05 + 0.5 * rng.random((h, w, 3))).astype(np.float32)
    frame[:h // 2] = 0.02
    frames = np.stack([frame] * n)
    holes = np.zeros((n, h, w), bool)
    for t in range(n):
        y, x = 22 - 2 * t, 20 + 6 * t
        holes[t, y:y + 16, x:x + 20] = True
        frames[t, y:y + 16, x:x + 20] = 3.0
    return frames, holes


def hole_motion(forward, holes):
    return float(np.mean([np.abs(np.asarray(forward[t])[holes[t]]).mean() for t in range(len(holes) - 1)]))


def test_a_still_camera_s_hole_does_not_take_the_flat_sky_s_motion(monkeypatch):
    import torch

    from renderer.fill import device as pt, flow, flow_regions
    frames, holes = skyline_shot()
    raw = flow.masked_flow(frames, holes)[0]
    assert np.abs(raw[:-1, :20]).mean() > 0.5, "DIS guesses motion in the flat sky"
    ours = flow.completed_flow(frames, holes)
    on_device = pt.completed_flows(frames, [holes], torch.from_numpy(holes), flow.FLOW_DILATE)[0]
    assert np.allclose(on_device.permute(0, 2, 3, 1).numpy()[:-1], ours.forward[:-1], atol=1e-3)
    monkeypatch.setattr(flow_regions, "FLAT_FRACTION", 0.0)  # no pixel is flat: the rule off
    plain = flow.completed_flow(frames, holes)
    assert hole_motion(ours.forward, holes) < 0.5 * hole_motion(plain.forward, holes)
