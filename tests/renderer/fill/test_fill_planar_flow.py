"""Where one homography of the background predicts the flow around a hole to within DIS's
own noise, the hole's flow is that homography's motion, not diffusion from a border that
DIS drags by a fraction of a pixel along with the hole (``fill.flow.completion_plan``,
``fill.flow.complete_field``; decision 0045)."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from renderer.fill import device as pt, flow
from renderer.fill.classical import diffuse_into
from renderer.fill.flow import complete_field
from renderer.fill.flow_regions import PLANAR_FIT, completion_plan, homography_motion, planar_background

from standard_kit import box_holes, smooth_video

H, W = 96, 128


def texture(seed):
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.random((H, W)).astype(np.float32), (0, 0), 1.0)
    return np.clip((smooth - smooth.min()) / np.ptp(smooth) * 255, 0, 255).astype(np.uint8)


def drift():
    """The motion of a camera that barely moves: a slow push-in and a pan of a third of a
    pixel, (H, W, 2)."""
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.stack([0.002 * (xs - W / 2) + 0.3, 0.002 * (ys - H / 2) - 0.1], -1).astype(np.float32)


def hole_and_band():
    hole = np.zeros((H, W), bool)
    hole[36:60, 50:80] = True
    band = (cv2.dilate(hole.astype(np.uint8), np.ones((13, 13), np.uint8)) > 0) & ~hole
    return hole, band


def two_frames(forward_frame0):
    """The stacks ``completion_plan`` reads for a pair whose frame 0 flow is given; frame
    1's backward flow is its negative."""
    hole, _ = hole_and_band()
    holes = np.stack([hole, hole])
    forward = np.stack([forward_frame0, np.zeros_like(forward_frame0)])
    backward = np.stack([np.zeros_like(forward_frame0), -forward_frame0])
    grey = np.stack([texture(0), texture(1)])
    return holes, np.zeros_like(holes), forward, backward, grey


def test_a_sub_pixel_drag_around_the_hole_gives_way_to_the_background_s_homography():
    truth = drift()
    hole, band = hole_and_band()
    measured = truth + np.random.default_rng(0).normal(0, 0.02, truth.shape).astype(np.float32)
    measured[band] += (0.12, 0.0)  # DIS dragged along with the hole, under the outliers' pixel
    holes, flat, forward, backward, grey = two_frames(measured)
    regions_f, regions_b, planes_f, planes_b = completion_plan(holes, flat, forward, 1, backward, grey)
    assert planes_f[0] is not None and planes_b[1] is not None, "the ring fits one homography"
    completed = complete_field(measured, regions_f[0], planes_f[0])
    diffused = diffuse_into(measured, regions_f[0])
    miss = np.abs(completed[hole] - truth[hole]).mean()
    assert miss < 0.02
    assert np.abs(diffused[hole] - truth[hole]).mean() > 3 * miss, "the diffusion carries the drag in"
    assert np.array_equal(completed[~regions_f[0]], measured[~regions_f[0]]), "outside the region the flow stays"


def test_where_something_moves_its_own_way_beside_the_hole_the_diffusion_stays():
    truth = drift()
    hole, band = hole_and_band()
    measured = truth.copy()
    measured[band] += (0.0, 3 * PLANAR_FIT)  # a nearer body moving otherwise, under the outliers' 1 px
    holes, flat, forward, backward, grey = two_frames(measured)
    regions_f, _, planes_f, planes_b = completion_plan(holes, flat, forward, 1, backward, grey)
    assert planes_f[0] is None and planes_b[1] is None
    assert np.array_equal(complete_field(measured, regions_f[0], None), diffuse_into(measured, regions_f[0]))


def test_the_ring_test_reads_only_the_textured_pixels_around_the_region():
    truth = drift()
    hole, band = hole_and_band()  # the band: 6 px around the hole, inside the test's 8 px ring
    measured = truth.copy()
    measured[band] += (0.0, 1.0)
    assert not planar_background(measured, hole, np.zeros_like(hole), truth)
    assert planar_background(measured, hole, band, truth), "flat, the band's guessed flow does not count"
    assert not planar_background(truth, hole, np.ones_like(hole), truth), "nothing textured is left to judge by"
    far = np.zeros_like(hole)
    far[:, :8] = True
    measured[far] += (1.0, 0.0)
    assert planar_background(measured, hole, band, truth), "beyond the ring the flow is not read"


def test_homography_motion_is_where_each_pixel_goes():
    shift = np.array([[1, 0, 0.25], [0, 1, -0.5], [0, 0, 1]], np.float64)
    motion = homography_motion(shift, 8, 10)
    assert motion.shape == (8, 10, 2)
    assert np.allclose(motion, (0.25, -0.5), atol=1e-6)


def test_the_port_takes_the_same_homographies_as_the_host():
    frames = smooth_video(6, 48, 64, speed=1)
    holes = box_holes(6, 48, 64, 14, 8, 12, move=4)
    host = flow.completed_flow(frames, holes)
    forward, backward, flat, grey = flow.masked_flow(frames, holes)
    grown = flow.grown_holes(holes, 1, flow.FLOW_DILATE)
    planes_f = completion_plan(grown, flat, forward, 1, backward, grey)[2]
    assert any(p is not None for p in planes_f), "the shot exercises the rule"
    on_device = pt.completed_flows(frames, [holes], torch.from_numpy(holes), flow.FLOW_DILATE)
    assert np.allclose(on_device[0].permute(0, 2, 3, 1).numpy()[:-1], host.forward[:-1], atol=1e-3)
    assert np.allclose(on_device[1].permute(0, 2, 3, 1).numpy()[1:], host.backward[1:], atol=1e-3)
