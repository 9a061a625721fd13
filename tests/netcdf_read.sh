#!/usr/bin/env bash
# The results file in netCDF-4 and xarray (tests/netcdf_read.py), on a job
# with two distributions (two K), two H, a failed point and a pending one.
set -u
. "$(dirname "$0")/lib.sh"
{ cat "$src/tests/jobs/tiny.yaml"; printf 'testing:\n  fail_point: 4\n'; } >job.yaml
"$headspec" run --quiet job.yaml 2>run.log
[ $? -eq 1 ] || { echo "FAIL: the run should exit 1 (a failed point): $(cat run.log)"; exit 1; }
$py "$src/tests/netcdf_read.py" tiny.h5 4
