"""docs/protocol.md is generated from the message table; bridge never imports torch."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

from bridge.docs import render_protocol_markdown
from bridge.messages import MESSAGES

REPO = Path(__file__).resolve().parents[2]


def test_protocol_doc_matches_the_message_table():
    committed = (REPO / "docs" / "protocol.md").read_text()
    assert committed == render_protocol_markdown(), (
        "docs/protocol.md is out of date: run `.venv/bin/python -m bridge.docs > docs/protocol.md`")


def test_protocol_doc_names_every_message_and_field():
    text = render_protocol_markdown()
    for msg_type, cls in MESSAGES.items():
        assert f"### `{msg_type}`" in text
        for name in (f.name for f in dataclasses.fields(cls)):
            assert f"| `{name}` |" in text


def test_bridge_and_the_submit_command_are_torch_free():
    code = ("import sys, bridge, bridge.client, bridge.job, bridge.testing, bridge.docs, bridge.keys, "
            "bridge.imageio, plugin.submit, plugin.__main__; "
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=60)
    imports = re.compile(r"^\s*(import|from)\s+(torch|renderer)\b", re.M)
    for path in [*(REPO / "bridge").rglob("*.py"), REPO / "plugin" / "submit.py", REPO / "plugin" / "__main__.py"]:
        assert not imports.search(path.read_text()), f"{path} imports torch or the renderer"
