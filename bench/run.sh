#!/usr/bin/env bash
# Run the C SGD benchmarks and their NumPy baselines side by side and print
# the ratios. Usage: bench/run.sh [build-dir] [seconds-per-measurement]
#  1. the two generators (ns per normal);
#  2. sampler full against sampler reduced at issue 11's settings, measured
#     alternately in one run, and NumPy (plain sampler) at the same settings;
#  3. the full sampler against its floor (L = 16, H = 8) and NumPy;
#  4. with BENCH_POINTS=1: the Python points table at 10^6 points (bench_points.py).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build} secs=${2:-1}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
cmake --build "$build" --target bench_sgd >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== generators and samplers: softmax, K=2, one core (OpenBLAS core: ${OPENBLAS_CORETYPE:-auto}) =="
"$build/bench/bench_sgd" "$secs" samplers | tee "$tmp/c.txt"
/usr/bin/python3 bench/numpy_sgd.py "$secs" samplers > "$tmp/np.txt"
echo "== reduced against NumPy (plain sampler) =="
paste <(tail -n +3 "$tmp/c.txt") <(tail -n +2 "$tmp/np.txt") |
  awk '{printf "L=%-3s H=%-2s d=%-5s B=%-3s full %7s  reduced %7s  numpy %7s steps/s  reduced/full %5.1fx  reduced/numpy %6.1fx\n", $1, $2, $4, $5, $6, $7, $14, $7/$6, $7/$14}'
echo "== full sampler against its floor: L=16 H=8 K=2, softmax, one core =="
"$build/bench/bench_sgd" "$secs" floor | tee "$tmp/cf.txt"
/usr/bin/python3 bench/numpy_sgd.py "$secs" floor > "$tmp/npf.txt"
paste <(tail -n +2 "$tmp/cf.txt") <(tail -n +2 "$tmp/npf.txt") |
  awk '{printf "d=%-5s B=%-3s headspec %8s steps/s  numpy %8s steps/s  ratio %5.1fx  (headspec at %s of floor)\n", $1, $2, $3, $9, $3/$9, $5}'
if [ -n "${BENCH_POINTS:-}" ]; then  # ~5 min: writes a 10^6-point file once
  echo "== Python: the points table of 10^6 points against plain h5py reads =="
  /usr/bin/python3 bench/bench_points.py "$build/headspec"
fi
