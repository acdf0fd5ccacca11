"""The artist's controls in the array pipeline: painted reference frames, the source map,
matched grain (``inpaint.paint_references``, ``pipeline.sourcemap``, ``fill.grain``)."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.callbacks import Callbacks
from renderer.errors import ConfigError, ShapeError
from renderer.inpaint import inpaint_arrays
from renderer.pipeline.sourcemap import CHANNELS, source_map
from renderer.presets import STANDARD
from standard_kit import box_holes, smooth_video


def lit_still_shot(n=8, gain_per_frame=0.03):
    """A locked-off shot whose light rises a little every frame, a fixed box over it."""
    still = smooth_video(1, 48, 64)[0]
    frames = np.stack([still * (1.0 + gain_per_frame * t) for t in range(n)]).astype(np.float32)
    return frames, box_holes(n, 48, 64, 16, 20, 10, move=0)


def hole_mse(out, truth, holes, skip=()):
    keep = [t for t in range(len(out)) if t not in skip]
    return float(np.mean((out[keep][holes[keep]] - truth[keep][holes[keep]]) ** 2))


def test_a_painted_frame_comes_out_as_painted_and_is_carried_in_each_frames_light():
    frames, holes = lit_still_shot()
    result = inpaint_arrays(frames, holes, preset=STANDARD, references={4: frames[4]}, grain="off")
    # as painted, to half-float precision (the fill passes through the training space and back)
    assert np.allclose(result.frames[4], frames[4], rtol=2 ** -11, atol=1e-6), "the painting on its own frame"
    assert np.array_equal(result.frames[~holes], frames[~holes]), "known pixels are the plate's"
    static = frames.copy()
    static[holes] = np.broadcast_to(frames[4], frames.shape)[holes]
    carried, copied = hole_mse(result.frames, frames, holes, (4,)), hole_mse(static, frames, holes, (4,))
    assert carried < 0.25 * copied, "the light of each frame is matched, not the painted frame's kept"


def test_two_references_beat_one():
    frames, holes = lit_still_shot(gain_per_frame=0.05)
    one = inpaint_arrays(frames, holes, preset=STANDARD, references={0: frames[0]}, grain="off").frames
    two = inpaint_arrays(frames, holes, preset=STANDARD, references={0: frames[0], 7: frames[7]}, grain="off").frames
    assert hole_mse(two, frames, holes, (0, 7)) < hole_mse(one, frames, holes, (0, 7))


def test_a_reference_of_another_size_or_frame_is_refused():
    frames, holes = lit_still_shot()
    with pytest.raises(ShapeError, match="plate's size"):
        inpaint_arrays(frames, holes, preset=STANDARD, references={2: frames[2, :40]})
    with pytest.raises(ShapeError, match="has 8 frames"):
        inpaint_arrays(frames, holes, preset=STANDARD, references={9: frames[2]})
    with pytest.raises(ConfigError, match="grain"):
        inpaint_arrays(frames, holes, preset=STANDARD, grain="fine")


def test_the_source_map_says_carried_synthesised_and_painted():
    frames = smooth_video(8, 48, 64, speed=2)
    moving = box_holes(8, 48, 64, 16, 10, 10, move=3)
    result = inpaint_arrays(frames, moving, preset=STANDARD, want_source_map=True, indices=[2, 5], grain="off")
    m = result.source_map
    assert m.shape == (2, 48, 64, len(CHANNELS))
    assert (m[0][~moving[2]] == (0, 0, 0, 1, 0)).all(), "known pixels are known, at full confidence"
    assert (m[0][moving[2]][:, 0] == 1).all() and (m[0][moving[2]][:, 4] >= 1).all(), "carried, from a frame away"
    still, fixed = lit_still_shot()
    result = inpaint_arrays(still, fixed, preset=STANDARD, want_source_map=True, steps=2, grain="off")
    assert (result.source_map[:, ..., 1][fixed] == 1).all(), "no frame shows a fixed box over a still shot"
    painted = inpaint_arrays(still, fixed, preset=STANDARD, want_source_map=True, references={3: still[3]},
                             grain="off").source_map
    assert (painted[..., 2][fixed] == 1).all(), "every frame takes it from the painting"
    assert (painted[3][fixed[3]][:, 3] == 1).all() and (painted[0][fixed[0]][:, 4] == 3).all()


def test_confidence_falls_with_the_distance_carried_and_into_what_is_synthesised():
    holes = np.zeros((1, 32, 32), bool)
    holes[0, 4:28, 4:28] = True
    distance = np.zeros((1, 32, 32), np.int16)
    distance[0, 4:28, 4:10] = 1
    distance[0, 4:28, 10:14] = 20
    m = source_map(holes, distance, np.zeros_like(holes))[0]
    assert m[10, 6, 3] > m[10, 12, 3] > 0, "nearer frames are trusted more"
    assert m[16, 15, 3] > m[16, 24, 3] > 0, "deeper into the invented part, less sure"
    assert (m[..., :3].sum(axis=-1)[holes[0]] == 1).all(), "one kind per hole pixel"


def test_grain_is_added_only_where_no_frame_shows_the_background():
    rng = np.random.default_rng(3)
    # the estimate reads 16 px blocks of known pixels: a frame with room for some
    frames = np.repeat(smooth_video(1, 96, 128), 8, axis=0)
    holes = box_holes(8, 96, 128, 30, 40, 20, move=0)
    grainy = (frames * (1.0 + 0.08 * rng.standard_normal(frames.shape))).astype(np.float32)
    notes: list[str] = []
    out = inpaint_arrays(grainy, holes, preset=STANDARD, steps=2, callbacks=Callbacks(log=notes.append)).frames
    clean = inpaint_arrays(grainy, holes, preset=STANDARD, steps=2, grain="off").frames
    assert any(n.startswith("grain: matched") for n in notes)
    assert np.array_equal(out[~holes], grainy[~holes])
    fine = lambda v: float(np.var(np.diff(v[:, 34:46, 44:56], axis=2)))  # noqa: E731
    assert fine(out) > 2.0 * fine(clean), "the synthesised fill carries grain like the plate's"
    assert not np.array_equal(out[0][holes[0]], out[1][holes[1]]), "fresh grain every frame"


def test_every_preset_gives_the_painting_on_its_own_frame():
    frames, holes = lit_still_shot(n=5)
    for name in ("dip-vid", "paper"):
        from renderer.presets import get_preset

        out = inpaint_arrays(frames, holes, preset=get_preset(name), steps=2, references={2: frames[2]},
                             grain="off").frames
        assert np.array_equal(out[2], frames[2]), name
