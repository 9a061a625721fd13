#!/usr/bin/env bash
# The results file in netCDF-4 and xarray (tests/netcdf_read.py), on a job
# with two distributions (two K), two H, a failed point and a pending one.
set -u
headspec=$(realpath "$1") src=$(realpath "$2") py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
{ cat "$src/tests/jobs/tiny.yaml"; printf 'testing:\n  fail_point: 4\n'; } >job.yaml
"$headspec" run --quiet job.yaml 2>run.log
[ $? -eq 1 ] || { echo "FAIL: the run should exit 1 (a failed point): $(cat run.log)"; exit 1; }
$py "$src/tests/netcdf_read.py" tiny.h5 4
