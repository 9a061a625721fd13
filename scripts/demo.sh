#!/usr/bin/env bash
# Build headspec and run the demo job under mpirun on the local cores: online
# SGD for 3 activations x 2 head counts x 2 seeds, into results/demo.h5, then
# summarise and plot it.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# one rank per core: the master hands out points and computes too, and every
# rank writes its points into the one results file
mpirun -q -n "$(nproc)" build/headspec run jobs/demo.yaml
build/headspec info results/demo.h5
PYTHONPATH=analysis /usr/bin/python3 -m headspec plot dynamics results/demo.h5 -o results/demo.png
echo "demo: every point is still moving at t_max = 30 (dashed lines), by design: the demo stays short, and these flows settle only at t ~ 300-2400 (docs/RESULTS.md#convergence)"
