"""Scale-out tests: long-shot windows, chunked farm renders, data-parallel training."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "renderer"))  # renderer_helpers
