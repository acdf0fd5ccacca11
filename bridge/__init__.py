"""The bridge: hosts talk to the renderer over ZeroMQ (no torch here).

    from bridge import Client
    with Client("tcp://127.0.0.1:5555") as client:
        job = client.submit(shot, mode="stream", overrides={"steps": 20})
        outcome = job.wait(on_event=print)

The wire protocol is described in ``docs/protocol.md`` (generated from
``bridge.messages`` by ``bridge.docs``). Its version, ``PROTOCOL_VERSION``,
is separate from the package version.
"""

from . import events
from .client import Client
from .errors import (BadShot, BridgeError, BufferMismatch, HelloRequired, ImageError, JobCancelled, JobFailed,
                     KeyFileError, LimitExceeded, MalformedMessage, MissingField, OutOfOrder, PathRefused,
                     ProtocolError, ServerError, ServerUnreachable, Timeout, UnknownField, UnknownJob,
                     UnknownMessageType, VersionMismatch, WrongFieldType)
from .events import JobOutcome
from .job import Job
from .keys import CurveClient
from .messages import MESSAGES, PROTOCOL_VERSION
from .wire import Limits, Pixels

__all__ = [
    "Client", "Job", "JobOutcome", "CurveClient", "events", "MESSAGES", "PROTOCOL_VERSION", "Limits", "Pixels",
    "BridgeError", "ServerUnreachable", "VersionMismatch", "ProtocolError", "MalformedMessage",
    "UnknownMessageType", "MissingField", "UnknownField", "WrongFieldType", "BufferMismatch", "OutOfOrder",
    "HelloRequired",
    "LimitExceeded", "PathRefused", "UnknownJob", "BadShot", "JobFailed", "JobCancelled", "Timeout",
    "KeyFileError", "ImageError", "ServerError",
]
