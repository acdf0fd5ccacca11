"""Fixtures for the server tests: an in-process server on a loopback port with a
fake job function (fast protocol tests), and the real one where a test needs it."""

from __future__ import annotations

import contextlib

import pytest

from renderer.serve import ServerConfig, running
from serve_kit import FakeRunner


@pytest.fixture
def start_server(tmp_path):
    """start_server(runner=FakeRunner(), **ServerConfig fields) -> a running Server."""
    stack = contextlib.ExitStack()

    def start(runner=None, **overrides):
        overrides.setdefault("spool", tmp_path / "spool")
        overrides.setdefault("bind", "tcp://127.0.0.1:*")
        overrides.setdefault("devices", ("cpu",))
        return stack.enter_context(running(ServerConfig(**overrides), runner=runner or FakeRunner()))

    with stack:
        yield start


@pytest.fixture
def fake():
    return FakeRunner()
