#!/usr/bin/env bash
# Fixed training sets end to end (tests/jobs/trainset.yaml): 1 and 2 ranks
# give the same results bit for bit (so every rank draws the same set); a
# run killed with SIGKILL part-way and resumed (with another rank count)
# equals an uninterrupted run; the stored passes are steps B / n, the loss
# on the set is finite with a set and NaN online, and on the small set
# (n = 32 = d / 2, ~100 passes) it is below the test loss.
set -u
. "$(dirname "$0")/lib.sh"
export OMPI_MCA_rmaps_base_oversubscribe=1
same_results() { $py "$src/tests/compare_results.py" "$1" "$2"; }

cp "$src/tests/jobs/trainset.yaml" r1.yaml
"$headspec" run --quiet r1.yaml 2>r1.log; ok $? "1 rank: $(cat r1.log)"
sed 's|output: trainset.h5|output: r2.h5|' r1.yaml >r2.yaml
mpirun -n 2 "$headspec" run --quiet r2.yaml 2>r2.log; ok $? "2 ranks: $(cat r2.log)"
same_results trainset.h5 r2.h5; ok $? "2 ranks equal 1 rank"
"$headspec" info r2.h5 | grep -q "ranks: 2 stored points"; ok $? "both ranks ran points: $("$headspec" info r2.h5 | grep ranks)"

$py - trainset.h5 <<'PY'; ok $? "passes, the loss on the set, and the gap"
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1])
g = next(iter(f["results"].values()))
alpha, d, B = f["grid/alpha"][:], f["grid/d"][:], f["grid/B"][:]
bad, gaps, done = 0, [], 0
for row, p in enumerate(g["point"][:]):
    passes, tsl = g["sgd/passes"][row], g["sgd/train_set_loss"][row]
    step, test = g["sgd/step"][row], g["sgd/test_loss"][row]
    if alpha[p] == 0:
        bad += not (np.isnan(passes).all() and np.isnan(tsl).all())
        continue
    n = round(alpha[p] * d[p])
    bad += not np.array_equal(passes, step * B[p] / n)
    bad += not np.isfinite(tsl).all()
    if alpha[p] == 0.5:
        gaps.append(test[-1] - tsl[-1])
        done = passes[-1]
print("trainset_sweep: test - training loss at alpha = 0.5 after %.0f passes: %s"
      % (done, np.round(gaps, 3)))
sys.exit(bad or not (len(gaps) == 8 and min(gaps) > 0))
PY

# Killed with SIGKILL part-way (2 ranks), resumed with 1: as uninterrupted.
sed -e 's|output: trainset.h5|output: whole.h5|' -e 's/d: 64/d: 128/' -e 's/t_max: 4/t_max: 16/' r1.yaml >whole.yaml
sed -e 's|output: whole.h5|output: killed.h5|' whole.yaml >kill.yaml
"$headspec" run --quiet whole.yaml 2>/dev/null; ok $? "uninterrupted run"
# each rank held after 2 points (testing hook, docs/TESTS.md): the kill lands mid-run
touch hold
HEADSPEC_TESTING_HOLD=$PWD/hold HEADSPEC_TESTING_HOLD_AFTER=2 setsid mpirun -n 2 "$headspec" run --quiet kill.yaml 2>/dev/null & pid=$!
for _ in $(seq 1200); do  # wait (at most 60 s) until 3 points are done
  sleep 0.05
  done_now=$("$headspec" info killed.h5 2>/dev/null | sed -n 's/.* total, \([0-9]*\) done.*/\1/p')
  [ "${done_now:-0}" -ge 3 ] && break
done
kill -KILL -- -$pid 2>/dev/null; wait $pid 2>/dev/null; rm -f hold
"$headspec" info killed.h5 | grep -q " [1-9][0-9]* pending"; ok $? "killed run left pending points: $("$headspec" info killed.h5 | grep total)"
# mpirun's ranks may outlive it for a moment: wait for their lock to go
# (a resume before that is refused: two writers), as mpi_sweep.sh does.
$py - killed.h5.lock <<'PY'
import fcntl, os, sys, time
for _ in range(600):
    try:
        fcntl.lockf(os.open(sys.argv[1], os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
        sys.exit(0)
    except FileNotFoundError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
ok $? "the killed run's lock is released"
"$headspec" run --quiet kill.yaml 2>resume.log
ok $? "resumed run: $(cat resume.log)"
"$headspec" info killed.h5 | grep -q "0 pending"; ok $? "resumed run completed: $(cat resume.log; "$headspec" info killed.h5)"
same_results whole.h5 killed.h5; ok $? "killed and resumed equals uninterrupted"

finish trainset_sweep
