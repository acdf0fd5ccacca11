"""Large frames have their flow made at a power-of-two fraction of their size
(``fill.flow.flow_factor``) and scaled back up."""

from __future__ import annotations

import numpy as np

from renderer.fill.flow import FLOW_MAX_PIXELS, completed_flow, flow_factor
from standard_kit import smooth_video


def test_the_factor_keeps_frames_up_to_the_limit_whole_and_halves_larger_ones():
    assert flow_factor(720, 1280) == 1, "a 720p frame is under the limit"
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
