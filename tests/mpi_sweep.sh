#!/usr/bin/env bash
# The MPI sweep: 1, 2 and 4 ranks (oversubscribed) give identical results;
# a point forced to fail is marked failed while the rest complete; SIGTERM
# stops cleanly (exit 3) and the run resumes; the whole job killed with
# SIGKILL at several moments, then resumed, equals an uninterrupted run.
set -u
headspec=$(realpath "$1") src=$(realpath "$2") py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0 n=0
ok() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }
run() { local ranks=$1; shift; mpirun -n "$ranks" "$headspec" run --quiet "$@"; }
done_in() { "$headspec" info "$1" 2>/dev/null | sed -n 's/.* total, \([0-9]*\) done.*/\1/p'; }
# Wait (at most 60 s) until FILE has more than N points done.
wait_done_above() {
  for _ in $(seq 600); do [ "$(done_in "$1")" -gt "$2" ] 2>/dev/null && return; sleep 0.1; done
}
# Result datasets (wall times excluded) of two files are equal, bit for bit.
same_results() { $py "$src/tests/compare_results.py" "$1" "$2"; }

sed -e 's/d: 64/d: 128/' -e 's/t_max: 2/t_max: 4/' "$src/tests/jobs/tiny.yaml" >base.yaml
for ranks in 1 2 4; do
  sed "s|output: tiny.h5|output: r$ranks.h5|" base.yaml >r$ranks.yaml
  run $ranks r$ranks.yaml 2>r$ranks.log; ok $? "$ranks ranks: $(cat r$ranks.log)"
  $py "$src/tests/check_results.py" r$ranks.h5 r$ranks.yaml $ranks >/dev/null; ok $? "$ranks ranks: results checks"
done
same_results r1.h5 r2.h5; ok $? "2 ranks equal 1 rank"
same_results r1.h5 r4.h5; ok $? "4 ranks equal 1 rank"
"$headspec" info r4.h5 | grep -q "ranks: [234] stored points"; ok $? "points spread over ranks: $("$headspec" info r4.h5 | grep ranks)"

# A failing point: marked failed with its reason, the others complete.
sed "s|output: tiny.h5|output: failing.h5|" base.yaml >failing.yaml
printf 'testing:\n  fail_point: 5\n' >>failing.yaml
run 2 failing.yaml 2>failing.log; code=$?
[ $code -eq 1 ] && grep -q "11 done (0 from before), 1 failed" failing.log; ok $? "failing point: exit $code, $(tail -1 failing.log)"
"$headspec" info failing.h5 | grep -q "failed point 5 (distribution=flipping activation=bsoftmax H=2): forced failure"
ok $? "failure reason stored, the point named by its parameters: $("$headspec" info failing.h5 | grep failed)"
$py -c "import h5py,sys; f=h5py.File('failing.h5'); s=f['grid/status'][:]; sys.exit(not (s[5]==2 and (s!=1).sum()==1))"
ok $? "status: point 5 failed, all others done"

# The resume line after a stop under mpirun (the testing hook raises SIGUSR1
# in the ODE phase: no timing): exit 3, the line is mpirun's own command line
# (--allow-run-as-root and all, here without Open MPI's root variables) but
# without --restart, which would start over; pasted, it resumes the file.
sed -e "s|output: tiny.h5|output: hint.h5|" base.yaml >hint.yaml
(
  unset OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
  HEADSPEC_TESTING_SIGNAL_IN=ode mpirun --allow-run-as-root -q -n 2 -x HEADSPEC_TESTING_SIGNAL_IN \
    "$headspec" run --restart --quiet hint.yaml 2>hint.log; echo $? >hint.code
)
line=$(sed -n 's/^headspec: stopped by a signal; to resume (done points are kept): //p' hint.log)
[ "$(cat hint.code)" -eq 3 ] && [[ "$line" == "mpirun --allow-run-as-root -q -n 2 -x HEADSPEC_TESTING_SIGNAL_IN $headspec run --quiet hint.yaml" ]]
ok $? "resume line after run --restart under mpirun: exit $(cat hint.code), '$line'"
(unset OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM; eval "$line") 2>pasted.log
ok $? "the resume line, pasted, runs: $(tr '\n' ' ' <pasted.log)"
grep -q "hint.h5: resuming: 0 points done, 12 to compute" pasted.log && [ "$(ls hint.h5.old-* 2>/dev/null | wc -l)" -eq 0 ]
ok $? "the pasted line resumed, it did not start over: $(ls hint.h5*)"

