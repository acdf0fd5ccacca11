"""Errors raised by the evaluation harness and the benchmark.

``EvaluationError`` is a ``RendererError``, so the ``renderer`` CLI maps each one
to a single line on stderr and a non-zero exit code.
"""

from __future__ import annotations

from renderer.errors import RendererError


class EvaluationError(RendererError):
    """Root of the evaluation harness's own errors."""

    exit_code = 7


class MetricInputError(EvaluationError):
    """A metric was handed arrays of the wrong shape, dtype or range."""


class ClipError(EvaluationError):
    """A clip cannot be read, or has too few frames for the requested shot."""


class MatteSpecError(EvaluationError):
    """A matte kind is unknown, or a matte sequence does not match its clip."""


class MethodError(EvaluationError):
    """A method name is unknown, a method was handed frames or holes of the wrong shape or
    type, or it returned frames that break the contract."""
