"""The Reference input: which painted frames a job takes, checked before anything is sent.

A reference is a clean frame the artist painted: the whole frame, at the plate's size,
on a frame of the range being rendered. The hosts gather the files (a Read or Image
node's own EXRs, or the input rendered out); the checks and their words live here so
that Nuke and Blender say the same thing.
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping

from .errors import BadReference
from .sequences import describe_frames
from .settings import NodeSettings


# how a host says (no reference given and what to do, a reference given); Nuke's words by default
NUKE_WORDS = ("nothing is connected to the Reference input: connect the clean frame you painted",
              "the Reference input is connected")


def reference_frames(settings: NodeSettings, connected: bool, frames: Iterable[int],
                     words: tuple[str, str] = NUKE_WORDS) -> tuple[int, ...]:
    """The frames to take from the reference (() for none); ``connected``: whether the host's
    reference input holds something. Raises ``BadReference`` saying what to change."""
    wanted = settings.references()
    if wanted and not connected:
        raise BadReference(f"Reference frames is set ({describe_frames(wanted)}) but {words[0]}, or clear "
                           "Reference frames")
    if connected and not wanted:
        raise BadReference(f"{words[1]} but Reference frames is empty: type the frame numbers you painted "
                           "(e.g. 1012), or remove the reference")
    frames = sorted(set(frames))
    outside = [f for f in wanted if f not in frames]
    if outside:
        raise BadReference(f"reference frame {describe_frames(outside)} is outside the frames being rendered "
                           f"({describe_frames(frames)}): paint a frame inside the range, or widen Frame range")
    return wanted


def check_reference_files(references: Mapping[int, str]) -> dict[int, str]:
    """frame -> absolute path of each painted frame, every file on disk."""
    out = {}
    for frame, path in sorted(references.items()):
        path = os.path.abspath(path)
        if not os.path.isfile(path):
            raise BadReference(f"reference frame {frame} is missing (looked for {path}): render or copy the painted "
                               "frame there, or remove the frame from Reference frames")
        out[frame] = path
    return out
