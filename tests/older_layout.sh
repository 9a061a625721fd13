#!/usr/bin/env bash
# A results file of an older layout revision (tests/data/rev3.h5: the
# 12-point tiny job, written by headspec before ode/method and the control
# variate, layout revision 3, whose job gives neither key) under today's
# headspec: verify and info accept it and Python reads it (the keys it
# lacks are not in its key order, the fields it lacks not in its
# checksums); run refuses to add to it under today's defaults (auto, the
# control variate on), naming both; with the job stating the old settings
# (rkf45, control variate off) run rewrites it in today's layout reusing
# all 12 points, and the rewritten file verifies (its checksums made anew
# over the rows as copied).
# usage: older_layout.sh HEADSPEC SOURCE_DIR
set -u
. "$(dirname "$0")/lib.sh" "$@"
cp "$src/tests/data/rev3.h5" .
$py -c 'import h5py; print(h5py.File("rev3.h5", "r")["job_text"][()].decode(), end="")' >rev3.yaml
grep -q "output: rev3.h5" rev3.yaml; ok $? "the stored job read back: $(head -c 300 rev3.yaml)"
"$headspec" verify rev3.h5 >verify.log 2>&1; ok $? "verify accepts it: $(tail -2 verify.log)"
"$headspec" info rev3.h5 >info.log 2>&1; ok $? "info reads it: $(tail -2 info.log)"
PYTHONPATH="$src/analysis" $py -c "
import headspec, numpy as np
r = headspec.open_results('rev3.h5')
assert len(r.points) == 12 and np.isfinite(r.points.ode_loss).all()" 2>py.log
ok $? "Python reads it: $(tail -3 py.log)"
"$headspec" run --quiet rev3.yaml 2>run.log; code=$?
[ $code -eq 2 ] && grep -q "ode.control_variate (0 in the file, 1 in the job)" run.log &&
  grep -q "ode.method (rkf45 in the file, auto in the job)" run.log
ok $? "run under today's defaults refuses, naming both (exit $code: $(cat run.log))"
cmp -s rev3.h5 "$src/tests/data/rev3.h5"; ok $? "the refused file is untouched"
sed 's/^ode:$/ode:\n  method: rkf45\n  control_variate: false/' rev3.yaml >old.yaml
"$headspec" run old.yaml 2>old.log; ok $? "run with the old settings: $(cat old.log)"
grep -q "12 points reused" old.log; ok $? "all 12 points reused"
"$headspec" verify rev3.h5 >reverify.log 2>&1; ok $? "the rewritten file verifies: $(tail -3 reverify.log)"
finish older_layout
