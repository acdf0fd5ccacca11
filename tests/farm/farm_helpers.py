"""Shared helpers for the farm tests (a plain module, not a conftest, so its name stays unique)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FARM = REPO / "examples" / "farm"
TEMPLATE = FARM / "inpaint_job.yaml"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """A console script from this interpreter's venv (falls back to PATH)."""
    found = VENV_BIN / name
    if found.exists():
        return str(found)
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"'{name}' is not installed: pip install the dev extras (openjd-cli, opencue-pyoutline)")
    return path


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: the venv's bin first on PATH, one CPU thread."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def run(args: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def load_example(name: str):
    """Import examples/farm/<name>.py (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"farm_example_{name}", FARM / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
