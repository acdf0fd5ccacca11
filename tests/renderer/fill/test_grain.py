"""Grain matching (``renderer.fill.grain``): estimation recovers known grain, clean plates
stay clean, regrain touches only its pixels and is repeatable, and a regrained smooth fill
has the plate's fine-scale energy (``metrics.fine_energy``)."""

import cv2
import numpy as np
import pytest
from eval_helpers import texture

from renderer.colour import acescct_to_linear, linear_to_acescct
from renderer.errors import ConfigError, ShapeError
from renderer.evaluate import metrics as M
from renderer.evaluate.errors import MetricInputError
from renderer.fill import grain as G
from renderer.fill import telea
from renderer.fill.classical import diffuse_into

H, W = 160, 224


def grain_std(b):
    """The test grain's std (encoded units) at encoded brightness b: it grows with brightness."""
    return 0.006 + 0.02 * b


def unit_grain(rng, shape, sigma):
    """White Gaussian noise blurred by ``sigma`` px (OpenCV's kernel), scaled to unit std."""
    n = rng.standard_normal(shape).astype(np.float32)
    if sigma > 0:
        n = cv2.GaussianBlur(n, (0, 0), sigma)
    return n / n.std()


def base_image(kind, seed=0):
    """Encoded (ACEScct) picture (H, W, 3): a smooth ramp per channel, or a textured one."""
    if kind == "smooth":
        yy, xx = np.mgrid[0:H, 0:W] / float(max(H, W))
        return np.stack([0.15 + 0.6 * xx, 0.2 + 0.5 * yy, 0.3 + 0.15 * (xx + yy)], -1).astype(np.float32)
    return (0.1 + 0.7 * texture(H, W, seed=seed, sigma=4.0)).astype(np.float32)


def scene(kind, frames, seed=0):
    """Encoded pictures (F, H, W, 3) under the grain:
    smooth: a still ramp; textured: still soft texture (sigma 4 px);
    fine: still texture as fine as the grain (sigma 2 px), which only frame-to-frame differences
    tell from grain; panning: the soft texture moving 5 px a frame, where only flat areas do."""
    if kind in ("smooth", "textured"):
        return np.repeat(base_image(kind, seed)[None], frames, axis=0)
    if kind == "fine":
        return np.repeat((0.1 + 0.7 * texture(H, W, seed=seed, sigma=2.0))[None], frames, axis=0)
    big = 0.1 + 0.7 * texture(H + 8, W + 5 * frames, seed=seed, sigma=4.0)
    return np.stack([big[4:4 + H, 5 * t:5 * t + W] for t in range(frames)]).astype(np.float32)


def grainy_plate(kind, frames, sigma, seed=0, std=grain_std):
    """(plate linear (F, H, W, 3), the clean encoded pictures (F, H, W, 3)): fresh grain every frame."""
    rng = np.random.default_rng(seed)
    bases = scene(kind, frames, seed)
    plate = [acescct_to_linear(b + std(b) * unit_grain(rng, b.shape, sigma)) for b in bases]
    return np.stack(plate).astype(np.float32), bases


@pytest.mark.parametrize("kind, sigma", [("smooth", 0.8), ("smooth", 1.6), ("textured", 0.8), ("textured", 1.6),
                                         ("fine", 1.0), ("panning", 0.8), ("panning", 1.2)])
def test_estimate_recovers_known_grain(kind, sigma):
    plate, bases = grainy_plate(kind, 4, sigma, seed=1)
    model = G.estimate_grain(plate, np.ones(plate.shape[:3], bool))
    rel = model.std_at(bases) / grain_std(bases) - 1.0  # at every pixel's own brightness
    # the tail: mostly pixels darker or brighter than every level measured (the table is held flat)
    assert abs(np.median(rel)) < 0.05 and np.percentile(np.abs(rel), 90) < 0.15
    assert np.allclose(model.size, sigma, rtol=0.25)
    assert not model.is_clean and model.samples > 0
    assert model.as_dict()["strength"] == pytest.approx(model.strength)


def test_estimate_reads_only_known_pixels():
    plate, _ = grainy_plate("smooth", 3, 1.0, seed=5)
    known = np.ones(plate.shape[:3], bool)
    known[:, 40:120, 60:170] = False
    spoiled = plate.copy()
    rng = np.random.default_rng(9)
    spoiled[~known] = rng.random((int((~known).sum()), 3)).astype(np.float32) * 50.0  # garbage in the holes
    a = G.estimate_grain(plate, known)
    b = G.estimate_grain(spoiled, known)
    assert a == b


