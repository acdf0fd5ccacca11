"""Beside the hole, flow that leaves the background's motion, and that the background's
motion explains as well, is not trusted: DIS carries what moves in the hole into it, and
the completion would carry it back in (``fill.flow.motion_outliers``)."""

from __future__ import annotations

import cv2
import numpy as np

from renderer.fill.flow_regions import OUTLIER_RING, background_motion, completion_regions, motion_outliers


def texture(h=96, w=128, seed=0):
    """uint8 display grey with texture at a few pixels' scale."""
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 1.0)
    return np.clip((smooth - smooth.min()) / np.ptp(smooth) * 255, 0, 255).astype(np.uint8)


def box(h=96, w=128, rows=(40, 56), cols=(50, 70)):
    hole = np.zeros((h, w), bool)
    hole[rows[0]:rows[1], cols[0]:cols[1]] = True
    return hole


def band(hole, px):
    """The pixels within ``px`` of ``hole``, outside it."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return (cv2.dilate(hole.astype(np.uint8), kernel) > 0) & ~hole


def test_the_background_s_motion_is_fitted_past_a_region_that_moves_otherwise():
    h, w = 96, 128
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    zoom = np.stack([0.02 * (xs - w / 2) + 1.5, 0.02 * (ys - h / 2) - 0.5], -1)  # a push-in while panning
    flow = zoom + np.random.default_rng(1).normal(0, 0.05, zoom.shape).astype(np.float32)
    flow[10:40, 10:50] = (6.0, 0.0)  # a sixth of the usable pixels move with something else
    usable = np.ones((h, w), bool)
    usable[60:, :] = False
    fitted = background_motion(flow, usable)
    assert fitted is not None
    assert np.abs(fitted - zoom).max() < 0.1, "the whole frame, the unusable rows included, takes the fit"
    assert background_motion(flow, np.zeros((h, w), bool)) is None, "no fit from nothing"


def test_flow_that_moves_with_the_hole_beside_it_is_taken_both_ways():
    grey0 = texture()
    grey1 = np.roll(grey0, 2, axis=1)  # the camera pans 2 px a frame: frame0(x) = frame1(x + 2)
    hole = box()
    flat = np.zeros_like(hole)
    forward = np.zeros(hole.shape + (2,), np.float32)
    forward[..., 0] = 2.0
    dragged = band(hole, 6)
    forward[dragged] = (8.0, 0.0)  # DIS dragged by the hole's own motion, 6 px around it
    forward[:4, :4] = (8.0, 0.0)  # the same wrong flow far from the hole
    off = motion_outliers(forward, hole, flat, grey0, grey1, hole)
    assert off[dragged].mean() > 0.95, "the dragged flow is replaced"
    assert not off[:4, :4].any(), "flow beyond the ring is the completion's no business"
    assert not off[~dragged].any(), "flow that follows the background is kept"
    assert not (off & hole).any()

    backward = -forward  # frame 1's flow to frame 0, dragged the same way
    holes = np.stack([hole, hole])
    regions_f, regions_b = completion_regions(holes, np.stack([flat, flat]), np.stack([forward, forward]), 1,
                                              np.stack([backward, backward]), np.stack([grey0, grey1]))
    assert regions_f[0][dragged].mean() > 0.95 and regions_b[1][dragged].mean() > 0.95
    plain_f, _ = completion_regions(holes, np.stack([flat, flat]), np.stack([forward, forward]))
    assert not (plain_f[0] & dragged).any(), "without the frames' grey nothing beside the grown hole is taken"


def test_a_textured_region_that_really_moves_beside_the_hole_keeps_its_flow():
    grey0 = texture(seed=2)
    grey1 = grey0.copy()
    grey1[56:80, 25:65] = grey0[56:80, 20:60]  # a truck under the hole's edge drives 5 px right
    hole = box()
    forward = np.zeros(hole.shape + (2,), np.float32)
    truck = np.zeros_like(hole)
    truck[56:80, 20:60] = True
    forward[truck] = (5.0, 0.0)
    off = motion_outliers(forward, hole, np.zeros_like(hole), grey0, grey1, hole)
    near_truck = truck & band(hole, OUTLIER_RING)
    assert near_truck.sum() > 100
    assert off[near_truck].mean() < 0.05, "the truck's own motion explains it better than the road's"


def test_where_the_background_s_motion_lands_in_the_next_hole_the_dragged_flow_is_still_taken():
    grey0 = texture(seed=3)
    hole0 = box()
    hole1 = box(cols=(62, 82))  # the object moves 12 px right over a still background
    grey1 = grey0.copy()
    grey1[hole1] = 128  # the next frame's pre-fill: flat, nothing like the background under it
    forward = np.zeros(hole0.shape + (2,), np.float32)
    dragged = band(hole0, 6)
    forward[dragged] = (12.0, 0.0)
    off = motion_outliers(forward, hole0, np.zeros_like(hole0), grey0, grey1, hole1)
    ahead = dragged & hole1  # where the object is next: the still background's sample is the pre-fill
    assert ahead.sum() > 50
    assert off[ahead].all(), "no grey judges a motion that lands in the next frame's hole"
    assert off[dragged].mean() > 0.95
