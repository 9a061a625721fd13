#!/usr/bin/env bash
# Results files that grow with the grid and are never lost, replaced or
# trusted blindly: a finished job grown (a new seed, a new H, a comment and
# reordered keys) copies its done points bit for bit and computes only the
# new ones; changed shared settings and dropped points are refused; and the
# faults of the plan/store issue: --restart twice in a second, outputs that are
# not regular files, two runs at once, a stale lock, a full disk, tampered
# files, a too long name, a job text over 64 KiB.
set -u
. "$(dirname "$0")/lib.sh"
not_crashed() { [ "$1" -eq 1 ] || [ "$1" -eq 2 ]; }  # a clean refusal, not a signal

# the store tests' small job: 2 activations x 2 seeds
job() { store_small_job "$@"; } # output seeds H
same_rows() { $py "$src/tests/same_rows.py" "$1" "$2" >/dev/null; }
same() { $py "$src/tests/compare_results.py" "$1" "$2"; }

# ---- growing -----------------------------------------------------------------
job grow.h5 "[1, 2]" 2 >grow.yaml
"$headspec" run --quiet grow.yaml 2>/dev/null; ok $? "first run"
cp grow.h5 first.h5
# a comment, the keys of a section reordered, another format: same points
{ echo "# a comment"; job grow.h5 "[1, 2]" 2 | sed 's/  b1: 1.0/  b1: 1.00/'; } >same.yaml
"$headspec" run --quiet same.yaml 2>same.log; ok $? "same points, new text: runs ($(cat same.log))"
grep -q "resuming: 4 points done, 0 to compute" same.log && ! ls grow.h5.old-* >/dev/null 2>&1
ok $? "same points: resumed in place, no copy made ($(cat same.log))"
# a new seed
job grow.h5 "[1, 2, 3]" 2 >seed.yaml
"$headspec" validate seed.yaml >validate.log; ok $? "validate the grown job"
grep -q "4 points reused (it will be rewritten with the new points), 2 to compute" validate.log
ok $? "validate shows the reuse: $(tail -1 validate.log)"
"$headspec" run --quiet seed.yaml 2>seed.log; ok $? "a new seed: runs"
grep -q "the job adds points: 4 points reused, 2 to compute" seed.log; ok $? "says what it reuses: $(cat seed.log)"
ls grow.h5.old-* >/dev/null 2>&1; ok $? "the old file is kept"
grep -q "moved the old grow.h5 aside to grow.h5.old-[0-9-]* ([0-9.]* MB, a whole copy; .headspec clean grow.h5. deletes the old copies)" seed.log
ok $? "the run names the old copy, its size and how to drop it: $(grep aside seed.log)"
# validate after the grow: the cost of what is left (nothing), not the grid's
"$headspec" validate seed.yaml >left.log; ok $? "validate after the grow"
grep -q "estimated cost: 0 core-hours (0 core-seconds) for the points left to compute" left.log &&
  grep -q "6 points done, 0 to compute" left.log
ok $? "validate prices what is left: $(grep -E 'estimated|output' left.log | tr '\n' ' ')"
same_rows first.h5 grow.h5; ok $? "old points copied bit for bit, with their run records"
job scratch1.h5 "[1, 2, 3]" 2 >scratch1.yaml
"$headspec" run --quiet scratch1.yaml 2>/dev/null
same grow.h5 scratch1.h5; ok $? "the grown file equals the grown job run from scratch"
"$headspec" info grow.h5 | grep -q "6 total, 6 done"; ok $? "6 points done"
# a new H (new results groups), and the seeds listed in another order
cp grow.h5 second.h5
job grow.h5 "[3, 1, 2]" "[2, 3]" >heads.yaml
"$headspec" run --quiet heads.yaml 2>heads.log; ok $? "a new H: runs"
grep -q "6 points reused, 6 to compute" heads.log; ok $? "a new H: $(cat heads.log)"
same_rows second.h5 grow.h5; ok $? "new H: old points copied bit for bit"
job scratch2.h5 "[3, 1, 2]" "[2, 3]" >scratch2.yaml
"$headspec" run --quiet scratch2.yaml 2>/dev/null
same grow.h5 scratch2.h5; ok $? "new H: equals the job run from scratch"
# refused: a changed shared setting, a dropped done point
sed 's/t_max: 0.5,/t_max: 2,/' heads.yaml >tmax.yaml
cp grow.h5 before.h5
"$headspec" run --quiet tmax.yaml 2>tmax.log; code=$?
[ $code -eq 2 ] && grep -q "training.t_max (0.5 in the file, 2 in the job)" tmax.log
ok $? "changed t_max refused with the key named (exit $code: $(cat tmax.log))"
job grow.h5 "[1, 2]" "[2, 3]" >drop.yaml
"$headspec" run --quiet drop.yaml 2>drop.log; code=$?
[ $code -eq 2 ] && grep -q "the job leaves out 4 done points of grow.h5 (e.g. .*seed=3)" drop.log
ok $? "dropped points refused (exit $code: $(cat drop.log))"
cmp -s before.h5 grow.h5; ok $? "refused runs leave the file alone"

