"""The node's settings: one schema that both hosts turn into knobs or properties.

``KNOBS`` lists every setting with its label, kind, default and tooltip, in the
order the artist sees them. ``NodeSettings.from_values`` checks a mapping of
knob values once, here, and raises ``SettingsError`` naming the knob to fix.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

from bridge.sequence import parse_frames

from .errors import SettingsError

DEFAULT_SERVER = "tcp://127.0.0.1:5555"
# The renderer's presets (renderer/presets.py); a test keeps the two lists equal.
PRESETS = ("standard", "preview", "paper", "dip-vid", "dip-frame")
FRAME_RANGE_MODES = ("input", "custom")
DATATYPES = ("half", "float")
TRANSFER_MODES = ("stream", "shared")
GRAIN_MODES = ("match", "off")  # the renderer's (renderer/io/config.py GRAIN_MODES); a test keeps them equal


@dataclass(frozen=True)
class Knob:
    """One setting as a host shows it. ``kind``: string, file, int, enum, bool."""

    name: str
    label: str
    kind: str
    default: Any
    tooltip: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None


KNOBS: tuple[Knob, ...] = (
    Knob("server", "Server", "string", DEFAULT_SERVER,
         "Address of the renderer, as printed by `renderer serve` (tcp://host:port)."),
    Knob("frame_range", "Frame range", "enum", "input",
         "input: every frame of the Source input; custom: First to Last below.", FRAME_RANGE_MODES),
    Knob("first", "First", "int", 1001, "First frame when Frame range is custom."),
    Knob("last", "Last", "int", 1100, "Last frame when Frame range is custom."),
    Knob("matte_channel", "Matte channel", "string", "A",
         "Channel of the Matte input that marks the hole (white = fill): A, R, rgba.alpha, mask.a ..."),
    Knob("expand", "Expand", "int", 0, "Grow the hole by this many pixels before filling.", minimum=0),
    Knob("feather", "Feather", "int", 0,
         "Soften the edge where the fill meets the plate, in pixels (0 = hard edge).", minimum=0),
    Knob("reference_frames", "Reference frames", "string", "",
         "Frames of the Reference input to use, e.g. 1012 1030: clean frames you painted (the whole frame, "
         "at the plate's size). Their painting fills the hole there and is carried along the shot. "
         "Empty: no reference."),
    Knob("preset", "Preset", "enum", "standard",
         "Quality preset: preview (fast look), standard, paper (the published recipe), "
         "dip-vid / dip-frame (ablations).", PRESETS),
    Knob("steps", "Steps", "int", 0, "Training steps; 0 uses the preset's count. More steps, cleaner fill.",
         minimum=0),
    Knob("grain", "Grain", "enum", "match",
         "match: the fill gets grain like the plate's; off: a clean fill (to add grain yourself).", GRAIN_MODES),
    Knob("output", "Output", "file", "",
         "Where the result is written, with #### for the frame number. Empty: beside the plate, "
         "in inpaint/<plate>_inpaint.####.exr."),
    Knob("datatype", "Datatype", "enum", "half", "EXR pixel type of the result: half or float.", DATATYPES),
    Knob("source_map", "Source map", "bool", False,
         "Also bring back a map of where each filled pixel came from: red carried from another frame, green "
         "synthesised, blue from a reference, alpha the confidence."),
    Knob("transfer", "Transfer", "enum", "stream",
         "stream: frames travel over the connection (renderer on another machine); "
         "shared: the renderer reads and writes the files itself (shared storage).", TRANSFER_MODES),
)
KNOB_NAMES = tuple(k.name for k in KNOBS)


@dataclass(frozen=True)
class NodeSettings:
    """Checked knob values. Build with ``from_values``; defaults come from ``KNOBS``."""

    server: str = DEFAULT_SERVER
    frame_range: str = "input"
    first: int = 1001
    last: int = 1100
    matte_channel: str = "A"
    expand: int = 0
    feather: int = 0
    reference_frames: str = ""
    preset: str = "standard"
    steps: int = 0
    grain: str = "match"
    output: str = ""
    datatype: str = "half"
    source_map: bool = False
    transfer: str = "stream"

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "NodeSettings":
        """Check ``values`` (knob name -> value; missing names take the default)."""
        unknown = sorted(set(values) - set(KNOB_NAMES))
        if unknown:
            raise SettingsError(f"unknown setting '{unknown[0]}'; known: {', '.join(KNOB_NAMES)}")
        merged = {k.name: values.get(k.name, k.default) for k in KNOBS}
        for knob in KNOBS:
            merged[knob.name] = _check(knob, merged[knob.name])
        if not merged["server"].startswith(("tcp://", "ipc://", "inproc://")):
            raise SettingsError(f"Server '{merged['server']}' is not an address: write it as tcp://host:port "
                                f"(for example {DEFAULT_SERVER})")
        if merged["frame_range"] == "custom" and merged["first"] > merged["last"]:
            raise SettingsError(f"First ({merged['first']}) is after Last ({merged['last']}): swap them")
        settings = cls(**merged)
        settings.references()  # checked now, so a typo is named before anything runs
        return settings

    def references(self) -> tuple[int, ...]:
        """The Reference frames knob as frame numbers ("1012 1030", "1012,1030" or "1012-1014")."""
        text = ",".join(p for p in re.split(r"[\s,]+", self.reference_frames) if p)
        if not text:
            return ()
        try:
            return tuple(parse_frames(text, limit=10_000))
        except ValueError:
            raise SettingsError(f"Reference frames '{self.reference_frames}' is not a list of frame numbers: "
                                "write the frames you painted, e.g. 1012 1030") from None

    def values(self) -> dict[str, Any]:
        """Knob name -> value (for hosts and logs)."""
        return dataclasses.asdict(self)

    def frames(self, input_first: int, input_last: int) -> tuple[int, ...]:
        """The frames to fill: the input's range, or the custom one inside it."""
        if self.frame_range == "input":
            return tuple(range(input_first, input_last + 1))
        if self.first < input_first or self.last > input_last:
            raise SettingsError(f"custom range {self.first}-{self.last} reaches outside the Source input "
                                f"({input_first}-{input_last}): set First and Last inside it")
        return tuple(range(self.first, self.last + 1))


def _check(knob: Knob, value: Any) -> Any:
    if knob.kind == "bool":
        if not isinstance(value, (bool, int)) or value not in (0, 1):  # Nuke and Blender give bool; 0/1 from scripts
            raise SettingsError(f"{knob.label} must be on or off, got {value!r}")
        return bool(value)
    if knob.kind == "int":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{knob.label} must be a whole number, got {value!r}")
        if knob.minimum is not None and value < knob.minimum:
            raise SettingsError(f"{knob.label} must be {knob.minimum} or more, got {value}")
        return value
    if not isinstance(value, str):
        raise SettingsError(f"{knob.label} must be text, got {value!r}")
    value = value.strip()
    if knob.kind == "enum" and value not in knob.choices:
        raise SettingsError(f"{knob.label} must be one of {', '.join(knob.choices)}, got '{value}'")
    if knob.name in ("server", "matte_channel") and not value:
        raise SettingsError(f"{knob.label} is empty: {knob.tooltip}")
    return value
