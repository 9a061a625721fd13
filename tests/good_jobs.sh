#!/usr/bin/env bash
# Every job file under tests/jobs/good must validate (exit status 0): jobs
# the reader once refused or misread (aliases, subnormal numbers) and jobs
# at the limits of the key table (docs/JOBS.md).
set -u
headspec=$1 dir=$2
fail=0 n=0
for job in "$dir"/*.yaml; do
  n=$((n + 1))
  want=$(sed -n 's/^# prints: //p' "$job")
  if ! out=$("$headspec" validate "$job" 2>&1); then
    echo "FAIL $job: $out"; fail=$((fail + 1))
  elif [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out"; then
    echo "FAIL $job: does not print '$want': $out"; fail=$((fail + 1))
  fi
done
echo "good_jobs: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
