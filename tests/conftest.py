"""The helper modules shared across test folders (``renderer_helpers``, ``standard_kit``,
``eval_helpers``) are importable from every test."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in ("renderer", "evaluate"):
    sys.path.insert(0, str(HERE / folder))
