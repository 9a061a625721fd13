#!/usr/bin/env bash
# A real single-node SLURM cluster on localhost (Debian's slurm-wlm with
# munge; no systemd, no cgroups): `sbatch --wait slurm/sweep.sbatch` runs a
# small job to a complete results file; USR1 to the batch script (what
# --signal sends before walltime) stops it cleanly; a second submission
# resumes and completes it. Needs root (it starts daemons and may install
# slurmctld, slurmd, slurm-client, munge); skipped (exit 77) otherwise.
set -u
headspec=$(realpath "$1") src=$(realpath "$2") py=/usr/bin/python3
if [ "$(id -u)" -ne 0 ]; then echo "slurm_cluster: skipped (needs root)"; exit 77; fi
"$src/scripts/setup.sh" --with-slurm || exit 1
work=$(mktemp -d) pids=() started_munge=0
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
  [ $started_munge -eq 1 ] && kill "$(cat /run/munge/munged.pid 2>/dev/null)" 2>/dev/null
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM  # so that cleanup runs when the test is killed
cd "$work" || exit 1
fail=0 n=0
ok() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }
# Wait (at most 60 s) until FILE has a point done: the job is computing.
wait_first_done() {
  for _ in $(seq 600); do
    "$headspec" info "$1" 2>/dev/null | grep -q " total, [1-9][0-9]* done" && return
    sleep 0.1
  done
}

host=$(hostname -s) cpus=$(nproc)
# Ports of our own, so daemons left by another run cannot answer for ours.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctld_port=$(free_port) slurmd_port=$(free_port)
mkdir -p state spool
cat >slurm.conf <<CONF
ClusterName=headspec-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged && started_munge=1
fi
munge -n | unmunge >/dev/null; ok $? "munge works"
slurmctld -D -i -f "$SLURM_CONF" >/dev/null 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" >/dev/null 2>&1 & pids+=($!)
for _ in $(seq 60); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo -h -o %t | grep -q idle; ok $? "node idle: $(sinfo 2>&1 | tail -1)"

ln -s "$src/slurm" slurm
export HEADSPEC=$headspec
sed -e 's|output: tiny.h5|output: cluster.h5|' -e 's/d: 64/d: 128/' "$src/tests/jobs/tiny.yaml" >job.yaml
sbatch --wait -n "$cpus" -o first.out slurm/sweep.sbatch job.yaml >/dev/null; code=$?
ok $code "sbatch --wait: exit $code: $(cat first.out)"
$py "$src/tests/check_results.py" cluster.h5 job.yaml "$cpus" >/dev/null; ok $? "cluster results complete and correct"

# the pre-walltime signal: USR1 to the batch script, then resume
sed -e 's|output: cluster.h5|output: stopped.h5|' -e 's/d: 128/d: 512/' -e 's/t_max: 2/t_max: 32/' job.yaml >long.yaml
id=$(sbatch --parsable -n "$cpus" -o stopped.out slurm/sweep.sbatch long.yaml)
wait_first_done stopped.h5; scancel --signal=USR1 --batch "$id"
for _ in $(seq 150); do squeue -h -j "$id" 2>/dev/null | grep -q . || break; sleep 0.2; done
grep -q "to resume by hand" stopped.out; ok $? "USR1 stops the sweep cleanly: $(tail -3 stopped.out)"
"$headspec" info stopped.h5 | grep -q pending; ok $? "points left pending"
sbatch --wait -n "$cpus" -o resumed.out slurm/sweep.sbatch long.yaml >/dev/null; ok $? "resubmission: $(tail -2 resumed.out)"
"$headspec" info stopped.h5 | grep -q "0 failed, 0 pending"; ok $? "resumed to completion"

# the self-requeueing variant: USR1 stops it, it requeues itself and finishes
sed -e 's|output: stopped.h5|output: requeued.h5|' long.yaml >requeue.yaml
id=$(sbatch --parsable -n "$cpus" -o requeue.out slurm/sweep-requeue.sbatch requeue.yaml)
wait_first_done requeued.h5; scancel --signal=USR1 --batch "$id"
# Wait for the outcome, not for squeue to go quiet (a requeued job is
# briefly absent from it). SLURM holds a requeued job for about two minutes
# while the node forgets its revoked credential; releasing it earlier makes
# the node refuse it ("Job credential revoked"), so we wait.
for _ in $(seq 600); do
  "$headspec" info requeued.h5 2>/dev/null | grep -q "0 failed, 0 pending" && break
  sleep 0.5
done
grep -q "requeueing job" requeue.out; ok $? "requeue variant requeued itself: $(grep headspec requeue.out | tail -4 | tr '\n' ' ')"
"$headspec" info requeued.h5 | grep -q "0 failed, 0 pending"; ok $? "requeued job completed: $(squeue 2>&1 | tail -1)"

if [ $fail -gt 0 ]; then  # what SLURM saw, for whoever reads the failure
  for f in requeue.out stopped.out resumed.out; do [ -f $f ] && { echo "== $f"; cat $f; }; done
  echo "== slurmctld.log"; tail -n 30 slurmctld.log
  echo "== slurmd.log"; tail -n 30 slurmd.log
fi
echo "slurm_cluster: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
