#!/usr/bin/env bash
# Cluster-side benchmarks of the MPI sweep (run on this 2-core machine):
#  1. parallel efficiency: 8 equal SGD points with `mpirun -n 2`, against
#     two independent single-rank runs of 4 points each, started together;
#  2. master and file throughput: trivial points (d = 8, a few steps, tiny
#     Monte Carlo sets) with 1 rank and with 8 oversubscribed ranks; the
#     per-point time is the difference between 800 and 400 points over 400
#     (start-up and file creation cancel), and bench_store times the HDF5
#     writes of one point alone.
# Usage: bench/bench_sweep.sh [build-dir]
set -eu
cd "$(dirname "$0")/.."
headspec=$(realpath "${1:-build}/headspec")
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
job() { # output seeds d t_max extra...
  cat <<JOB
output: $1
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2, seed: $2}
training: {d: $3, eta: 0.5, t_max: $4, records: 3, test_samples: 10}
ode: {run: false, samples: 10}
analysis: {bayes_samples: 0, prune: false, maps: 1}
JOB
}
elapsed() { local t0=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $t0" | bc -l; }

job all.h5 "[1, 2, 3, 4, 5, 6, 7, 8]" 1000 12 >all.yaml
job a.h5 "[1, 2, 3, 4]" 1000 12 >a.yaml
job b.h5 "[5, 6, 7, 8]" 1000 12 >b.yaml
t_mpi=$(elapsed mpirun -n 2 "$headspec" run --quiet all.yaml)
t0=$(date +%s.%N)
"$headspec" run --quiet a.yaml 2>/dev/null & "$headspec" run --quiet b.yaml 2>/dev/null; wait
t_two=$(echo "$(date +%s.%N) - $t0" | bc -l)
printf "parallel efficiency: mpirun -n 2, 8 points: %.2f s; two independent runs of 4: %.2f s; efficiency %.1f%%\n" \
  "$t_mpi" "$t_two" "$(echo "100 * $t_two / $t_mpi" | bc -l)"

job t400.h5 "[$(seq -s, 1 400)]" 8 0.05 >t400.yaml
job t800.h5 "[$(seq -s, 1 800)]" 8 0.05 >t800.yaml
for ranks in 1 8; do
  t4=$(elapsed mpirun -n $ranks --oversubscribe "$headspec" run --quiet --restart t400.yaml)
  t8=$(elapsed mpirun -n $ranks --oversubscribe "$headspec" run --quiet --restart t800.yaml)
  printf "throughput: %d rank(s): 400 points %.2f s, 800 points %.2f s: %.0f points/s, %.2f ms per point\n" \
    $ranks "$t4" "$t8" "$(echo "400 / ($t8 - $t4)" | bc -l)" "$(echo "1000 * ($t8 - $t4) / 400" | bc -l)"
done
"$(dirname "$headspec")/bench/bench_store" "$work"
