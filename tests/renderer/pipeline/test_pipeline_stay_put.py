"""A hole that stays put (a rig box, a logo): the pre-fill check judges the fills on
copies of it that stay put too, and offers the diffusion of its border as the smooth
rival; where that is kept, nothing is carried (docs/decisions/0062)."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.callbacks import Callbacks
from renderer.errors import ShapeError
from renderer.fill.propagate import seamed_propagation
from renderer.inpaint import inpaint_arrays
from renderer.pipeline.holdout import fixed_copies, hole_sets, input_configurations, stays_put
from renderer.presets import STANDARD
from standard_kit import box_holes, flickering_fields


def test_a_hole_that_stays_put_is_held_out_beside_itself_in_copies_that_stay_put():
    """A fixed box's held-out pixels are strips a quarter of its size wide on its four sides,
    the same in every frame, so no neighbouring frame shows them (as none shows the box);
    the training sets keep their copies that move."""
    fixed = box_holes(6, 48, 64, 16, 24, 16, move=0)
    assert stays_put(fixed)
    assert not stays_put(box_holes(6, 48, 64, 16, 10, 16, move=3)) and not stays_put(np.zeros((3, 8, 8), bool))
    copies = fixed_copies(fixed)
    assert copies.any() and not (copies & fixed).any()
    assert all(np.array_equal(copies[0], c) for c in copies)
    ys, xs = np.nonzero(copies[0])
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (12, 35, 20, 43)  # 4 px (a quarter of 16) each side
    sets, moving = hole_sets(fixed, 3, seed=1, put=True), hole_sets(fixed, 3, seed=1)
    assert np.array_equal(sets[-1], fixed | copies)
    assert all(np.array_equal(a, b) for a, b in zip(sets[:-1], moving[:-1]))
    whole = np.ones((3, 8, 8), bool)  # no side has room: the held-out copies keep moving
    assert not fixed_copies(whole).any()
    assert np.array_equal(hole_sets(whole, 2, seed=1, put=True)[-1], hole_sets(whole, 2, seed=1)[-1])
    with pytest.raises(ShapeError):
        fixed_copies(np.zeros((8, 8), bool))


def test_a_hole_that_stays_put_has_its_border_s_diffusion_for_its_smooth_rival():
    """On frames that share nothing, chains into a fixed box carry other frames' colours;
    the check sees it on copies that stay put, and keeps each frame's own border diffused
    in (Telea is not offered beside it). A painted reference is for carrying: no smooth
    rival then."""
    frames, holes = flickering_fields(), box_holes(8, 48, 64, 16, 24, 14, move=0)
    configs, errors, name = input_configurations(frames, holes, STANDARD, 0, Callbacks())
    assert name == "diffusion" and "telea" not in errors
    assert errors["diffusion"] < 0.25 * min(errors["propagation"], errors["guarded"])
    assert np.array_equal(configs[-1].holes, holes | fixed_copies(holes))
    real = configs[0].prefill
    assert np.array_equal(real[~holes], frames[~holes])
    error = {n: float(np.mean((f[holes] - frames[holes]) ** 2))
             for n, f in (("diffusion", real), ("propagation", seamed_propagation(frames, holes)))}
    assert error["diffusion"] < 0.25 * error["propagation"], error
    _, errors, name = input_configurations(frames, holes, STANDARD, 0, Callbacks(), smooth_rival=False)
    assert "diffusion" not in errors and "telea" not in errors
    painted = frozenset({3})
    held = holes.copy()
    held[3] = False
    _, errors, name = input_configurations(frames, held, STANDARD, 0, Callbacks(), references=painted)
    assert "diffusion" not in errors and name != "diffusion"


def test_a_render_that_keeps_the_border_s_diffusion_carries_nothing():
    """End to end: the fixed box's pre-fill is its border's diffusion, every hole pixel is
    synthesised in the source map (no chain's colour is in the output), known pixels come
    back bit for bit, and the hole is nearer the truth than propagation's fill."""
    frames, holes = flickering_fields(), box_holes(8, 48, 64, 16, 24, 14, move=0)
    notes = []
    out = inpaint_arrays(frames, holes, preset=STANDARD, steps=20, want_source_map=True,
                         callbacks=Callbacks(log=notes.append))
    check = [n for n in notes if n.startswith("pre-fill check on held-out holes")]
    assert check and check[0].endswith("pre-fill: diffusion"), notes
    assert np.array_equal(out.frames[~holes], frames[~holes])
    kinds = out.source_map[holes]
    assert (kinds[:, 1] == 1).all() and (kinds[:, 0] == 0).all() and (kinds[:, 4] == 0).all()
    error = float(np.mean((out.frames[holes] - frames[holes]) ** 2))
    assert error < 0.25 * float(np.mean((seamed_propagation(frames, holes)[holes] - frames[holes]) ** 2))
