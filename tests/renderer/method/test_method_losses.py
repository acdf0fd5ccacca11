"""Item 2: every loss on hand-made tensors with known answers."""

from __future__ import annotations

import pytest
import torch

from renderer.errors import ConfigError, ShapeError
from renderer.method.losses import (VGGFeatures, consistency_loss, feature_hole_masks, flow_loss, perceptual_loss,
                             reconstruction_loss)


def test_reconstruction_is_a_mean_over_all_elements_not_the_mask_area():
    out = torch.ones(1, 3, 2, 2)
    target = torch.zeros(1, 3, 2, 2)
    known = torch.zeros(1, 1, 2, 2)
    known[0, 0, 0, 0] = 1
    # one known pixel, 3 channels, squared error 1 each: 3 / 12 elements (a mask-area mean would give 1)
    assert reconstruction_loss(out, target, known).item() == pytest.approx(3 / 12)
    # errors in the hole cost nothing
    out2 = target.clone()
    out2[0, :, 1, 1] = 5.0
    assert reconstruction_loss(out2, target, known).item() == 0.0
    with pytest.raises(ShapeError):
        reconstruction_loss(out, target[:, :2], known)


def test_flow_loss_known_value():
    pred = torch.full((2, 2, 2, 3), 2.0)
    ref = torch.zeros(2, 2, 2, 3)
    ref[1] = 1.0
    w = torch.zeros(2, 1, 2, 3)
    w[0, 0, 0, 0] = 1  # sample 0: error 2 on both channels -> 2 * 4 = 8
    w[1, 0, 1, 2] = 1  # sample 1: error 1 on both channels -> 2 * 1 = 2
    assert flow_loss(pred, ref, w).item() == pytest.approx(10 / 24)
    assert flow_loss(pred, ref, torch.zeros_like(w)).item() == 0.0


def test_consistency_known_value_with_inbounds_and_hole_union():
    h, w = 4, 5
    ramp = torch.arange(w, dtype=torch.float64).view(1, 1, 1, w).expand(1, 3, h, w).clone()
    current = ramp.clone()
    neighbour = ramp.clone()
    flow = torch.zeros(1, 2, h, w, dtype=torch.float64)
    flow[:, 0] = 1.0  # warp(neighbour)(x) = neighbour(x + 1) = x + 1: error 1 where in bounds
    union = torch.zeros(1, 1, h, w, dtype=torch.float64)
    union[0, 0, 1:3, 2:5] = 1  # 6 pixels, 2 of them in the last column (sample leaves the frame)
    loss = consistency_loss(current, neighbour, flow, union)
    assert loss.item() == pytest.approx(3 * 4 / (3 * h * w))  # 4 pixels x 3 channels x 1^2, over all elements
    assert consistency_loss(current, neighbour, flow, torch.zeros_like(union)).item() == 0.0


def test_consistency_gradient_skips_the_current_frame():
    torch.manual_seed(0)
    current = torch.rand(2, 3, 6, 7, requires_grad=True)
    neighbour = torch.rand(2, 3, 6, 7, requires_grad=True)
    flow = torch.full((2, 2, 6, 7), 0.3, requires_grad=True)
    union = torch.ones(2, 1, 6, 7)
    consistency_loss(current, neighbour, flow, union).backward()
    assert current.grad is None  # detached target
    assert neighbour.grad is not None and neighbour.grad.abs().sum() > 0
    assert flow.grad is not None and flow.grad.abs().sum() > 0


def _random_vgg_file(tmp_path, extra_keys: bool = True):
    torch.manual_seed(0)
    model = VGGFeatures()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert set(state) == {f"features.{i}.{p}" for i in (0, 2, 5, 7, 10, 12, 14) for p in ("weight", "bias")}
    if extra_keys:  # a full torchvision VGG16 file also holds deeper layers and the classifier
        state["features.17.weight"] = torch.zeros(512, 256, 3, 3)
        state["classifier.0.weight"] = torch.zeros(4, 4)
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    return path, model


def test_vgg_from_file_loads_a_torchvision_layout_state_dict(tmp_path):
    path, model = _random_vgg_file(tmp_path)
    loaded = VGGFeatures.from_file(str(path))
    x = torch.rand(1, 3, 16, 16)
    for a, b in zip(loaded(x), model(x)):
        torch.testing.assert_close(a, b)
    shapes = [tuple(t.shape) for t in loaded(x)]
    assert shapes == [(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4)]
    assert not any(p.requires_grad for p in loaded.parameters())


def test_vgg_from_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        VGGFeatures.from_file(str(tmp_path / "nope.pth"))
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "partial.pth")
    with pytest.raises(ConfigError, match="lacks"):
        VGGFeatures.from_file(str(tmp_path / "partial.pth"))


def test_feature_hole_masks_shapes_and_dilation():
    hole = torch.zeros(1, 1, 64, 64)
    hole[0, 0, 32, 32] = 1
    m1, m2, m3 = feature_hole_masks(hole)
    assert (m1.shape, m2.shape, m3.shape) == ((1, 1, 64, 64), (1, 1, 32, 32), (1, 1, 16, 16))

    def box(y0, y1, x0, x1, n):
        b = torch.zeros(1, 1, n, n)
        b[..., y0:y1, x0:x1] = 1
        return b

    # by hand: two 3x3 convs grow the point to 30..34; pool -> 15..17, two convs -> 13..19;
    # pool -> 6..9, three convs -> 3..12
    torch.testing.assert_close(m1, box(30, 35, 30, 35, 64))
    torch.testing.assert_close(m2, box(13, 20, 13, 20, 32))
    torch.testing.assert_close(m3, box(3, 13, 3, 13, 16))


def test_perceptual_loss_ignores_the_hole_and_sees_the_known_region(tmp_path):
    path, _ = _random_vgg_file(tmp_path, extra_keys=False)
    vgg = VGGFeatures.from_file(str(path))
    torch.manual_seed(1)
    target = torch.rand(1, 3, 32, 32)
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 10:20, 12:22] = 1
    assert perceptual_loss(vgg, target.clone(), target, hole).item() == 0.0
    # psi covers every feature the hole can influence, so a change inside the hole costs exactly 0
    out = target.clone()
    out[..., 10:20, 12:22] = torch.rand(1, 3, 10, 10)
    assert perceptual_loss(vgg, out, target, hole).item() == 0.0
    out2 = target.clone()
    out2[..., 0:4, 0:4] = 1.0 - out2[..., 0:4, 0:4]
    assert perceptual_loss(vgg, out2, target, hole).item() > 0.0


def test_perceptual_loss_feeds_bgr_without_normalisation(tmp_path):
    path, _ = _random_vgg_file(tmp_path, extra_keys=False)
    vgg = VGGFeatures.from_file(str(path))
    torch.manual_seed(2)
    out, target = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    hole = torch.zeros(1, 1, 16, 16)
    expected = sum(torch.mean((a - b) ** 2) for a, b in zip(vgg(out.flip(1)), vgg(target.flip(1))))
    assert perceptual_loss(vgg, out, target, hole).item() == pytest.approx(expected.item(), rel=1e-5)
