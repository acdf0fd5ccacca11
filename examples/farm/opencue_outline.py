"""Submit one shot to OpenCue: a ``train`` layer, then a chunked ``render`` layer.

    python examples/farm/opencue_outline.py /shows/abc/sh010/inpaint.yaml \\
        --frames 1001-1016 --chunk 4 --steps 2000            # prints the job spec
    python examples/farm/opencue_outline.py ... --launch      # submits it to the Cuebot

Needs ``opencue-pyoutline`` (and, to launch, a reachable Cuebot: set
``CUEBOT_HOSTS``). Render hosts need the ``renderer`` command on PATH and the
shot's paths visible under the same names (OpenCue has no path mapping of its
own; pass ``--path-mapping rules.json`` to have the renderer rewrite them).
"""

from __future__ import annotations

import argparse
import shlex
import sys

import fileseq
import outline
import outline.cuerun
import outline.depend
from outline.modules.shell import Shell

TRAIN_LAYER = "train"
RENDER_LAYER = "render"


def _frame_range(frames: str) -> str:
    try:
        fs = fileseq.FrameSet(str(frames).replace(" ", ""))
    except fileseq.ParseException:
        raise ValueError(f"bad frame range {frames!r}: write it as FIRST-LAST, e.g. 1001-1016") from None
    if len(fs) == 0:
        raise ValueError(f"frame range {frames!r} is empty")
    return str(fs)


def build_outline(shot_file: str, frames: str, chunk: int, steps: int | None, *,
                  name: str = "inpaint", show: str | None = None, shot: str | None = None,
                  path_mapping: str | None = None, renderer: str = "renderer",
                  train_tags: str | None = None, render_tags: str | None = None) -> outline.Outline:
    """Build (not launch) the outline: render depends layer-on-layer on train.

    ``train`` is one task (the first frame of the range stands for the whole
    training run). ``render`` covers ``frames`` in chunks of ``chunk``; each
    task gets its chunk as ``#FRAME_START#-#FRAME_END#``.
    """
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, got {chunk!r}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    frame_range = _frame_range(frames)
    first = fileseq.FrameSet(frame_range).start()

    extra = ["--path-mapping", path_mapping] if path_mapping else []
    train_cmd = [renderer, "train", shot_file] + (["--steps", str(steps)] if steps else []) + extra
    render_cmd = [renderer, "render", shot_file, "--frames", "#FRAME_START#-#FRAME_END#"] + extra

    kwargs = {k: v for k, v in (("show", show), ("shot", shot)) if v}
    ol = outline.Outline(name, frame_range=frame_range, **kwargs)
    ol.set_env("PYTHONUNBUFFERED", "1", pre=True)

    train = Shell(TRAIN_LAYER, command=[_quote(t) for t in train_cmd], range=str(first), chunk=1,
                  **({"tags": train_tags} if train_tags else {}))
    render = Shell(RENDER_LAYER, command=[_quote(t) for t in render_cmd], range=frame_range, chunk=chunk,
                   **({"tags": render_tags} if render_tags else {}))
    render.depend_on(train, depend_type=outline.depend.DependType.LayerOnLayer)
    ol.add_layer(train)
    ol.add_layer(render)
    return ol


def _quote(token: str) -> str:
    # the Cue runs the layer's command through a shell: quote paths, keep #TOKENS# as they are
    return token if token.startswith("#") and token.endswith("#") and " " not in token else shlex.quote(token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shot_file", help="shot.yaml, as the render hosts see it")
    parser.add_argument("--frames", required=True, help="e.g. 1001-1016")
    parser.add_argument("--chunk", type=int, default=4, help="frames per render task (default 4)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the shot's)")
    parser.add_argument("--name", default="inpaint")
    parser.add_argument("--show", default=None)
    parser.add_argument("--shot", default=None)
    parser.add_argument("--path-mapping", default=None, help="pathmapping-1.0 JSON passed to the renderer")
    parser.add_argument("--train-tags", default=None, help="host tags for the train layer, e.g. gpu")
    parser.add_argument("--render-tags", default=None, help="host tags for the render layer")
    parser.add_argument("--launch", action="store_true", help="submit to the Cuebot (default: print the spec)")
    args = parser.parse_args(argv)
    try:
        ol = build_outline(args.shot_file, args.frames, args.chunk, args.steps, name=args.name,
                           show=args.show, shot=args.shot, path_mapping=args.path_mapping,
                           train_tags=args.train_tags, render_tags=args.render_tags)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    launcher = outline.cuerun.OutlineLauncher(ol)
    if args.launch:
        jobs = launcher.launch(use_pycuerun=False)
        for job in jobs:
            print(f"launched {job.name()}")
    else:
        print(launcher.serialize(use_pycuerun=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
