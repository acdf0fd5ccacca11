"""plugin.core: settings, sequences, placement, and the job runner against a real `renderer serve`."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from plugin import core
from plugin.core import errors, placement, sequences
from plugin.core.settings import KNOBS, NodeSettings

REPO = Path(__file__).resolve().parents[2]


def test_core_imports_and_runs_with_nuke_bpy_and_torch_absent(tmp_path):
    """Host modules and torch blocked (None in sys.modules makes `import` fail): the core
    imports, builds a job and runs it up to the network, and torch never gets loaded."""
    script = f"""
import sys
for name in ("nuke", "bpy", "torch"):
    sys.modules[name] = None
for name in ("nuke", "bpy", "torch"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(name + " was importable")
import plugin.core as core
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("bridge", "zmq", "numpy") and sys.modules[m])
assert loaded == ["bridge", "bridge.sequence"], loaded  # the core loads the shared frame paths, no zmq/numpy
import os
os.makedirs({str(tmp_path)!r} + "/in", exist_ok=True)
for f in (1, 2):
    for kind in ("plate", "matte"):
        open(f"{str(tmp_path)}/in/{{kind}}.{{f:04d}}.exr", "w").close()
s = core.NodeSettings.from_values({{"server": "tcp://127.0.0.1:9", "steps": 3}})
req = core.build_request(s, plate={str(tmp_path)!r} + "/in/plate.####.exr",
                         matte={str(tmp_path)!r} + "/in/matte.%04d.exr", frames=[1, 2], timeout=0.3)
seen = []
class L(core.JobListener):
    def on_error(self, e): seen.append(e)
core.JobRunner(req, L()).start().wait(30)
assert isinstance(seen[0], core.ServerUnreachable), seen
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "nuke", "bpy") and sys.modules[m] is not None)
assert not bad, bad
print("ok", type(seen[0]).__name__)
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok ServerUnreachable"


def test_settings_defaults_follow_the_knob_table():
    settings = NodeSettings.from_values({})
    assert settings.values() == {k.name: k.default for k in KNOBS}
    assert {k.name for k in KNOBS} >= {"server", "frame_range", "first", "last", "matte_channel", "expand",
                                        "feather", "preset", "steps", "output", "datatype", "transfer"}
    assert all(k.tooltip for k in KNOBS)


@pytest.mark.parametrize("values, words", [
    ({"server": "localhost:5555"}, "tcp://host:port"),
    ({"expand": -1}, "Expand must be 0 or more"),
    ({"steps": "many"}, "Steps must be a whole number"),
    ({"preset": "ultra"}, "Preset must be one of standard"),
    ({"datatype": "int8"}, "Datatype must be one of half, float"),
    ({"transfer": "ftp"}, "Transfer must be one of stream, shared"),
    ({"frame_range": "custom", "first": 10, "last": 5}, "swap them"),
    ({"colour": 1}, "unknown setting 'colour'"),
])
def test_bad_settings_name_the_knob_to_fix(values, words):
    with pytest.raises(errors.SettingsError, match=words):
        NodeSettings.from_values(values)


def test_frame_ranges():
    assert NodeSettings.from_values({}).frames(1001, 1004) == (1001, 1002, 1003, 1004)
    custom = NodeSettings.from_values({"frame_range": "custom", "first": 1002, "last": 1003})
    assert custom.frames(1001, 1004) == (1002, 1003)
    with pytest.raises(errors.SettingsError, match="outside the Source input"):
        custom.frames(1003, 1010)


def test_presets_are_the_renderers():
    from renderer.presets import PRESETS

    assert set(core.PRESETS) == set(PRESETS)


def test_one_frame_path_for_the_whole_repository():
    """The plugins, the renderer and the server name frames with the bridge's one function."""
    import bridge.sequence
    import renderer.io.sequences
    import renderer.serve.handlers

    assert sequences.frame_path is renderer.io.sequences.frame_path is renderer.serve.handlers.frame_path \
        is bridge.sequence.frame_path


@pytest.mark.parametrize("pattern, number, path", [
    ("/s/plate.####.exr", 1001, "/s/plate.1001.exr"), ("/s/plate.%04d.exr", 7, "/s/plate.0007.exr"),
    ("/s/plate.$F4.exr", 12345, "/s/plate.12345.exr"), ("/s/p_v2.@@@.exr", 7, "/s/p_v2.007.exr"),
    ("/s/plate.#.exr", 7, "/s/plate.7.exr"), ("/s/still.exr", 7, "/s/still.exr"),
    ("/s/v#1/plate.##.exr", -3, "/s/v#1/plate.-03.exr")])  # a token in a folder's name is the folder's
