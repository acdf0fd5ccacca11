"""Shared fixtures for the renderer tests (helpers live in renderer_helpers.py)."""

from __future__ import annotations

import pytest
import torch

from renderer_helpers import make_shot


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The test machine is small and shared: one intra-op thread is fastest and steadiest."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def tiny_shot(tmp_path):
    """A 6-frame 64x64 half-float shot (see renderer_helpers.make_shot)."""
    return make_shot(tmp_path / "shot")
