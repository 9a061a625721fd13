#!/usr/bin/env bash
# The master's dispatch rate on two SLURM nodes (root only: it starts the
# test cluster of tests/slurm_test_cluster.sh, two slurmd on this host, so
# ranks of different nodes talk over TCP): trivial points (d = 8, a few
# steps, tiny Monte Carlo sets), 16 ranks oversubscribed over the two nodes
# with srun and with mpirun, against 16 ranks on one node (shared memory)
# and one rank. The rate is points over the span of the file's own
# /grid/started..finished stamps (start-up excluded); the per-point time is
# the median of finished - started (compute plus the HDF5 writes).
# Usage: bench/bench_two_nodes.sh [build-dir] [points, default 800]
set -eu
cd "$(dirname "$0")/.."
src=$PWD headspec=$(realpath "${1:-build}/headspec") points=${2:-800}
[ "$(id -u)" -eq 0 ] || { echo "bench_two_nodes: needs root (starts a SLURM cluster)"; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 HEADSPEC=$headspec
work=$(mktemp -d)
trap '"$src/tests/slurm_test_cluster.sh" stop "$work/handle"; rm -rf "$work"' EXIT
"$src/tests/slurm_test_cluster.sh" start "$work/handle" $$ >/dev/null
source "$(cat "$work/handle")/env"
source "$src/tests/slurm_lib.sh"
cd "$work"
ln -s "$src/slurm" slurm
cat >job.yaml <<JOB
output: t.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2, seed: [$(seq -s, 1 "$points")]}
training: {d: 8, eta: 0.5, t_max: 0.05, records: 3, test_samples: 10}
ode: {run: false, samples: 10}
analysis: {bayes_samples: 0, prune: false, maps: 1}
JOB
rate() {
  /usr/bin/python3 - <<'PY'
import h5py, numpy as np
f = h5py.File("t.h5", "r"); g = f["grid"]
s, e = g["started"][:], g["finished"][:]
assert (g["status"][:] == 1).all()
host = [h.decode() if isinstance(h, bytes) else str(h) for h in g["host"][:]]
per = {h: host.count(h) for h in sorted(set(host))}
print("%6.0f points/s, median %.2f ms per point, points per node %s"
      % (len(s) / (e.max() - s.min()), 1e3 * np.median(e - s), per))
PY
}
printf "%-34s " "1 rank, no SLURM:"; rm -f t.h5; "$headspec" run --quiet job.yaml 2>/dev/null; rate
printf "%-34s " "16 ranks, one host, mpirun (shm):"; rm -f t.h5
mpirun -n 16 --oversubscribe "$headspec" run --quiet job.yaml 2>/dev/null; rate
for launcher in srun mpirun; do
  for n in 2 16; do
    printf "%-34s " "$n ranks, 2 nodes, $launcher:"; rm -f t.h5
    HEADSPEC_LAUNCHER=$launcher slurm_run -N 2 -n $n -O -o out slurm/sweep.sbatch job.yaml --quiet || { cat out; exit 1; }
    rate
  done
done
