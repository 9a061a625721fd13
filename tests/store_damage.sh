#!/usr/bin/env bash
# Damaged points and the grow swap (issue 18): a byte changed in a done
# point's data is found by verify and info (the point named by its
# parameters), and run computes that point again instead of reusing it
# (resume) or copying it (grow); the results then equal the undamaged
# file's. A run killed between the two renames of a grow (testing hook
# HEADSPEC_TESTING_KILL_IN_SWAP) leaves FILE whole (the old file), and the
# next run completes the swap: one old copy, the grown file as if never
# killed.
set -u
. "$(dirname "$0")/lib.sh"
job() { store_small_job "$@"; } # output seeds
same() { $py "$src/tests/compare_results.py" "$1" "$2"; }
# damage POINT FILE: flip a byte of POINT's bayes_risk where it is stored
damage() {
  $py - "$1" "$2" <<'PY'
import sys, h5py
point, path = int(sys.argv[1]), sys.argv[2]
with h5py.File(path, "r") as f:
    g = f["grid/group"][point].decode()
    d = f["results/%s/bayes_risk" % g]
    at = d.id.get_offset() + 8 * int(f["grid/row"][point]) + 3
with open(path, "r+b") as f:
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x10]))
PY
}
label() { $py -c "import h5py, sys; print(h5py.File('$2')['grid/label'][$1].decode())"; }

job ref.h5 "[1, 2]" >ref.yaml
"$headspec" run --quiet ref.yaml 2>/dev/null; ok $? "the undamaged run"
"$headspec" verify ref.h5 >verify.log; ok $? "an undamaged file verifies: $(tail -1 verify.log)"
job grown_ref.h5 "[1, 2, 3]" >grown_ref.yaml
"$headspec" run --quiet grown_ref.yaml 2>/dev/null; ok $? "the grown job from scratch"

# ---- resume: the damaged point is found and computed again -----------------
cp ref.h5 res.h5; job res.h5 "[1, 2]" >res.yaml
damage 2 res.h5
"$headspec" verify res.h5 >verify.log 2>verify.err; code=$?
[ $code -eq 1 ] && grep -q "^damaged point 2 ($(label 2 ref.h5)): its stored data does not match its checksum" verify.log &&
  grep -q "res.h5: 1 damaged point" verify.err
ok $? "verify names the damaged point (exit $code: $(cat verify.log verify.err | tail -2))"
"$headspec" info res.h5 >info.log 2>info.err; code=$?
[ $code -eq 1 ] && grep -q "damaged point 2" info.log; ok $? "info counts it (exit $code: $(cat info.err))"
"$headspec" validate res.yaml >validate.log; ok $? "validate"
grep -q "damaged: 1 done points do not match" validate.log; ok $? "validate says it will be recomputed: $(tail -1 validate.log)"
"$headspec" run --quiet res.yaml 2>run.log; ok $? "run on the damaged file: $(cat run.log)"
grep -q "1 done point is damaged .*computed again, never copied: point 2 ($(label 2 ref.h5))" run.log &&
  grep -q "4 done (3 from before)" run.log
ok $? "run names it and computes it alone again: $(cat run.log)"
same ref.h5 res.h5; ok $? "the resumed file equals the undamaged one"
"$headspec" verify res.h5 >/dev/null; ok $? "and verifies"

# ---- grow: the damaged point is not copied ------------------------------------
cp ref.h5 grow.h5; job grow.h5 "[1, 2, 3]" >grow.yaml
damage 1 grow.h5
"$headspec" run --quiet grow.yaml 2>run.log; ok $? "grow a damaged file: $(cat run.log)"
grep -q "1 done point is damaged" run.log && grep -q "3 points reused, 3 to compute" run.log
ok $? "the damaged point is computed, not copied: $(cat run.log)"
same grown_ref.h5 grow.h5; ok $? "the grown file equals the grown job from scratch"
"$headspec" verify grow.h5 >/dev/null; ok $? "and verifies"

