"""Fixtures for the plugin tests: a real `renderer serve`, tiny shots, and the fake `nuke` module."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(name: str, filename: str):
    spec = importlib.util.spec_from_file_location(name, HERE / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shots():
    """serve_helper.py: the server launcher and the tiny-shot writer."""
    return _load("plugin_serve_helper", "serve_helper.py")


@pytest.fixture(scope="session")
def renderer_server(tmp_path_factory, shots):
    server = shots.Server(tmp_path_factory.mktemp("plugin_server") / "spool")
    yield server
    server.stop()


@pytest.fixture
def nuke(monkeypatch):
    """The fake `nuke` module (Nuke cannot be installed here) as `import nuke` sees it,
    with plugin.nuke re-imported against it."""
    fake = _load("nuke", "fake_nuke.py")
    monkeypatch.setitem(sys.modules, "nuke", fake)
    for name in [m for m in sys.modules if m == "plugin.nuke" or m.startswith("plugin.nuke.")]:
        monkeypatch.delitem(sys.modules, name)
    yield fake
