#!/usr/bin/env bash
# A two-node SLURM cluster on this one host, for the SLURM tests: its own
# munged (own socket), slurmctld and two slurmd daemons n1 and n2 (Debian's
# slurmd supports several per host), on free ports, each node with its own
# spool and TmpFS. Ranks on n1 and n2 talk over TCP as on a real cluster.
# Every daemon's PID is recorded and stopped by PID; a watchdog stops the
# cluster when the process that started it (ctest) goes away, so a killed
# test run leaves nothing behind.
#
#   slurm_test_cluster.sh start HANDLE [WATCH_PID]  start; write the cluster's
#                                    directory into the file HANDLE
#   slurm_test_cluster.sh stop HANDLE                 cancel jobs, stop everything
#   slurm_test_cluster.sh kill-node DIR NODE          SIGKILL a node's slurmd and
#                                    every process of its jobs (a node failure)
#   slurm_test_cluster.sh start-node DIR NODE         start a node's slurmd again
#   slurm_test_cluster.sh pids DIR [NODE]             processes of the cluster (or node)
#
# Tests source DIR/env (SLURM_CONF and Open MPI's settings for the loopback).
# Needs root; `start` exits 77 (ctest's skip) when not root.
set -u
cmd=${1:?usage: slurm_test_cluster.sh start|stop|kill-node|start-node|pids ...}
self=$(realpath "$0")
NODES="n1 n2"

# The processes of cluster DIR (of NODE only, if given): the daemons carry
# HSTEST_* markers in their environment, a node's slurmd and slurmstepd
# (whose environment is cleaned) keep the node's log open, and job
# processes carry SLURM_CONF=DIR/slurm.conf and SLURMD_NODENAME.
cluster_pids() {
  local dir=$1 node=${2:-} mine=$$ p=$$
  # never this script or its callers (a test that sourced DIR/env)
  while p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) && [ "${p:-0}" -gt 1 ]; do mine+=$'\n'$p; done
  if [ -n "$node" ]; then
    pids_with "HSTEST_NODE=$dir/$node"
    comm -12 <(pids_with "SLURM_CONF=$dir/slurm.conf" | sort) <(pids_with "SLURMD_NODENAME=$node" | sort)
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$dir/$node/slurmd.log" 2>/dev/null | cut -d/ -f3
  else
    pids_with "HSTEST_NODE=$dir/n[0-9]*" "HSTEST_CLUSTER=$dir" "SLURM_CONF=$dir/slurm.conf"
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$dir/*" 2>/dev/null | cut -d/ -f3
  fi | sort -u | grep -vxF -f <(echo "$mine")
}
# Processes whose environment has one of the lines given (regular expressions).
pids_with() {
  local e=() x
  for x in "$@"; do e+=(-e "$x"); done
  grep -lzx "${e[@]}" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

start_node() {  # DIR NODE
  local dir=$1 node=$2
  HSTEST_NODE=$dir/$node setsid slurmd -D -N "$node" -f "$dir/slurm.conf" \
    >>"$dir/$node/slurmd.out" 2>&1 </dev/null &
  echo $! >"$dir/pids/slurmd-$node"
}

wait_idle() {  # DIR: wait (at most 30 s) until every node is idle
  local dir=$1 end=$((SECONDS + 30))
  while [ $SECONDS -lt $end ]; do
    [ "$(SLURM_CONF=$dir/slurm.conf timeout 5 sinfo -h -N -o '%N %t' 2>/dev/null | grep -c ' idle$')" -eq 2 ] && return 0
    sleep 0.2
  done
  return 1
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {  # HANDLE [WATCH_PID]
  local handle=$1 watch=${2:-$PPID}
  if [ "$(id -u)" -ne 0 ]; then echo "slurm cluster: skipped (needs root: it starts munged and slurm daemons)"; exit 77; fi
  "$(dirname "$self")/../scripts/setup.sh" --with-slurm || exit 1
  local dir
  dir=$(mktemp -d /tmp/hs-slurm.XXXXXX) && chmod 755 "$dir" || exit 1
  echo "$dir" >"$handle"
  trap 'stop_dir "$dir"; exit 1' INT TERM
  mkdir -p "$dir/pids" "$dir/state" "$dir/munge"
  for n in $NODES; do mkdir -p "$dir/$n/spool" "$dir/$n/tmp"; done
  chown munge:munge "$dir/munge" && chmod 755 "$dir/munge"  # munged wants x for all
  local ctld_port; ctld_port=$(free_port)
  cat >"$dir/slurm.conf" <<CONF
ClusterName=hstest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: how long a requeued job is held (default 120 s)
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
MailProg=/bin/true
ReturnToService=2
# a lost node is noticed within seconds, and jobs are cleaned up quickly
SlurmdTimeout=10
KillWait=5
MinJobAge=60
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/%n/spool
TmpFS=$dir/%n/tmp
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/%n/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/%n/slurmd.log
NodeName=n1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$(free_port) CPUs=1 RealMemory=1000 State=UNKNOWN
NodeName=n2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$(free_port) CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
CONF
  # Open MPI across the two "nodes" of one host: TCP on the loopback
  # (shared memory is declined between nodes; eth0 may be absent or filtered).
  cat >"$dir/env" <<ENV
export SLURM_CONF=$dir/slurm.conf
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
ENV
  HSTEST_CLUSTER=$dir setsid setpriv --reuid munge --regid munge --init-groups \
    /usr/sbin/munged -F -S "$dir/munge/munge.socket" --pid-file "$dir/munge/munged.pid" \
    --log-file "$dir/munge/munged.log" --seed-file "$dir/munge/munged.seed" \
    >"$dir/munged.out" 2>&1 </dev/null &
  echo $! >"$dir/pids/munged"
  for _ in $(seq 50); do [ -S "$dir/munge/munge.socket" ] && break; sleep 0.1; done
  HSTEST_CLUSTER=$dir setsid slurmctld -D -i -f "$dir/slurm.conf" >"$dir/slurmctld.out" 2>&1 </dev/null &
  echo $! >"$dir/pids/slurmctld"
  for n in $NODES; do start_node "$dir" "$n"; done
  if ! wait_idle "$dir"; then
    echo "slurm cluster: nodes not idle after 30 s: $(SLURM_CONF=$dir/slurm.conf timeout 5 sinfo -N 2>&1)"
    tail -n 20 "$dir"/*.out "$dir"/*.log "$dir"/n*/slurmd.log "$dir/munge/munged.log" 2>/dev/null
    stop_dir "$dir"; exit 1
  fi
  # the watchdog: stop the cluster when WATCH_PID (ctest) is gone
  setsid bash "$self" watch "$dir" "$watch" >/dev/null 2>&1 </dev/null &
  echo $! >"$dir/pids/watchdog"
  echo "slurm cluster: up in $dir ($(SLURM_CONF=$dir/slurm.conf sinfo -h -N -o '%N:%t' | tr '\n' ' '))"
}

