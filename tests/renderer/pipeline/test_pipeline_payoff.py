"""Pay only where it pays: the reach of propagation decides whether the standard preset
trains (``fill.chains.unreached``, ``pipeline.payoff``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from renderer.callbacks import Callbacks
from renderer.fill.chains import chain_sources, unreached
from renderer.fill.propagate import seamed_propagation
from renderer.inpaint import inpaint_arrays
from renderer.pipeline.payoff import plan_learning
from renderer.presets import PAPER, STANDARD
from standard_kit import box_holes, smooth_video


def test_a_box_moving_over_a_panning_shot_is_reached_everywhere():
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    lost = unreached(frames, holes)
    assert not (lost & ~holes).any(), "only hole pixels can be out of reach"
    assert lost.sum() <= 0.02 * holes.sum()


def test_a_fixed_box_over_a_still_shot_is_reached_nowhere():
    still = np.repeat(smooth_video(1, 48, 64), 6, axis=0)
    holes = box_holes(6, 48, 64, 16, 20, 10, move=0)
    assert np.array_equal(unreached(still, holes), holes)


def test_the_plan_skips_learning_where_every_chain_lands_and_learns_where_none_does():
    frames = smooth_video(8, 48, 64, speed=2)
    moving = box_holes(8, 48, 64, 16, 10, 10, move=3)
    plan = plan_learning(chain_sources(frames, moving)[0], moving, STANDARD)
    assert not plan.learn and plan.unreached_fraction < STANDARD.learn_min_unreached
    assert "skipped" in plan.line("propagation") and "keeping propagation" in plan.line("propagation")
    still = np.repeat(frames[:1], 8, axis=0)
    fixed = box_holes(8, 48, 64, 16, 20, 10, move=0)
    plan = plan_learning(chain_sources(still, fixed)[0], fixed, STANDARD)
    assert plan.learn and plan.unreached_fraction == 1.0
    assert np.isnan(plan_learning(None, moving, PAPER).unreached_fraction), "the paper always trains"
    assert plan_learning(None, moving, PAPER).learn


def test_standard_without_learning_returns_the_prefill_in_the_time_the_fills_take():
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    notes: list[str] = []
    result = inpaint_arrays(frames, holes, preset=STANDARD, callbacks=Callbacks(log=notes.append))
    assert result.steps == 0 and result.train_seconds == 0.0 and result.kept == "propagation"
    assert any(n.startswith("learning: skipped") for n in notes)
    assert any(n.startswith("time: ") for n in notes), "the time line stays"
    assert np.array_equal(result.frames[~holes], frames[~holes])
    expected = seamed_propagation(frames, holes)
    assert np.allclose(result.frames[holes], expected[holes], atol=1e-6), "the output is the pre-fill"


def test_inference_without_a_checkpoint_works_where_nothing_is_trained(tmp_path):
    frames = smooth_video(8, 48, 64, speed=2)
    holes = box_holes(8, 48, 64, 16, 10, 10, move=3)
    result = inpaint_arrays(frames, holes, preset=STANDARD, work_dir=tmp_path, fresh=False, mode="infer",
                            indices=[2, 5])
    assert result.frames.shape == (2, 48, 64, 3)
    assert np.array_equal(result.frames[0][~holes[2]], frames[2][~holes[2]])


def test_training_that_cannot_pay_stops_early_and_still_serves_inference(tmp_path, monkeypatch):
    from renderer.pipeline.selection import HeldOutCheck

    monkeypatch.setattr(HeldOutCheck, "give_up",
                        lambda self, errors, remaining: "no hope" if len(errors) >= 2 else None)
    monkeypatch.setattr(HeldOutCheck, "over_budget", lambda self, train_seconds: False)
    still = np.repeat(smooth_video(1, 48, 64), 6, axis=0)
    holes = box_holes(6, 48, 64, 16, 20, 10, move=0)
    notes: list[str] = []
    trained = inpaint_arrays(still, holes, preset=STANDARD, steps=30, work_dir=tmp_path, grain="off",
                             callbacks=Callbacks(log=notes.append))
    assert any(n.startswith("training stopped at step 10 of 30: no hope") for n in notes)
    assert trained.steps == 30 and trained.steps_trained == 10, "the result counts the steps that ran"
    inferred = inpaint_arrays(still, holes, preset=STANDARD, steps=30, work_dir=tmp_path, fresh=False, mode="infer",
                              grain="off")
    assert np.array_equal(inferred.frames, trained.frames), "the stopped run is a finished one for inference"
    assert inferred.steps_trained == 0


def test_training_past_its_share_of_the_time_stops_where_the_network_is_not_ahead(tmp_path, monkeypatch):
    from renderer.pipeline.selection import HeldOutCheck

    monkeypatch.setattr(HeldOutCheck, "over_budget", lambda self, train_seconds: True)  # as on a slow machine
    still = np.repeat(smooth_video(1, 48, 64), 6, axis=0)
    holes = box_holes(6, 48, 64, 16, 20, 10, move=0)
    notes: list[str] = []
    result = inpaint_arrays(still, holes, preset=STANDARD, steps=30, work_dir=tmp_path, grain="off",
                            callbacks=Callbacks(log=notes.append))
    stopped = [n for n in notes if n.startswith("training stopped at step 1 of 30: training has taken 25 %")]
    assert stopped and "does not beat the best non-learning fill" in stopped[0], notes
    assert any(n.startswith("held-out error by step: 1 ") for n in notes), "the log shows each check's error"
    assert result.kept != "network"


def test_the_detail_layer_textures_a_region_with_room_for_it_and_leaves_a_sliver_to_the_fill():
    """No frame shows a fixed 9x9 square or a fixed 2 px wire; other frames show all of a
    large moving box, so nothing is trained. The square gets the texture layer; the wire,
    narrower than the layer's scale, keeps the fill it had without the layer, bit for bit."""
    rng = np.random.default_rng(3)
    still = np.repeat((rng.random((1, 128, 240, 3)) * 0.5).astype(np.float32), 8, axis=0)
    holes = np.zeros((8, 128, 240), bool)
    for t in range(8):
        holes[t, 10:80, 5 + 20 * t:75 + 20 * t] = True
    holes[:, 95:104, 20:29] = True      # the square
    holes[:, 110:112, 150:154] = True   # the wire
    notes, out = [], {}
    for layer in (True, False):
        preset = replace(STANDARD, unreached_detail=layer)
        out[layer] = inpaint_arrays(still, holes, preset=preset, callbacks=Callbacks(log=notes.append)).frames
    assert any(n.startswith("learning: skipped") for n in notes), notes
    square, wire = out[True][:, 95:104, 20:29], out[True][:, 110:112, 150:154]
    assert not np.array_equal(square, out[False][:, 95:104, 20:29]), "the square is textured"
    assert np.array_equal(wire, out[False][:, 110:112, 150:154]), "the wire is the fill's alone"
    assert np.array_equal(out[True][~holes], still[~holes])


