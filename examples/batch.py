"""Render every shot.yaml under a folder, keep going past failures, end with a summary.

    .venv/bin/python examples/batch.py SHOTS_FOLDER [--steps N] [--preset NAME]

This is the TD's view of the API: the same calls `renderer render` makes.
Exit status: 0 when every shot rendered, 1 when any failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from renderer import api


def render_all(folder: Path, *, steps: int | None = None, preset: str | None = None,
               log=print) -> list[tuple[Path, str, str]]:
    """Render each shot.yaml under ``folder``; returns (shot file, "ok"/"failed", detail) per shot."""
    results = []
    shots = sorted(folder.rglob("shot.yaml"))
    if not shots:
        log(f"no shot.yaml under {folder}")
    for k, shot_file in enumerate(shots, 1):
        log(f"[{k}/{len(shots)}] {shot_file}")
        started = time.monotonic()
        try:
            shot = api.load_shot(shot_file)
            api.validate(shot)
            result = api.render(shot, steps=steps, preset=preset)
        except api.RendererError as exc:  # a bad shot must not stop the batch
            results.append((shot_file, "failed", f"{type(exc).__name__}: {exc}"))
            log(f"    failed: {exc}")
            continue
        detail = f"{len(result.frames_written)} frames in {time.monotonic() - started:.0f}s"
        results.append((shot_file, "ok", detail))
        log(f"    ok: {detail}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--preset", default=None)
    args = parser.parse_args()
    results = render_all(args.folder, steps=args.steps, preset=args.preset)
    ok = [r for r in results if r[1] == "ok"]
    failed = [r for r in results if r[1] != "ok"]
    print(f"\nsummary: {len(ok)} succeeded, {len(failed)} failed")
    for shot_file, _, detail in ok:
        print(f"  ok      {shot_file}: {detail}")
    for shot_file, _, detail in failed:
        print(f"  FAILED  {shot_file}: {detail}")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