# ---- item 7: never lost, replaced or trusted blindly -----------------------------
# --restart twice within a second (once by its old name --fresh): two old
# copies, none overwritten
"$headspec" run --quiet --restart heads.yaml 2>/dev/null; "$headspec" run --quiet --fresh heads.yaml 2>/dev/null
[ "$(ls grow.h5.old-* | wc -l)" -eq 4 ]; ok $? "every --restart keeps its own old copy: $(ls grow.h5.old-* | tr '\n' ' ')"
# headspec clean deletes them, and only them
cp grow.h5 kept.h5
# a user's own file of the same prefix, and an old copy of another output
# named grow.h5.old-x.h5, are not grow.h5's copies
echo notes >grow.h5.old-notes.txt; echo other >grow.h5.old-x.h5.old-20260101-000000
"$headspec" clean grow.h5 >clean.log; ok $? "clean runs: $(cat clean.log)"
[ -e grow.h5.old-notes.txt ] && [ -e grow.h5.old-x.h5.old-20260101-000000 ]
ok $? "clean leaves FILE.old-* that are not its dated copies: $(ls grow.h5*)"
rm -f grow.h5.old-notes.txt grow.h5.old-x.h5.old-20260101-000000
[ "$(grep -c '^deleted grow.h5.old-' clean.log)" -eq 4 ] && grep -q "grow.h5: 4 old copies deleted" clean.log &&
  ! ls grow.h5.old-* >/dev/null 2>&1 && cmp -s grow.h5 kept.h5 && [ ! -e grow.h5.lock ]
ok $? "clean deleted the 4 old copies, named with their sizes, and left grow.h5 alone: $(ls grow.h5*; cat clean.log)"
# outputs that exist and are not regular files
mkfifo fifo; mkdir adir
for target in fifo adir; do
  job $target "[1]" 2 >t.yaml
  "$headspec" run --quiet t.yaml 2>t.log; code=$?
  [ $code -eq 2 ] && grep -q "exists and is not a regular file" t.log && [ -e $target ] && ! ls $target.old-* >/dev/null 2>&1
  ok $? "output: $target refused, left in place (exit $code: $(cat t.log))"
done
if [ "$(id -u)" -eq 0 ]; then  # a device node (as root, /dev/null would be moved aside)
  mknod nulldev c 1 3
  job nulldev "[1]" 2 >t.yaml
  "$headspec" run --quiet t.yaml 2>t.log; code=$?
  [ $code -eq 2 ] && [ -c nulldev ] && ! ls nulldev.old-* >/dev/null 2>&1; ok $? "a device node refused (exit $code: $(cat t.log))"
fi
# two runs of one job at once: the second is refused, naming the first (the
# first held before its first point by a testing hook, docs/TESTS.md; killed after)
sed -e 's/output: grow.h5/output: busy.h5/' heads.yaml >busy.yaml
touch hold
HEADSPEC_TESTING_HOLD=$PWD/hold HEADSPEC_TESTING_HOLD_AFTER=0 "$headspec" run --quiet busy.yaml 2>busy1.log & pid=$!
for _ in $(seq 200); do [ -s busy.h5.lock ] && break; sleep 0.05; done
"$headspec" run --quiet busy.yaml 2>busy2.log; code=$?
[ $code -eq 1 ] && grep -q "busy.h5 is being written by another headspec run (host .*, pid $pid)" busy2.log
ok $? "a second run at once is refused (exit $code: $(cat busy2.log))"
kill -9 $pid; wait $pid 2>/dev/null; rm -f hold
# a lock file left by a killed run (nobody holds it) does not block
job stale.h5 "[1]" 2 >stale.yaml
echo "host gone, pid 99999999" >stale.h5.lock
"$headspec" run --quiet stale.yaml 2>stale.log; ok $? "a stale lock does not block the run ($(cat stale.log))"
[ ! -e stale.h5.lock ]; ok $? "the lock is gone after the run"
# a disk too small for the file (a 64 KiB tmpfs, as root): refused up front
# with the sizes, nothing left behind, no crash at exit
mkdir small
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
  trap 'umount "$work/small"; rm -rf "$work"' EXIT
  job small/full.h5 "[1, 2, 3, 4]" "[2, 3]" >full.yaml
  "$headspec" run --quiet full.yaml 2>full.log; code=$?
  [ $code -eq 1 ] && [ -z "$(ls small)" ] && grep -q "small/full.h5: the results file needs about .* MB, but its disk has .* MB free" full.log
  ok $? "disk full at creation: exit $code, nothing left: $(ls small) ($(cat full.log))"
else
  echo "skipped: disk-full check (needs root to mount a small tmpfs)"
