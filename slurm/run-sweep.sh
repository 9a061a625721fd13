#!/usr/bin/env bash
# The body of the sbatch scripts: run a headspec job on the allocation, one
# MPI rank per task, forward SLURM's pre-walltime signal (USR1) to the ranks
# so they stop cleanly, and with HEADSPEC_REQUEUE=1 requeue the job to resume
# where it stopped. Usage (inside a batch job): run-sweep.sh JOB.yaml [run options]
#
# Settings (environment, e.g. `HEADSPEC_LAUNCHER=mpirun sbatch ...`):
#   HEADSPEC_LAUNCHER  srun | mpirun. Default: srun if SLURM has its PMIx
#                      plugin (`srun --mpi=list`), else mpirun.
#   HEADSPEC_SRUN_MPI  srun's --mpi plugin (default pmix: Open MPI needs PMIx).
#   HEADSPEC_BIND      none | core: leave the ranks free, or pin each to a core.
#                      Default: srun binds as the site's SLURM does; mpirun none.
#   HEADSPEC           the binary (default: the installed one when this script
#                      is installed, else build/headspec of the submit dir).
#   HEADSPEC_DRY_RUN   1: print the binary and the launch line, validate the
#                      job, run nothing (also outside SLURM).
set -u
# cmake --install writes the installed binary here; in the checkout the
# line keeps its placeholder.
installed_headspec='@HS_INSTALLED_BINDIR@/headspec'
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit 0
fi
job=${1:?usage: sbatch slurm/sweep.sbatch JOB.yaml [headspec run options] (--help: the settings)}
shift
cd "${SLURM_SUBMIT_DIR:-.}" || exit 2
if [ -n "${HEADSPEC:-}" ]; then headspec=$HEADSPEC
elif [ -x "$installed_headspec" ]; then headspec=$installed_headspec
else headspec=$PWD/build/headspec; fi
[ -x "$headspec" ] || { echo "headspec: $headspec not found: build first (cmake) or set HEADSPEC" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

# The line that resumes this job: the same script, job file and options
# (without --restart, which would move the partial results aside), on the
# allocation this job had. headspec prints it when it stops early.
resume_command() {
  local cmd=(sbatch) limit a
  [ -n "${SLURM_JOB_PARTITION:-}" ] && cmd+=(-p "$SLURM_JOB_PARTITION")
  [ -n "${SLURM_JOB_ACCOUNT:-}" ] && cmd+=(-A "$SLURM_JOB_ACCOUNT")
  [ -n "${SLURM_JOB_QOS:-}" ] && cmd+=(-q "$SLURM_JOB_QOS")
  [ -n "${SLURM_JOB_NUM_NODES:-}" ] && cmd+=(-N "$SLURM_JOB_NUM_NODES")
  [ -n "${SLURM_NTASKS:-}" ] && cmd+=(-n "$SLURM_NTASKS")
  [ "${SLURM_OVERCOMMIT:-0}" = 1 ] && cmd+=(-O)
  [ -n "${SLURM_CPUS_PER_TASK:-}" ] && cmd+=(-c "$SLURM_CPUS_PER_TASK")
  [ -n "${SLURM_MEM_PER_NODE:-}" ] && cmd+=("--mem=${SLURM_MEM_PER_NODE}M")
  [ -n "${SLURM_MEM_PER_CPU:-}" ] && cmd+=("--mem-per-cpu=${SLURM_MEM_PER_CPU}M")
  limit=$(squeue -h -j "${SLURM_JOB_ID:-0}" -o %l 2>/dev/null)
  case $limit in ''|UNLIMITED|INVALID|NOT_SET) ;; *) cmd+=(-t "$limit") ;; esac
  cmd+=("${HEADSPEC_SBATCH_SCRIPT:-slurm/sweep.sbatch}" "$job")
  for a in "$@"; do [ "$a" = --restart ] || [ "$a" = --fresh ] || cmd+=("$a"); done
  printf '%q ' "${cmd[@]}" | sed 's/ $//'
}
HEADSPEC_RESUME_COMMAND=$(resume_command "$@")
export HEADSPEC_RESUME_COMMAND

launcher=${HEADSPEC_LAUNCHER:-}
if [ -z "$launcher" ]; then
  if srun --mpi=list 2>&1 | grep -qw pmix; then launcher=srun; else launcher=mpirun; fi
fi
srun_mpi=${HEADSPEC_SRUN_MPI:-pmix}
case $launcher:${HEADSPEC_BIND:-} in
  # srun starts every rank under SLURM's control (what many sites require);
  # PMIx is how Open MPI's ranks find each other. Unless told, binding is
  # the site's (SLURM's task plugin binds within each node's own cores).
  srun:) launch=(srun --mpi="$srun_mpi") ;;
  srun:none) launch=(srun --mpi="$srun_mpi" --cpu-bind=none) ;;
  srun:core) launch=(srun --mpi="$srun_mpi" --cpu-bind=cores) ;;
  # mpirun reads the allocation from SLURM and starts its daemons with srun.
  # Its own default binding (core 0 upwards on each node, whatever else runs
  # there) pins ranks of two "nodes" on one host to the same core: none.
  mpirun: | mpirun:none) launch=(mpirun -q --bind-to none) ;;
  mpirun:core) launch=(mpirun -q --bind-to core) ;;
  *) echo "headspec: HEADSPEC_LAUNCHER must be srun or mpirun and HEADSPEC_BIND none or core (got '$launcher', '${HEADSPEC_BIND:-}')" >&2; exit 2 ;;
esac

echo "headspec: job $job on ${SLURM_NTASKS:-?} ranks, ${SLURM_JOB_NUM_NODES:-?} node(s) (SLURM job ${SLURM_JOB_ID:-?}): ${launch[*]}"
if [ "${HEADSPEC_DRY_RUN:-0}" = 1 ]; then
  echo "headspec: dry run: would run: ${launch[*]} $headspec run${*:+ $*} $job"
  echo "headspec: dry run: to resume: $HEADSPEC_RESUME_COMMAND"
  exec "$headspec" validate "$job"
fi
"${launch[@]}" "$headspec" run "$@" "$job" &
pid=$!
# mpirun and srun both pass USR1 on to every rank
trap 'echo "headspec: signal received, asking the ranks to stop"; kill -USR1 $pid 2>/dev/null' USR1 TERM
wait $pid; status=$?
while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done  # wait returned early for the trap

if [ $status -eq 3 ] && [ "${HEADSPEC_REQUEUE:-0}" = 1 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  echo "headspec: stopped before walltime; requeueing job $SLURM_JOB_ID to resume"
  scontrol requeue "$SLURM_JOB_ID"
elif [ $status -ne 0 ] && [ $status -ne 3 ]; then  # on 3 headspec has said it
  echo "headspec: exit $status; to resume: $HEADSPEC_RESUME_COMMAND"
fi
exit $status
