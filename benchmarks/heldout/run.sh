#!/usr/bin/env bash
# The sixteen held-out-style drone shots (16 frames at 160x96, the table in
# benchmarks/README.md) and two static-camera thumbnails with people, each rendered with
# default settings and scored against per-frame Telea and temporal-nearest.
#
#   benchmarks/heldout/run.sh CLIPS_DIR OUT_DIR
#
# CLIPS_DIR holds bikes.mp4 and cityCC0.mpg. Prints a Markdown table (score.py's rows).
set -euo pipefail
clips=${1:?CLIPS_DIR}
out=${2:?OUT_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
py="$here/.venv/bin/python"
mkdir -p "$out"
shots=()
while read -r name clip start seed; do
  "$py" "$here/benchmarks/heldout/make_shot.py" "$clips/$clip" "$start" "$out/$name" "$seed"
  shots+=("$out/$name")
done <<'LIST'
b1 bikes.mp4 10 1
b2 bikes.mp4 100 2
b3 bikes.mp4 200 3
b4 bikes.mp4 40 11
b5 bikes.mp4 130 13
b6 bikes.mp4 170 15
b7 bikes.mp4 225 17
b8 bikes.mp4 70 19
c1 cityCC0.mpg 20 4
c2 cityCC0.mpg 90 5
c3 cityCC0.mpg 160 6
c4 cityCC0.mpg 5 12
c5 cityCC0.mpg 60 14
c6 cityCC0.mpg 120 16
c7 cityCC0.mpg 170 18
c8 cityCC0.mpg 140 20
LIST
# static camera with people: bikes' own (tuned on) and bikes' over the city, with grain (measured only)
"$py" "$here/benchmarks/production/make_shot.py" "$clips/bikes.mp4" 140 16 160x96 people "$out/s1"
"$py" "$here/benchmarks/production/make_shot.py" "$clips/cityCC0.mpg" 120 16 160x96 people "$out/s2" \
  --people-from "$clips/bikes.mp4@150" --grain 0.01
shots+=("$out/s1" "$out/s2")
for shot in "${shots[@]}"; do
  "$here/.venv/bin/renderer" render --fresh "$shot/shot.yaml" > "$shot/render.log" 2>&1
done
"$py" "$here/benchmarks/production/score.py" "${shots[@]}"
