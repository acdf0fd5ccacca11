#!/usr/bin/env bash
# The GPU measurements of benchmarks/gpu/README.md in one device session (about 10 minutes
# on one H100/H200). Needs the clips in .gpu/clips and, where the image lacks them, wheels
# of fileseq, pyzmq and OpenImageIO in .whl (see benchmarks/gpu/README.md). Each part is
# packed into $OUT as soon as it ends, so a part cut off by its time limit loses only itself.
set -u
OUT=${OUT:-out/gpu}
WORK=/tmp/gpu-work
mkdir -p "$OUT" "$WORK"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD || exit 1
fi
export PYTHONUNBUFFERED=1
C=.gpu/clips
py=python3
stamp() { echo "== $(date +%T) $*"; }
PARTS=" ${*:-bench dev 100 h2d compile} "  # a command is limited to 10 minutes: e.g. "run.sh dev", then "run.sh bench 100 h2d compile"
want() { [[ "$PARTS" == *" $1 "* ]]; }
pack() { tar -czf "$OUT/$1.tar.gz" -C "$WORK" --exclude='*.exr' "$1" 2>/dev/null; }
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
  $py -c "import torch, cv2, os; print('torch', torch.__version__, 'cv2', cv2.__version__, torch.cuda.get_device_name(), 'cpus', os.cpu_count())"
} 2>&1 | tee "$WORK/env.txt"

if want bench; then
stamp bench
timeout 120 $py -m renderer bench --device cuda --preset paper --size 192x384 --frames 24 --batch 5 --batches 5 \
  --scale-frames 24 --scale-sizes 96x192 --steps 30 --warmup 5 --out "$WORK/bench" 2>&1 | tail -14
pack bench
fi

if want dev; then
stamp dev shots: paper at 4000 steps
timeout 360 $py -m renderer evaluate --shot $C/bikes.mp4@2:blob --shot $C/cityCC0.mpg@40:logo \
  --shot $C/bikes.mp4@2:logo --shot $C/cityCC0.mpg@40:blob --frames 24 --size 96x192 \
  --methods paper --steps paper=4000 --snapshot-every 1000 --device cuda \
  --out "$WORK/eval-dev" --quiet 2>&1 | tail -8
pack eval-dev
fi

if want 100; then
stamp 100 frames at 384x192
timeout 300 $py -m renderer evaluate --shot $C/bikes.mp4@2:blob --frames 100 --size 192x384 \
  --methods telea,flowprop,standard,paper --steps paper=3000 --snapshot-every 1000 --device cuda \
  --out "$WORK/eval-100" --quiet 2>&1 | tail -10
pack eval-100
fi

if want h2d; then
stamp h2d
timeout 30 $py benchmarks/gpu/h2d_probe.py 5 2>&1 | tee "$WORK/h2d.txt" | tail -10
fi

if want compile; then
stamp torch.compile
timeout 60 $py -m renderer bench --device cuda --preset paper --size 192x384 --frames 24 --batch 5 --batches 5 \
  --scale-frames 24 --scale-sizes 192x384 --no-precision --compile --steps 30 --warmup 5 \
  --out "$WORK/bench-compile" 2>&1 | tail -6
pack bench-compile
fi

cp "$WORK/env.txt" "$WORK/h2d.txt" "$OUT/" 2>/dev/null
ls -la "$OUT"