def _counting_inference(monkeypatch) -> list:
    """Record the input configuration of every inference of the whole shot the loop runs."""
    import renderer.loop as loop

    calls: list[int] = []
    real = loop.infer

    def counted(model, prep, preset, indices=None, config=0):
        if indices is None:
            calls.append(config)
        return real(model, prep, preset, indices, config=config)

    monkeypatch.setattr(loop, "infer", counted)
    return calls


def _inferring_afresh(monkeypatch) -> None:
    """Every call of ``TrainingLoop.infer`` runs the network, as before the fill was kept."""
    import renderer.loop as loop

    monkeypatch.setattr(loop.TrainingLoop, "infer", lambda self, indices=None, config=0: loop.infer(
        self.inference, self.prep, self.preset, indices, config=config))


def test_a_stop_for_the_time_budget_infers_the_held_out_fill_once(monkeypatch):
    from renderer.pipeline.selection import HeldOutCheck

    monkeypatch.setattr(HeldOutCheck, "over_budget", lambda self, train_seconds: True)  # as on a slow machine
    still = np.repeat(smooth_video(1, 48, 64), 6, axis=0)
    holes = box_holes(6, 48, 64, 16, 20, 10, move=0)
    calls = _counting_inference(monkeypatch)
    notes: list[str] = []
    kept = inpaint_arrays(still, holes, preset=STANDARD, steps=30, grain="off", callbacks=Callbacks(log=notes.append))
    assert any(n.startswith("training stopped at step 1 of 30") for n in notes), notes
    held_out = max(calls)  # the last configuration is the held-out one
    assert calls.count(held_out) == 1, f"the validation, the verdict and the final choice share one fill: {calls}"

    # every call inferring afresh: three inferences, the same output
    _inferring_afresh(monkeypatch)
    calls.clear()
    afresh = inpaint_arrays(still, holes, preset=STANDARD, steps=30, grain="off")
    assert calls.count(held_out) == 3
    assert afresh.kept == kept.kept and np.array_equal(afresh.frames, kept.frames)


def test_each_validation_infers_the_weights_it_is_given(monkeypatch):
    from renderer.pipeline.selection import HeldOutCheck

    monkeypatch.setattr(HeldOutCheck, "give_up",
                        lambda self, errors, remaining: "no hope" if len(errors) >= 2 else None)
    monkeypatch.setattr(HeldOutCheck, "over_budget", lambda self, train_seconds: False)
    still = np.repeat(smooth_video(1, 48, 64), 6, axis=0)
    holes = box_holes(6, 48, 64, 16, 20, 10, move=0)
    calls = _counting_inference(monkeypatch)
    notes: list[str] = []
    kept = inpaint_arrays(still, holes, preset=STANDARD, steps=30, grain="off", callbacks=Callbacks(log=notes.append))
    checks = next(n for n in notes if n.startswith("held-out error by step: "))
    (step_a, error_a), (step_b, error_b) = [pair.split() for pair in checks.split(": ")[1].split(", ")]
    assert (step_a, step_b) == ("5", "10") and error_a != error_b, f"each check sees its own weights: {checks}"
    held_out = max(calls)
    # the final choice reuses step 10's fill where those weights are the best, and infers
    # the best ones (step 5's) again where they are not
    assert calls.count(held_out) == (2 if float(error_b) < float(error_a) else 3), (checks, calls)

    _inferring_afresh(monkeypatch)
    afresh = inpaint_arrays(still, holes, preset=STANDARD, steps=30, grain="off")
    assert afresh.kept == kept.kept and np.array_equal(afresh.frames, kept.frames)
