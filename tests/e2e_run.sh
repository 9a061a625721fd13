#!/usr/bin/env bash
# End to end with one process: run a tiny job, read the file with h5py, then
# resume, refuse a changed shared setting, --restart, a read-only directory, a
# missing directory, and a run
# killed with SIGKILL then resumed (its results must equal an uninterrupted
# run's bit for bit).
set -u
. "$(dirname "$0")/lib.sh"

# Every subcommand takes --help: its usage on stdout, exit 0, nothing run.
for cmd in run validate info verify repair clean; do
  out=$("$headspec" $cmd --help 2>&1); code=$?
  [ $code -eq 0 ] && [[ "$out" == "usage: headspec $cmd "* ]]; ok $? "$cmd --help: exit $code, $out"
  out=$("$headspec" $cmd no-such-file.yaml --help 2>&1); code=$?
  [ $code -eq 0 ] && [[ "$out" == "usage: headspec $cmd "* ]]; ok $? "$cmd FILE --help: exit $code, $out"
done
"$headspec" help verify | grep -q "^usage: headspec verify RESULTS.h5"; ok $? "help verify"
"$headspec" --help | grep -q "CMD --help"; ok $? "--help names CMD --help"
"$headspec" bogus 2>/dev/null; [ $? -eq 2 ]; ok $? "an unknown command exits 2"
out=$("$headspec" help bogus 2>&1); code=$?
[ $code -eq 2 ] && [[ "$out" == "headspec: help: unknown command 'bogus'"* ]]; ok $? "help of an unknown command: exit $code"

cp "$src/tests/jobs/tiny.yaml" job.yaml
"$headspec" run --quiet job.yaml 2>run.log; ok $? "first run exits 0 ($(cat run.log))"
$py "$src/tests/check_results.py" tiny.h5 job.yaml; ok $? "results file checks"
"$headspec" info tiny.h5 >info.txt; ok $? "info"
grep -q "12 total, 12 done, 0 failed, 0 pending" info.txt; ok $? "info counts: $(cat info.txt)"
# t_max = 2 is long before any point specialises: info names them as moving
$py - tiny.h5 <<'PY'; ok $? "every stored verdict says still moving"
import h5py, sys
f = h5py.File(sys.argv[1])
v = [f["results"][g][r + "/converged"][()] for g in f["results"] for r in ("sgd", "ode")]
sys.exit(not all((x == 0).all() for x in v))
PY
grep -q "convergence: 12 of 12 done points still moving" info.txt && grep -q "still moving: point 0 (.*): sgd ode" info.txt
ok $? "info counts the points still moving: $(grep -i moving info.txt | head -3)"
[ "$(grep -c '^still moving: point' info.txt)" -eq 10 ] && grep -q "^\.\.\. and 2 more still moving" info.txt
ok $? "info lists 10 points still moving and counts the other 2: $(grep -i 'more' info.txt)"
cp tiny.h5 first.h5

"$headspec" run --quiet job.yaml 2>rerun.log; ok $? "re-run exits 0"
grep -q "12 done (12 from before)" rerun.log; ok $? "re-run skips done points: $(cat rerun.log)"
h5diff first.h5 tiny.h5 >/dev/null; ok $? "re-run changes nothing"

sed 's/t_max: 2/t_max: 3/' job.yaml >other.yaml
sed -i 's/output: tiny.h5/output: tiny.h5/' other.yaml
"$headspec" run --quiet other.yaml 2>other.log; code=$?
[ $code -eq 2 ] && grep -q "settings that every point shares: training.t_max (2 in the file, 3 in the job)" other.log
ok $? "changed shared setting refused, key named (exit $code: $(cat other.log))"
grep -q "run with --restart to start anew" other.log && ! grep -q -- "--fresh" other.log
ok $? "the refusal names --restart, not its old name: $(cat other.log)"
h5diff first.h5 tiny.h5 >/dev/null; ok $? "refused run leaves the file alone"
"$headspec" run --quiet --restart other.yaml 2>restart.log; ok $? "--restart runs"
ls tiny.h5.old-* >/dev/null 2>&1 && grep -q "moved the old tiny.h5 aside" restart.log; ok $? "--restart moved the old file aside"

