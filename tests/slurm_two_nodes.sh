#!/usr/bin/env bash
# A sweep on two SLURM nodes (n1, n2: two slurmd on this host, ranks talking
# over TCP), with srun and with mpirun as launcher:
#  - ranks on both nodes give datasets identical to a one-rank run, each
#    point recorded with the rank and node that computed it;
#  - the master alone on one node, its workers on the other (both ways);
#  - a node lost mid-run (n2's slurmd and every process of its jobs SIGKILLed
#    while points are under way, held there by a testing hook so that the
#    machine's speed cannot finish them first): the job ends, no point is marked done that
#    was not written, and the same sbatch line resumes to a file equal to an
#    uninterrupted run; ranks of the two nodes are not pinned to one core.
# Root only (exit 77 otherwise). Usage: slurm_two_nodes.sh HEADSPEC SRC [CLUSTER_HANDLE]
set -u
headspec=$(realpath "$1") src=$(realpath "$2") handle=${3:-} py=/usr/bin/python3
if [ "$(id -u)" -ne 0 ]; then echo "slurm_two_nodes: skipped (needs root: it runs a SLURM cluster)"; exit 77; fi
work=$(mktemp -d)
cleanup() { slurm_release_cluster; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM
source "$src/tests/slurm_lib.sh"
cd "$work" || exit 1
slurm_use_cluster "$handle"
ln -s "$src/slurm" slurm
export HEADSPEC=$headspec OPENBLAS_NUM_THREADS=1
fail=0 n=0
ok() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }
same() { $py "$src/tests/compare_results.py" "$@"; }
# "rank:node ..." of the points of FILE (from /grid/rank and /grid/host)
layout() {
  $py - "$1" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
host = [h.tobytes().rstrip(b"\0").decode() for h in f["grid/host"][:]]  # netCDF char rows
print(" ".join("%d:%s" % p for p in sorted(set(zip(f["grid/rank"][:].tolist(), host)))))
PY
}
job() { sed "s|output: tiny.h5|output: $2.h5|" "$1" >"$2.yaml"; }
sed -e 's/d: 64/d: 128/' "$src/tests/jobs/tiny.yaml" >small.yaml
sed -e 's/d: 64/d: 256/' -e 's/t_max: 2/t_max: 24/' -e 's/seed: 3/seed: [3, 4]/' "$src/tests/jobs/tiny.yaml" >long.yaml
# the references: one rank, no SLURM
job small.yaml ref; "$headspec" run --quiet ref.yaml; ok $? "one-rank reference run"
job long.yaml ref-long; "$headspec" run --quiet ref-long.yaml; ok $? "one-rank reference run (long)"

for launcher in srun mpirun; do
  export HEADSPEC_LAUNCHER=$launcher
  # one rank per node
  job small.yaml two-$launcher
  slurm_run -N 2 -n 2 -o two-$launcher.out slurm/sweep.sbatch two-$launcher.yaml
  ok $? "$launcher: sbatch -N 2 -n 2: $(cat two-$launcher.out)"
  $py "$src/tests/check_results.py" two-$launcher.h5 two-$launcher.yaml 2 >/dev/null; ok $? "$launcher: results checks"
  same ref.h5 two-$launcher.h5 >/dev/null; ok $? "$launcher: two nodes equal one rank"
  got=$(layout two-$launcher.h5)
  [ "$got" = "0:n1 1:n2" ]; ok $? "$launcher: rank 0 on n1, rank 1 on n2 (got $got)"

  # a node lost mid-run, then the same sbatch line again. The testing hook
  # holds each rank's second point while the file hold exists, so points are
  # under way when n2 goes, however fast the machine.
  job long.yaml lost-$launcher
  line=(--no-requeue -N 2 -n 2 -o lost-$launcher-%j.out slurm/sweep.sbatch lost-$launcher.yaml)
  touch hold
  id=$(HEADSPEC_TESTING_HOLD=$PWD/hold sbatch --parsable "${line[@]}")
  slurm_wait_first_done "$headspec" lost-$launcher.h5; ok $? "$launcher: a point done"
  # binding: no core is given to ranks of both nodes
  cpus() {
    local p
    for p in $("$src/tests/slurm_test_cluster.sh" pids "$SLURM_DIR" "$1"); do
      [ "$(readlink "/proc/$p/exe")" = "$headspec" ] && sed -n 's/^Cpus_allowed_list:\t//p' "/proc/$p/status"
    done
  }
  c1=$(cpus n1) c2=$(cpus n2) shared=
  for c in $c1; do grep -qx "$c" <<<"$c2" && [[ $c != *[-,]* ]] && shared=$c; done
  [ -n "$c1" ] && [ -n "$c2" ] && [ -z "$shared" ]
  ok $? "$launcher: ranks of n1 (cpus $c1) and n2 (cpus $c2) not pinned to one core"
  "$src/tests/slurm_test_cluster.sh" kill-node "$SLURM_DIR" n2 >/dev/null
  slurm_wait_gone "$id" 180; ok $? "$launcher: the job ends after the node is lost: $(squeue 2>&1 | tail -1)"
  state=$(scontrol show job "$id" 2>/dev/null | grep -o "JobState=[A-Z_]*")
  echo "$launcher: after losing n2: $state, $("$headspec" info lost-$launcher.h5 | grep 'total,')"
  # 24 points, each rank held after its first: at least 22 left pending
  pending=$("$headspec" info lost-$launcher.h5 | grep "total," | sed -n 's/.* \([0-9]*\) pending.*/\1/p')
  [ "${pending:-0}" -ge 22 ]; ok $? "$launcher: points left pending (got ${pending:-none}, want >= 22)"
  rm -f hold
  same ref-long.h5 lost-$launcher.h5 --done-only >/dev/null; ok $? "$launcher: every point marked done was written"
  "$src/tests/slurm_test_cluster.sh" start-node "$SLURM_DIR" n2
  "$src/tests/slurm_test_cluster.sh" wait-idle "$SLURM_DIR"; ok $? "$launcher: n2 back: $(sinfo -N 2>&1 | tr '\n' ' ')"
  slurm_run "${line[@]}"; ok $? "$launcher: the same sbatch line resumes: $(tail -qn 3 lost-$launcher-*.out)"
  same ref-long.h5 lost-$launcher.h5 >/dev/null; ok $? "$launcher: resumed after node loss equals uninterrupted"
done
unset HEADSPEC_LAUNCHER

# The master alone on one node, workers on the other only (srun places
# tasks as SLURM_HOSTFILE lists them; mpirun cannot): the file is written from both.
for order in "n1 n2" "n2 n1"; do
  set -- $order
  printf '%s\n' "$1" "$2" "$2" >hosts
  job small.yaml place-$1
  SLURM_HOSTFILE=$PWD/hosts HEADSPEC_LAUNCHER=srun \
    slurm_run -n 3 -O -m arbitrary -o place-$1.out slurm/sweep.sbatch place-$1.yaml
  ok $? "master on $1, workers on $2: $(cat place-$1.out)"
  same ref.h5 place-$1.h5 >/dev/null; ok $? "master on $1: equals one rank"
  got=$(layout place-$1.h5)
  [[ " $got " == *" 0:$1 "* ]] && [[ " $got " == *" 1:$2 "* || " $got " == *" 2:$2 "* ]] &&
    ! [[ " $got " =~ \ [12]:$1\  ]]
  ok $? "master on $1, workers on $2 only, both wrote (got $got)"
done

[ $fail -gt 0 ] && { for f in *.out; do echo "== $f"; cat "$f"; done; slurm_dump_logs; }
echo "slurm_two_nodes: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
