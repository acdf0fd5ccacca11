"""Synthetic mattes: shape, size, motion, determinism."""

import numpy as np
import pytest

from renderer.evaluate import mattes
from renderer.evaluate.errors import MatteSpecError


def _centroid(mask):
    ys, xs = np.nonzero(mask)
    return ys.mean(), xs.mean()


@pytest.mark.parametrize("kind", list(mattes.MATTES))
@pytest.mark.parametrize("size", [(96, 192), (160, 96)])
def test_every_kind_is_boolean_nonempty_and_inside(kind, size):
    h, w = size
    holes = mattes.synthetic_matte(kind, 24, h, w, seed=1)
    assert holes.dtype == bool and holes.shape == (24, h, w)
    assert holes.any(axis=(1, 2)).all()
    assert 0.01 < holes.mean() < 0.2
    assert np.array_equal(holes, mattes.synthetic_matte(kind, 24, h, w, seed=1))


def test_blob_moves_about_two_pixels_per_frame_and_keeps_its_size():
    holes = mattes.blob(24, 96, 192, seed=0)
    steps = [np.hypot(*np.subtract(_centroid(holes[t + 1]), _centroid(holes[t]))) for t in range(23)]
    assert 1.0 < np.median(steps) < 3.0
    areas = holes.sum(axis=(1, 2)) / (96 * 192)
    assert 0.09 < areas.min() and areas.max() < 0.16


def test_logo_is_fixed():
    holes = mattes.logo(10, 96, 192)
    assert all(np.array_equal(holes[0], h) for h in holes)
    ys, xs = np.nonzero(holes[0])
    assert (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1) == holes[0].sum()  # a box


def test_wire_is_thin_and_spans_the_frame():
    holes = mattes.wire(12, 96, 192, seed=2)
    for h in holes:
        assert h.any(axis=0).all()  # every column
        assert h.sum(axis=0).max() <= 6  # 3 px thick, slanted
    assert not np.array_equal(holes[0], holes[-1])  # it drifts


def test_unknown_kind_and_tiny_sizes_raise():
    with pytest.raises(MatteSpecError):
        mattes.synthetic_matte("cloud", 4, 96, 192)
    with pytest.raises(MatteSpecError):
        mattes.blob(4, 8, 8)
