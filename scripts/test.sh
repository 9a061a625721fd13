#!/usr/bin/env bash
# Build headspec with warnings as errors and run every test; then build it
# again with AddressSanitizer and UBSan and run the tests once more.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh --with-tests
export OPENBLAS_NUM_THREADS=1
jobs=$(nproc)
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DHS_WERROR=ON >/dev/null
cmake --build build-test -j"$jobs" >/dev/null
(cd build-test && ctest --output-on-failure -j"$jobs")
# Sanitizers: leaks inside Open MPI and HDF5 are theirs (suppressed), ours fail.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHS_WERROR=ON -DHS_SANITIZE=ON -DHS_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
(cd build-asan && ctest --output-on-failure -j"$jobs")
