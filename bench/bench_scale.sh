#!/usr/bin/env bash
# Scale of the results file (issue 18): for grids of N tiny points (d = 8,
# a few SGD steps, no ODE, no Bayes risk), the wall time and peak memory
# (largest process, GNU time's maximum resident set) of
#   validate   reading the job, planning the grid, surveying the output;
#   run        computing every point with mpirun -n 2 into a new file
#              (only for N <= RUN_MAX, default 20000: the points' own cost,
#              not the store's, which bench_sweep.sh measures);
#   fill       instead, for larger N: the finished file made without
#              computing (bench_store fill: every value 0.25, checksums
#              right), the same file a run leaves;
#   resume     running the finished job again (every point checked: the
#              file against its job, every point against its checksum);
#   verify     headspec verify of the finished file;
#   grow       the job with one more seed (N/seeds points added): a new
#              file with the N done points copied and checked, in blocks;
# and the file's size per point. One measurement per cell, on this machine
# (2 cores, shared): sizes and memory are exact, times indicative.
# Usage: bench/bench_scale.sh [build-dir] [N ...]   (default N: 100000 1000000)
set -eu
cd "$(dirname "$0")/.."
headspec=$(realpath "${1:-build}/headspec")
shift || true
sizes=${*:-100000 1000000}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
ETAS=20 # values of eta: N = seeds x ETAS
job() { # output seeds
  cat <<JOB
output: $1
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2, seed: [$(seq -s, 1 "$2")]}
training: {d: 8, eta: [$(for i in $(seq 1 $ETAS); do printf "0.%d," $((100 + i)); done | sed 's/,$//')], t_max: 0.05, records: 3, test_samples: 10}
ode: {run: false, samples: 10}
analysis: {bayes_samples: 0, prune: false, maps: 1}
JOB
}
# measure NAME COMMAND...: one line "NAME seconds peak-MB"
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null 2>cmd.log || { echo "$name failed: $(tail -3 cmd.log)"; return 1; }
  read -r s kb <time.txt
  printf "  %-8s %8.2f s %8.0f MB\n" "$name" "$s" "$(echo "$kb / 1024" | bc -l)"
}
for n in $sizes; do
  seeds=$((n / ETAS))
  job scale.h5 "$seeds" >scale.yaml
  job scale.h5 $((seeds + 1)) >grown.yaml
  echo "N = $((seeds * ETAS)) points ($seeds seeds x $ETAS etas):"
  measure validate "$headspec" validate scale.yaml
  if [ "$n" -le "${RUN_MAX:-20000}" ]; then
    measure run mpirun -n 2 "$headspec" run --quiet scale.yaml
  else
    measure fill "$(dirname "$headspec")/bench/bench_store" fill scale.yaml
  fi
  printf "  file     %8.0f bytes per point\n" "$(echo "$(stat -c %s scale.h5) / $n" | bc -l)"
  measure resume mpirun -n 2 "$headspec" run --quiet scale.yaml
  measure verify "$headspec" verify scale.h5
  measure grow mpirun -n 2 "$headspec" run --quiet grown.yaml
  rm -f scale.h5*
done
