#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then everything from there with
# the source and build trees out of sight: nothing installed names them; the
# modulefile (Environment Modules) puts headspec, its man page and its Python
# package on the paths and keeps the system's man pages; the man page lists
# every subcommand and option of --help; the installed demo.sh runs (on a
# tiny job put in the demo job's place) into the current directory and
# plots; the file stores the binary's --version; the SLURM scripts' --help
# and dry run name the installed binary and scripts (and in the checkout
# still the tree's).
# usage: install_prefix.sh HEADSPEC_BINARY SOURCE_DIR BUILD_DIR
set -u
build=$(realpath "$3")
. "$(dirname "$0")/lib.sh"
P=$work/prefix version=$(cat "$src/VERSION")
unset PYTHONPATH MANPATH HEADSPEC

cmake --install "$build" --prefix "$P" >install.log 2>&1; ok $? "cmake --install: $(tail -3 install.log)"
for f in bin/headspec share/man/man1/headspec.1.gz share/headspec/demo.sh share/headspec/jobs/demo.yaml \
         share/headspec/jobs/paper/fig05_bayes.yaml share/headspec/slurm/sweep.sbatch \
         share/headspec/slurm/sweep-requeue.sbatch share/headspec/slurm/run-sweep.sh \
         share/doc/headspec/README.md share/doc/headspec/docs/CLUSTERS.md \
         "share/modulefiles/headspec/$version" lib/python3/dist-packages/headspec/__init__.py \
         lib/python3/dist-packages/headspec/VERSION; do
  [ -f "$P/$f" ]; ok $? "installed: $f"
done
named=$(grep -rlI -e "$src" -e "$build" "$P")
[ -z "$named" ]; ok $? "no installed file names the source or build tree: $named"
! readelf -d "$P/bin/headspec" | grep -qE 'RPATH|RUNPATH'; ok $? "the binary has no run path into the build tree"
! grep -rl '@HS_INSTALLED' "$P/share/headspec" "$P/share/modulefiles"; ok $? "every placeholder written at install"

# The module, as a user loads it (skipped without Environment Modules).
if [ -f /usr/share/modules/init/bash ]; then
  system_ls=$(man -w ls 2>/dev/null)
  . /usr/share/modules/init/bash
  module use "$P/share/modulefiles" && module load headspec; ok $? "module load headspec"
  [ "$(command -v headspec)" = "$P/bin/headspec" ]; ok $? "module: headspec on PATH ($(command -v headspec))"
  [ "$(man -w headspec)" = "$P/share/man/man1/headspec.1.gz" ]; ok $? "module: man headspec finds the page"
  [ "$(man -w ls 2>/dev/null)" = "$system_ls" ]; ok $? "module: man still finds the system's pages (MANPATH ${MANPATH-})"
  $py -c 'import headspec, sys; sys.exit(not headspec.__file__.startswith(sys.argv[1]))' "$P"
  ok $? "module: python3 imports the installed package"
  [ "$HEADSPEC_SHARE" = "$P/share/headspec" ]; ok $? "module: HEADSPEC_SHARE"
else
  echo "note: environment-modules not installed: the modulefile is not loaded (scripts/setup.sh --with-tests)"
  export PATH=$P/bin:$PATH PYTHONPATH=$P/lib/python3/dist-packages
fi

# --version: the version, the commit, the libraries
headspec --version >version.txt; ok $? "headspec --version"
head -1 version.txt | grep -q "^headspec $version (commit [0-9a-f]\{12\}\(-dirty\)\{0,1\}, results format [0-9]*)$"
ok $? "--version names the version and commit: $(head -1 version.txt)"
for lib in "HDF5 1" "Open MPI [0-9]" "OpenBLAS 0" "GSL 2" "SUNDIALS [0-9]" "libfyaml 0" "OpenBLAS at run time: core "; do
  grep -q "$lib" version.txt; ok $? "--version names $lib: $(cat version.txt)"
done

