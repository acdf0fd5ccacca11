"""Host-agnostic core of the inpaint node: settings, job runner, result placement.

Imports neither ``nuke`` nor ``bpy``, and never torch: the renderer is reached only
through ``bridge`` (imported when a job runs, not here).
"""

from .errors import (BadMatte, BadPlate, BadReference, BridgeUnavailable, JobCancelled, PluginError, RenderFailed,
                     ResultNotLoaded, ServerUnreachable, SettingsError, VersionMismatch)
from .job import JobListener, JobResult, JobRunner, MainThreadQueue, ProgressInfo, call_now
from .placement import (RAW, ResultSpec, default_output, output_pattern, result_position, result_spec,
                        source_map_pattern, source_map_spec)
from .references import check_reference_files, reference_frames
from .request import JobRequest, build_request
from .sequences import exr_channel, frame_path, pattern_from_file, to_hash
from .settings import KNOBS, PRESETS, Knob, NodeSettings

__all__ = [
    "PluginError", "SettingsError", "BadPlate", "BadMatte", "BadReference", "BridgeUnavailable", "ServerUnreachable",
    "VersionMismatch", "RenderFailed", "ResultNotLoaded", "JobCancelled",
    "JobListener", "JobRequest", "JobResult", "JobRunner", "MainThreadQueue", "ProgressInfo", "build_request",
    "call_now", "RAW", "ResultSpec", "default_output", "output_pattern", "result_position", "result_spec",
    "source_map_pattern", "source_map_spec", "check_reference_files", "reference_frames",
    "exr_channel", "frame_path", "pattern_from_file", "to_hash", "KNOBS", "PRESETS", "Knob", "NodeSettings",
]
