#!/usr/bin/env bash
# Build headspec and run the demo job: online SGD for 3 activations x 2 head
# counts x 2 seeds, into results/demo.h5, then summarise and plot it.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p results
export OPENBLAS_NUM_THREADS=1
build/headspec run jobs/demo.yaml
build/headspec info results/demo.h5
PYTHONPATH=analysis /usr/bin/python3 -m headspec plot dynamics results/demo.h5 -o results/demo.png
