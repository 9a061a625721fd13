#!/usr/bin/env bash
# A signal stops a point in every phase, not only in SGD: the point stays
# pending, the run exits 3, and the re-run completes it equal to an
# uninterrupted run (usage: stop_phases.sh HEADSPEC SOURCE_DIR [quick]). The
# testing hook HEADSPEC_TESTING_SIGNAL_IN=<phase> makes each rank raise
# SIGUSR1 on itself as it enters that phase, so the signal lands inside the
# phase without sleeping. The handler runs within raise(), and the progress
# call that raised it returns "stop" (src/sweep.c), so the stop is recorded
# at the phase's entry, and hs_progress_poll returns a recorded stop before
# its 0.1 s time gate: a phase needs only to poll once, not to last any
# time, so the test does not depend on the machine's speed.
set -u
. "$(dirname "$0")/lib.sh"
export OMPI_MCA_rmaps_base_oversubscribe=1
# Result datasets (wall times excluded) and status of two files are equal.
same_results() { $py "$src/tests/compare_results.py" "$1" "$2" >/dev/null; }
# Every point of FILE has status S (0 pending, 1 done).
all_status() {
  $py -c "import h5py,sys; s=h5py.File('$1')['grid/status'][:]; sys.exit(not (len(s) and (s == $2).all()))"
}

# Each phase a real amount of work (0.2-2.5 s of one core in Release): SGD
# at d = 256, B = 200; the ODE and pruning 8 heads (SGD's and the ODE's) on
# 20000 samples; 300000 Bayes sequences; 300000 fresh samples (rkf45, no
# control variate). With "quick" (the sanitizers' unoptimised build, 3-5x
# slower) the sample counts are a quarter. The phase signalled is the last
# of its job, so a phase that missed the signal is not saved by a later one.
share=1; [ "${3:-}" = quick ] && share=4
job() { # name seeds ode_run bayes_samples [fresh_samples]
  cat <<JOB
output: $1.h5
model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, L: 16, H: 8, seed: $2}
training: {d: 256, B: 200, eta: 0.5, t_max: 0.1, records: 3, test_samples: 100}
ode: {run: $3, samples: $((20000 / share)), start_noise: 0.1, method: rkf45, control_variate: false}
analysis: {bayes_samples: $(($4 / share)), fresh_samples: $((${5:-0} / share)), prune: true, maps: 2}
JOB
}
# SIGUSR1 as phase PHASE of job JOB (ode_run bayes_samples [fresh_samples]) starts.
stop_in() {
  local phase=$1 code; shift
  job whole 1 "$@" >whole.yaml
  job stopped 1 "$@" >stopped.yaml
  rm -f whole.h5 stopped.h5
  mpirun -n 1 "$headspec" run --quiet whole.yaml 2>whole.log; ok $? "uninterrupted run: $(cat whole.log)"
  HEADSPEC_TESTING_SIGNAL_IN=$phase mpirun -n 1 -x HEADSPEC_TESTING_SIGNAL_IN \
    "$headspec" run --quiet stopped.yaml 2>stopped.log; code=$?
  [ $code -eq 3 ] && grep -q "1 pending" stopped.log; ok $? "signal in $phase: exit $code, $(tr '\n' ' ' <stopped.log)"
  all_status stopped.h5 0; ok $? "signal in $phase: the point is pending"
  mpirun -n 1 "$headspec" run --quiet stopped.yaml 2>/dev/null; ok $? "signal in $phase: resume"
  same_results whole.h5 stopped.h5; ok $? "signal in $phase, then resumed, equals uninterrupted"
}
stop_in sgd_final false 0   # pruning the SGD model
stop_in ode true 0
stop_in ode_final true 0    # pruning the ODE model
stop_in out_of_sample true 0 300000 # out-of-sample Lpop of both final models
stop_in bayes false 300000

# Two ranks, both in the Bayes risk (the master's point too): both pending.
job two "[1, 2]" false 300000 >two.yaml
HEADSPEC_TESTING_SIGNAL_IN=bayes mpirun -n 2 -x HEADSPEC_TESTING_SIGNAL_IN \
  "$headspec" run --quiet two.yaml 2>two.log; code=$?
[ $code -eq 3 ] && grep -q "2 pending" two.log; ok $? "2 ranks, signal in bayes: exit $code, $(tr '\n' ' ' <two.log)"
all_status two.h5 0; ok $? "2 ranks: both points pending"

finish stop_phases
