# Sourced by the SLURM tests: the shared two-node test cluster and helpers.
# Expects $src (the source tree) and $work (the test's directory, removed at
# exit by the caller's cleanup) to be set; uses the cluster whose handle file
# is $1 of slurm_use_cluster (started once per ctest run by the fixture), or
# starts one of its own when that file is absent (a test run by hand).

slurm_own_handle=
slurm_use_cluster() {  # HANDLE
  local handle=$1
  if [ ! -s "$handle" ] || [ ! -f "$(cat "$handle")/slurm.conf" ]; then
    handle=$work/cluster.handle
    "$src/tests/slurm_test_cluster.sh" start "$handle" $$ || exit $?
    slurm_own_handle=$handle
  fi
  SLURM_DIR=$(cat "$handle")
  # shellcheck source=/dev/null
  source "$SLURM_DIR/env"
  # a node left down by an earlier failed test: start it again
  for node in n1 n2; do
    sinfo -h -n $node -o %t 2>/dev/null | grep -q -e down -e drain && {
      kill -0 "$(cat "$SLURM_DIR/pids/slurmd-$node")" 2>/dev/null ||
        "$src/tests/slurm_test_cluster.sh" start-node "$SLURM_DIR" $node
      scontrol update nodename=$node state=resume 2>/dev/null
    }
  done
  "$src/tests/slurm_test_cluster.sh" wait-idle "$SLURM_DIR"
}

slurm_release_cluster() {
  [ -n "$slurm_own_handle" ] && "$src/tests/slurm_test_cluster.sh" stop "$slurm_own_handle"
}

# Poll until job ID has left the queue (sbatch --wait polls every 10 s).
slurm_wait_gone() {  # ID [SECONDS, default 300]
  local end=$((SECONDS + ${2:-300}))
  while [ $SECONDS -lt $end ]; do
    squeue -h -j "$1" 2>/dev/null | grep -q . || return 0
    sleep 0.3
  done
  return 1
}

# Submit (sbatch ARGS...), wait for the end, return the job's exit code.
slurm_run() {
  local id code
  id=$(sbatch --parsable "$@") || return 125
  slurm_wait_gone "$id" || { scancel "$id"; return 124; }
  code=$(scontrol show job "$id" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p')
  return "${code:-125}"
}

# Wait (at most 60 s) until results FILE has a point done.
slurm_wait_first_done() {  # HEADSPEC FILE
  local end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    "$1" info "$2" 2>/dev/null | grep -q " total, [1-9][0-9]* done" && return 0
    sleep 0.1
  done
  return 1
}

slurm_dump_logs() {  # what SLURM saw, for whoever reads a failure
  echo "== sinfo"; sinfo -N 2>&1
  echo "== slurmctld.log"; tail -n 30 "$SLURM_DIR/slurmctld.log"
  for node in n1 n2; do echo "== $node/slurmd.log"; tail -n 20 "$SLURM_DIR/$node/slurmd.log"; done
}
