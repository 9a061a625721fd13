#!/usr/bin/env bash
# Every key that changes a result's shape (distributions of different K, H,
# L, records, maps) swept in one job: each point's stored results equal,
# bit for bit, those of the same point run alone as a one-point job. (A grid
# whose layout were derived in two places would store some point into a
# group of another shape.)
set -u
. "$(dirname "$0")/lib.sh"

cp "$src/tests/jobs/shapes.yaml" shapes.yaml
"$headspec" run --quiet shapes.yaml 2>run.log; ok $? "the shapes job runs: $(cat run.log)"
groups=$($py -c "import h5py; print(len(h5py.File('shapes.h5')['results']))")
[ "$groups" -eq 32 ]; ok $? "32 results groups, one per shape (got $groups)"
mkdir alone && $py "$src/tests/point_jobs.py" shapes.h5 shapes.yaml alone; ok $? "one-point jobs written"
cd alone || exit 1
# run each point alone (two at a time), then compare
ls point*.yaml | xargs -P 2 -I{} "$headspec" run --quiet {} 2>alone.log; ok $? "one-point runs: $(sort -u alone.log | head -3)"
bad=0
for i in $(seq 0 47); do
  $py "$src/tests/same_point.py" ../shapes.h5 "$i" "point$i.h5" || bad=$((bad + 1))
done
[ $bad -eq 0 ]; ok $? "every point equals the same point run alone ($bad differ)"
finish shapes_sweep
