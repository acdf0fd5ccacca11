"""docs/plugin.md (the artists' page) stays in step with the knob table and ships its picture."""

from __future__ import annotations

import re
from pathlib import Path

from plugin.core.settings import KNOBS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_knob_is_documented_with_its_default():
    text = (DOCS / "plugin.md").read_text()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| (.+?) \| (.+?) \|", text, re.MULTILINE)}
    for knob in KNOBS:
        assert knob.label in rows, f"docs/plugin.md has no row for the {knob.label} knob"
        shown = rows[knob.label].strip("`")
        if isinstance(knob.default, bool):
            default = "on" if knob.default else "off"
        else:
            default = str(knob.default) if knob.default != "" else "empty"
        assert shown == default, knob.label


def test_before_after_picture_is_a_png_linked_from_the_page():
    picture = DOCS / "blender_before_after.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](blender_before_after.png)" in (DOCS / "plugin.md").read_text()
