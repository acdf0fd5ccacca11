#!/usr/bin/env bash
# Development shots of each kind at the clips' own size, 48 frames, and every method on them:
#   revealed background (moving camera, moving object), never revealed (a fixed box on a
#   locked-off stretch), static camera with moving people-shaped holes (one clean, one with
#   grain).
#
#   benchmarks/kinds/run.sh CLIPS_DIR OUT_DIR
#
# CLIPS_DIR holds bikes.mp4 (640x272) and cityCC0.mpg (720x405). Tuned on: bikes@140 logo,
# bikes@140 people. Measured only: the others. Each shot's report is OUT_DIR/<name>/report.md.
set -euo pipefail
clips=${1:?CLIPS_DIR}
out=${2:?OUT_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
py="$here/.venv/bin/python"
renderer="$here/.venv/bin/renderer"
methods=telea,flowprop,propagation,temporal-nearest,patchmatch,standard
mkdir -p "$out"

evaluate() {  # name size shot
  "$renderer" evaluate --shot "$3" --methods "$methods" --frames 48 --size "$2" --out "$out/$1"
}

# never revealed: bikes from frame 140 is near-still (median flow 0.2-0.3 px/frame)
evaluate bikes_logo_still 272x640 "$clips/bikes.mp4@140:logo"
evaluate city_logo 405x720 "$clips/cityCC0.mpg@120:logo"
# revealed: a moving camera and a moving object
evaluate bikes_blob 272x640 "$clips/bikes.mp4@0:blob"
# static camera, people: silhouettes from another stretch laid over the still stretch
"$py" "$here/benchmarks/production/make_shot.py" "$clips/bikes.mp4" 140 48 640x272 people "$out/people_shot"
evaluate bikes_people_still 272x640 "$out/people_shot/truth/p.####.exr:$out/people_shot/roto/m.####.exr"
# static camera with grain, measured only: bikes' people over the locked-off city
"$py" "$here/benchmarks/production/make_shot.py" "$clips/cityCC0.mpg" 120 48 720x405 people "$out/city_people_shot" \
  --people-from "$clips/bikes.mp4@150" --grain 0.01
evaluate city_people_grain 405x720 "$out/city_people_shot/truth/p.####.exr:$out/city_people_shot/roto/m.####.exr"
