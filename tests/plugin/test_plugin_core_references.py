"""plugin.core's side of references, grain and the source map: the knobs, the checks both
hosts share, and the shot they make (the renderer's own validation takes it)."""

from __future__ import annotations

import pytest

from plugin import core
from plugin.core import errors, placement
from plugin.core.settings import GRAIN_MODES, NodeSettings


def test_grain_choices_are_the_renderers():
    from renderer.io.config import GRAIN_MODES as RENDERER_GRAIN

    assert GRAIN_MODES == RENDERER_GRAIN


@pytest.mark.parametrize("text, frames", [
    ("", ()), ("1012", (1012,)), ("1030 1012", (1012, 1030)), ("1012, 1030", (1012, 1030)),
    (" 1012-1014  1020 ", (1012, 1013, 1014, 1020))])
def test_reference_frames_as_artists_type_them(text, frames):
    assert NodeSettings.from_values({"reference_frames": text}).references() == frames


@pytest.mark.parametrize("values, words", [
    ({"reference_frames": "1012 and 1030"}, "Reference frames '1012 and 1030' is not a list of frame numbers"),
    ({"reference_frames": "1030-1012"}, "not a list of frame numbers"),
    ({"source_map": "yes"}, "Source map must be on or off"),
    ({"grain": "film"}, "Grain must be one of match, off"),
])
def test_bad_new_knobs_are_named(values, words):
    with pytest.raises(errors.SettingsError, match=words):
        NodeSettings.from_values(values)


def test_reference_frames_agree_with_the_input_and_the_range():
    with_frames = NodeSettings.from_values({"reference_frames": "1002"})
    assert core.reference_frames(with_frames, True, range(1001, 1004)) == (1002,)
    assert core.reference_frames(NodeSettings.from_values({}), False, range(1001, 1004)) == ()
    with pytest.raises(errors.BadReference, match=r"is set \(1002\) but nothing is connected to the Reference "
                                                  "input"):
        core.reference_frames(with_frames, False, range(1001, 1004))
    with pytest.raises(errors.BadReference, match="the Reference input is connected but Reference frames is empty"):
        core.reference_frames(NodeSettings.from_values({}), True, range(1001, 1004))
    with pytest.raises(errors.BadReference, match=r"reference frame 1002 is outside the frames being rendered "
                                                  r"\(1003-1005\)"):
        core.reference_frames(with_frames, True, range(1003, 1006))
    assert errors.BadReference.title == "Check the Reference input"


def test_build_request_carries_references_grain_and_the_source_map(shots, tmp_path):
    from renderer.io.config import shot_from_dict

    plate, matte, _, _ = shots.write_shot(tmp_path, frames=range(1001, 1004), size=(16, 16), box=(4, 8, 4, 8))
    painted = shots.write_reference(tmp_path / "paint" / "ref.1002.exr", 1002, size=(16, 16), box=(4, 8, 4, 8))
    settings = NodeSettings.from_values({"reference_frames": "1002", "source_map": True, "grain": "off"})
    req = core.build_request(settings, plate=plate, matte=matte, frames=range(1001, 1004),
                             references={1002: painted})
    assert req.shot["references"] == [{"frame": 1002, "path": painted}]
    assert req.source_map == req.shot["source_map"] == str(tmp_path / "inpaint" / "plate_inpaint_source_map.####.exr")
    shot = shot_from_dict(req.shot)  # what the renderer will validate, server side
    assert [(r.frame, r.path) for r in shot.references] == [(1002, painted)]
    assert shot.source_map == req.source_map and shot.grain == "off"

    plain = core.build_request(NodeSettings.from_values({}), plate=plate, matte=matte, frames=range(1001, 1004))
    assert "references" not in plain.shot and "source_map" not in plain.shot and plain.source_map is None
    assert plain.shot["grain"] == "match"
    with pytest.raises(errors.BadReference, match=r"reference frame 1003 is missing \(looked for .*ref\.1003\.exr\)"):
        core.build_request(settings, plate=plate, matte=matte, frames=range(1001, 1004),
                           references={1003: painted.replace("1002", "1003")})


def test_source_map_sits_beside_the_result():
    assert placement.source_map_pattern("/o/plate_inpaint.####.exr") == "/o/plate_inpaint_source_map.####.exr"
    assert placement.source_map_pattern("/o/clean.v2.%04d.exr") == "/o/clean_source_map.v2.%04d.exr"
    result = placement.result_spec("Inpaint1", "/o/r.####.exr", [1001, 1003], (100, 50), 80, "ACEScg")
    spec = placement.source_map_spec(result, "Inpaint1", "/o/m.%04d.exr", 80)
    assert (spec.name, spec.path, spec.first, spec.last) == ("Inpaint1_source_map", "/o/m.####.exr", 1001, 1003)
    assert spec.colourspace == placement.RAW  # data, whatever the plate's colourspace
    assert spec.position == (result.position[0] + 80 + placement.RESULT_GAP, 50)


@pytest.mark.parametrize("code, message, error", [
    ("buffer_mismatch", "reference frame 1002 is 8x8 but the plates of this shot are 16x16", errors.BadReference),
    ("bad_shot", "the shot was refused: reference frame 1010 is outside the shot's frames", errors.BadReference),
    ("bad_input", "reference frame 1002 (/r.exr) is 8x8, the plate 16x16", errors.BadReference),
    ("bad_input", "matte frame 3 is empty", errors.BadMatte),
])
def test_renderer_refusals_of_a_reference_read_as_reference_errors(code, message, error):
    from plugin.core.job import _failure

    req = core.JobRequest(server="tcp://x:1", shot={"mask": {"channel": "A"}}, mode="stream", overrides={},
                          frames=(1,), output="/o/r.####.exr")
    assert isinstance(_failure(code, message, req), error)