def test_estimate_of_synthesized_grain_round_trips():
    truth = G.GrainModel(levels=(0.2, 0.6), std=((0.02, 0.01, 0.015), (0.01, 0.01, 0.03)), size=(0.7, 1.0, 1.4))
    base = base_image("smooth")
    rng = np.random.default_rng(1)
    plate = np.stack([acescct_to_linear(base + G.synthesize_grain(base, truth, rng)) for _ in range(4)])
    model = G.estimate_grain(plate, np.ones(plate.shape[:3], bool))
    rel = model.std_at(base) / truth.std_at(base) - 1.0
    assert np.percentile(np.abs(rel), 95) < 0.15
    assert np.allclose(model.size, truth.size, rtol=0.25)


def test_clean_plates_are_clean():
    for kind in ("smooth", "textured"):
        base = base_image(kind)
        plate = np.repeat(acescct_to_linear(base)[None], 3, axis=0)
        model = G.estimate_grain(plate, np.ones(plate.shape[:3], bool))
        assert model.is_clean, (kind, model.strength)
        fill = plate[0]
        where = np.zeros((H, W), bool)
        where[20:60, 30:90] = True
        out = G.regrain(fill, where, model, seed=1, frame_number=4)
        assert np.array_equal(out, fill) and out is not fill
    assert G.GrainModel.clean().is_clean
    hole_only = np.zeros((2, H, W), bool)  # nothing known: nothing to measure, nothing added
    assert G.estimate_grain(plate[:2], hole_only) == G.GrainModel.clean()


def _fill_and_model():
    plate, _ = grainy_plate("smooth", 2, 1.0, seed=2)
    model = G.estimate_grain(plate, np.ones(plate.shape[:3], bool))
    return plate[0], model


def test_regrain_changes_only_where_and_repeats():
    fill, model = _fill_and_model()
    where = np.zeros((H, W), bool)
    where[30:70, 40:100] = True
    where[90:100, 150:160] = True  # two pieces: the box spans both, pixels between stay put
    a = G.regrain(fill, where, model, seed=7, frame_number=1001)
    assert a.dtype == fill.dtype and a.shape == fill.shape
    assert np.array_equal(a[~where], fill[~where])  # bit for bit, including inside the box
    assert (a[where] != fill[where]).mean() > 0.99
    assert np.array_equal(a, G.regrain(fill, where, model, seed=7, frame_number=1001))
    b = G.regrain(fill, where, model, seed=7, frame_number=1002)
    c = G.regrain(fill, where, model, seed=8, frame_number=1001)
    assert not np.array_equal(a[where], b[where]) and not np.array_equal(a[where], c[where])
    # the grain added has the model's std, in the encoded space
    added = linear_to_acescct(a)[where] - linear_to_acescct(fill)[where]
    expected = model.std_at(linear_to_acescct(fill)[where])
    assert np.std(added, axis=0) == pytest.approx(np.sqrt(np.mean(expected ** 2, axis=0)), rel=0.1)


def test_regrain_float_weights():
    fill, model = _fill_and_model()
    weight = np.zeros((H, W), np.float32)
    weight[30:70, 40:100] = 1.0
    weight[70:110, 40:100] = 0.5  # the ramp: the same brightness in R as the rows above
    out = G.regrain(fill.astype(np.float64), weight, model, seed=0, frame_number=0)
    assert out.dtype == np.float64
    assert np.array_equal(out[weight == 0], fill.astype(np.float64)[weight == 0])
    added = (linear_to_acescct(out) - linear_to_acescct(fill))[..., 0]
    assert np.std(added[70:110, 40:100]) / np.std(added[30:70, 40:100]) == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("seed", [4, 5])
def test_regrained_smooth_fill_matches_the_plates_fine_energy(seed):
    """A smooth fill (the plate's clean picture, the best a smooth fill can do) regrained has
    the plate's fine-scale energy; without grain it has almost none."""
    plate, bases = grainy_plate("smooth", 3, 1.0, seed=seed)
    holes = np.zeros(plate.shape[:3], bool)
    holes[:, 50:110, 70:150] = True
    model = G.estimate_grain(plate, ~holes)
    smooth = np.where(holes[..., None], acescct_to_linear(bases), plate)
    regrained = np.stack([G.regrain(smooth[t], holes[t], model, 3, t) for t in range(len(plate))])
    truth = M.fine_energy(plate, holes)
    assert M.fine_energy(smooth, holes) / truth < 0.5
    assert 0.85 <= M.fine_energy(regrained, holes) / truth <= 1.2
    assert M.known_changed_count(regrained, plate, holes) == 0


