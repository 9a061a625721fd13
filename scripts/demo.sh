#!/usr/bin/env bash
# Build headspec and run the demo job under mpirun on the local cores: online
# SGD for 3 activations x 2 head counts x 2 seeds, into results/demo.h5, then
# summarise and plot it. Installed (PREFIX/share/headspec/demo.sh), it runs
# the installed binary and job instead, into results/ of the current
# directory, and plots when the Python package is installed too.
set -eu
# cmake --install writes the installed directories here; in the checkout
# the lines keep their placeholders.
installed_bindir='@HS_INSTALLED_BINDIR@'
installed_sharedir='@HS_INSTALLED_SHAREDIR@'
installed_pythondir='@HS_INSTALLED_PYTHONDIR@'
if [ -x "$installed_bindir/headspec" ]; then
  headspec=$installed_bindir/headspec job=$installed_sharedir/jobs/demo.yaml
  [ -z "$installed_pythondir" ] || export PYTHONPATH=$installed_pythondir${PYTHONPATH:+:$PYTHONPATH}
else
  cd "$(dirname "$0")/.."
  scripts/setup.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" >/dev/null
  headspec=build/headspec job=jobs/demo.yaml
  export PYTHONPATH=analysis
fi
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# one rank per core: the master hands out points and computes too, and every
# rank writes its points into the one results file
mpirun -q -n "$(nproc)" "$headspec" run "$job"
"$headspec" info results/demo.h5
# the plot: Debian's python3; installed, a python3 on PATH that finds the
# package (a virtual environment's) if there is one
py=/usr/bin/python3
if [ "$headspec" != build/headspec ] && python3 -c 'import headspec' 2>/dev/null; then py=python3; fi
"$py" -m headspec plot dynamics results/demo.h5 -o results/demo.png
echo "demo: every point is still moving at t_max = 30 (dashed lines), by design: the demo stays short, and these flows settle only at t ~ 300-2400 (docs/RESULTS.md#convergence)"
