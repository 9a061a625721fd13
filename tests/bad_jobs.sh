#!/usr/bin/env bash
# Every job file under tests/jobs/bad must be refused by `headspec validate`
# with exit status 2 and "headspec: FILE:LINE: message", where the first line
# of the file says "# expect: LINE: REGEX". Also: a missing job file, a
# directory, a device and a file over the size limit.
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
# Files that are no job file: refused (exit 2) before they are read, in
# bounded memory (/dev/zero used to be read until memory ran out).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c $((17 << 20)) /dev/zero | tr '\0' '#' >"$tmp/huge.yaml"
limit=1000000 # KiB of address space; not under ASan, which reserves terabytes
ldd "$headspec" | grep -q libasan && limit=unlimited
refused() { # FILE REGEX
  local out code
  out=$(ulimit -v $limit; timeout 60 "$headspec" validate "$1" 2>&1); code=$?
  n=$((n + 1))
  if [ "$code" -ne 2 ] || ! grep -Eq "^headspec: $1: .*$2" <<<"$out"; then
    echo "FAIL $1: exit $code, got: $out"; echo "     wanted: headspec: $1: ...$2"
    fail=$((fail + 1))
  fi
}
refused "$dir/no-such-file.yaml" "cannot read the job file"
refused "$dir" "is a directory, not a job file"
refused /dev/zero "not a regular file"
refused "$tmp/huge.yaml" "17825792 bytes; a job file may have at most 16 MiB"
echo "bad_jobs: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
