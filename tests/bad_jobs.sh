#!/usr/bin/env bash
# Every job file under tests/jobs/bad must be refused by `headspec validate`
# with exit status 2 and "headspec: FILE:LINE: message", where the first line
# of the file says "# expect: LINE: REGEX". Also: a missing job file.
set -u
headspec=$1 dir=$2
fail=0 n=0
for job in "$dir"/*.yaml; do
  n=$((n + 1))
  expect=$(head -n 1 "$job" | sed 's/^# expect: //')
  line=${expect%%: *} regex=${expect#*: }
  out=$("$headspec" validate "$job" 2>&1); code=$?
  if [ "$code" -ne 2 ] || ! grep -Eq "^headspec: $job:$line: .*$regex" <<<"$out"; then
    echo "FAIL $job: exit $code, got: $out"; echo "     wanted: headspec: $job:$line: ...$regex"
    fail=$((fail + 1))
  fi
done
out=$("$headspec" validate "$dir/no-such-file.yaml" 2>&1); code=$?
n=$((n + 1))
if [ "$code" -ne 2 ] || ! grep -q "cannot read the job file" <<<"$out"; then
  echo "FAIL missing file: exit $code: $out"; fail=$((fail + 1))
fi
echo "bad_jobs: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
