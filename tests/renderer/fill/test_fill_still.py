"""The unmoved copy where the background is still (``fill.still``), as seamed propagation
lays it over its fill. Real DIS flow and real fills on small synthetic shots."""

from __future__ import annotations

import numpy as np

from renderer.fill.flow import completed_flow
from renderer.fill.propagate import guarded_propagation, seamed_propagation
from renderer.fill.still import NO_FRAME, nearest_known_source, still_sources
from standard_kit import box_holes, smooth_video


def grainy_still(n=8, h=48, w=64, sigma=0.02, seed=0):
    """A locked-off textured shot with fresh noise on every frame, as film grain is."""
    rng = np.random.default_rng(seed + 1)
    still = np.repeat(smooth_video(1, h, w, seed=seed), n, axis=0)
    return (still + rng.normal(0.0, sigma, still.shape)).clip(0, None).astype(np.float32)


def test_a_still_background_is_copied_unchanged_from_the_nearest_frame_that_shows_it():
    frames = grainy_still()
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    out = seamed_propagation(frames, holes)
    source = nearest_known_source(holes)
    ts, ys, xs = np.nonzero(holes & (source != NO_FRAME))
    exact = np.mean(np.all(out[ts, ys, xs] == frames[source[ts, ys, xs], ys, xs], axis=-1))
    assert exact > 0.9, f"only {exact:.2f} of the hole is the nearest frame's pixel, unresampled"
    assert np.array_equal(out[~holes], frames[~holes])
    guarded = guarded_propagation(frames, holes)  # the pre-fill for moving subjects takes it too
    assert np.mean(np.all(guarded[ts, ys, xs] == frames[source[ts, ys, xs], ys, xs], axis=-1)) > 0.9
    unguarded = seamed_propagation(frames, holes, guarded=True, still=False)
    assert np.mean(np.all(unguarded[ts, ys, xs] == frames[source[ts, ys, xs], ys, xs], axis=-1)) < 0.5


def copies(picks) -> int:
    return sum(ys.size for ys, _, _ in picks)


def test_a_moving_camera_gets_no_unmoved_copy():
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    flow = completed_flow(frames, holes)
    assert copies(still_sources(frames, holes, flow.forward, flow.backward)) == 0


def test_a_hole_no_frame_shows_and_a_painted_frame_give_no_source():
    frames = grainy_still()
    fixed = box_holes(8, 48, 64, 16, 10, 10, move=0)
    flow = completed_flow(frames, fixed)
    assert copies(still_sources(frames, fixed, flow.forward, flow.backward)) == 0
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    flow = completed_flow(frames, holes)
    picks = still_sources(frames, holes, flow.forward, flow.backward, references=frozenset({3}))
    assert copies(picks) > 0 and not any((sources == 3).any() for _, _, sources in picks)
    for t, (ys, xs, sources) in enumerate(picks):
        assert holes[t, ys, xs].all() and not holes[sources, ys, xs].any(), "hole pixels, from frames that show them"


def test_the_real_hole_takes_the_unmoved_copy_and_the_check_s_holes_do_not():
    """The held-out check's extra holes move where a real fixed hole does not: the copy
    would be credited there with what the real hole never gets."""
    from renderer.callbacks import Callbacks
    from renderer.pipeline.holdout import input_configurations
    from renderer.presets import STANDARD

    frames = grainy_still()
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    configs, _, name = input_configurations(frames, holes, STANDARD, 0, Callbacks())
    assert name == "propagation"

    def exact_share(config, region):
        source = nearest_known_source(config.holes)
        ts, ys, xs = np.nonzero(region & (source != NO_FRAME))
        return np.mean(np.all(config.prefill[ts, ys, xs] == frames[source[ts, ys, xs], ys, xs], axis=-1))

    assert exact_share(configs[0], holes) > 0.9
    assert exact_share(configs[-1], configs[-1].extra(holes)) < 0.5
    from renderer.pipeline.holdout import Configuration, baseline_fills

    for still in (True, False):  # the guarded rival too: the check gives it no copy either
        guarded = baseline_fills(still=still)["guarded"](frames, configs[-1].holes)
        share = exact_share(Configuration(holes=configs[-1].holes, prefill=guarded), configs[-1].extra(holes))
        assert (share > 0.9) if still else (share < 0.5), (still, share)


