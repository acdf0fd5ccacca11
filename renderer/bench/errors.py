"""Errors of ``renderer bench`` (an ``EvaluationError``, so a ``RendererError``)."""

from __future__ import annotations

from renderer.evaluate.errors import EvaluationError


class BenchError(EvaluationError):
    """A benchmark setting is invalid, or the device cannot run it."""