# The man page: renders, and holds every subcommand and option of --help.
MANWIDTH=100 man -l "$P/share/man/man1/headspec.1.gz" 2>man.err | col -b >man.txt
[ -s man.txt ] && [ ! -s man.err ]; ok $? "man -l renders the page: $(head -3 man.err)"
grep -q "headspec $version" man.txt; ok $? "the man page says version $version"
commands=$(headspec --help | sed -n 's/^usage: headspec \([a-z][a-z]*\) .*/\1/p')
[ "$(echo $commands)" = "run validate info verify repair clean" ]; ok $? "--help's subcommands parsed: $(echo $commands)"
for word in $commands $(headspec --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -q -- "$word" man.txt; ok $? "the man page has $word"
done

# The demo from the prefix, with a tiny job in the demo job's place (the
# real one validates).
headspec validate "$P/share/headspec/jobs/demo.yaml" >/dev/null; ok $? "the installed demo job validates"
cat >"$P/share/headspec/jobs/demo.yaml" <<'YAML'
output: results/demo.h5
model:
  distribution: flipping
  b1: 1.0
  b2: 2.0
  activation: [softmax, bsoftmax]
  H: 2
  seed: [1, 2]
training:
  d: 64
  eta: 0.5
  t_max: 2
  records: 5
  test_samples: 40
ode:
  samples: 500
analysis:
  bayes_samples: 2000
  maps: 2
YAML
mkdir demo && (cd demo && MPLCONFIGDIR=$work/mpl "$P/share/headspec/demo.sh" >../demo.log 2>&1)
ok $? "the installed demo.sh runs: $(tail -5 demo.log)"
[ -s demo/results/demo.h5 ] && [ -s demo/results/demo.png ]; ok $? "the demo wrote results/demo.h5 and demo.png in the current directory"
headspec verify demo/results/demo.h5 >/dev/null; ok $? "headspec verify on the demo's file"
$py - demo/results/demo.h5 version.txt <<'PY'; ok $? "the file's software_build is the binary's --version"
import sys, headspec
r = headspec.open_results(sys.argv[1])
sys.exit(r.attrs["software_build"] != open(sys.argv[2]).read().rstrip("\n"))
PY

# SLURM scripts from the prefix, outside SLURM, from a directory without a
# build: --help, and the dry run (the launch line, the resume line, validate).
cp "$src/tests/jobs/tiny.yaml" job.yaml
for script in sweep.sbatch sweep-requeue.sbatch; do
  bash "$P/share/headspec/slurm/$script" --help >help.txt; ok $? "$script --help"
  grep -q HEADSPEC_LAUNCHER help.txt; ok $? "$script --help lists the settings"
  HEADSPEC_DRY_RUN=1 bash "$P/share/headspec/slurm/$script" job.yaml --quiet >dry.txt 2>&1
  ok $? "$script dry run: $(cat dry.txt)"
  grep -q "would run: .* $P/bin/headspec run --quiet job.yaml" dry.txt; ok $? "$script: the installed binary"
  grep -q "to resume: sbatch .*$P/share/headspec/slurm/$script job.yaml --quiet" dry.txt
  ok $? "$script: the resume line names the installed script"
  grep -q "job.yaml: valid" dry.txt; ok $? "$script: the job validated"
done
# in the checkout: the submit directory's slurm/ and the HEADSPEC binary
(cd "$src" && HEADSPEC=$headspec HEADSPEC_DRY_RUN=1 bash slurm/sweep.sbatch "$work/job.yaml") >tree.txt 2>&1
ok $? "the checkout's sweep.sbatch dry run: $(cat tree.txt)"
grep -q "would run: .* $headspec run $work/job.yaml" tree.txt && grep -q "to resume: sbatch .*slurm/sweep.sbatch $work/job.yaml" tree.txt
ok $? "the checkout's scripts: the HEADSPEC binary, resume line slurm/sweep.sbatch"
finish install_prefix