def test_the_unmoved_copy_must_beat_every_one_pixel_shift():
    from renderer.colour import encode
    from renderer.fill.still import best_shift_is_zero

    holes = box_holes(4, 48, 64, 16, 10, 10, move=3)
    ys, xs = np.nonzero(~holes[0])
    for frames, still in ((grainy_still(4), True), (smooth_video(4, 48, 64, speed=1), False)):
        ring = encode(frames[0][ys, xs])
        assert best_shift_is_zero(frames, holes, 1, ys, xs, ring) is still


def drifting(n=8, h=48, w=64, step=0.45, seed=0):
    """A smooth texture drifting ``step`` px a frame to the left, resampled bicubic: a
    camera creeping by a fraction of a pixel, as a slow tilt or pan does."""
    import cv2

    still = smooth_video(1, h, w + 8, seed=seed)[0]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.stack([cv2.remap(still, gx + step * k, gy, cv2.INTER_CUBIC) for k in range(n)]).clip(0, None)


def test_the_ring_measures_a_shift_of_a_fraction_of_a_pixel():
    from renderer.colour import encode
    from renderer.fill.still import STILL_SHIFT, ring_shift

    holes = box_holes(4, 48, 64, 16, 10, 10, move=3)
    ring = np.zeros((48, 64), bool)
    ring[12:30, 6:30] = True
    ys, xs = np.nonzero(ring & ~holes[0])
    for step in (0.2, 0.45, 0.7):
        frames = drifting(4, step=step)
        measured = ring_shift(frames, holes, 1, ys, xs, encode(frames[0][ys, xs]))
        assert abs(measured - step) < 0.1, f"{step} px a frame measured as {measured:.2f}"
    frames = grainy_still(4)
    assert ring_shift(frames, holes, 1, ys, xs, encode(frames[0][ys, xs])) < STILL_SHIFT / 2


def test_a_grainy_background_drifting_under_half_a_pixel_a_frame_gets_next_to_no_unmoved_copy():
    """0.45 px a frame passes the 1 px alignment test, and on grain the flow leaves enough
    error on the ring for the unmoved copy to pass the other test too: without the ring's
    measured shift, over a third of the hole was copied, each pixel misplaced by the drift."""
    from renderer.colour import encode
    from renderer.fill.still import best_shift_is_zero

    grain = np.random.default_rng(3).normal(0.0, 0.02, (8, 48, 64, 3))
    frames = (drifting(8, step=0.45) + grain).clip(0, None).astype(np.float32)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    ys, xs = np.nonzero(~holes[0])
    assert best_shift_is_zero(frames, holes, 1, ys, xs, encode(frames[0][ys, xs]))
    flow = completed_flow(frames, holes)
    shown = (holes & (nearest_known_source(holes) != NO_FRAME)).sum()
    assert copies(still_sources(frames, holes, flow.forward, flow.backward)) < 0.1 * shown


def test_the_guarded_fill_copies_only_where_the_frames_around_hold_still_too():
    """Grain makes one pair's measured shift miss by a tenth of a pixel, so now and then a
    pair drifting 0.45 px passes; the guarded fill (``steady``) also asks the frames either
    side, and a still shot keeps its copy."""
    grain = np.random.default_rng(3).normal(0.0, 0.02, (8, 48, 64, 3))
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    shown = (holes & (nearest_known_source(holes) != NO_FRAME)).sum()
    drift = (drifting(8, step=0.45) + grain).clip(0, None).astype(np.float32)
    flow = completed_flow(drift, holes)
    assert copies(still_sources(drift, holes, flow.forward, flow.backward)) > 0
    assert copies(still_sources(drift, holes, flow.forward, flow.backward, steady=True)) == 0
    still = grainy_still()
    flow = completed_flow(still, holes)
    assert copies(still_sources(still, holes, flow.forward, flow.backward, steady=True)) > 0.8 * shown