def test_frame_paths_as_nuke_names_them(pattern, number, path):
    assert sequences.frame_path(pattern, number) == path


def test_sequence_helpers():
    assert sequences.to_hash("/s/plate.%04d.exr") == "/s/plate.####.exr"
    assert sequences.pattern_from_file("/s/sh010_v2.1001.exr") == ("/s/sh010_v2.####.exr", 1001)
    assert sequences.describe_frames([1001, 1002, 1003, 1007, 1009, 1010]) == "1001-1003, 1007, 1009-1010"
    assert [sequences.exr_channel(c) for c in ("rgba.alpha", "alpha", "a", "rgba.red", "mask.a")] == \
        ["A", "A", "A", "R", "mask.a"]


def test_result_placement_is_deterministic_and_keeps_numbering():
    spec = placement.result_spec("Inpaint1", "/o/x.%04d.exr", [1003, 1001, 1002], (100, 50), 80)
    assert (spec.path, spec.first, spec.last, spec.colourspace) == ("/o/x.####.exr", 1001, 1003, placement.RAW)
    assert spec.position == (100 + 80 + placement.RESULT_GAP, 50)
    assert spec == placement.result_spec("Inpaint1", "/o/x.####.exr", [1001, 1002, 1003], (100, 50), 80)
    assert placement.result_spec("I", "/o/x.####.exr", [1], (0, 0), 80, "ACEScg").colourspace == "ACEScg"
    assert placement.default_output("/p/sh010_plate.%05d.exr") == "/p/inpaint/sh010_plate_inpaint.#####.exr"
    assert placement.output_pattern("/o/clean.exr", "/p/a.####.exr") == "/o/clean.####.exr"


def test_build_request_checks_inputs_and_makes_a_shot_the_renderer_accepts(shots, tmp_path):
    from renderer.io.config import shot_from_dict

    plate, matte, _, _ = shots.write_shot(tmp_path, frames=range(1001, 1004), size=(16, 16), box=(4, 8, 4, 8))
    settings = NodeSettings.from_values({"steps": 12, "preset": "paper", "matte_channel": "rgba.alpha",
                                         "expand": 2, "feather": 1, "datatype": "float"})
    req = core.build_request(settings, plate=plate, matte=matte, frames=range(1001, 1004), name="n")
    shot = shot_from_dict(req.shot)
    assert shot.frames == (1001, 1002, 1003)
    assert (shot.mask.channel, shot.mask.expand, shot.mask.feather) == ("A", 2, 1)
    assert shot.output == str(tmp_path / "inpaint" / "plate_inpaint.####.exr") == req.output
    assert shot.output_datatype == "float"
    assert req.overrides == {"preset": "paper", "steps": 12} and req.mode == "stream"

    Path(sequences.frame_path(matte, 1002)).unlink()
    with pytest.raises(errors.BadMatte, match="matte frames 1002 are missing"):
        core.build_request(settings, plate=plate, matte=matte, frames=range(1001, 1004))
    with pytest.raises(errors.BadPlate, match="plate frames 1004-1005 are missing"):
        core.build_request(settings, plate=plate, matte=None, frames=range(1001, 1006))
    with pytest.raises(errors.SettingsError, match="would overwrite the plate"):
        core.build_request(settings, plate=plate, matte=None, frames=range(1001, 1004), output=plate)


class Recorder(core.JobListener):
    def __init__(self):
        self.calls = []
        self.threads = set()

    def _note(self, name, *args):
        self.calls.append((name, *args))
        self.threads.add(threading.current_thread().name)

    def on_status(self, text):
        self._note("status", text)

    def on_progress(self, progress):
        self._note("progress", progress)

    def on_done(self, result):
        self._note("done", result)

    def on_cancelled(self):
        self._note("cancelled")

    def on_error(self, error):
        self._note("error", error)


def test_runner_hands_every_update_to_the_ui_thread(shots, tmp_path):
    """Nothing reaches the listener until the UI thread drains the queue."""
    plate, matte, _, _ = shots.write_shot(tmp_path, frames=[1], size=(8, 8), box=(2, 4, 2, 4))
    settings = NodeSettings.from_values({"server": shots.free_endpoint()})
    queue = core.MainThreadQueue()
    rec = Recorder()
    runner = core.JobRunner(core.build_request(settings, plate=plate, matte=matte, frames=[1], timeout=0.5), rec,
                            post=queue.post).start()
    assert runner.wait(30)
    assert rec.calls == []
    assert queue.drain() >= 2
    assert rec.threads == {threading.current_thread().name}
    kind, error = rec.calls[-1]
    assert kind == "error" and isinstance(error, core.ServerUnreachable)
    assert settings.server in str(error) and "renderer serve --bind" in str(error)
    assert runner.state == "failed"


