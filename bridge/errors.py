"""Errors raised by the bridge.

One root, ``BridgeError``. Each subclass names one cause and carries a short
``code`` that travels in ``error`` messages, so the same class is raised on the
client for an error the server reported. Messages say what to do.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""

    code = "bridge_error"

    def __init__(self, message: str, *, msg_id: str | None = None, job_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.msg_id = msg_id  # the message this error is about, when known
        self.job_id = job_id


class ServerUnreachable(BridgeError):
    """No reply from the server within the timeout (down, wrong address, or CURVE refused)."""

    code = "unreachable"


class VersionMismatch(BridgeError):
    """The two sides speak protocol versions with different major numbers."""

    code = "version_mismatch"


class ProtocolError(BridgeError):
    """A message does not follow the protocol."""

    code = "protocol_error"


class MalformedMessage(ProtocolError):
    """Not a bridge message: wrong frame count, not msgpack, or not a map."""

    code = "malformed"


class UnknownMessageType(ProtocolError):
    """``msg_type`` is not in the message table (or goes the wrong direction)."""

    code = "unknown_type"


class MissingField(ProtocolError):
    """A required header or body field is absent."""

    code = "missing_field"


class UnknownField(ProtocolError):
    """A field this protocol version does not define."""

    code = "unknown_field"


class WrongFieldType(ProtocolError):
    """A field has the wrong type or an impossible value."""

    code = "wrong_type"


class BufferMismatch(ProtocolError):
    """A pixel frame does not match its descriptor (length, dtype, shape, channels)."""

    code = "buffer_mismatch"


class OutOfOrder(ProtocolError):
    """A message that is not valid in the current state (e.g. before hello)."""

    code = "out_of_order"


class HelloRequired(OutOfOrder):
    """The server does not know this connection (new, or the server restarted): say hello."""

    code = "hello_required"


class LimitExceeded(BridgeError):
    """A frame, frame count, message or queue is over the server's limits."""

    code = "limit_exceeded"


class PathRefused(BridgeError):
    """A shared-mode path lies outside the server's shared roots."""

    code = "path_refused"


class UnknownJob(BridgeError):
    """No job with that id (never existed, expired, or not yours)."""

    code = "unknown_job"


class BadShot(BridgeError):
    """The shot settings were refused by the renderer's validation."""

    code = "bad_shot"


class JobFailed(BridgeError):
    """The render failed on the server."""

    code = "job_failed"


class JobCancelled(BridgeError):
    """The job was cancelled."""

    code = "cancelled"


class Timeout(BridgeError):
    """A wait ran past the deadline the caller gave (the server is still alive)."""

    code = "timeout"


class KeyFileError(BridgeError):
    """A CURVE key file is missing, malformed or readable by others."""

    code = "bad_key"


class ImageError(BridgeError):
    """A local EXR cannot be read or written."""

    code = "image_error"


class ServerError(BridgeError):
    """An unexpected error inside the server; it was logged and the server goes on."""

    code = "internal"


#: code -> class, used to raise the right class for an ``error`` message.
ERROR_CLASSES: dict[str, type[BridgeError]] = {
    cls.code: cls
    for cls in (BridgeError, ServerUnreachable, VersionMismatch, ProtocolError, MalformedMessage,
                UnknownMessageType, MissingField, UnknownField, WrongFieldType, BufferMismatch, OutOfOrder,
                HelloRequired, LimitExceeded, PathRefused, UnknownJob, BadShot, JobFailed, JobCancelled, Timeout,
                KeyFileError, ImageError, ServerError)
}


def error_for_code(code: str, message: str, **kw) -> BridgeError:
    """The exception for an ``error`` message's ``code`` (``BridgeError`` if unknown)."""
    return ERROR_CLASSES.get(code, BridgeError)(message, **kw)
