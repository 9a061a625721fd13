#!/usr/bin/env bash
# A job edit is never reused silently, and a results file is the file its
# path names (issue 30, items 4 and 5): a vector of 500 values whose last
# entry changes is refused (compared by value, not by a truncated text) and
# leaves the file alone, a grow with the same vector reuses its points; a
# run through a symbolic link is refused while the target's run holds the
# lock, and a grow through a link replaces the target and keeps the link.
set -u
. "$(dirname "$0")/lib.sh"

# Bayes-only points of a diag_gaussian with 500 betas (cheap: no SGD, no ODE)
job() { # output seeds last_beta
  local betas
  betas=$(seq 500 | awk -v last="$3" '{ printf "%s%s", (NR > 1 ? ", " : ""), (NR < 500 ? 1 + NR / 1000 : last) }')
  cat <<JOB
output: $1
job_seed: 3
model:
  distribution: diag_gaussian
  betas: [$betas]
  activation: softmax
  H: 2
  seed: $2
training: {run: false}
ode: {run: false}
analysis: {bayes_samples: 200}
JOB
}

# ---- item 4: the last of 500 betas changed --------------------------------------
job b.h5 "[1, 2]" 1.499 >first.yaml
"$headspec" run --quiet first.yaml 2>/dev/null; ok $? "500 betas: first run"
cp b.h5 before.h5
job b.h5 "[1, 2]" 1.5 >edited.yaml
"$headspec" run --quiet edited.yaml 2>edited.log; code=$?
[ $code -eq 2 ] && grep -q "model.betas (entry 500 of 500: 1.499 in the file, 1.5 in the job)" edited.log
ok $? "the last beta changed: refused, naming it (exit $code: $(cat edited.log))"
"$headspec" validate edited.yaml >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "validate refuses it too"
job b.h5 "[1, 2, 3]" 1.5 >grown.yaml
"$headspec" run --quiet grown.yaml 2>grown.log; [ $? -eq 2 ]; ok $? "a grow with the edited betas: refused"
cmp -s before.h5 b.h5 && ! ls b.h5.old-* >/dev/null 2>&1; ok $? "refused runs leave the file alone"
job b.h5 "[1, 2, 3]" 1.499 >same.yaml
"$headspec" run --quiet same.yaml 2>same.log; ok $? "a grow with the same 500 betas runs"
grep -q "2 points reused, 1 to compute" same.log; ok $? "and reuses the 2 points ($(cat same.log))"

# ---- item 5: the lock and the swap are the target's, through a link ------------
mkdir data
job data/t.h5 "[1, 2]" 1.499 >t.yaml
"$headspec" run --quiet t.yaml 2>/dev/null; ok $? "the target's first run"
ln -s data/t.h5 link.h5
# hold the target's lock as a run does (an fcntl write lock on FILE.lock)
mkfifo go ready
$py -c '
import fcntl
f = open("data/t.h5.lock", "a+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
f.write("host test, pid 0\n"); f.flush()
open("ready", "w").write("locked\n")
open("go").read()
' &
holder=$!
read -r state <ready; [ "$state" = locked ]; ok $? "the test holds the target's lock"
job link.h5 "[1, 2]" 1.499 >link.yaml
"$headspec" run --quiet link.yaml 2>locked.log; code=$?
[ $code -ne 0 ] && grep -q "is being written by another headspec run" locked.log
ok $? "a run through a link is refused while the target is locked (exit $code: $(cat locked.log))"
echo >go; wait $holder
job link.h5 "[1, 2, 3]" 1.499 >linkgrow.yaml
"$headspec" run --quiet linkgrow.yaml 2>linkgrow.log; ok $? "a grow through the link runs ($(cat linkgrow.log))"
[ -L link.h5 ] && [ "$(readlink link.h5)" = data/t.h5 ]; ok $? "the link is kept"
"$headspec" info data/t.h5 | grep -q "3 total, 3 done"; ok $? "the target holds the grown file"
ls data/t.h5.old-* >/dev/null 2>&1 && ! ls link.h5.old-* >/dev/null 2>&1
ok $? "the old copy is the target's, beside it"
[ ! -e link.h5.lock ] && [ ! -e data/t.h5.lock ]; ok $? "no lock left behind"
finish store_edits
