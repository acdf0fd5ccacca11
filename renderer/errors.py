"""Errors raised by the renderer.

One root, ``RendererError``; each subclass names a cause, and each message says
what the user should do about it. The CLI maps every ``RendererError`` to one
line on stderr and a non-zero exit code (``exit_code``).
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback


class RendererError(Exception):
    """Root of every error the renderer raises on purpose."""

    exit_code = 1


class ConfigError(RendererError):
    """shot.yaml (or an override) is malformed: a bad key, type or value."""

    exit_code = 2


class InputError(RendererError):
    """A plate or matte is missing, unreadable, or does not match the shot."""

    exit_code = 3


class MatteError(InputError):
    """The matte cannot be used: missing channel, or empty on every frame."""


class OutputError(RendererError):
    """The output cannot be written safely (for example it would overwrite a source)."""

    exit_code = 4


class CheckpointError(RendererError):
    """A checkpoint cannot be used (corrupt, or made for another shot)."""

    exit_code = 5


class ShapeError(RendererError):
    """A tensor handed to a pure function has the wrong shape or dtype."""


class DeviceError(RendererError):
    """The requested device is not available."""

    exit_code = 6


class ResourceError(RendererError):
    """The machine lacks what the shot needs (memory); the message says how much."""

    exit_code = 7


class Cancelled(RendererError):
    """The job was cancelled by its caller; checkpoints up to now are kept."""

    exit_code = 130


class InternalError(RendererError):
    """A bug: something failed that no check foresaw. The message names the log file that
    holds the traceback, to attach to a bug report."""

    exit_code = 1

    @classmethod
    def from_exception(cls, exc: BaseException) -> "InternalError":
        """Write ``exc``'s traceback to a crash log; the error names the log."""
        folder = os.environ.get("RENDERER_LOG_DIR") or os.path.join(tempfile.gettempdir(), "internal-inpaint")
        path = os.path.join(folder, f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log")
        try:
            os.makedirs(folder, exist_ok=True)
            with open(path, "w") as log:
                log.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            where = f"the traceback is in {path}"
        except OSError:
            where = "the traceback could not be written to a log"
        text = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        return cls(f"internal error: {text}; {where}; please report it with that file")