fi
# tampered files: refused with what is wrong, never read blindly
tamper() { # name python-statement
  cp grow.h5 "$1.h5"
  $py -c "import h5py, numpy as np; f = h5py.File('$1.h5', 'r+'); $2"
  sed "s/output: grow.h5/output: $1.h5/" heads.yaml >"$1.yaml"
  "$headspec" info "$1.h5" >"$1.info" 2>&1; local ci=$?
  "$headspec" run --quiet "$1.yaml" 2>"$1.log"; local cr=$?
  [ $ci -eq 1 ] && not_crashed $cr && [ $cr -ne 0 ] && grep -q "$3" "$1.log" && grep -q "$3" "$1.info"
  ok $? "tampered ($1): info exit $ci, run exit $cr: $(cat "$1.log")"
}
tamper npoints "f.attrs['n_points'] = np.int64(10**9)" "n_points"
tamper status "s = f['grid/status'][:]; del f['grid/status']; f['grid/status'] = np.concatenate([s, s])" "/grid/status should be integer of (12)"
tamper group "del f['grid/group']" "/grid/group is missing"
tamper column "del f['grid/H']" "/grid/H is missing"
tamper row "f['grid/row'][0] = 5" "/grid/row\[0\] is 5"
tamper data "del f['results/H2_K2_L8_T3_maps1/sgd/m']" "sgd/m is missing"
# a column this layout revision added, gone from a file of this revision
tamper newer "del f['grid/start_lambda']" "/grid/start_lambda is missing"
# a point's parameter changed (or the points in another order): rows are read by position
tamper value "f['grid/H'][0] = 7" "/grid/H\\[0\\] is 7, but the job stored in the file gives point 0 2"
tamper name "f['grid/activation'][0] = 'bsoftmax'" "/grid/activation\\[0\\] is bsoftmax"
# an output name too long for the suffixes we add
long=$(printf 'x%.0s' $(seq 240))
job "$long.h5" "[1]" 2 >long.yaml
"$headspec" validate long.yaml >/dev/null 2>long.log; code=$?
[ $code -eq 2 ] && grep -q "^headspec: long.yaml:1: the output file name is 243 characters long; at most 200" long.log
ok $? "long name refused by validate, with FILE:LINE (exit $code: $(cat long.log))"
"$headspec" run --quiet long.yaml 2>long.log; code=$?
[ $code -eq 2 ] && grep -q "characters long; at most 200" long.log; ok $? "long name refused by run (exit $code)"
# a job text over 64 KiB (a long comment) runs, and is stored whole
{ job big.h5 "[1]" 2; for _ in $(seq 1200); do echo "# a long comment line, to make the job text larger than 64 KiB"; done; } >big.yaml
"$headspec" run --quiet big.yaml 2>big.log; ok $? "a job text of $(wc -c <big.yaml) bytes runs ($(cat big.log))"
$py -c "import h5py, sys; sys.exit(h5py.File('big.h5')['job_text'][()].decode() != open('big.yaml').read())"
ok $? "the whole job text is stored"

# ---- a file written by an older headspec ---------------------------------------
# An older headspec wrote fewer datasets (no /grid column for a newer key, no
# newer result fields): info reads it, run rewrites it in the current layout
# with the done points copied bit for bit and the missing fields NaN, and
# computes the pending point in full.
# (run with the defaults of its day: its job states them)
job older.h5 "[1, 2]" 2 |
  sed 's/^ode: {samples: 50}/ode: {samples: 50, method: rkf45, control_variate: false}/' >older.yaml
"$headspec" run --quiet older.yaml 2>/dev/null; ok $? "run for the older file"
$py - <<'PY'
import h5py
with h5py.File("older.h5", "r+") as f:
    del f["grid/start_lambda"]
    del f.attrs["layout_revision"]
    for g in f["results"]:
        for name in ("ode/loss_fresh", "ode/loss_fresh_se", "sgd/lpop_fresh", "sgd/lpop_fresh_se"):
            del f["results"][g][name]
    f["grid/status"][3] = 0  # pending
PY
cp older.h5 older_before.h5
"$headspec" info older.h5 >older_info.log 2>&1; ok $? "info reads an older file: $(cat older_info.log)"
grep -q "written by an older headspec: 5 datasets" older_info.log; ok $? "info says it is older: $(tail -1 older_info.log)"
"$headspec" run --quiet older.yaml 2>older_run.log; ok $? "run upgrades the older file: $(cat older_run.log)"
grep -q "written by an older headspec: rewritten in this one's layout, 3 points reused" older_run.log
ok $? "says it upgrades: $(cat older_run.log)"
$py - <<'PY'; ok $? "older file: done rows copied bit for bit, missing fields NaN, the pending point computed in full"
import sys, h5py, numpy as np
old, new = h5py.File("older_before.h5", "r"), h5py.File("older.h5", "r")
status = old["grid/status"][()]
bad = []
for g in old["results"]:
    rows = old["results"][g]["point"][()]
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name != "point" and obj.ndim and obj.shape[0] == len(rows):
            for r, p in enumerate(rows):
                if status[p] == 1 and obj[r].tobytes() != new["results"][g][name][r].tobytes():
                    bad.append((g, name, p))
    old["results"][g].visititems(visit)
    for r, p in enumerate(rows):
        fresh = new["results"][g]["ode/loss_fresh"][r]
        if (status[p] == 1) == np.isfinite(fresh):
            bad.append((g, "ode/loss_fresh", p, fresh))
if "start_lambda" not in new["grid"] or bad:
    print(bad); sys.exit(1)
PY

finish store_grow