def test_version_mismatch_says_what_to_do(shots, renderer_server, tmp_path):
    import bridge

    def old_client(*args, **kwargs):
        client = bridge.Client(*args, **kwargs)
        client.protocol = (99, 0)
        return client

    plate, matte, _, _ = shots.write_shot(tmp_path, frames=[1], size=(8, 8), box=(2, 4, 2, 4))
    settings = NodeSettings.from_values({"server": renderer_server.endpoint})
    rec = Recorder()
    req = core.build_request(settings, plate=plate, matte=matte, frames=[1])
    core.JobRunner(req, rec, client_factory=old_client).start().wait(60)
    kind, error = rec.calls[-1]
    assert kind == "error" and isinstance(error, core.VersionMismatch), rec.calls
    assert "same release" in str(error)


def test_an_empty_matte_comes_back_as_a_bad_matte(shots, renderer_server, tmp_path):
    plate, matte, _, _ = shots.write_shot(tmp_path, frames=[1, 2], size=(16, 16), box=(4, 8, 4, 8))
    for f in (1, 2):
        shots.write_exr(Path(sequences.frame_path(matte, f)), np.zeros((16, 16, 1), np.float32), ("A",))
    settings = NodeSettings.from_values({"server": renderer_server.endpoint, "steps": 2, "preset": "preview"})
    rec = Recorder()
    runner = core.JobRunner(core.build_request(settings, plate=plate, matte=matte, frames=[1, 2]), rec).start()
    assert runner.wait(120)
    kind, error = rec.calls[-1]
    assert kind == "error" and isinstance(error, core.BadMatte), rec.calls
    assert "empty" in str(error) and "Matte channel" in str(error)


def test_curve_keys_from_the_environment(shots, tmp_path, monkeypatch):
    """A renderer that requires CURVE: the pipeline's key files (environment) get the job through;
    a key the renderer does not allow reads as unreachable, with a hint about keys."""
    import shutil

    from bridge.keys import make_keypair

    server_public, server_secret = make_keypair(tmp_path / "server_keys", "server")
    _, artist_secret = make_keypair(tmp_path / "artist_keys", "artist")
    _, stranger_secret = make_keypair(tmp_path / "stranger_keys", "stranger")
    (tmp_path / "allow").mkdir()
    shutil.copy(tmp_path / "artist_keys" / "artist.key", tmp_path / "allow")
    server = shots.Server(tmp_path / "spool", extra=["--curve-secret", server_secret, "--allow", tmp_path / "allow"])
    try:
        plate, matte, _, _ = shots.write_shot(tmp_path / "shot", frames=[1], size=(8, 8), box=(2, 4, 2, 4))
        settings = NodeSettings.from_values({"server": server.endpoint, "steps": 1, "preset": "preview"})
        monkeypatch.setenv("INPAINT_SERVER_KEY", str(server_public))
        monkeypatch.setenv("INPAINT_CLIENT_KEY", str(artist_secret))
        rec = Recorder()
        req = core.build_request(settings, plate=plate, matte=matte, frames=[1], timeout=5)
        assert req.curve == (str(server_public), str(artist_secret))
        assert core.JobRunner(req, rec).start().wait(120)
        assert rec.calls[-1][0] == "done", rec.calls[-1]
        assert Path(sequences.frame_path(req.output, 1)).is_file()

        # a key the renderer does not allow: bridge.Client blocks in send() (reported to the
        # bridge's owner), so the artist's Cancel must still free the node
        monkeypatch.setenv("INPAINT_CLIENT_KEY", str(stranger_secret))
        rec = Recorder()
        req = core.build_request(settings, plate=plate, matte=matte, frames=[1], timeout=1)
        runner = core.JobRunner(req, rec, cancel_grace=1.0).start()
        finished = runner.wait(3)
        if not finished:
            runner.cancel()
            assert runner.wait(5) and runner.state == "cancelled" and rec.calls[-1] == ("cancelled",)
        else:
            kind, error = rec.calls[-1]
            assert kind == "error" and isinstance(error, core.ServerUnreachable) and "--allow" in str(error)
    finally:
        server.stop()
    monkeypatch.delenv("INPAINT_SERVER_KEY")
    with pytest.raises(errors.SettingsError, match="or neither"):
        core.build_request(settings, plate=plate, matte=matte, frames=[1])
