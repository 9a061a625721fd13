#!/usr/bin/env bash
# Large grids (issue 18, point 4): no cap at 10^6 points (a grid of 1.05
# million points validates, and its survey sizes the file), a list longer
# than the 65534 values the plan can number is refused at its line before
# its values are read, and a repeated value in a long list is named by
# both positions (found by sorting).
set -u
. "$(dirname "$0")/lib.sh"
seeds() { $py -c "import sys; print(','.join(str(i) for i in list(range(1, $1 + 1)) + [int(a) for a in sys.argv[1:]]))" "${@:2}"; }
job() { # seeds-list etas
  cat <<JOB
output: big.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: 2,
  seed: [$1]}
training: {d: 8, eta: [$(for i in $(seq 1 "$2"); do printf "0.%d," $((100 + i)); done | sed 's/,$//')], t_max: 0.05}
ode: {run: false}
analysis: {bayes_samples: 0, prune: false}
JOB
}
job "$(seeds 50000)" 21 >big.yaml
"$headspec" validate big.yaml >big.log 2>&1; code=$?
[ $code -eq 0 ] && grep -q "valid; 1050000 grid points" big.log && grep -q "1050000 points to compute" big.log
ok $? "a grid of 1.05 million points validates (exit $code: $(head -1 big.log))"
job "$(seeds 65535)" 1 >long.yaml
"$headspec" validate long.yaml >long.log 2>&1; code=$?
[ $code -eq 2 ] && grep -q "^headspec: long.yaml:3: 'seed' has more than 65534 values" long.log
ok $? "a list of 65535 values is refused at its line (exit $code: $(cat long.log))"
job "$(seeds 65534)" 1 >most.yaml
"$headspec" validate most.yaml >most.log 2>&1; ok $? "a list of 65534 values is taken ($(head -1 most.log))"
job "$(seeds 60000 17 60000)" 1 >repeat.yaml
"$headspec" validate repeat.yaml >repeat.log 2>&1; code=$?
[ $code -eq 2 ] && grep -q "^headspec: repeat.yaml:[0-9]*: 'seed': value 60001 repeats value 17$" repeat.log
ok $? "the first repeat in a long list, by both positions (exit $code: $(cat repeat.log))"
finish store_scale
