"""renderer.io.pathmap: OpenJD pathmapping-1.0 rules files -> a str -> str mapper."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from renderer.io.config import load_shot
from renderer.errors import ConfigError
from renderer.io.pathmap import PathMapper, load_rules, rules_from_dict

from farm_helpers import run, tool, tool_env


def rules_file(tmp_path: Path, *rules: tuple[str, str, str], name: str = "rules.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({
        "version": "pathmapping-1.0",
        "path_mapping_rules": [
            {"source_path_format": f, "source_path": s, "destination_path": d} for f, s, d in rules],
    }))
    return path


def test_posix_rule_maps_prefix_and_leaves_others(tmp_path):
    m = load_rules(rules_file(tmp_path, ("POSIX", "/mnt/shows", "/net/shows")))
    assert m("/mnt/shows/abc/plate.####.exr") == "/net/shows/abc/plate.####.exr"
    assert m("/mnt/shows") == "/net/shows"
    assert m("/mnt/shows/abc/") == "/net/shows/abc/"           # trailing separator kept
    assert m("/mnt/showsX/abc.exr") == "/mnt/showsX/abc.exr"   # whole components only
    assert m("/MNT/shows/a.exr") == "/MNT/shows/a.exr"         # POSIX is case-sensitive
    assert m("relative/plate.exr") == "relative/plate.exr"
    assert isinstance(m, PathMapper) and len(m) == 1 and bool(m)


def test_longest_prefix_wins_regardless_of_order(tmp_path):
    m = load_rules(rules_file(tmp_path,
                              ("POSIX", "/mnt", "/short"),
                              ("POSIX", "/mnt/shows/abc", "/long"),
                              ("POSIX", "/mnt/shows", "/middle")))
    assert m("/mnt/shows/abc/sh010/plate.exr") == "/long/sh010/plate.exr"
    assert m("/mnt/shows/xyz/plate.exr") == "/middle/xyz/plate.exr"
    assert m("/mnt/other/plate.exr") == "/short/other/plate.exr"
    # equal length: the first in the file wins
    tie = load_rules(rules_file(tmp_path, ("POSIX", "/a/b", "/first"), ("POSIX", "/a/b", "/second"),
                                name="tie.json"))
    assert tie("/a/b/c") == "/first/c"


@pytest.mark.parametrize("source_path", ["Z:\\shows", "z:\\Shows\\", "Z:/shows"])
@pytest.mark.parametrize("given, expected", [
    ("Z:\\shows\\abc\\plate.####.exr", "/mnt/shows/abc/plate.####.exr"),
    ("z:\\SHOWS\\abc\\plate.%04d.exr", "/mnt/shows/abc/plate.%04d.exr"),   # drive and folder case
    ("Z:/shows/abc/matte.exr", "/mnt/shows/abc/matte.exr"),               # forward slashes
    ("Z:\\shows\\abc\\", "/mnt/shows/abc/"),
    ("Z:\\showsX\\abc.exr", "Z:\\showsX\\abc.exr"),                       # not a component match
    ("Y:\\shows\\abc.exr", "Y:\\shows\\abc.exr"),                         # other drive
    ("/mnt/elsewhere/abc.exr", "/mnt/elsewhere/abc.exr"),
])
def test_windows_source_onto_posix_destination(tmp_path, source_path, given, expected):
    m = load_rules(rules_file(tmp_path, ("WINDOWS", source_path, "/mnt/shows")))
    assert m(given) == expected


def test_windows_unc_share(tmp_path):
    m = load_rules(rules_file(tmp_path, ("WINDOWS", "\\\\fileserver\\projects", "/mnt/projects")))
    assert m("\\\\FileServer\\Projects\\abc\\plate.exr") == "/mnt/projects/abc/plate.exr"
    assert m("\\\\other\\projects\\abc\\plate.exr") == "\\\\other\\projects\\abc\\plate.exr"


def test_agrees_with_openjd_sessions_reference(tmp_path):
    """Same answers as openjd-sessions' own rule engine (sorted by component count, first match)."""
    from openjd.sessions import PathFormat, PathMappingRule

    rules = [("POSIX", "/mnt", "/r1"), ("POSIX", "/mnt/shows/abc", "/r2"), ("WINDOWS", "Z:\\shows", "/r3"),
             ("WINDOWS", "z:\\shows\\ABC\\sh010", "/r4"), ("WINDOWS", "\\\\srv\\share", "/r5")]
    ours = load_rules(rules_file(tmp_path, *rules))
    ref = sorted((PathMappingRule(
        source_path_format=PathFormat(f),
        source_path=PurePosixPath(s) if f == "POSIX" else PureWindowsPath(s),
        destination_path=PurePosixPath(d)) for f, s, d in rules),
        key=lambda r: -len(r.source_path.parts))

    def reference(p: str) -> str:
        for rule in ref:
            hit, out = rule.apply(path=p)
            if hit:
                return out
        return p

    paths = ["/mnt/a.exr", "/mnt/shows/abc/x/y.exr", "/mnt/shows/abcd/y.exr", "/mnt/shows/abc/",
             "Z:\\shows\\abc\\sh010\\p.exr", "Z:\\Shows\\abc\\sh020\\p.exr", "z:/shows/p.exr",
             "\\\\SRV\\Share\\q\\r.exr", "C:\\shows\\p.exr", "/elsewhere/p.exr", "Z:\\shows\\"]
    for p in paths:
        assert ours(p) == reference(p), p


