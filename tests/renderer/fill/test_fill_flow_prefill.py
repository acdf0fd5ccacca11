"""DIS's second pre-fill moves with the background, not with the hole, and the two flows
are fused by which one's landing matches the other frame (``fill.flow_prefill``,
``fill.flow.masked_flow``; decision 0058)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from renderer.errors import ShapeError
from renderer.fill import flow
from renderer.fill.flow_prefill import background_prefill, fused_flow

H, W = 96, 128


def texture(h: int, w: int, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), sigma)
    return np.clip((smooth - smooth.min()) / np.ptp(smooth) * 255, 0, 255).astype(np.uint8)


def translated_pair(dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Two greys (H, W) of one texture, frame 1 moved by (dx, dy) whole pixels:
    frame1(x + (dx, dy)) = frame0(x)."""
    big = texture(H + 40, W + 40)
    frame0 = big[20:20 + H, 20:20 + W]
    frame1 = big[20 - dy:20 - dy + H, 20 - dx:20 - dx + W]
    return frame0.copy(), frame1.copy()


def box(top: int, left: int, size: int = 20) -> np.ndarray:
    hole = np.zeros((H, W), bool)
    hole[top:top + size, left:left + size] = True
    return hole


def test_each_hole_is_filled_from_the_other_frame_through_the_homography():
    frame0, frame1 = translated_pair(3, 2)
    hole0, hole1 = box(30, 30), box(40, 80)
    grey0, grey1 = frame0.copy(), frame1.copy()
    grey0[hole0], grey1[hole1] = 128, 128  # a pre-fill that shows nothing of the texture
    shift = np.array([[1, 0, 3], [0, 1, 2], [0, 0, 1]], np.float64)
    filled0, filled1 = background_prefill(grey0, grey1, hole0, hole1, shift)
    assert np.abs(filled0[hole0].astype(int) - frame0[hole0]).max() <= 1
    assert np.abs(filled1[hole1].astype(int) - frame1[hole1]).max() <= 1
    assert np.array_equal(filled0[~hole0], grey0[~hole0]) and np.array_equal(filled1[~hole1], grey1[~hole1])


def test_where_the_other_frame_hides_the_same_place_the_pre_fill_stays():
    frame0, frame1 = translated_pair(3, 2)
    hole0 = box(30, 30)
    hole1 = box(32, 33)  # frame 0's hole, moved with the background: frame 1 shows none of it
    grey0 = frame0.copy()
    grey0[hole0] = 128
    shift = np.array([[1, 0, 3], [0, 1, 2], [0, 0, 1]], np.float64)
    filled0, _ = background_prefill(grey0, frame1, hole0, hole1, shift)
    assert np.all(filled0[hole0] == 128)


def test_each_pixel_keeps_the_flow_whose_landing_matches():
    frame0, frame1 = translated_pair(3, 0)
    right = np.broadcast_to(np.array([3.0, 0.0], np.float32), (H, W, 2)).copy()
    wrong = np.zeros((H, W, 2), np.float32)
    none = np.zeros((H, W), bool)
    assert np.array_equal(fused_flow(wrong, right, frame0, frame1, none, none)[8:-8, 8:-8], right[8:-8, 8:-8])
    assert np.array_equal(fused_flow(right, wrong, frame0, frame1, none, none)[8:-8, 8:-8], right[8:-8, 8:-8])


def test_pixels_that_land_in_the_other_frame_s_hole_are_judged_over_the_wider_box():
    frame0, frame1 = translated_pair(3, 0)
    right = np.broadcast_to(np.array([3.0, 0.0], np.float32), (H, W, 2)).copy()
    wrong = np.zeros((H, W, 2), np.float32)
    hole1 = box(40, 60)
    fused = fused_flow(wrong, right, frame0, frame1, np.zeros((H, W), bool), hole1)
    inner = np.zeros((H, W), bool)
    inner[44:56, 62:72] = True  # both flows land in frame 1's hole, and so does all of its 7x7 box
    assert np.array_equal(fused[inner], right[inner]), "the wider box sees the moved flow match better"
    everywhere = np.ones((H, W), bool)
    assert np.array_equal(fused_flow(wrong, right, frame0, frame1, np.zeros((H, W), bool), everywhere), wrong), \
        "with nothing to compare, the Telea pre-fill's flow stays"


def test_fusion_rejects_flows_of_another_size():
    frame0, frame1 = translated_pair(1, 0)
    none = np.zeros((H, W), bool)
    with pytest.raises(ShapeError):
        fused_flow(np.zeros((H, W, 2), np.float32), np.zeros((H // 2, W, 2), np.float32), frame0, frame1, none, none)


def moving_hole_shot(frames: int = 6, pan: float = 1.0, hole_speed: int = 6):
    """A textured plane panning ``pan`` px a frame to the right, with a hole that moves
    ``hole_speed`` px a frame down (a walker crossing a slow camera move): scene-linear
    (F, H, W, 3) and bool (F, H, W). The plane's true flow is (``pan``, 0) everywhere."""
    big = texture(H + 40, W + 80, seed=3, sigma=2.0).astype(np.float32) / 255.0
    xs = np.arange(W + 80, dtype=np.float32)
    plates = []
    for t in range(frames):
        shifted = cv2.remap(big, np.tile(xs - pan * t, (H + 40, 1)),
                            np.repeat(np.arange(H + 40, dtype=np.float32)[:, None], W + 80, 1), cv2.INTER_CUBIC)
        grey = np.clip(shifted[20:20 + H, 40:40 + W], 0, 1) ** 2.2
        plates.append(np.repeat(grey[..., None], 3, -1))
    holes = np.zeros((frames, H, W), bool)
    for t in range(frames):
        holes[t, 10 + hole_speed * t:40 + hole_speed * t, 50:80] = True
    return np.stack(plates).astype(np.float32), holes


def ring_error(forward: np.ndarray, holes: np.ndarray, pan: float) -> float:
    errors = []
    for t in range(len(holes) - 1):
        grown = cv2.dilate(holes[t].astype(np.uint8), np.ones((2 * flow.FLOW_DILATE + 1,) * 2, np.uint8)) > 0
        ring = (cv2.dilate(grown.astype(np.uint8), np.ones((17, 17), np.uint8)) > 0) & ~grown
        ring[:, :12] = ring[:, -12:] = False
        errors.append(np.hypot(forward[t][ring][:, 0] - pan, forward[t][ring][:, 1]))
    return float(np.concatenate(errors).mean())


def test_the_flow_beside_a_moving_hole_is_dragged_less(monkeypatch):
    plates, holes = moving_hole_shot()
    fused, _, _, _ = flow.masked_flow(plates, holes)
    monkeypatch.setattr(flow, "pair_flows", lambda dis, g0, g1, h0, h1, forward, backward, usable: (forward, backward))
    telea_only, _, _, _ = flow.masked_flow(plates, holes)
    assert ring_error(fused, holes, 1.0) < 0.6 * ring_error(telea_only, holes, 1.0)