mkdir ro && sed 's|output: tiny.h5|output: ro/x.h5|' job.yaml >ro.yaml && chmod a-w ro
if [ "$(id -u)" -ne 0 ]; then  # root writes anywhere
  "$headspec" run --quiet ro.yaml 2>ro.log; code=$?
  [ $code -eq 1 ] && grep -q "cannot create" ro.log; ok $? "read-only output (exit $code: $(cat ro.log))"
fi
sed 's|output: tiny.h5|output: missing-dir/x.h5|' job.yaml >nodir.yaml
"$headspec" run nodir.yaml 2>nodir.log; code=$?
[ $code -eq 0 ] && grep -q "created the directory of missing-dir/x.h5" nodir.log && [ -f missing-dir/x.h5 ]
ok $? "output in a missing directory is created (exit $code: $(cat nodir.log))"

# Killed with SIGKILL part-way, then resumed: same numbers as uninterrupted.
sed -e 's|output: tiny.h5|output: killed.h5|' -e 's/d: 64/d: 256/' -e 's/t_max: 2/t_max: 8/' job.yaml >kill.yaml
sed -e 's|output: killed.h5|output: whole.h5|' kill.yaml >whole.yaml
"$headspec" run --quiet whole.yaml 2>/dev/null; ok $? "uninterrupted run"
# held after 3 points (testing hook, docs/TESTS.md) so the kill lands mid-run
touch hold
HEADSPEC_TESTING_HOLD=$PWD/hold HEADSPEC_TESTING_HOLD_AFTER=3 "$headspec" run --quiet kill.yaml 2>/dev/null & pid=$!
for _ in $(seq 1200); do  # wait (at most 60 s) until the 3 points are done
  sleep 0.05
  done_now=$("$headspec" info killed.h5 2>/dev/null | sed -n 's/.* total, \([0-9]*\) done.*/\1/p')
  [ "${done_now:-0}" -ge 3 ] && break
done
kill -9 $pid; wait $pid 2>/dev/null; rm -f hold
"$headspec" info killed.h5 | grep -q "total, 3 done, 0 failed, 9 pending"; ok $? "killed run left 9 points pending: $("$headspec" info killed.h5 | grep total)"
"$headspec" run --quiet kill.yaml 2>resume.log; ok $? "resumed run: $(cat resume.log)"
$py "$src/tests/compare_results.py" whole.h5 killed.h5; ok $? "killed and resumed equals uninterrupted"

# ODE from given starts: the Bayes point stays at R*; m, Q, b as given.
"$headspec" run --quiet "$src/tests/jobs/starts.yaml" 2>starts.log; ok $? "ODE starts run: $(cat starts.log)"
$py "$src/tests/check_starts.py" starts.h5; ok $? "ODE starts checks"

# A Bayes-risk-only point: R* as MODEL.md section 9's reference (0.4366 +-
# 0.0011) within 3 combined SE; every SGD and ODE result NaN.
"$headspec" run --quiet "$src/tests/jobs/good/bayes_only.yaml" 2>bayes.log; ok $? "Bayes-only run: $(cat bayes.log)"
$py - <<'PY'; ok $? "Bayes-only point: R* against the reference, SGD/ODE fields NaN"
import h5py, numpy as np, sys
g = next(iter(h5py.File("bayes_only.h5")["results"].values()))
risk, se = g["bayes_risk"][0], g["bayes_risk_se"][0]
print(f"bayes_only: R* {risk:.4f} +- {se:.4f}")
fields = ["sgd/t", "sgd/m", "sgd/test_loss", "sgd/lpop", "sgd/lpop_fresh", "sgd/maps",
          "ode/m", "ode/loss", "ode/loss_fresh", "ode/prune_loss"]
nan = all(np.isnan(g[k][()]).all() for k in fields)
sys.exit(not (abs(risk - 0.4366) <= 3 * np.hypot(se, 0.0011) and nan))
PY

finish e2e_run
