#!/usr/bin/env bash
# The paper's jobs (jobs/paper/): every one validates; the Bayes-only job
# for Fig. 5 runs end to end under mpirun, and its R* agree with MODEL.md's
# reference value and with an independent NumPy Monte Carlo; scripts/paper.sh
# refuses what it does not know.
set -u
. "$(dirname "$0")/lib.sh"

for job in "$src"/jobs/paper/*.yaml; do
  out=$("$headspec" validate "$job" 2>&1); ok $? "$(basename "$job") validates: $out"
done

mpirun -q -n 2 --oversubscribe "$headspec" run --quiet "$src/jobs/paper/fig05_bayes.yaml" 2>run.log
ok $? "fig05_bayes runs: $(cat run.log)"
$py "$src/tests/check_bayes_grid.py" results/paper/fig05_bayes.h5; ok $? "R* over the Fig. 5 grid"

"$src/scripts/paper.sh" --no-build fig99 >/dev/null 2>err.log; code=$?
[ $code -eq 2 ] && grep -q "unknown figure 'fig99'" err.log; ok $? "paper.sh fig99: exit $code, $(cat err.log)"
"$src/scripts/paper.sh" list | grep -q "fig05_bayes"; ok $? "paper.sh list names the jobs"
finish paper_jobs
