"""Small synthetic shots shared by the standard preset's tests."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_video(n=6, h=48, w=64, speed=2, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.random((h // 4 + 2, (w + n * speed) // 4 + 2, 3)).astype(np.float32)
    big = cv2.resize(small, (small.shape[1] * 4, small.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
    return np.stack([big[:h, speed * k:speed * k + w] for k in range(n)]).clip(0, None).astype(np.float32)


def box_holes(n, h, w, y, x, size, move=1):
    holes = np.zeros((n, h, w), bool)
    for k in range(n):
        holes[k, y:y + size, x + move * k:x + move * k + size] = True
    return holes


def flickering_fields(n=8, h=48, w=64, seed=5):
    """Frames that share nothing from one to the next, each a smooth field of its own:
    propagation copies the wrong frame's colour into a hole, Telea interpolates the right one."""
    rng = np.random.default_rng(seed)
    return np.stack([cv2.resize(rng.random((3, 4, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
                     for _ in range(n)]).clip(0.0, None)


def always_learning(preset):
    """``preset`` made to train whatever share of the hole other frames show: for the tests
    of the training path on shots where propagation reaches every pixel
    (``pipeline.payoff`` would skip training there)."""
    from dataclasses import replace

    return replace(preset, learn_min_unreached=0.0)
