#!/usr/bin/env bash
# The benchmarks as a fair race: headspec and its peers (NumPy, NumPy +
# SciPy, PyTorch float64/float32) take turns within one run and the median
# of the per-round ratios is printed with its range, with headspec's
# fraction of its floor measured in the same call (bench/race.py).
# Usage: bench/run.sh [build-dir] [rounds] [seconds-per-measurement]
#  1. the two SGD samplers against each other (bench_sgd, alternating);
#  2. race.py: the ODE's right-hand side, the SGD step, a whole CLI
#     integration, softmax1's kappa through the CLI, the late phase;
#  3. with BENCH_POINTS=1: the Python points table at 10^6 points
#     (bench_points.py).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build} rounds=${2:-5} secs=${3:-1}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# OpenBLAS 0.3.21 does not recognise some virtualised Xeons and falls back to
# its Prescott (SSE3) kernels, a quarter of the core's rate: name the core
# from the CPU flags unless the caller did (the floors use the rate measured
# with it, and the NumPy peers get the same kernels).
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  if grep -qw avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX
  elif grep -qw avx2 /proc/cpuinfo; then export OPENBLAS_CORETYPE=Haswell
  fi
fi
cmake --build "$build" --target bench_sgd bench_ode headspec >/dev/null
echo "== one core; OpenBLAS core: ${OPENBLAS_CORETYPE:-auto}; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
/usr/bin/python3 -c 'import scipy' 2>/dev/null || echo "(SciPy absent: the NumPy integration uses its own RKF45)"
echo "== generators and samplers: softmax, K=2 (bench_sgd, alternating) =="
"$build/bench/bench_sgd" "$secs" samplers
/usr/bin/python3 bench/race.py "$build" "$rounds" "$secs"
if [ -n "${BENCH_POINTS:-}" ]; then  # ~5 min: writes a 10^6-point file once
  echo "== Python: the points table of 10^6 points against plain h5py reads =="
  /usr/bin/python3 bench/bench_points.py "$build/headspec"
fi