# SIGUSR1 (what SLURM sends before walltime), SIGTERM and SIGINT (Ctrl-C):
# abandon the current points, say how to resume, and the re-run completes
# the same file. The ranks exit 3; mpirun passes that on for SIGUSR1, which
# it forwards, but answers SIGTERM and SIGINT itself: Open MPI 4's mpirun
# sets its own exit status to 1 as it orders the ranks to stop (clean_abort
# in orted_submit.c; SIGINT and SIGTERM cannot be forwarded,
# ess_base_forward_signals), before any rank's status arrives. The ranks'
# clean stop shows in the summary line and the resume line.
sed -e "s|output: tiny.h5|output: term.h5|" -e 's/d: 128/d: 512/' -e 's/t_max: 4/t_max: 16/' base.yaml >term.yaml
sed -e "s|output: term.h5|output: whole.h5|" term.yaml >whole.yaml
run 2 whole.yaml 2>/dev/null; ok $? "uninterrupted run"
# Each rank is held after its first point (testing hook, docs/TESTS.md), so
# the signal lands while the run is going, however fast the machine.
touch hold
for sig in USR1 TERM INT; do
  before=$(done_in term.h5); before=${before:-0}
  HEADSPEC_TESTING_HOLD=$PWD/hold setsid mpirun -n 2 "$headspec" run --quiet term.yaml 2>term.log & pid=$!
  wait_done_above term.h5 "$before"  # running, and not finished
  kill -$sig $pid; wait $pid; code=$?
  want=3; [ $sig = USR1 ] || want=1
  [ $code -eq $want ] && grep -q "to resume (done points are kept): mpirun -n 2 .*headspec run --quiet term.yaml" term.log
  ok $? "SIG$sig: exit $code, $(grep headspec term.log | tr '\n' ' ')"
  "$headspec" info term.h5 | grep -q "pending"; ok $? "SIG$sig left pending points"
done
rm hold
run 2 term.yaml 2>/dev/null; ok $? "resume after the signals"
same_results whole.h5 term.h5; ok $? "stopped three times, then resumed, equals uninterrupted"

# SIGKILL of the whole job (as at walltime) at three moments, then resume.
sed -e "s|output: term.h5|output: killed.h5|" term.yaml >kill.yaml
# mpirun's ranks are not in its process group and may outlive it for a
# moment: wait until the killed run's lock is gone, as SLURM does before a
# requeued job starts (a resume before that is refused: two writers).
unlocked() {
  $py - "$1" <<'PY'
import fcntl, os, sys, time
for _ in range(600):
    try:
        fd = os.open(sys.argv[1], os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        sys.exit(0)
    except FileNotFoundError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}
# Twice held after each rank's first point (sure to be mid-run), once
# unheld after a delay (any moment, a write included, or after the end).
touch hold
for delay in held held 1.5; do
  before=$(done_in killed.h5); before=${before:-0}
  [ $delay = held ] && hold=$PWD/hold || hold=
  HEADSPEC_TESTING_HOLD=$hold setsid mpirun -n 2 "$headspec" run --quiet kill.yaml 2>/dev/null & pid=$!
  if [ $delay = held ]; then wait_done_above killed.h5 "$before"; else sleep $delay; fi
  [ $delay = held ] && { "$headspec" info killed.h5 | grep -q " [1-9][0-9]* pending"; ok $? "held: killed mid-run"; }
  kill -KILL -- -$pid 2>/dev/null; wait $pid 2>/dev/null
  unlocked killed.h5.lock; ok $? "the killed run's lock is released"
done
rm hold
"$headspec" info killed.h5 >/dev/null; ok $? "file readable after SIGKILLs"
run 2 kill.yaml 2>/dev/null; ok $? "resume after SIGKILLs"
same_results whole.h5 killed.h5; ok $? "SIGKILLs then resume equals uninterrupted"

echo "mpi_sweep: $((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
