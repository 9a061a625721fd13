#!/usr/bin/env bash
# The cost model against counted work, never a timing: on scaled-down
# variants of jobs/beyond/stability_*.yaml (the paper's flipping at H = 2, 4
# and the diag_gaussian of Figs. 3-4 at H = 4; 100 Monte Carlo samples; the
# counts hardly depend on them), every point's right-hand sides of the ODE
# and of the stability analysis, as HEADSPEC_REPORT_WORK counts them, are
# within 2x of the estimate, and so is validate's per-phase share
# (stability against ODE) against the counted ratio. The per-point overhead
# (HS_POINT_OVERHEAD_S, docs/BENCHMARKS.md) is in validate's estimate of
# 2000 points that compute almost nothing. And the ODE's replicas
# (ode.replicas), without and with the stability analysis (whose
# head-symmetric prediction each replica repeats), against their counted
# right-hand sides.
set -u
. "$(dirname "$0")/lib.sh"

job() { # name distribution-keys H t_max
  cat <<JOB
output: $1.h5
job_seed: 2
model: {$2, L: 8, activation: softmax, H: $3, sigma0: 0.5, seed: 1, orthonormal_spikes: true}
training: {run: false, d: 1000, eta: 0.5, t_max: $4, records: 121, record_grid: log, t_min: 0.1}
ode: {samples: 100, noise_term: false}
analysis: {bayes_samples: 0, fresh_samples: 0, attention_samples: 0, prune: false, maps: 1, stability: true}
JOB
}
job flipping "distribution: flipping, b1: 1.0, b2: 2.0" "[2, 4]" 160 >flipping.yaml
job features "distribution: diag_gaussian, betas: [3.0, 2.0, 1.5]" 4 300 >features.yaml
within2() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > 0 && b > 0 && a <= 2 * b && b <= 2 * a) }'; }
for name in flipping features; do
  "$headspec" validate $name.yaml >$name.val; ok $? "$name validates: $(cat $name.val)"
  HEADSPEC_REPORT_WORK=1 "$headspec" run --quiet $name.yaml 2>$name.log; ok $? "$name runs: $(tail -2 $name.log)"
  sed -n 's/^headspec: work: point \([0-9]*\) phase \([a-z]*\): .*, \([0-9]*\) right-hand sides (estimated \([0-9]*\))$/\1 \2 \3 \4/p' \
    $name.log >$name.counts
  while read -r point phase rhs est; do
    within2 "$rhs" "$est"; ok $? "$name point $point $phase: $rhs right-hand sides counted, $est estimated"
  done <$name.counts
  points=$(sed -n 's/.*valid; \([0-9]*\) grid point.*/\1/p' $name.val)
  [ "$(wc -l <$name.counts)" -eq $((2 * points)) ]; ok $? "$name: the ODE and the stability phase counted at each of its $points points"
  # validate's share of each phase against the counted right-hand sides
  share=$(sed -n 's/.* ode \([0-9.e+-]*\) s .* stability \([0-9.e+-]*\) s .*/\2 \1/p' $name.val | awk '{ print $1 / $2 }')
  ratio=$(awk '$2 == "stability" { s += $3 } $2 == "ode" { o += $3 } END { if (o) print s / o }' $name.counts)
  within2 "${share:-0}" "${ratio:-0}"; ok $? "$name: validate's stability/ODE share $share, counted $ratio"
done

# Replicas (ode.replicas): R - 1 more integrations and one on N/4 samples
# (with analysis.stability each of the R - 1 also repeats the head-symmetric
# prediction), counted against the estimate, and validate's replicas/ODE
# share against the counted ratio (the ODE phase also pays its saddle test).
for stability in false true; do
name=replicas_$stability
cat >$name.yaml <<JOB
output: $name.h5
job_seed: 2
model: {distribution: diag_gaussian, betas: [3.0, 2.0, 1.5], L: 8, activation: softmax, H: 2, sigma0: 0.5, seed: 1}
training: {run: false, d: 1000, eta: 0.5, t_max: 100, records: 41, record_grid: log, t_min: 0.1}
ode: {samples: 200, noise_term: false, replicas: [2, 4]}
analysis: {bayes_samples: 0, fresh_samples: 0, attention_samples: 0, prune: false, maps: 1, stability: $stability}
JOB
"$headspec" validate $name.yaml >$name.val; ok $? "$name validates: $(cat $name.val)"
HEADSPEC_REPORT_WORK=1 "$headspec" run --quiet $name.yaml 2>$name.log; ok $? "$name runs: $(tail -2 $name.log)"
sed -n 's/^headspec: work: point \([0-9]*\) phase \([a-z]*\): .*, \([0-9]*\) right-hand sides (estimated \([0-9]*\))$/\1 \2 \3 \4/p' \
  $name.log >$name.counts
[ "$(grep -c ' replicas ' $name.counts)" -eq 2 ]; ok $? "$name: the replicas phase counted at both points: $(cat $name.counts)"
while read -r point phase rhs est; do
  within2 "$rhs" "$est"; ok $? "$name point $point $phase: $rhs right-hand sides counted, $est estimated"
done <$name.counts
share=$(sed -n 's/.* ode \([0-9.e+-]*\) s .* replicas \([0-9.e+-]*\) s .*/\2 \1/p' $name.val | awk '{ print $1 / $2 }')
ratio=$(awk '$2 == "replicas" { s += $3 } $2 == "ode" { o += $3 } END { if (o) print s / o }' $name.counts)
within2 "${share:-0}" "${ratio:-0}"; ok $? "$name: validate's replicas/ODE share $share, counted $ratio"
done

# The per-point overhead: 2000 points of a few SGD steps on 8 dimensions
# (measured: ~0.4 ms of CPU and 2-3 ms of wall time a point on the shared
# 2-core machine, 1.6 ms at 10^6 points) are priced at least at it.
cat >tiny.yaml <<JOB
output: tiny.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2, seed: [$(seq -s, 1 100)]}
training: {d: 8, eta: [$(seq -s, 0.101 0.001 0.120)], t_max: 0.05, records: 3, test_samples: 10}
ode: {run: false, samples: 10}
analysis: {bayes_samples: 0, fresh_samples: 0, attention_samples: 0, prune: false, maps: 1}
JOB
"$headspec" validate tiny.yaml >tiny.out; ok $? "tiny job validates: $(cat tiny.out)"
overhead=$(sed -n 's/.* overhead \([0-9.e+-]*\) s .*/\1/p' tiny.out)
awk -v s="${overhead:-0}" 'BEGIN { exit !(s >= 1.99 && s <= 2.01) }'; ok $? "2000 points' overhead is 2000 x 1 ms: $overhead s ($(grep phase tiny.out))"
total=$(sed -n 's/.*core-hours (\([0-9]*\) core-seconds).*/\1/p' tiny.out)
[ "${total:-0}" -ge 2 ]; ok $? "the estimate includes it: $total core-seconds"
finish cost_model
