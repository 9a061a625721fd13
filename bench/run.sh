#!/usr/bin/env bash
# Run the C benchmarks and their NumPy baselines side by side and print the
# ratios. Usage: bench/run.sh [build-dir] [seconds-per-measurement]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build} secs=${2:-1}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
cmake --build "$build" --target bench_sgd >/dev/null
echo "== SGD step: L=16 H=8 K=2, softmax, one core =="
"$build/bench/bench_sgd" "$secs" | tee /tmp/hs_bench_c.txt
/usr/bin/python3 bench/numpy_sgd.py "$secs" | tee /tmp/hs_bench_np.txt
echo "== headspec / NumPy =="
paste <(tail -n +2 /tmp/hs_bench_c.txt) <(tail -n +2 /tmp/hs_bench_np.txt) |
  awk '{printf "d=%-5s B=%-3s headspec %8s steps/s  numpy %8s steps/s  ratio %5.1fx  (headspec at %s of floor)\n", $1, $2, $3, $9, $3/$9, $5}'
