"""Errors the plugin shows to artists.

One root, ``PluginError``; each subclass names a cause, and each message says
what the artist can do about it. Hosts show ``str(error)`` on the node as is.
"""

from __future__ import annotations


class PluginError(Exception):
    """Root of every error the plugin raises on purpose."""

    title = "Inpaint failed"


class SettingsError(PluginError):
    """A knob holds a value the job cannot use."""

    title = "Check the node's settings"


class BadPlate(PluginError):
    """The Source input is missing, has missing frames, or cannot be read."""

    title = "Check the Source input"


class BadMatte(PluginError):
    """The Matte input is missing, has missing frames, lacks the channel, or is empty."""

    title = "Check the Matte input"


class BadReference(PluginError):
    """The Reference input and the Reference frames knob do not agree, or a reference is unusable."""

    title = "Check the Reference input"


class BridgeUnavailable(PluginError):
    """The host's Python cannot import the bridge (pyzmq/msgpack missing)."""

    title = "Plugin not fully installed"


class ServerUnreachable(PluginError):
    """No renderer answered at the node's server address."""

    title = "Renderer not reachable"


class VersionMismatch(PluginError):
    """The renderer speaks another protocol version than this plugin."""

    title = "Plugin and renderer versions differ"


class RenderFailed(PluginError):
    """The renderer accepted the job but it failed there."""

    title = "Render failed on the renderer"


class ResultNotLoaded(PluginError):
    """The result was rendered but could not be brought back into the host's tree."""

    title = "Result not loaded"


class JobCancelled(PluginError):
    """The artist cancelled the job (not shown as an error)."""

    title = "Cancelled"
