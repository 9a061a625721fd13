#!/usr/bin/env bash
# Reproduce the paper's figures: run a figure's jobs from jobs/paper/ under
# mpirun on every local core, draw it into docs/figures/ and print the numbers
# that decide its claims (docs/REPRODUCTION.md quotes them).
#
#   scripts/paper.sh FIG...      e.g. scripts/paper.sh fig05
#   scripts/paper.sh all         every figure, then how long each took
#   scripts/paper.sh list        the figures and their jobs
#
# A figure's results go to results/paper/; running it again resumes an
# interrupted job and only redraws a finished one. Options: -n N ranks
# (default: the number of cores), --no-build.
set -eu
cd "$(dirname "$0")/.."

# One line per figure: FIG | its jobs in jobs/paper/ | what it shows (the
# order of the lines is the order of `all`).
FIGURES="\
fig01|fig01_sgd_vs_ode|Figs. 1, 9-10: SGD against the ODE
fig02|fig02_flipping_heads|Figs. 2, 15: heads on the flipping distribution, H = 2..16
fig03|fig03_features fig03_equal_strengths|Figs. 3-4, 16-20: sequential and hierarchical learning
fig05|fig05_loss_vs_heads fig05_loss_vs_signal fig05_whole_signal fig05_bayes|Fig. 5: final loss against H and the signal strength, with R*
fig06|fig06_maps_pruning|Figs. 6-7: attention maps and head pruning
fig08|fig08_same_samples|Fig. 8: fixed against fresh Monte Carlo samples
fig11|fig11_cosine_heatmaps|Figs. 11-14: cosine of two heads over (b1, b2)"
declare -A JOBS TITLES
ORDER=""
while IFS='|' read -r fig jobs title; do
  JOBS[$fig]=$jobs TITLES[$fig]=$title ORDER="$ORDER${ORDER:+ }$fig"
done <<<"$FIGURES"

usage() {
  echo "usage: scripts/paper.sh [-n RANKS] [--no-build] FIG... | all | list"
  echo "figures: $ORDER"
}

ranks=$(nproc) build=1 figs=()
while [ $# -gt 0 ]; do
  case $1 in
    -n) [ $# -ge 2 ] || { usage >&2; exit 2; }; ranks=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    list) for f in $ORDER; do printf '%s  %s\n       jobs/paper/: %s\n' "$f" "${TITLES[$f]}" "${JOBS[$f]}"; done; exit 0 ;;
    all) for f in $ORDER; do [[ " ${figs[*]} " == *" $f "* ]] || figs+=("$f"); done; shift ;;
    fig*) [ -n "${JOBS[$1]:-}" ] || { echo "paper.sh: unknown figure '$1'" >&2; usage >&2; exit 2; }
          [[ " ${figs[*]} " == *" $1 "* ]] || figs+=("$1"); shift ;;
    *) echo "paper.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#figs[@]} -gt 0 ] || { usage >&2; exit 2; }
case $ranks in ''|*[!0-9]*|0) echo "paper.sh: -n needs a positive number" >&2; exit 2 ;; esac

if [ $build -eq 1 ]; then
  scripts/setup.sh
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" >/dev/null
fi
export OPENBLAS_NUM_THREADS=1 PYTHONPATH=analysis${PYTHONPATH:+:$PYTHONPATH}
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
py=/usr/bin/python3
out=docs/figures
mkdir -p results/paper "$out"

run_job() { # JOB: run (or resume) it; a finished one returns at once
  mpirun -q -n "$ranks" --oversubscribe build/headspec run --quiet "jobs/paper/$1.yaml"
}
res() { echo "results/paper/$1.h5"; }
plot() { $py -m headspec plot "$@" >/dev/null; }
# Palette PNGs (128 colours): about a third of the size, small enough to commit.
shrink_pngs() {
  $py - "$out" <<'PY'
import glob, sys
from PIL import Image
for f in glob.glob(sys.argv[1] + "/*.png"):
    im = Image.open(f)
    if im.mode != "P":
        im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(f, optimize=True)
PY
}

draw_fig01() {
  plot dynamics "$(res fig01_sgd_vs_ode)" --select distribution=flipping -o $out/fig01_flipping.png
  plot dynamics "$(res fig01_sgd_vs_ode)" --select distribution=diag_gaussian -o $out/fig10_gaussian.png
}
draw_fig02() {
  plot heads "$(res fig02_flipping_heads)" --panels H --select activation=softmax -o $out/fig02_softmax.png
  plot heads "$(res fig02_flipping_heads)" --panels activation,H -o $out/fig15_activations.png
}
draw_fig03() {
  plot features "$(res fig03_features)" --panels activation --select H=8,seed=1 --logx -o $out/fig03_features_H8.png
  plot features "$(res fig03_features)" --panels seed --select activation=softmax,H=4 --logx -o $out/fig16_softmax_seeds.png
  plot features "$(res fig03_features)" --panels seed --select activation=bsoftmax,H=8 --logx -o $out/fig20_bsoftmax_seeds.png
  plot features "$(res fig03_equal_strengths)" --panels activation --select seed=1 --logx -o $out/fig03_equal_strengths.png
}
draw_fig05() {
  plot vs "$(res fig05_loss_vs_heads)" --x H --panels distribution --mean seed -o $out/fig05_loss_vs_heads.png
  plot vs "$(res fig05_loss_vs_signal)" --x b2 --select distribution=flipping --mean seed \
    --bayes "$(res fig05_bayes)" -o $out/fig05_vs_b2_flipping.png
  plot vs "$(res fig05_loss_vs_signal)" --x beta --select distribution=iso_gaussian --mean seed \
    --bayes "$(res fig05_bayes)" -o $out/fig05_vs_beta_gaussian.png
  plot vs "$(res fig05_whole_signal)" --x b1 --mean seed \
    --bayes "$(res fig05_whole_signal)" -o $out/fig05_vs_b_flipping.png
}
draw_fig06() {
  plot maps "$(res fig06_maps_pruning)" --select distribution=iso_gaussian,seed=1 -o $out/fig06_maps.png
  plot pruning "$(res fig06_maps_pruning)" --panels distribution --mean seed -o $out/fig07_pruning.png
}
draw_fig08() {
  plot dynamics "$(res fig08_same_samples)" --panels activation --lines resample_dt,samples \
    -o $out/fig08_same_samples.png
}
draw_fig11() {
  plot heatmap "$(res fig11_cosine_heatmaps)" --x b2 --y b1 --q ode_cosine --panels activation \
    -o $out/fig11_cosine.png
}

declare -A took
for fig in "${figs[@]}"; do
  echo "== $fig: ${TITLES[$fig]}"
  start=$(date +%s)
  for job in ${JOBS[$fig]}; do
    s=$(date +%s)
    run_job "$job"
    echo "   $job: $(( $(date +%s) - s )) s on $ranks ranks"
  done
  "draw_$fig"
  shrink_pngs
  $py analysis/scripts/paper_numbers.py "$fig" results/paper | tee "$out/$fig.txt"
  took[$fig]=$(( $(date +%s) - start ))
  echo "   $fig: $(( took[$fig] )) s in all; figures in $out/"
done
if [ ${#figs[@]} -gt 1 ]; then
  echo "== time per figure ($ranks ranks on $(nproc) cores)"
  for fig in "${figs[@]}"; do printf '   %-6s %6d s  %s\n' "$fig" "${took[$fig]}" "${TITLES[$fig]}"; done
fi
