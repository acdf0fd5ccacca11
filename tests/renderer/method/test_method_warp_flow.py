"""Item 1: warping, in-bounds mask, forward-backward checks (torch and numpy), DIS."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from renderer_helpers import smooth_texture
from renderer.method import flow as rflow
from renderer.method import warp as ops
from renderer.errors import ShapeError

H, W = 7, 11  # not square, so both (H - 1) and (W - 1) normalisations are exercised


def _image(c: int = 2) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, c, H, W, dtype=torch.float64)


def _const_flow(dx: float, dy: float, b: int = 2, h: int = H, w: int = W) -> torch.Tensor:
    f = torch.zeros(b, 2, h, w, dtype=torch.float64)
    f[:, 0], f[:, 1] = dx, dy
    return f


def test_zero_flow_is_identity():
    img = _image()
    out = ops.warp(img, _const_flow(0, 0))
    torch.testing.assert_close(out, img, atol=1e-12, rtol=0)
    assert bool(ops.inbounds(_const_flow(0, 0)).eq(1).all())


@pytest.mark.parametrize("dx,dy", [(2, 0), (0, 3), (-3, 1), (4, -2)])
def test_integer_shift_moves_pixels_exactly(dx, dy):
    img = _image()
    out = ops.warp(img, _const_flow(dx, dy))
    expected = torch.zeros_like(img)
    mask = torch.zeros(2, 1, H, W, dtype=torch.float64)
    for y in range(H):
        for x in range(W):
            sy, sx = y + dy, x + dx  # out(x) = img(x + flow)
            if 0 <= sy < H and 0 <= sx < W:
                expected[:, :, y, x] = img[:, :, sy, sx]
                mask[:, :, y, x] = 1
    torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)  # out-of-frame samples are 0
    torch.testing.assert_close(ops.inbounds(_const_flow(dx, dy)), mask, atol=0, rtol=0)


def test_half_pixel_shift_is_the_mean_of_neighbours_and_leaves_frame_at_the_edge():
    # with align_corners=False (normalising by W instead of W - 1) this would be off by a fraction
    img = _image(1)
    out = ops.warp(img, _const_flow(0.5, 0))
    mean = 0.5 * (img[..., :-1] + img[..., 1:])
    torch.testing.assert_close(out[..., :-1], mean, atol=1e-12, rtol=0)
    inb = ops.inbounds(_const_flow(0.5, 0))
    assert bool(inb[..., :-1].eq(1).all())
    assert bool(inb[..., -1].eq(0).all())  # warped ones there are 0.5 < 0.999
    torch.testing.assert_close(out[..., -1], 0.5 * img[..., -1], atol=1e-12, rtol=0)


def test_warp_checks_shapes():
    with pytest.raises(ShapeError):
        ops.warp(torch.zeros(1, 3, H, W), torch.zeros(1, 3, H, W))
    with pytest.raises(ShapeError):
        ops.warp(torch.zeros(1, 3, H, W), torch.zeros(1, 2, H, W + 1))


def test_torch_fb_consistent_constant_flows():
    fwd, bwd = _const_flow(1.5, -1.0), _const_flow(-1.5, 1.0)
    ok = ops.fb_consistent(fwd, bwd)
    assert ok.shape == (2, 1, H, W) and ok.dtype == torch.bool
    # interior points land inside the frame, where b(x + f) = -f exactly
    assert bool(ok[:, :, 1:, :W - 2].all())
    bad = ops.fb_consistent(_const_flow(1.0, 0), _const_flow(1.0, 0))  # residual 2 px where x + f is inside
    assert not bool(bad[..., :W - 1].any())


@pytest.mark.parametrize("r2,valid", [(2 * math.log(2) - 0.01, True), (2 * math.log(2) + 0.01, False)])
def test_fb_threshold_is_2_ln_2(r2, valid):
    r = math.sqrt(r2)
    # forward 0, backward r: the residual is r everywhere, in both implementations
    ok = ops.fb_consistent(_const_flow(0, 0), _const_flow(r * 0.6, r * 0.8))
    assert bool(ok.all()) is valid and bool(ok.any()) is valid
    f = np.zeros((H, W, 2), np.float32)
    b = np.zeros((H, W, 2), np.float32)
    b[..., 0], b[..., 1] = r * 0.6, r * 0.8
    ok_np = rflow.fb_valid(f, b)
    assert ok_np.dtype == bool and ok_np.shape == (H, W)
    assert bool(ok_np.all()) is valid and bool(ok_np.any()) is valid
    assert rflow.FB_THRESHOLD == pytest.approx(2 * math.log(2))


def test_numpy_fb_valid_constant_flows():
    f = np.zeros((H, W, 2), np.float32)
    f[..., 0] = 2.0
    ok = rflow.fb_valid(f, -f)
    assert ok[:, :W - 2].all()
    assert not ok[:, W - 2:].any()  # x + 2 leaves the frame: invalid
    assert not rflow.fb_valid(f, f).any()  # residual 4 px
    with pytest.raises(ShapeError):
        rflow.fb_valid(f, f[..., :1])


def test_numpy_sample_matches_torch_warp():
    rng = np.random.default_rng(1)
    img = rng.random((H, W)).astype(np.float32)
    fl = rng.uniform(-1.5, 1.5, size=(H, W, 2)).astype(np.float32)
    a = rflow.sample(img, fl)
    b = ops.warp(torch.from_numpy(img)[None, None], torch.from_numpy(fl).permute(2, 0, 1)[None])[0, 0].numpy()
    inside = ops.inbounds(torch.from_numpy(fl).permute(2, 0, 1)[None])[0, 0].numpy() > 0
    np.testing.assert_allclose(a[inside], b[inside], atol=1e-5)


@pytest.mark.parametrize("dx,dy", [(3.0, -2.0), (1.5, 0.5), (0.25, 0.75)])
def test_dis_recovers_a_known_shift(dx, dy):
    def grey(dx, dy):
        return np.clip(128 + 110 * smooth_texture(96, 96, dx, dy), 0, 255).round().astype(np.uint8)

    a, b = grey(0, 0), grey(dx, dy)  # b(x) = a(x - d), so a(x) = b(x + d): the flow is +d
    fl = rflow.dis_flow(a, b)[12:-12, 12:-12]
    assert fl.shape[-1] == 2 and fl.dtype == np.float32
    assert np.median(fl[..., 0]) == pytest.approx(dx, abs=0.1)
    assert np.median(fl[..., 1]) == pytest.approx(dy, abs=0.1)
    err = np.hypot(fl[..., 0] - dx, fl[..., 1] - dy)
    assert np.percentile(err, 95) < 0.3


def test_reference_flow_layout_for_a_translating_shot():
    n, shift = 6, 1.0
    lin = np.stack([np.repeat((0.2 + 0.15 * smooth_texture(64, 64, shift * k, 0))[..., None], 3, -1)
                    for k in range(n)]).astype(np.float32)
    ref = rflow.reference_flow(lin, strides=(1, 3, 5))
    assert set(ref.flows) == {(s, d) for s in (1, 3, 5) for d in (1, -1)}
    for s in (1, 3, 5):
        f, b = ref.flows[(s, 1)], ref.flows[(s, -1)]
        assert f.shape == (n, 64, 64, 2)
        assert not f[n - s:].any() and not b[:s].any()  # no neighbour there: zero, and invalid
        assert not ref.valid[(s, 1)][n - s:].any() and not ref.valid[(s, -1)][:s].any()
        inner = f[0, 16:-16, 16:-16]
        assert np.median(inner[..., 0]) == pytest.approx(s * shift, abs=0.2)
        assert np.median(b[s, 16:-16, 16:-16, 0]) == pytest.approx(-s * shift, abs=0.2)
        assert ref.max_abs[s] == pytest.approx(max(np.abs(f).max(), np.abs(b).max()))
