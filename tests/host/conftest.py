"""Fixtures for the Blender tests: a real `renderer serve` and the host venv's Python."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOST_PYTHON = REPO / ".venv-host" / "bin" / "python"


def _load_helper():
    spec = importlib.util.spec_from_file_location("plugin_serve_helper", REPO / "tests" / "plugin" / "serve_helper.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shots():
    """tests/plugin/serve_helper.py: the server launcher and the tiny-shot writer."""
    return _load_helper()


@pytest.fixture(scope="module")
def host_python() -> Path:
    if not HOST_PYTHON.exists():
        pytest.fail(f"{HOST_PYTHON} is missing: run `make host-venv` (make test does it) to install Blender's bpy")
    return HOST_PYTHON


@pytest.fixture(scope="module")
def renderer_server(tmp_path_factory, shots):
    server = shots.Server(tmp_path_factory.mktemp("host_server") / "spool")
    yield server
    server.stop()
