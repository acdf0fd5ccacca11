#!/usr/bin/env bash
# The GPU measurements of benchmarks/gpu/README.md in one device lease (about 10 minutes
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
PARTS=" ${*:-check graphs 100 dev} "  # a command is limited to 10 minutes; the first run called "dev", then "bench 100 h2d compile"
want() { [[ "$PARTS" == *" $1 "* ]]; }
pack() { tar -czf "$OUT/$1.tar.gz" -C "$WORK" --exclude='*.exr' "$1" 2>/dev/null; }
{
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
  $py -c "import torch, cv2, os; print('torch', torch.__version__, 'cv2', cv2.__version__, torch.cuda.get_device_name(), 'cpus', os.cpu_count())"
} 2>&1 | tee "$WORK/env.txt"

if want check; then
stamp check: the CUDA tests, graphs among them
timeout 150 $py -m pytest -q -p no:cacheprovider tests/renderer/test_renderer_graphs.py \
  tests/renderer/test_renderer_api.py tests/standard/test_propagation_on_device.py -k "graph or cuda" 2>&1 \
  | tee "$WORK/check.txt" | tail -15
fi

if want graphs; then
stamp graphs: eager and graphed steps, paper 192x384
timeout 150 $py -m renderer bench --device cuda --preset paper --size 192x384 --frames 24 --batch 5 --batches 5 \
  --scale-frames 24 --scale-sizes 96x192 --no-precision --graphs --steps 40 --warmup 3 \
  --out "$WORK/bench-graphs" 2>&1 | tail -12
pack bench-graphs
fi

if want diag; then
stamp diag: each replay against an eager twin, and how repeatable eager CUDA is
timeout 60 $py benchmarks/gpu/graph_check.py 2 2>&1 | tee "$WORK/graph_check.txt" | tail -16
timeout 60 $py - <<'PY' 2>&1 | tee -a "$WORK/graph_check.txt"
import numpy as np
from renderer import api
rng = np.random.default_rng(0)
frames = rng.random((6, 48, 64, 3)).astype(np.float32)
holes = np.zeros((6, 48, 64), bool); holes[:, 10:30, 20:40] = True
for graphs in (False, True):
    for steps in (2, 20):
        a, b = (api.inpaint(frames, holes, preset="paper", steps=steps, seed=4, device="cuda", cuda_graphs=graphs).frames
                for _ in range(2))
        d = np.abs(a - b)[holes]
        print(f"same seed twice, graphs={graphs}, steps={steps}: hole max |diff| {d.max():.3g}, mean {d.mean():.3g}, "
              f"known equal {np.array_equal(a[~holes], b[~holes])}")
PY
fi

if want variance; then
stamp variance: paper at 4000 steps on bikes/logo again, eager and graphed
for mode in eager graphs; do
  flag=$([ $mode = eager ] && echo --no-cuda-graphs)
  timeout ${TVAR:-160} $py -m renderer evaluate --shot $C/bikes.mp4@2:logo --frames 24 --size 96x192 --methods paper \
    --steps paper=4000 --snapshot-every 1000 --device cuda $flag --out "$WORK/var-$mode" --quiet 2>&1 | tail -3
  pack var-$mode
done
fi

if want compile-graphs; then
stamp torch.compile inside the graph
timeout ${TCG:-200} $py -m renderer bench --device cuda --preset paper --size 192x384 --frames 24 --batch 5 --batches 5 \
  --scale-frames 24 --scale-sizes 192x384 --no-precision --graphs --compile --steps 30 --warmup 3 \
  --out "$WORK/bench-compile-graphs" 2>&1 | tail -12
pack bench-compile-graphs
fi

if want bench; then
stamp bench
timeout 120 $py -m renderer bench --device cuda --preset paper --size 192x384 --frames 24 --batch 5 --batches 5 \
  --scale-frames 24 --scale-sizes 96x192 --steps 30 --warmup 5 --out "$WORK/bench" 2>&1 | tail -14
pack bench
fi

if want 100; then
stamp 100 frames at 384x192: standard, and paper at ${PAPER100:-10000} steps
timeout ${T100:-240} $py -m renderer evaluate --shot $C/bikes.mp4@2:blob --frames 100 --size 192x384 \
  --methods standard,paper --steps paper=${PAPER100:-10000} --snapshot-every $(( ${PAPER100:-10000} / 4 )) \
  --device cuda --out "$WORK/eval-100" --quiet 2>&1 | tail -10
pack eval-100
fi

if want stages; then
stamp stages: standard on 100 frames at 384x192, stage by stage, without the harness
timeout ${TSTAGES:-200} $py benchmarks/gpu/standard100.py --clip $C/bikes.mp4 --device cuda --runs ${RUNS:-2} \
  --json "$WORK/stages.json" 2>&1 | tee "$WORK/stages.txt"
[ "${TSTAGES1:-100}" != 0 ] && timeout ${TSTAGES1:-100} $py benchmarks/gpu/standard100.py --clip $C/bikes.mp4 \
  --device cuda --runs 1 --cv-threads 1 --json "$WORK/stages-cv1.json" 2>&1 | tee "$WORK/stages-cv1.txt"
cp "$WORK"/stages*.json "$WORK"/stages*.txt "$OUT/" 2>/dev/null
fi

if want probe; then
stamp probe: the CPU the pre-fill gets here
timeout 90 $py benchmarks/gpu/cpu_probe.py $C/bikes.mp4 2>&1 | tee "$WORK/cpu_probe.txt"
cp "$WORK/cpu_probe.txt" "$OUT/"
fi

if want propprof; then
stamp propprof: the propagation on the device, timed and profiled
timeout 120 $py benchmarks/gpu/propagation_profile.py $C/bikes.mp4 2>&1 | tee "$WORK/propagation_profile.txt" | head -40
cp "$WORK/propagation_profile.txt" "$OUT/"
fi

if want devstd; then
stamp dev shots: standard on CUDA
timeout ${TDEVSTD:-150} $py -m renderer evaluate --shot $C/bikes.mp4@2:blob --shot $C/cityCC0.mpg@40:logo \
  --shot $C/bikes.mp4@2:logo --shot $C/cityCC0.mpg@40:blob --frames 24 --size 96x192 --methods standard \
  --snapshot-every 100 --device cuda --out "$WORK/eval-dev-standard" --quiet 2>&1 | tail -4
pack eval-dev-standard
fi

if want dev; then
stamp dev shots: paper at 4000 steps, one shot per run so that a cut leaves the others
for shot in bikes.mp4@2:blob cityCC0.mpg@40:logo bikes.mp4@2:logo cityCC0.mpg@40:blob; do
  name=eval-dev-${shot%%.*}-${shot##*:}
  timeout ${TDEV:-60} $py -m renderer evaluate --shot $C/$shot --frames 24 --size 96x192 \
    --methods paper --steps paper=4000 --snapshot-every 1000 --device cuda \
    --out "$WORK/$name" --quiet 2>&1 | tail -4
  pack $name
done
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

cp "$WORK/env.txt" "$WORK/h2d.txt" "$WORK/check.txt" "$WORK/graph_check.txt" "$OUT/" 2>/dev/null
ls -la "$OUT"
