"""Items 3 and 4: the generator and the batch schedule."""

from __future__ import annotations

import pytest
import torch

from renderer.errors import ShapeError
from renderer.method.model import SkipNet, count_parameters, flow_channel, padded_size
from renderer.presets import PAPER, PRESETS
from renderer.method.schedule import batch_combinations, median_window, plan, scaled_shape, step_lookup


def _hand_count(cin=1, channels=(16, 32, 64, 128, 128, 128), skip=4, heads=(3, 12)) -> int:
    """docs/method.md#generator, counted by hand: conv = k*k*cin*cout + cout, BN = 2 * channels."""
    def conv(k, a, b):
        return k * k * a * b + b

    total = 0
    for level, c in enumerate(channels):
        deeper = channels[level + 1] if level + 1 < len(channels) else c
        total += conv(1, cin, skip) + 2 * skip                        # skip: 1x1, BN
        total += conv(5, cin, c) + 2 * c + conv(5, c, c) + 2 * c      # down: 5x5 s2, BN, 5x5, BN
        total += 2 * (skip + deeper)                                  # BN on concat(skip, up)
        total += conv(3, skip + deeper, c) + 2 * c + conv(1, c, c) + 2 * c  # 3x3, BN, 1x1, BN
        cin = c
    return total + sum(conv(1, channels[0], h) for h in heads)


def test_paper_net_parameter_count():
    n = count_parameters(SkipNet())
    assert n == _hand_count()
    assert 3.03e6 < n < 3.11e6  # "about 3.07 M"


@pytest.mark.parametrize("hw,levels,expected", [((96, 96), 6, (192, 192)), ((192, 384), 6, (192, 384)),
                                               ((50, 70), 6, (192, 192)), ((200, 70), 6, (256, 192)),
                                               ((64, 64), 5, (96, 96)), ((97, 130), 5, (128, 160))])
def test_padded_size(hw, levels, expected):
    assert padded_size(*hw, levels) == expected


def test_bad_sizes_raise_shape_error():
    net = SkipNet(channels=(4, 4), skip=2)  # 2 levels: multiples of 4, at least 12
    net(torch.rand(1, 1, 12, 16))
    for shape in [(1, 1, 8, 16), (1, 1, 14, 16), (1, 1, 12, 18), (1, 12, 16)]:
        with pytest.raises(ShapeError):
            net(torch.rand(*shape))
    with pytest.raises(ShapeError):
        SkipNet()(torch.rand(1, 1, 64, 64))  # paper net needs >= 192
    with pytest.raises(ShapeError):
        flow_channel(2, 1)


def test_heads_and_flow_channels():
    net = SkipNet(channels=(4, 4), skip=2)
    with torch.no_grad():
        rgb, fl = net(torch.rand(2, 1, 12, 12))
    assert rgb.shape == (2, 3, 12, 12) and fl.shape == (2, 12, 12, 12)
    assert float(rgb.min()) >= 0.0 and float(rgb.max()) <= 1.0
    assert [flow_channel(s, d) for s, d in [(1, 1), (1, -1), (5, -1)]] == [slice(0, 2), slice(2, 4), slice(10, 12)]
    assert SkipNet(channels=(4, 4), skip=2, flow_head=False)(torch.rand(2, 1, 12, 12))[1] is None


def test_batchnorm_uses_batch_statistics_after_eval():
    torch.manual_seed(0)
    net = SkipNet(channels=(4, 4), skip=2)
    a, b, c = (torch.rand(1, 1, 12, 12) for _ in range(3))
    with torch.no_grad():
        net.train()
        train_out = net(torch.cat([a, b]))[0]
        net.eval()
        eval_out = net(torch.cat([a, b]))[0]
        other = net(torch.cat([a, c]))[0]
    torch.testing.assert_close(eval_out, train_out, rtol=0, atol=0)
    # batch statistics: frame a's output depends on the rest of its batch
    assert not torch.allclose(other[0], eval_out[0])


# ------------------------------------------------------------------------------- schedule
def test_paper_full_schedule_is_102000_steps():
    assert PAPER.full_steps == 102_000 and PAPER.steps() == 102_000
    assert scaled_shape(PAPER, 102_000) == (20, 50, 100)
    segs = plan(100, PAPER, 102_000, seed=0)
    assert sum(s.steps for s in segs) == 102_000
    assert len(segs) == 20 * 51 and all(s.steps == 100 for s in segs)
    medians = segs[50::51]
    assert len(medians) == 20 and all(m.frames == (50, 51, 52, 53, 54) and m.stride == 1 for m in medians)
    assert median_window(100, PAPER) == (50, 51, 52, 53, 54)


def test_528_combinations_for_100_frames():
    combos = batch_combinations(100, PAPER)
    # starts: stride 1 -> 96, stride 3 -> 100 - 12 = 88, stride 5 -> 100 - 20 = 80; x 2 directions
    assert len(combos) == 2 * (96 + 88 + 80) == 528
    assert len(set(combos)) == 528
    for frames, s, d in combos:
        assert len(frames) == 5 and d in (1, -1)
        assert all(b - a == s for a, b in zip(frames, frames[1:])) and frames[-1] < 100


def test_no_stride_5_batches_for_16_frames():
    combos = batch_combinations(16, PAPER)
    counts = {s: sum(1 for _, st, _ in combos if st == s) for s in (1, 3, 5)}
    assert counts == {1: 2 * 12, 3: 2 * 4, 5: 0}
    assert all(seg.stride != 5 for seg in plan(16, PAPER, 3_000, seed=1))


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("n_frames", [1, 2, 6, 16, 100])
@pytest.mark.parametrize("total", [1, 2, 3, 7, 101, 599, 4321])
def test_plan_sums_to_exactly_n_steps(preset, n_frames, total):
    p = PRESETS[preset]
    segs = plan(n_frames, p, total, seed=5)
    assert sum(s.steps for s in segs) == total
    assert all(s.steps >= 1 for s in segs)
    assert all(0 <= f < n_frames for s in segs for f in s.frames)
    starts = step_lookup(segs)
    assert starts[0] == 0 and all(starts[k + 1] == starts[k] + segs[k].steps for k in range(len(segs) - 1))


def test_plan_is_seeded():
    assert plan(30, PAPER, 2_000, seed=3) == plan(30, PAPER, 2_000, seed=3)
    assert plan(30, PAPER, 2_000, seed=3) != plan(30, PAPER, 2_000, seed=4)


def test_every_scheduled_batch_indexes_as_a_view():
    """Batches b, b+s, ... become slices, so the training step never copies an index tensor
    from the host; other index lists pass through unchanged."""
    from renderer.presets import get_preset
    from renderer.method.prepare import frame_index

    data = torch.arange(40.0).reshape(20, 2)
    for seg in plan(20, get_preset("paper"), 300, seed=3):
        sel = frame_index(seg.frames)
        assert isinstance(sel, slice)
        assert torch.equal(data[sel], data[list(seg.frames)])
        assert data[sel].untyped_storage().data_ptr() == data.untyped_storage().data_ptr()  # a view
    assert frame_index([4]) == slice(4, 5)
    assert frame_index([1, 2, 5]) == [1, 2, 5] and frame_index([5, 3, 1]) == [5, 3, 1]
