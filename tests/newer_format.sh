#!/usr/bin/env bash
# A results file from a newer headspec (format_version above this one's,
# written by "9.9.9"): `headspec info`, `run` and the Python reader refuse
# it and name the release to upgrade to, and run leaves it as it was.
# usage: newer_format.sh HEADSPEC_BINARY SOURCE_DIR
set -u
. "$(dirname "$0")/lib.sh"
cp "$src/tests/jobs/tiny.yaml" job.yaml
"$headspec" run --quiet job.yaml 2>run.log; ok $? "headspec run: $(cat run.log)"
format=$("$headspec" --version | sed -n '1s/.*results format \([0-9]*\)).*/\1/p')
$py - tiny.h5 $((format + 1)) <<'PY'; ok $? "the file made newer"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:  # fixed-length text, as headspec writes it
    f.attrs["format_version"] = np.int64(sys.argv[2])
    f.attrs["software_version"] = np.bytes_(b"9.9.9")
PY
cp tiny.h5 newer.h5
for cmd in info verify; do
  "$headspec" $cmd tiny.h5 >$cmd.out 2>$cmd.err; code=$?
  [ $code -eq 1 ] && grep -q "written by headspec 9.9.9.*upgrade to headspec 9.9.9 or newer" $cmd.err
  ok $? "headspec $cmd names the release to upgrade to (exit $code: $(cat $cmd.err))"
done
"$headspec" run --quiet job.yaml 2>rerun.err; code=$?
[ $code -eq 2 ] && grep -q "upgrade to headspec 9.9.9 or newer" rerun.err
ok $? "headspec run refuses and names it (exit $code: $(cat rerun.err))"
cmp -s tiny.h5 newer.h5; ok $? "run left the file as it was"
PYTHONPATH=$src/analysis $py - tiny.h5 <<'PY' >py.out 2>&1; ok $? "the Python reader names it: $(cat py.out)"
import sys, headspec
try:
    headspec.open_results(sys.argv[1])
except headspec.FormatError as e:
    print(e)
    sys.exit("upgrade it to headspec 9.9.9 or newer" not in str(e))
sys.exit("opened a file of a newer format")
PY
finish newer_format