def test_empty_document_is_identity(tmp_path):
    """OpenJD writes {} to Session.PathMappingRulesFile when a session has no rules."""
    (tmp_path / "none.json").write_text("{}")
    m = load_rules(tmp_path / "none.json")
    assert not m and m("Z:\\shows\\a.exr") == "Z:\\shows\\a.exr"
    empty = rules_from_dict({"version": "pathmapping-1.0", "path_mapping_rules": []})
    assert not empty and empty("/mnt/a") == "/mnt/a"


@pytest.mark.parametrize("content, message", [
    ("", "not valid JSON"),
    ("{\"version\": \"pathmapping-1.0\", ", "not valid JSON"),
    ("[]", "expected a JSON object"),
    ('{"version": "pathmapping-2.0", "path_mapping_rules": []}', "'version' must be 'pathmapping-1.0'"),
    ('{"path_mapping_rules": []}', "'version' must be"),
    ('{"version": "pathmapping-1.0", "rules": []}', "unknown key 'rules'"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": {}}', "must be a list"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": ["/a"]}', "path_mapping_rules[0] must be an object"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "POSIX", '
     '"source_path": "/a"}]}', "missing 'destination_path'"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "MAC", '
     '"source_path": "/a", "destination_path": "/b"}]}', "must be POSIX or WINDOWS"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "POSIX", '
     '"source_path": "", "destination_path": "/b"}]}', "non-empty string"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "POSIX", '
     '"source_path": "mnt/a", "destination_path": "/b"}]}', "must be an absolute POSIX path"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "WINDOWS", '
     '"source_path": "shows\\\\a", "destination_path": "/b"}]}', "must be an absolute WINDOWS path"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "URI", '
     '"source_path": "s3://bucket/a", "destination_path": "/b"}]}', "URI source paths"),
    ('{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "POSIX", '
     '"source_path": "/a", "destination_path": "/b", "extra": 1}]}', "unknown key 'extra'"),
])
def test_malformed_file_raises_config_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)          # the message names the file
    assert err.value.exit_code == 2


def test_missing_file_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="rules file not found"):
        load_rules(tmp_path / "nope.json")


def test_mapper_plugs_into_load_shot(tmp_path):
    m = load_rules(rules_file(tmp_path, ("WINDOWS", "Z:\\proj", str(tmp_path / "proj"))))
    shot = tmp_path / "shot.yaml"
    shot.write_text("source: Z:\\proj\\plate\\plate.####.exr\n"
                    "mask: {path: 'z:/PROJ/matte/matte.####.exr'}\n"
                    "frames: 1001-1006\n"
                    "output: Z:\\proj\\out\\inpaint.####.exr\n"
                    "work_dir: relative/work\n")
    cfg = load_shot(shot, path_mapping=m)
    assert cfg.source == str(tmp_path / "proj/plate/plate.####.exr")
    assert cfg.mask.path == str(tmp_path / "proj/matte/matte.####.exr")
    assert cfg.output == str(tmp_path / "proj/out/inpaint.####.exr")
    assert cfg.work_dir == str(tmp_path / "relative/work")        # unmapped, resolved beside the shot


def test_reads_the_file_openjd_writes(tmp_path):
    """Real `openjd run`: copy {{Session.PathMappingRulesFile}} out of a session and load it."""
    template = tmp_path / "dump.yaml"
    template.write_text(
        "specificationVersion: jobtemplate-2023-09\n"
        "name: dump-rules\n"
        "parameterDefinitions:\n"
        "  - {name: Out, type: STRING}\n"
        "steps:\n"
        "  - name: Dump\n"
        "    script:\n"
        "      actions:\n"
        "        onRun: {command: cp, args: ['{{Session.PathMappingRulesFile}}', '{{Param.Out}}']}\n")
    rules = {"version": "pathmapping-1.0", "path_mapping_rules": [
        {"source_path_format": "WINDOWS", "source_path": "Z:\\shows", "destination_path": "/mnt/shows"},
        {"source_path_format": "POSIX", "source_path": "/Volumes/shows/abc", "destination_path": "/mnt/abc"}]}
    with_rules, without = tmp_path / "with.json", tmp_path / "without.json"
    for out, extra in ((with_rules, ["--path-mapping-rules", json.dumps(rules)]), (without, [])):
        proc = run([tool("openjd"), "run", str(template), "-p", f"Out={out}", *extra], env=tool_env())
        assert proc.returncode == 0, proc.stdout + proc.stderr
    written = json.loads(with_rules.read_text())
    assert written["version"] == "pathmapping-1.0"
    m = load_rules(with_rules)
    assert len(m) == 2
    assert m("z:\\Shows\\abc\\plate.####.exr") == "/mnt/shows/abc/plate.####.exr"
    assert m("/Volumes/shows/abc/sh010/matte.exr") == "/mnt/abc/sh010/matte.exr"
    assert json.loads(without.read_text()) == {}
    assert not load_rules(without)
