"""Large frames have their flow made at a power-of-two fraction of their size
(``fill.flow.flow_factor``) and scaled back up."""

from __future__ import annotations

import cv2
import numpy as np

from renderer.fill.chains import bilinear, flow_at
from renderer.fill.flow import FLOW_MAX_PIXELS, ScaledFlow, completed_flow, flow_factor
from standard_kit import smooth_video


def test_the_factor_keeps_frames_up_to_the_limit_whole_and_halves_larger_ones():
    assert flow_factor(720, 1280) == 1, "a 720p frame is under the limit"
    assert flow_factor(659, 2048) == 1, "a drone's box across a 2K plate keeps its flow whole (decision 0047)"
    assert flow_factor(1080, 1920) == 1
    assert flow_factor(1152, 2048) == 2
    assert flow_factor(2160, 4096) == 4
    assert flow_factor(96, 192) == 1
    for h, w in ((1152, 2048), (2160, 4096), (659, 2048)):
        f = flow_factor(h, w)
        assert (h // f) * (w // f) <= FLOW_MAX_PIXELS


def test_flow_made_smaller_still_finds_the_motion_at_full_size():
    frames = smooth_video(2, 240, 320, speed=4)  # a pan of 4 px per frame: content moves left
    holes = np.zeros(frames.shape[:3], bool)
    holes[:, 100:140, 140:200] = True
    whole = completed_flow(frames, holes)
    halved = completed_flow(frames, holes, max_pixels=240 * 320 // 4)
    assert halved.forward.shape == whole.forward.shape
    inner = (slice(30, 210), slice(30, 290))
    assert abs(float(np.median(halved.forward[0][inner][..., 0])) + 4.0) < 0.5
    assert abs(float(np.median(halved.forward[0][inner][..., 1]))) < 0.5
    assert abs(float(np.median(halved.backward[1][inner][..., 0])) - 4.0) < 0.5


def test_a_chain_reads_scaled_flow_at_its_points_as_the_enlarged_flow_reads():
    # odd sizes and factors 2 and 4 (non-integer scales: 101 -> 26): the pixel centres must map as cv2.resize maps them
    rng = np.random.default_rng(3)
    for height, width, factor in ((97, 130, 2), (101, 157, 4)):
        h, w = -(-height // factor), -(-width // factor)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = np.stack([0.3 * xs - 0.1 * ys + 2.0, 0.05 * xs + 0.2 * ys - 1.0], -1)
        bumpy = cv2.GaussianBlur(rng.normal(size=(h, w, 2)).astype(np.float32), (0, 0), 2.0) * 6.0
        scaled = ScaledFlow(np.stack([ramp, bumpy]), height, width)
        whole_x, whole_y = [a.ravel() for a in np.mgrid[0:height, 0:width].astype(np.float32)[::-1]]
        # inside the outermost pixels resize holds the edge's value and the small read replicates it a
        # half pixel farther: the two differ there, so the points inside a pixel keep off them
        inside_x = rng.uniform(factor, width - 1 - factor, 4000).astype(np.float32)
        inside_y = rng.uniform(factor, height - 1 - factor, 4000).astype(np.float32)
        for px, py in ((whole_x, whole_y), (inside_x, inside_y)):
            read = flow_at(scaled, 0, px, py)
            enlarged = bilinear(scaled[0], px, py)
            assert read.shape == (px.size, 2) and read.dtype == np.float32
            # the ramp is linear, so both reads are the ramp wherever they look, within cv2.remap's
            # grid of 1/32 px (of the small size here): at most 0.4 of flow per small pixel, times the factor.
            # Pixel centres mapped without resize's half-pixel shift would miss by 0.15 and more
            assert np.abs(read - enlarged).max() < 0.4 * factor / 32, (height, width, factor)
        # inside a pixel of a bumpy flow the two differ by its curvature only, a small share of a pixel
        read = flow_at(scaled, 1, inside_x, inside_y)
        enlarged = bilinear(scaled[1], inside_x, inside_y)
        gap = np.abs(read - enlarged).max()
        assert gap < 0.1 * np.abs(enlarged).max(), gap
    # a flow at full size is read as it is
    full = rng.normal(size=(1, 20, 30, 2)).astype(np.float32)
    px, py = rng.uniform(0, 29, 50).astype(np.float32), rng.uniform(0, 19, 50).astype(np.float32)
    assert np.array_equal(flow_at(full, 0, px, py), bilinear(full[0], px, py))
