#!/usr/bin/env bash
# The GPU checks of one device session, in order of importance, each under its own time limit:
# build for the device's architecture, the GPU kernel benchmark (results/solve-gpu.md), the GPU
# tests, tickets built with device="cuda", the statistics estimate, a Nsight Compute look at the
# hot kernels, then the 25M-weight target. Everything it prints goes to $OUT/session.log; the
# results files it writes are copied to $OUT.
#
#     OUT=/tmp/out bash benchmarks/device_session.sh [arch]      # arch: 90 (H100/H200) by default
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:?set OUT to a folder for the logs}
ARCH=${1:-90}
export PYTHONUNBUFFERED=1
LOG=$OUT/session.log
exec > >(tee -a "$LOG") 2>&1

step() {  # step NAME SECONDS COMMAND...: run under a time limit, report the time taken
  local name=$1 limit=$2
  shift 2
  local start=$SECONDS
  echo "=== $name (limit ${limit}s) $(date -u +%H:%M:%S)"
  timeout --signal=INT --kill-after=10 "$limit" "$@"
  local rc=$?
  echo "=== $name: rc=$rc in $((SECONDS - start)) s"
  return 0
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
python3 -c "import torch, numpy, sys; print(sys.version.split()[0], 'torch', torch.__version__, 'numpy', numpy.__version__)"

step build 300 env CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" python3 -m pip install -q --no-build-isolation \
  --no-deps --config-settings=cmake.define.CMAKE_CUDA_ARCHITECTURES="$ARCH" -e .
python3 -c "import subsetsum; print(subsetsum.compile_options()); print('cuda', subsetsum.cuda_available())" || exit 1

step bench_gpu 150 python3 benchmarks/bench_gpu.py
cp benchmarks/results/solve-gpu.md "$OUT/" 2>/dev/null

step tests_gpu 240 python3 -m pytest tests/gpu tests/test_ticket_torch.py -m gpu -q -p no:cacheprovider

for method in L+1 2L; do
  step "ticket lenet $method cuda" 90 python3 benchmarks/bench_ticket.py --one "[\"$method\", {}, \"lenet\"]" --device cuda
done

cat > /tmp/ncu_target.py <<'EOF'
import torch, subsetsum
g = torch.Generator(device="cuda").manual_seed(0)
for mode, n, kw, batch in (("min_size", 15, {"max_size": 10}, 1 << 22), ("best", 24, {}, 1 << 14)):
    x = torch.rand(batch, n, generator=g, device="cuda") * 2 - 1
    t = torch.rand(batch, generator=g, device="cuda") * 2 - 1
    subsetsum.solve(t, x, eps=0.01, mode=mode, **kw)
torch.cuda.synchronize()
EOF
step ncu 120 ncu --clock-control none -k regex:"solve_kernel|min_size" -c 3 --section SpeedOfLight \
  --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
  --section MemoryWorkloadAnalysis python3 /tmp/ncu_target.py
# (its report is in session.log)

step "scale 2L full cuda" 150 python3 benchmarks/bench_scale.py --one '["2L", 1, "local", "cuda"]'
step "scale L+1 s=4 cuda" 120 python3 benchmarks/bench_scale.py --one '["L+1", 4, "local", "cuda"]'
step "stats 1e8 cuda" 90 python3 - <<'EOF'
import time
from subsetsum import stats
scenario = stats.Scenario(n=15, eps=0.01, mode="min_size", max_size=10)
stats.estimate(scenario, 100_000, seed=1, device="cuda")  # warm-up
for count in (10**7, 10**8):
    start = time.perf_counter()
    est = stats.estimate(scenario, count, seed=0, device="cuda")
    seconds = time.perf_counter() - start
    print(f"stats cuda: {count:,} problems in {seconds:.2f} s = {count / seconds:,.0f}/s; "
          f"P(found) {est.probability:.5f}, mean size {est.mean_size:.3f}")
EOF

echo "=== done $(date -u +%H:%M:%S)"
