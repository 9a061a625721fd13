#!/usr/bin/env bash
# The body of the sbatch scripts: run a headspec job on the allocation with
# mpirun, forward SLURM's pre-walltime signal (USR1) to the ranks so they stop
# cleanly, and with HEADSPEC_REQUEUE=1 requeue the job to resume where it
# stopped. Usage (inside a batch job): run-sweep.sh JOB.yaml [run options]
set -u
job=${1:?usage: sbatch slurm/sweep.sbatch JOB.yaml [headspec run options]}
shift
cd "${SLURM_SUBMIT_DIR:-.}" || exit 2
headspec=${HEADSPEC:-$PWD/build/headspec}
[ -x "$headspec" ] || { echo "headspec: $headspec not found: build first (cmake) or set HEADSPEC" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

echo "headspec: job $job on ${SLURM_NTASKS:-?} ranks (SLURM job ${SLURM_JOB_ID:-?})"
mpirun "$headspec" run "$@" "$job" &
pid=$!
trap 'echo "headspec: signal received, asking the ranks to stop"; kill -USR1 $pid 2>/dev/null' USR1 TERM
wait $pid; status=$?
while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done  # wait returned early for the trap

if [ $status -eq 3 ] && [ "${HEADSPEC_REQUEUE:-0}" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "headspec: stopped before walltime; requeueing job $SLURM_JOB_ID to resume"
  scontrol requeue "$SLURM_JOB_ID"
fi
[ $status -eq 3 ] && echo "headspec: to resume by hand: sbatch $0 $job"
exit $status
