"""The bridge: hosts talk to the renderer over ZeroMQ (no torch here).

    from bridge import Client
    with Client("tcp://127.0.0.1:5555") as client:
        job = client.submit(shot, mode="stream", overrides={"steps": 20})
        outcome = job.wait(on_event=print)

The wire protocol is described in ``docs/protocol.md`` (generated from
``bridge.messages`` by ``bridge.docs``). Its version, ``PROTOCOL_VERSION``,
is separate from the package version.
"""

import importlib

# names are loaded from their modules when first used, so that importing a light part
# (``bridge.sequence``, ``bridge.errors``) does not load ZeroMQ into a host at start-up
_HOME = {
    "Client": "client", "Job": "job", "JobOutcome": "events", "CurveClient": "keys", "MESSAGES": "messages",
    "PROTOCOL_VERSION": "messages", "Limits": "wire", "Pixels": "wire",
}
__all__ = [
    "Client", "Job", "JobOutcome", "CurveClient", "events", "MESSAGES", "PROTOCOL_VERSION", "Limits", "Pixels",
    "BridgeError", "ServerUnreachable", "VersionMismatch", "ProtocolError", "MalformedMessage",
    "UnknownMessageType", "MissingField", "UnknownField", "WrongFieldType", "BufferMismatch", "OutOfOrder",
    "HelloRequired",
    "LimitExceeded", "PathRefused", "UnknownJob", "BadShot", "JobFailed", "JobCancelled", "Timeout",
    "KeyFileError", "ImageError", "ServerError",
]


def __getattr__(name: str):
    if name == "events":
        return importlib.import_module(".events", __name__)
    if name in __all__:
        module = importlib.import_module("." + _HOME.get(name, "errors"), __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")
