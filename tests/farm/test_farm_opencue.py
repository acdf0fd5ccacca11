"""examples/farm/opencue_outline.py: builds (never launches) an OpenCue outline with pyoutline."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import outline  # opencue-pyoutline (dev extra)
import outline.depend
import pytest
from outline.modules.shell import Shell

from farm_helpers import FARM, load_example, run, tool_env

cue = load_example("opencue_outline")


def test_build_outline_layers_commands_range_chunk_and_dependency():
    ol = cue.build_outline("/shows/abc/sh010/inpaint.yaml", "1001-1016", 4, 2000,
                           path_mapping="/farm/rules.json")
    assert isinstance(ol, outline.Outline)
    assert ol.get_frame_range() == "1001-1016"
    layers = {layer.get_name(): layer for layer in ol.get_layers()}
    assert list(layers) == ["train", "render"]
    train, render = layers["train"], layers["render"]
    assert isinstance(train, Shell) and isinstance(render, Shell)

    assert train.get_arg("command") == ["renderer", "train", "/shows/abc/sh010/inpaint.yaml", "--steps", "2000",
                                        "--path-mapping", "/farm/rules.json"]
    assert train.get_frame_range() == "1001" and train.get_chunk_size() == 1     # a single training task
    assert render.get_arg("command") == ["renderer", "render", "/shows/abc/sh010/inpaint.yaml", "--frames",
                                         "#FRAME_START#-#FRAME_END#", "--path-mapping", "/farm/rules.json"]
    assert render.get_frame_range() == "1001-1016" and render.get_chunk_size() == 4

    (dep,) = render.get_depends()
    assert dep.get_depend_on_layer() is train
    assert dep.get_type() == outline.depend.DependType.LayerOnLayer
    assert train.get_depends() == []


def test_build_outline_quotes_paths_and_omits_unset_steps():
    ol = cue.build_outline("/shows/my shot/inpaint.yaml", "1-3", 2, None)
    train = ol.get_layer("train")
    assert train.get_arg("command") == ["renderer", "train", "'/shows/my shot/inpaint.yaml'"]


@pytest.mark.parametrize("frames, chunk, steps, message", [
    ("1001-", 4, 10, "bad frame range"),
    ("1001-1016", 0, 10, "chunk must be"),
    ("1001-1016", 4, 0, "steps must be"),
])
def test_build_outline_rejects_bad_arguments(frames, chunk, steps, message):
    with pytest.raises(ValueError, match=message):
        cue.build_outline("/s.yaml", frames, chunk, steps)


def test_main_prints_job_spec_without_launching(tmp_path):
    """The script run for real (no --launch): a Cue job spec with both layers and the depend."""
    env = tool_env(OUTLINE_OUTLINE_SESSION_DIR=str(tmp_path / "sessions"))
    proc = run([sys.executable, str(FARM / "opencue_outline.py"), "/shows/abc/inpaint.yaml",
                "--frames", "1001-1010", "--chunk", "5", "--steps", "300", "--name", "inpaint_sh010"],
               env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    spec = ET.fromstring(proc.stdout[proc.stdout.index("<spec>"):])
    assert spec.find("job").get("name") == "inpaint_sh010"
    layers = {e.get("name"): e for e in spec.iter("layer")}
    assert layers["train"].findtext("cmd") == "renderer train /shows/abc/inpaint.yaml --steps 300"
    assert layers["train"].findtext("range") == "1001" and layers["train"].findtext("chunk") == "1"
    assert layers["render"].findtext("cmd") == \
        "renderer render /shows/abc/inpaint.yaml --frames #FRAME_START#-#FRAME_END#"
    assert layers["render"].findtext("range") == "1001-1010" and layers["render"].findtext("chunk") == "5"
    (depend,) = spec.iter("depend")
    assert depend.get("type") == "LAYER_ON_LAYER"
    assert (depend.findtext("deplayer"), depend.findtext("onlayer")) == ("render", "train")
    env_keys = {k.get("name"): k.text for k in spec.find("job").find("env")}
    assert env_keys["PYTHONUNBUFFERED"] == "1"


def test_main_bad_range_exits_2(tmp_path):
    proc = run([sys.executable, str(FARM / "opencue_outline.py"), "/s.yaml", "--frames", "abc"],
               env=tool_env(OUTLINE_OUTLINE_SESSION_DIR=str(tmp_path)), cwd=tmp_path)
    assert proc.returncode == 2 and "bad frame range" in proc.stderr
