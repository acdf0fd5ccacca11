"""``renderer serve``: remote rendering over the bridge protocol (see docs/protocol.md).

    from renderer.serve import Server, ServerConfig
    Server(ServerConfig(spool="/var/spool/inpaint")).serve_forever()

Importing this package does not import torch; the default job function
(``renderer.api.render``) is loaded when the first job runs.
"""

from .config import DEFAULT_BIND, ServerConfig, is_loopback
from .server import Server, running

__all__ = ["Server", "ServerConfig", "running", "DEFAULT_BIND", "is_loopback"]