# ---- a kill between the renames of the swap -------------------------------------
cp ref.h5 swap.h5; cp ref.h5 swap_before.h5; job swap.h5 "[1, 2, 3]" >swap.yaml
HEADSPEC_TESTING_KILL_IN_SWAP=1 "$headspec" run --quiet swap.yaml 2>/dev/null; code=$?
[ $code -ge 128 ]; ok $? "the hook kills the run in the swap (exit $code)"
cmp -s swap.h5 swap_before.h5; ok $? "after the kill, swap.h5 is still there, the old file whole: $(ls swap.h5*)"
"$headspec" verify swap.h5 >/dev/null; ok $? "and verifies"
"$headspec" validate swap.yaml >validate.log; ok $? "validate after the kill"
# swap.h5 is still there (the old file): validate names the swap run will
# complete and judges the grown file it swaps in (6 points, 4 of them done:
# resumed in place, not grown again from the old file)
grep -q "was being swapped for its grown file .* run completes the swap first" validate.log &&
  grep -q "swap.h5 exists: 4 points done, 2 to compute" validate.log
ok $? "validate mentions the swap and what run will then find: $(cat validate.log)"
"$headspec" run --quiet swap.yaml 2>run.log; ok $? "the next run: $(cat run.log)"
grep -q "completed the swap of a grow" run.log; ok $? "says it completed the swap: $(head -1 run.log)"
[ "$(ls swap.h5.old-* | wc -l)" -eq 1 ] && [ ! -e swap.h5.created ] && [ ! -e swap.h5.creating ]
ok $? "one old copy, nothing else left: $(ls swap.h5*)"
cmp -s "$(ls swap.h5.old-*)" swap_before.h5; ok $? "the old copy is the old file"
same grown_ref.h5 swap.h5; ok $? "the swapped-in file is the grown job's, as if never killed"
grep -q "6 done (4 from before)" run.log; ok $? "the copied points are not computed again: $(tail -1 run.log)"
# a file killed while being made is removed, and made again
cp ref.h5 half.h5; job half.h5 "[1, 2, 3]" >half.yaml; echo "half made" >half.h5.creating
"$headspec" run --quiet half.yaml 2>run.log; ok $? "a leftover .creating: runs ($(cat run.log))"
[ ! -e half.h5.creating ] && same grown_ref.h5 half.h5; ok $? "and is made again"

# ---- a file of layout revision 2 (no checksums) is upgraded with them ----------
# (an older file was run with the defaults of its day: its job states them)
job rev2.h5 "[1, 2]" | sed 's/^ode: {samples: 50}/ode: {samples: 50, method: rkf45, control_variate: false}/' >rev2.yaml
"$headspec" run --quiet rev2.yaml 2>/dev/null; cp rev2.h5 rev2_ref.h5
$py -c "import h5py; f = h5py.File('rev2.h5', 'r+'); del f['grid/checksum']; f.attrs['layout_revision'] = 2"
"$headspec" verify rev2.h5 >verify.log 2>&1; code=$?
[ $code -eq 0 ] && grep -q "checksums: none" verify.log; ok $? "a revision 2 file verifies, saying it has no checksums (exit $code)"
"$headspec" run --quiet rev2.yaml 2>run.log; ok $? "run upgrades it: $(cat run.log)"
"$headspec" verify rev2.h5 >verify.log 2>&1; ok $? "the upgraded file verifies with checksums: $(tail -1 verify.log)"
grep -q "^verified" verify.log && same rev2_ref.h5 rev2.h5; ok $? "and holds the same results"

# A byte of /grid's key_order attribute changed (a reader orders the keys
# by it) is refused: it is stored fixed-length in /grid's checksummed
# header, where a variable-length string's heap was read unchecked.
cp ref.h5 names.h5
$py - names.h5 <<'PY'
import sys, h5py
path = sys.argv[1]
with h5py.File(path, "r") as f:
    names = f["grid"].attrs["key_order"]
with open(path, "rb") as f:
    data = f.read()
width = names.dtype.itemsize
whole = b"".join(bytes(x).ljust(width, b"\0") for x in names)
at = data.find(whole)
assert at > 0 and data.find(whole, at + 1) < 0, "key_order's bytes not found once"
with open(path, "r+b") as f:
    f.seek(at + width); f.write(b"X")  # the second name's first letter
PY
"$headspec" verify names.h5 >verify.log 2>&1; code=$?
[ $code -eq 1 ] && grep -q "names.h5" verify.log; ok $? "a damaged key_order is refused: exit $code, $(tail -1 verify.log)"

finish store_damage