def test_degrain_fill_regrain_with_real_fills():
    """Degrain, fill (Telea; harmonic), regrain. These fills leave some fine energy of their own
    (Telea's creases) and miss the brightness a little (a harmonic fill in linear of a curved
    profile is brighter, and display-space grain grows with brightness), so the bound is looser."""
    plate, _ = grainy_plate("smooth", 2, 1.0, seed=6)
    holes = np.zeros(plate.shape[:3], bool)
    holes[:, 50:110, 70:150] = True
    model = G.estimate_grain(plate, ~holes)
    clean = G.degrain(plate, model, holes)
    harmonic = np.where(holes[..., None], np.stack([diffuse_into(clean[t].copy(), holes[t]) for t in range(2)]), plate)
    truth = M.fine_energy(plate, holes)
    for filled in (telea(clean, holes), harmonic):
        regrained = np.stack([G.regrain(filled[t], holes[t], model, 0, t) for t in range(len(plate))])
        assert M.fine_energy(filled, holes) / truth < 0.5
        assert 0.85 <= M.fine_energy(regrained, holes) / truth <= 1.5


def test_degrain_flattens_grain_and_leaves_holes():
    plate, bases = grainy_plate("smooth", 2, 1.0, seed=6)
    base = bases[0]
    holes = np.zeros(plate.shape[:3], bool)
    holes[:, 40:80, 40:80] = True
    plate[holes] = 0.0
    model = G.estimate_grain(plate, ~holes)
    out = G.degrain(plate, model, holes)
    assert out.dtype == np.float32 and out.shape == plate.shape
    assert np.array_equal(out[holes], plate[holes])
    inner = np.zeros((H, W), bool)
    inner[20:-20, 100:-20] = True  # away from the hole and the frame's edge
    before = np.std(linear_to_acescct(plate[0])[inner] - base[inner])
    after = np.std(linear_to_acescct(out[0])[inner] - base[inner])
    assert after < 0.35 * before
    assert np.array_equal(G.degrain(plate, G.GrainModel.clean()), plate)


def test_fine_energy_definition():
    rng = np.random.default_rng(0)
    video = rng.random((2, 40, 50, 3)).astype(np.float32)
    holes = np.zeros((2, 40, 50), bool)
    holes[0, 0:12, 30:50] = True
    holes[1, 20:30, 5:15] = True
    total, count = 0.0, 0
    for t in range(2):
        y = (M.to_display(video[t]) @ M.LUMA).astype(np.float32)
        fine = y - cv2.GaussianBlur(y, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT_101)
        total += float((fine[holes[t]].astype(np.float64) ** 2).sum())
        count += int(holes[t].sum())
    assert M.fine_energy(video, holes) == pytest.approx(total / count, rel=1e-6)
    with pytest.raises(MetricInputError):
        M.fine_energy(video, np.zeros((2, 40, 50), bool))
    with pytest.raises(MetricInputError):
        M.fine_energy(video, holes[0])


def test_bad_inputs_raise():
    fill, model = _fill_and_model()
    plate = np.stack([fill, fill])
    known = np.ones(plate.shape[:3], bool)
    with pytest.raises(ShapeError):
        G.estimate_grain(plate[0], known[0])  # one frame without the frame axis
    with pytest.raises(ShapeError):
        G.estimate_grain(plate, known[:, :-1])
    with pytest.raises(ShapeError):
        G.estimate_grain(plate, known.astype(np.uint8))
    with pytest.raises(ShapeError):
        G.estimate_grain(plate[:, :20, :20], known[:, :20, :20])  # too small to measure
    with pytest.raises(ShapeError):
        G.estimate_grain((plate * 255).astype(np.uint8), known)
    with pytest.raises(ConfigError):
        G.estimate_grain(plate, known, max_samples=10)
    where = np.zeros((H, W), bool)
    with pytest.raises(ShapeError):
        G.regrain(fill[..., :2], where, model, 0, 0)
    with pytest.raises(ShapeError):
        G.regrain(fill, where[:-1], model, 0, 0)
    with pytest.raises(ShapeError):
        G.regrain(fill, where.astype(np.float32) + 2.0, model, 0, 0)
    with pytest.raises(ConfigError):
        G.regrain(fill, where, model, -1, 0)
    with pytest.raises(ConfigError):
        G.regrain(fill, where, "grain", 0, 0)
    with pytest.raises(ShapeError):
        G.degrain(plate, model, holes=known[0])
    with pytest.raises(ShapeError):
        G.synthesize_grain(fill[0], model, np.random.default_rng(0))
    with pytest.raises(ConfigError):
        G.synthesize_grain(fill, model, 0)
    with pytest.raises(ConfigError):
        G.GrainModel(levels=(0.5, 0.2), std=((0.01,) * 3, (0.01,) * 3))
    with pytest.raises(ConfigError):
        G.GrainModel(levels=(0.2,), std=((0.01, 0.01),))
    with pytest.raises(ConfigError):
        G.GrainModel(size=(1.0, 1.0, 9.0))
