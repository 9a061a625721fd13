# lib.sh: what the shell tests share. Source it with the test's arguments
# (HEADSPEC SOURCE_DIR): it sets $headspec, $src, $py, the environment for
# single-threaded ranks as root, a scratch directory (the working directory,
# removed at exit), and ok/finish to count checks.
headspec=$(realpath "$1") src=$(realpath "$2") py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d); trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0 n=0
# ok STATUS WHAT: count a check; report it if STATUS is not 0
ok() { n=$((n + 1)); if [ "$1" -ne 0 ]; then echo "FAIL: $2"; fail=$((fail + 1)); fi; }
# finish NAME: the closing line, and the exit status
finish() { echo "$1: $((n - fail)) passed, $fail failed"; [ $fail -eq 0 ]; }
# store_small_job OUTPUT [SEEDS] [H]: tests/jobs/store_small.yaml on stdout
# with another output file, seed list (default [1, 2]) or H (default 2)
store_small_job() {
  sed -e "s|^output: .*|output: $1|" -e "s|^  seed: .*|  seed: ${2:-[1, 2]}|" \
      -e "s|^  H: .*|  H: ${3:-2}|" "$src/tests/jobs/store_small.yaml"
}
