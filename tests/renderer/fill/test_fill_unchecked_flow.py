"""Beside a completion region, flow whose two directions do not cancel is not trusted: DIS
matched something the other frame does not show, and the diffusion would carry that
motion in from the region's border (``fill.flow.unchecked_flow``)."""

from __future__ import annotations

import cv2
import numpy as np

from renderer.fill.flow import complete_field
from renderer.fill.flow_regions import FB_CHECK, FB_RING, completion_plan, completion_regions, unchecked_flow


def box(h=96, w=128, rows=(40, 56), cols=(50, 70)):
    hole = np.zeros((h, w), bool)
    hole[rows[0]:rows[1], cols[0]:cols[1]] = True
    return hole


def uniform(shape, dx, dy=0.0):
    flow = np.zeros(shape + (2,), np.float32)
    flow[...] = (dx, dy)
    return flow


def band(region, px):
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return (cv2.dilate(region.astype(np.uint8), kernel) > 0) & ~region


def test_flow_that_comes_back_is_kept_and_flow_that_does_not_is_taken_within_the_ring():
    region = box()
    forward = uniform(region.shape, 3.0)
    backward = uniform(region.shape, -3.0)
    assert not unchecked_flow(forward, backward, region).any(), "a pan both ways cancels: nothing is taken"

    wrong = band(region, FB_RING + 10)  # DIS matched the pre-fill: frame 1's flow back is off there
    backward[wrong] = (-3.0 - 2 * FB_CHECK, 0.0)
    taken = unchecked_flow(forward, backward, region)
    lands_wrong = np.roll(wrong, -3, axis=1)  # x lands at x + 3, where frame 1's flow is wrong
    inside = band(region, FB_RING) & lands_wrong
    assert inside.sum() > 200
    assert taken[inside].all(), "flow that does not come back, within the ring, is taken"
    assert not (taken & ~band(region, FB_RING)).any(), "past the ring (and inside the region) nothing is taken"
    assert not (taken & ~lands_wrong).any(), "flow that comes back is kept"

    backward[wrong] = (-3.0 - 0.8 * FB_CHECK, 0.0)
    assert not unchecked_flow(forward, backward, region).any(), "a miss under the limit is kept"


def test_only_what_connects_to_the_region_is_taken():
    region = box()
    forward = uniform(region.shape, 0.0)
    backward = uniform(region.shape, 0.0)
    island = np.zeros_like(region)
    island[40:44, 50 - FB_RING + 1:50 - FB_RING + 4] = True  # inside the ring, cut off from the region
    backward[island] = (2 * FB_CHECK, 0.0)
    assert band(region, FB_RING)[island].all()
    assert not unchecked_flow(forward, backward, region).any()

    backward[40:44, 50 - FB_RING + 1:50] = (2 * FB_CHECK, 0.0)  # now a run of failing pixels joins it
    assert unchecked_flow(forward, backward, region)[island].all()


def test_limits_are_full_size_pixels_at_a_reduced_flow():
    region = box()
    forward = uniform(region.shape, 0.0)
    backward = uniform(region.shape, 0.0)
    backward[band(region, FB_RING + 10)] = (0.75 * FB_CHECK, 0.0)
    assert not unchecked_flow(forward, backward, region).any()
    taken = unchecked_flow(forward, backward, region, factor=2)  # the flow's pixels are two of the frame's
    assert taken.any(), "at half size, 0.75 of the limit in full-size px is over it"
    assert not (taken & ~band(region, FB_RING // 2)).any(), "the ring is half as many of the flow's pixels"


def test_the_completion_takes_the_unchecked_flow_and_fills_the_hole_from_past_it():
    """The background pans 2 px a frame; beside the hole, DIS put 20 px of a moving
    pre-fill into the forward flow, and the backward flow from where that lands does not
    bring it back. Diffused from that border the hole would move 20 px; from past it, 2."""
    hole = box()
    holes = np.stack([hole, hole])
    flat = np.ones_like(holes)  # no background motion is fitted on flat frames: the motion-outlier test takes nothing
    forward = uniform(hole.shape, 2.0)
    dragged = band(hole, 6)
    forward[dragged] = (20.0, 0.0)
    backward = uniform(hole.shape, -2.0)
    grey = np.zeros(holes.shape, np.uint8)
    regions_f, _, planes_f, _ = completion_plan(holes, flat, np.stack([forward, forward]), 1,
                                                np.stack([backward, backward]), grey)
    assert regions_f[0][dragged].all()
    completed = complete_field(forward, regions_f[0], planes_f[0])
    assert np.abs(completed[hole] - (2.0, 0.0)).max() < 0.05

    plain_f, _ = completion_regions(holes, flat, np.stack([forward, forward]))
    assert not (plain_f[0] & dragged).any(), "without the backward flow nothing is checked"
    carried = complete_field(forward, plain_f[0], None)
    assert np.abs(carried[hole][:, 0]).mean() > 15, "from the dragged border the hole takes the drag"
