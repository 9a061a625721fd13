#!/usr/bin/env bash
# `headspec repair JOB` (issue 30, item 6): a damaged results file whose
# damage the job can rebuild (a label's string heap, a coordinate) or that
# has a damaged point is rebuilt from the job, keeping every point whose
# checksum holds; `run` then computes only the others, and the file equals
# the undamaged one bit for bit. A job that did not make the file is refused.
set -u
. "$(dirname "$0")/lib.sh"

store_small_job r.h5 >r.yaml
"$headspec" run --quiet r.yaml 2>/dev/null; ok $? "the undamaged run"
cp r.h5 good.h5
same() { $py "$src/tests/compare_results.py" "$1" "$2" >/dev/null; }

# damage: a byte of /grid/label[1]'s text, one bit of a time coordinate, one
# byte of point 2's sgd/m row (done points' data)
damage() { # FILE WHAT...
  $py - "$@" <<'PY'
import sys, h5py
path, what = sys.argv[1], sys.argv[2:]
with h5py.File(path, "r") as f:
    at = {}
    ids = f["grid/label"].id.get_offset()
    g = sorted(f["results"])[0]
    at["time"] = f["results"][g]["time"].id.get_offset() + 8 + 5
    gp = f["grid/group"][2].decode(); row = int(f["grid/row"][2])
    d = f["results"][gp]["sgd/m"]
    at["data"] = d.id.get_offset() + row * d[0].nbytes + 3
with open(path, "rb") as fh:
    fh.seek(ids + 16); hid = fh.read(16)
    addr, idx = int.from_bytes(hid[4:12], "little"), int.from_bytes(hid[12:16], "little")
    fh.seek(addr); col = fh.read(4096)
p = 16
while int.from_bytes(col[p:p + 2], "little") != idx:
    p += 16 + ((int.from_bytes(col[p + 8:p + 16], "little") + 7) & ~7)
at["label"] = addr + p + 16 + 2
with open(path, "r+b") as fh:
    for w in what:
        fh.seek(at[w]); b = fh.read(1)[0]; fh.seek(at[w]); fh.write(bytes([b ^ 1]))
PY
}

damage r.h5 label time data
"$headspec" run --quiet r.yaml 2>run.log; code=$?
[ $code -ne 0 ] && grep -q "headspec repair JOB" run.log; ok $? "run refuses it and offers repair (exit $code: $(cat run.log))"
"$headspec" info r.h5 >/dev/null 2>&1; [ $? -eq 1 ]; ok $? "info refuses it as verify does"
"$headspec" repair r.yaml >repair.log 2>&1; ok $? "repair runs ($(cat repair.log))"
grep -q "3 of 4 points kept" repair.log; ok $? "it keeps the 3 points that verify"
ls r.h5.old-* >/dev/null 2>&1; ok $? "the damaged file is kept"
"$headspec" verify r.h5 >/dev/null; ok $? "the repaired file verifies"
"$headspec" run --quiet r.yaml 2>rerun.log; ok $? "run computes the rest ($(cat rerun.log))"
grep -q "1 to compute" rerun.log; ok $? "only the damaged point ($(cat rerun.log))"
same good.h5 r.h5; ok $? "the result equals the undamaged file bit for bit"
PYTHONPATH="$src/analysis" $py -c "import headspec; headspec.open_results('r.h5').points" 2>py.log
ok $? "Python reads it ($(tail -1 py.log))"

# the job text damaged: the same job file still tells the file is its
cp good.h5 r.h5
$py - <<'PY'
import h5py
with h5py.File("r.h5", "r") as f:
    at = f["job_text"].id.get_offset()
with open("r.h5", "rb") as fh:
    fh.seek(at); hid = fh.read(16)
addr = int.from_bytes(hid[4:12], "little")
with open("r.h5", "r+b") as fh:
    fh.seek(addr + 16 + 16 + 5); b = fh.read(1)[0]; fh.seek(addr + 16 + 16 + 5); fh.write(bytes([b ^ 1]))
PY
"$headspec" verify r.h5 >/dev/null 2>&1; [ $? -eq 1 ]; ok $? "a damaged job text is found"
"$headspec" repair r.yaml >repair2.log 2>&1; ok $? "repaired with its job ($(cat repair2.log))"
grep -q "4 of 4 points kept" repair2.log && "$headspec" verify r.h5 >/dev/null; ok $? "every point kept, verified"
# another job (another b2): refused, the file left alone
cp good.h5 r.h5
sed 's/b2: 2.0/b2: 3.0/' r.yaml >other.yaml
"$headspec" repair other.yaml >other.log 2>&1; code=$?
[ $code -eq 2 ] && grep -q "cannot tell that it was made by this job" other.log && cmp -s good.h5 r.h5
ok $? "another job's repair refused, the file unchanged (exit $code: $(cat other.log))"
finish store_repair