watch() {  # DIR PID
  while [ -f "$1/slurm.conf" ] && kill -0 "$2" 2>/dev/null; do sleep 2; done
  [ -f "$1/slurm.conf" ] && stop_dir "$1" keep-watchdog
}

# Stop cluster DIR: cancel jobs, TERM the daemons by PID, then SIGKILL every
# process left of the cluster (job processes, stray slurmstepd), remove DIR.
stop_dir() {
  local dir=$1 f pid
  [ -f "$dir/slurm.conf" ] || return 0
  SLURM_CONF=$dir/slurm.conf timeout 10 scancel --quiet --full --user=root 2>/dev/null
  for f in "$dir"/pids/slurmd-* "$dir/pids/slurmctld" "$dir/pids/munged"; do
    [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null
  done
  for _ in $(seq 30); do
    local alive=0
    for f in "$dir"/pids/slurmd-* "$dir/pids/slurmctld" "$dir/pids/munged"; do
      [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
    done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in $(cluster_pids "$dir"); do kill -KILL "$pid" 2>/dev/null; done
  for f in "$dir"/pids/*; do
    [ "$f" = "$dir/pids/watchdog" ] && [ "${2:-}" = keep-watchdog ] && continue
    [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
  done
  rm -rf "$dir"
}

case $cmd in
  start) start "${2:?HANDLE}" "${3:-}" ;;
  stop)
    [ -f "${2:?HANDLE}" ] || exit 0
    stop_dir "$(cat "$2")"; rm -f "$2" ;;
  watch) watch "$2" "$3" ;;
  kill-node)  # DIR NODE: a node failure, all at once
    dir=$2 node=$3
    pids="$(cat "$dir/pids/slurmd-$node") $(cluster_pids "$dir" "$node")"
    kill -KILL $pids 2>/dev/null
    echo "$pids" ;;
  start-node) start_node "$2" "$3" ;;
  wait-idle) wait_idle "$2" ;;
  pids) cluster_pids "$2" "${3:-}" ;;
  *) echo "slurm_test_cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac
