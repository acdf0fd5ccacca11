"""The detail layer over pixels no frame shows (``fill.detail``)."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.colour import decode, encode
from renderer.errors import ShapeError
from renderer.fill.classical import diffuse_into
from renderer.fill.detail import (DETAIL_MIN_DEPTH, MAX_GAIN, RING_PX, detail_layer, pair_energy, ring_gain,
                                  textured_region, with_detail)
from renderer.io.masks import dilated


def stripes(h=96, w=96, period=6):
    x = np.arange(w, dtype=np.float32)
    row = 0.2 + 0.15 * (np.sin(2 * np.pi * x / period) > 0)
    return np.repeat(np.repeat(row[None, :, None], h, axis=0), 3, axis=2).astype(np.float32)


def fine(image, hole):
    d = np.diff(image[..., 1], axis=1)
    return float((d[hole[:, 1:] & hole[:, :-1]] ** 2).mean())


def test_the_layer_brings_the_surrounding_texture_into_a_smooth_fill_and_nothing_else():
    frame = stripes()
    hole = np.zeros(frame.shape[:2], bool)
    hole[30:60, 30:60] = True
    smooth = diffuse_into(frame, hole)
    layer = detail_layer(frame, hole)
    assert not layer[~hole].any(), "the layer lives in the hole"
    out = with_detail(smooth, hole, layer)
    assert np.array_equal(out[~hole], smooth[~hole]), "outside ``where`` nothing changes, bit for bit"
    assert fine(out, hole) > 0.5 * fine(frame, hole) > fine(smooth, hole), "texture like the footage's"
    low = lambda im: im[hole].mean(axis=0)  # noqa: E731
    assert np.allclose(low(out), low(smooth), atol=0.02), "the colours stay the smooth fill's"


def test_the_layer_refuses_bad_shapes_and_is_zero_without_a_hole():
    frame = stripes(32, 32)
    assert not detail_layer(frame, np.zeros((32, 32), bool)).any()
    with pytest.raises(ShapeError):
        detail_layer(frame, np.zeros((16, 32), bool))
    with pytest.raises(ShapeError):
        with_detail(frame, np.zeros((32, 32), bool), np.zeros((16, 32, 3), np.float32))


def test_texture_is_for_regions_deeper_than_the_layers_own_scale():
    """Slivers and specks the chains leave beside a propagated fill get no layer; a region
    with room for texture gets it on every one of its pixels, its thin parts too."""
    unreached = np.zeros((64, 96), bool)
    unreached[5:7, 10:60] = True                     # a sliver 2 px wide
    unreached[20:23, 80:83] = True                   # a 3x3 speck
    unreached[61:64, 20:90] = True                   # 3 px along the frame's edge
    unreached[30:50, 10:30] = True                   # a 20x20 region
    unreached[39, 30:45] = True                      # a 1 px tail on it
    region = textured_region(unreached)
    assert region[30:50, 10:30].all() and region[39, 30:45].all()
    assert not region[5:7].any() and not region[20:23, 80:83].any() and not region[61:].any()
    assert not region[~unreached].any()
    # a pixel's depth is its distance to the nearest pixel outside: (side + 1) / 2 at the
    # centre of an odd square
    side = int(np.ceil(2 * DETAIL_MIN_DEPTH - 1))
    square = np.zeros((64, 96), bool)
    square[10:10 + side - 2, 10:10 + side - 2] = True
    assert not textured_region(square).any()
    square[10:10 + side, 10:10 + side] = True
    assert textured_region(square)[square].all()
    with pytest.raises(ShapeError):
        textured_region(np.zeros((2, 8, 8), bool))


def noise_frame(h=96, w=96, amplitude=0.05, seed=0):
    rng = np.random.default_rng(seed)
    return (0.18 + amplitude * rng.standard_normal((h, w, 1))).repeat(3, axis=2).astype(np.float32)


@pytest.mark.parametrize("ring_amplitude", [0.01, 0.03, 0.06])
def test_the_layer_is_as_sharp_as_the_footage_around_the_hole(ring_amplitude):
    """On noise of three strengths, the smooth fill with the layer on it (the sharp copy,
    raised where it falls short) has the fine contrast (``pair_energy``) of the known
    pixels within ``RING_PX`` of the hole; the smooth fill alone has a fifth of it or less."""
    frame = noise_frame(amplitude=ring_amplitude)
    hole = np.zeros(frame.shape[:2], bool)
    hole[34:62, 34:62] = True
    ring = dilated(hole, RING_PX) & ~hole
    smooth = diffuse_into(frame, hole)
    out = with_detail(smooth, hole, detail_layer(frame, hole))
    assert pair_energy(out, hole) == pytest.approx(pair_energy(frame, ring), rel=0.25)
    assert pair_energy(smooth, hole) < 0.2 * pair_energy(frame, ring)


def test_the_gain_raises_a_layer_softer_than_the_ring_to_it_and_no_further():
    frame = noise_frame(amplitude=0.04)
    hole = np.zeros(frame.shape[:2], bool)
    hole[30:60, 30:60] = True
    box = (30, 60, 30, 60)
    base = np.full((30, 30, 3), encode(np.float32(0.18)), np.float32)
    rng = np.random.default_rng(1)
    fine = (0.01 * rng.standard_normal((30, 30, 1))).repeat(3, axis=2).astype(np.float32)
    target = pair_energy(frame, dilated(hole, RING_PX) & ~hole)
    for scale in (1.0, 1.5):
        g = ring_gain(frame, hole, base, scale * fine, box)
        assert 1.0 < g < MAX_GAIN, (scale, g)
        got = pair_energy(decode(base + g * scale * fine), np.ones((30, 30), bool))
        assert got == pytest.approx(target, rel=0.05), (scale, g)
    assert ring_gain(frame, hole, base, 4.0 * fine, box) == 1.0, "a layer sharper than the ring is left as made"
    assert ring_gain(frame, hole, base, 0.01 * fine, box) == MAX_GAIN, "a near-flat layer is not blown up"
    assert ring_gain(frame, np.ones(frame.shape[:2], bool), base, fine, box) == 1.0, "no ring: left as made"
    with pytest.raises(ShapeError):
        ring_gain(frame, hole, base[:10], fine, box)
