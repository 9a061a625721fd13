#!/usr/bin/env bash
# How long the sweep can keep a signal or a worker waiting (one core each):
#  1. SIGUSR1 to exit, one rank, in each long phase of a point: SGD at
#     B = 1000, the Bayes risk Monte Carlo, greedy pruning, the ODE. Each job
#     spends long in that phase; the signal comes at a few moments inside
#     it and the script prints the longest and mean time until the rank
#     exits and until mpirun does (Open MPI's mpirun adds ~2 s of its own
#     after a rank exits nonzero); the run must exit 3, the point pending.
#  2. The master's answer: mpirun -n 2 over 24 points, heavy (SGD at
#     B = 1000, pruning and the Bayes risk, ~1-3 s each) and trivial. With
#     HEADSPEC_REPORT_WAIT every rank prints the longest gap between two
#     calls of its progress callback during a point (for the master, the
#     longest a worker's request can wait) and each worker its longest wait
#     for an answer.
# Usage: bench/bench_stop.sh [build-dir]   (PHASES="bayes ode" picks phases,
# PHASES= skips part 1, ANSWER= skips part 2)
set -eu
cd "$(dirname "$0")/.."
headspec=$(realpath "${1:-build}/headspec")
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
# job NAME L H sgd(d B t_max) ode(run samples) bayes_samples prune
job() {
  cat <<JOB
output: $1.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, L: $2, H: $3, seed: [1, 2, 3]}
training: {run: $4, d: $5, B: $6, eta: 0.5, t_max: $7, records: 2, test_samples: 100}
ode: {run: $8, samples: $9}
analysis: {bayes_samples: ${10}, prune: ${11}, maps: 1}
JOB
}
job sgd 16 4 true 256 1000 100 false 10 0 false >sgd.yaml
job bayes 16 2 true 16 1 0.01 false 10 5000000 false >bayes.yaml
job prune 16 16 true 16 1 0.1 false 100000 0 true >prune.yaml
job ode 16 8 false 16 1 1000 true 200000 0 false >ode.yaml

since() { echo "$(date +%s.%N) - $1" | bc -l; }
max() { echo "if ($1 > $2) $1 else $2" | bc -l; }
[ "${PHASES-x}" ] && echo "== SIGUSR1 to exit, one rank (signal 2.5-4.5 s after the start) =="
for phase in ${PHASES-sgd bayes prune ode}; do
  worst=0 sum=0 mworst=0 msum=0 n=0 codes=""
  for delay in 2.5 3.0 3.5 4.0 4.5; do
    rm -f $phase.h5
    setsid mpirun -n 1 "$headspec" run --quiet $phase.yaml 2>/dev/null & pid=$!
    sleep $delay
    rank=$(pgrep -P $pid headspec)
    t0=$(date +%s.%N); kill -USR1 $pid
    while kill -0 $rank 2>/dev/null; do sleep 0.01; done
    dt=$(since $t0)
    wait $pid && code=0 || code=$?
    mdt=$(since $t0)
    codes="$codes $code" n=$((n + 1)) sum=$(echo "$sum + $dt" | bc -l) msum=$(echo "$msum + $mdt" | bc -l)
    worst=$(max $dt $worst) mworst=$(max $mdt $mworst)
  done
  printf "%-6s rank exits: longest %.2f s, mean %.2f s; mpirun: longest %.2f s, mean %.2f s (exit codes:%s)\n" \
    $phase "$worst" "$(echo "$sum / $n" | bc -l)" "$mworst" "$(echo "$msum / $n" | bc -l)" "$codes"
done
[ "${ANSWER-x}" ] || exit 0

echo "== the master's answer: mpirun -n 2, heavy and trivial points =="
cat >mixed.yaml <<JOB
output: mixed.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, L: 16, H: 8,
        seed: [1, 2, 3]}
training: {d: 256, B: [1000, 1], eta: 0.5, t_max: 0.03, records: 2, test_samples: 100}
ode: {run: false, samples: 20000}
analysis: {bayes_samples: [1000000, 0], prune: [true, false], maps: 1}
JOB
t0=$(date +%s.%N)
HEADSPEC_REPORT_WAIT=1 mpirun -n 2 -x HEADSPEC_REPORT_WAIT "$headspec" run --quiet mixed.yaml 2>&1 |
  grep -E "longest|points"
printf "(%.1f s in all)\n" "$(echo "$(date +%s.%N) - $t0" | bc -l)"
