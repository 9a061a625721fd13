#!/usr/bin/env bash
# The sbatch scripts on the two-node test cluster (one rank per node, the
# default launcher: srun when SLURM has PMIx): `slurm/sweep.sbatch` runs a
# small job to a complete results file; USR1 to the batch script (what
# --signal sends before walltime) stops it cleanly and the line it prints
# (HEADSPEC_RESUME_COMMAND) resumes and completes it; `sweep-requeue.sbatch`
# requeues itself after USR1 and finishes. Needs root (the cluster runs
# munged and slurm daemons); skipped (exit 77) otherwise.
# Usage: slurm_cluster.sh HEADSPEC SRC [CLUSTER_HANDLE]
set -u
headspec=$(realpath "$1") src=$(realpath "$2") handle=${3:-} py=/usr/bin/python3
if [ "$(id -u)" -ne 0 ]; then echo "slurm_cluster: skipped (needs root: it runs a SLURM cluster)"; exit 77; fi
work=$(mktemp -d)
cleanup() { slurm_release_cluster; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM  # so that cleanup runs when the test is killed
source "$src/tests/slurm_lib.sh"
cd "$work" || exit 1
slurm_use_cluster "$handle"
ln -s "$src/slurm" slurm
export HEADSPEC=$headspec
fail=0 n=0
ok() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }

sed -e 's|output: tiny.h5|output: cluster.h5|' -e 's/d: 64/d: 128/' "$src/tests/jobs/tiny.yaml" >job.yaml
slurm_run -N 2 -n 2 -o first.out slurm/sweep.sbatch job.yaml; code=$?
ok $code "sbatch: exit $code: $(cat first.out)"
$py "$src/tests/check_results.py" cluster.h5 job.yaml 2 >/dev/null; ok $? "cluster results complete and correct"

# the pre-walltime signal: USR1 to the batch script, then the printed line resumes
sed -e 's|output: cluster.h5|output: stopped.h5|' -e 's/d: 128/d: 256/' -e 's/t_max: 2/t_max: 32/' job.yaml >long.yaml
# (each rank held after its first point by a testing hook, docs/TESTS.md, so
# the signal comes while the job is going, however fast the machine)
touch hold
id=$(HEADSPEC_TESTING_HOLD=$PWD/hold sbatch --parsable -N 2 -n 2 -t 30 -o stopped.out slurm/sweep.sbatch long.yaml --restart)
slurm_wait_first_done "$headspec" stopped.h5; scancel --signal=USR1 --batch "$id"
slurm_wait_gone "$id" 60; rm -f hold
resume=$(sed -n 's/^headspec: stopped by a signal; to resume (done points are kept): //p' stopped.out)
[ "$resume" = "sbatch -p test -N 2 -n 2 -t 30:00 slurm/sweep.sbatch long.yaml" ]
ok $? "USR1 stops the sweep cleanly and gives the resume line: $(tail -3 stopped.out)"
"$headspec" info stopped.h5 | grep -q pending; ok $? "points left pending"
slurm_run ${resume#sbatch } >/dev/null; ok $? "the resume line: $(tail -2 slurm-*.out 2>/dev/null)"
"$headspec" info stopped.h5 | grep -q "0 failed, 0 pending"; ok $? "resumed to completion"

# the self-requeueing variant: USR1 stops it, it requeues itself (SLURM holds
# it for the cluster's cred_expire, 10 s) and finishes
sed -e 's|output: stopped.h5|output: requeued.h5|' long.yaml >requeue.yaml
touch hold
id=$(HEADSPEC_TESTING_HOLD=$PWD/hold sbatch --parsable -N 2 -n 2 -o requeue.out slurm/sweep-requeue.sbatch requeue.yaml)
slurm_wait_first_done "$headspec" requeued.h5; scancel --signal=USR1 --batch "$id"; rm -f hold
# wait for the outcome, not for squeue to go quiet (a requeued job is briefly absent)
for _ in $(seq 240); do
  "$headspec" info requeued.h5 2>/dev/null | grep -q "0 failed, 0 pending" && break
  sleep 0.5
done
grep -q "requeueing job" requeue.out; ok $? "requeue variant requeued itself: $(grep headspec requeue.out | tail -4 | tr '\n' ' ')"
"$headspec" info requeued.h5 | grep -q "0 failed, 0 pending"; ok $? "requeued job completed on two nodes: $(squeue 2>&1 | tail -1)"
$py -c "import h5py,sys; f=h5py.File('requeued.h5'); h={r.tobytes().rstrip(b'\0').decode() for r in f['grid/host'][:]}; sys.exit(h != {'n1', 'n2'})"
ok $? "points of the requeued job computed on both nodes"

if [ $fail -gt 0 ]; then
  for f in *.out; do echo "== $f"; cat "$f"; done
  slurm_dump_logs
fi
echo "slurm_cluster: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
