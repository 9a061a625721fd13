/* job_keys.c: the table of job-file keys (job.h): their sections, types,
 * ranges, defaults, which points read them and where each lands in
 * hs_point (the cost model behind `headspec validate` is hs_point_cost).
 * Adding a key is one line here and a field in hs_point. */
#include <stdio.h>
#include <string.h>

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/job.h"
#include "headspec/ode.h"
#include "headspec/point.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"

static const char *check_activation(const char *v) {
  return hs_activation_find(v) ? NULL : hs_activation_names();
}
static const char *check_distribution(const char *v) {
  return hs_dist_find(v) ? NULL : hs_dist_names();
}
static const char *check_ode_start(const char *v) {
  return hs_ode_start_find(v) >= 0 ? NULL : hs_ode_start_names();
}
/* The steppers' names (ode.c's table) and "auto" (hs_point_ode_method). */
static const char *check_ode_method(const char *v) {
  static char names[64];
  if (!names[0]) snprintf(names, sizeof names, "%s auto", hs_ode_method_names());
  return hs_point_ode_method_find(v) != -1 ? NULL : names;
}
static const char *check_sampler(const char *v) {
  return hs_sgd_sampler_find(v) >= 0 ? NULL : hs_sgd_sampler_names();
}
static const char *check_batches(const char *v) {
  return hs_sgd_batches_find(v) >= 0 ? NULL : hs_sgd_batches_names();
}
static const char *check_record_grid(const char *v) {
  return hs_record_grid_find(v) >= 0 ? NULL : hs_record_grid_names();
}

#define OFF(field) offsetof(hs_point, field)
const hs_key hs_job_keys[] = {
    /* section, name, type, sweepable, read_when, offset, min, max, default */
    {"model", "distribution", HS_KEY_NAME, 1, 0, OFF(dist.name), 0, 0, NULL,
     check_distribution, "feature-weight distribution P_c"},
    {"model", "b1", HS_KEY_REAL, 1, 1, OFF(dist.b1), -1e6, 1e6, NULL, NULL,
     "flipping: weight of the first spike"},
    {"model", "b2", HS_KEY_REAL, 1, 1, OFF(dist.b2), -1e6, 1e6, NULL, NULL,
     "flipping: weight of the second spike (random sign)"},
    {"model", "beta", HS_KEY_REAL, 1, 1, OFF(dist.beta), -1e6, 1e6, NULL, NULL,
     "onehot, iso_gaussian: signal strength"},
    /* H and K up to 1024, L up to 100000: the sizes tests/test_limits.c
     * runs (at H = 4096 one point takes ~2 GB and writes a 1 GB file). */
    {"model", "K", HS_KEY_INT, 1, 1, OFF(dist.K), 1, 1024, NULL, NULL,
     "onehot, gaussian, iso_gaussian: number of spikes"},
    {"model", "signed", HS_KEY_BOOL, 1, 1, OFF(dist.is_signed), 0, 1, "false",
     NULL, "onehot: random sign on the atom"},
    {"model", "bmin", HS_KEY_REAL, 1, 1, OFF(dist.bmin), 0, 1e6, NULL, NULL,
     "gaussian: smallest standard deviation"},
    {"model", "bmax", HS_KEY_REAL, 1, 1, OFF(dist.bmax), 0, 1e6, NULL, NULL,
     "gaussian: largest standard deviation"},
    {"model", "atoms", HS_KEY_MATRIX, 0, 1, OFF(dist.atoms), -1e6, 1e6, NULL,
     NULL, "discrete: list of atoms c_j"},
    {"model", "probs", HS_KEY_VECTOR, 0, 1, OFF(dist.probs), 0, 1, NULL, NULL,
     "discrete: probabilities p_j"},
    {"model", "betas", HS_KEY_VECTOR, 0, 1, OFF(dist.betas), 0, 1e6, NULL, NULL,
     "diag_gaussian: standard deviation beta_k of each spike"},
    {"model", "activation", HS_KEY_NAME, 1, 0, OFF(activation), 0, 0, NULL,
     check_activation, "softmax, softmax1 or bsoftmax"},
    {"model", "H", HS_KEY_INT, 1, 0, OFF(H), 1, 1024, NULL, NULL,
     "number of heads"},
    {"model", "L", HS_KEY_INT, 1, 0, OFF(L), 1, 100000, "8", NULL,
     "tokens per sequence"},
    {"model", "sigma0", HS_KEY_REAL, 1, 0, OFF(sigma0), 0, 1e3, "0.5", NULL,
     "standard deviation of the initial heads"},
    {"model", "seed", HS_KEY_INT, 1, 0, OFF(seed), 0, 2147483647, "1", NULL,
     "seed of the teacher, initialisation and data"},
    {"model", "orthonormal_spikes", HS_KEY_BOOL, 1, 0, OFF(orthonormal_spikes),
     0, 1, "false", NULL, "exactly orthogonal spikes of norm sqrt(d)"},
    /* training.run first: keys after it are read only when SGD runs. (The
     * table's order is the grid's order: moving a key reorders the points of
     * every existing results file, so keys are only ever added.) */
    {"training", "run", HS_KEY_BOOL, 1, 0, OFF(run_sgd), 0, 1, "true", NULL,
     "run online SGD at finite d"},
    {"training", "d", HS_KEY_INT, 1, HS_READ_WHEN_TRAINING, OFF(d), 1, 100000000, NULL, NULL,
     "embedding dimension"},
    {"training", "eta", HS_KEY_REAL, 1, HS_READ_WHEN_TRAINING, OFF(eta), 1e-12, 1e6, NULL, NULL,
     "learning rate"},
    {"training", "B", HS_KEY_INT, 1, 0, OFF(B), 1, 1000000, "1", NULL,
     "batch size"},
    {"training", "sampler", HS_KEY_NAME, 1, HS_READ_BY_SGD, OFF(sampler), 0, 0, "reduced",
     check_sampler, "full (every token entry) or reduced (MODEL.md 4b; equal in law)"},
    {"training", "kappa", HS_KEY_REAL, 1, 0, OFF(kappa), 0, 1e6, "1", NULL,
     "learning-rate ratio of b and lambda"},
    {"training", "test_samples", HS_KEY_INT, 1, HS_READ_BY_SGD, OFF(test_samples), 1,
     100000000, "1000", NULL, "sequences in the fixed test set"},
    /* t_max sweepable: each point builds its record times from its own
     * t_max (the results' time axis is then the record index, plan.h). */
    {"training", "t_max", HS_KEY_REAL, 1, HS_READ_WHEN_TRAINING, OFF(t_max), 1e-12, 1e9, NULL,
     NULL, "training time t = steps eta / d"},
    {"training", "records", HS_KEY_INT, 1, 0, OFF(records), 2, 1000000, "51",
     NULL, "number of record times"},
    {"training", "record_grid", HS_KEY_NAME, 0, 0, OFF(record_grid), 0, 0,
     "linear", check_record_grid, "linear or log spacing of record times"},
    {"training", "t_min", HS_KEY_REAL, 0, 0, OFF(t_min), 1e-12, 1e9, "0.1",
     NULL, "first nonzero record time of a log grid"},
    {"training", "n_train", HS_KEY_INT, 1, HS_READ_BY_SGD, OFF(n_train), 0, 2147483647, "0",
     NULL, "sequences in a fixed training set (0: online SGD, fresh sequences every step)"},
    {"training", "alpha", HS_KEY_REAL, 1, HS_READ_BY_SGD, OFF(alpha_train), 0, 1e9, "0", NULL,
     "a fixed training set of n = alpha d sequences (when n_train is 0; 0: online)"},
    {"training", "batches", HS_KEY_NAME, 1, HS_READ_BY_SET, OFF(batches), 0, 0, "epochs",
     check_batches,
     "batches from a training set: epochs (shuffled) or replacement (uniform, with replacement)"},
    {"ode", "run", HS_KEY_BOOL, 1, 0, OFF(run_ode), 0, 1, "true", NULL,
     "integrate the order-parameter ODE"},
    {"ode", "noise_term", HS_KEY_BOOL, 1, HS_READ_BY_ODE, OFF(noise_term), 0, 1, "true",
     NULL, "include SGD's (eta/B) N term (false: gradient flow)"},
    {"ode", "samples", HS_KEY_INT, 1, 0, OFF(ode_samples), 10, 100000000,
     "20000", NULL, "Monte Carlo samples of the population loss"},
    {"ode", "antithetic", HS_KEY_BOOL, 1, 0, OFF(antithetic), 0, 1, "true", NULL,
     "antithetic Monte Carlo samples (u, -u): half the spread of Lpop"},
    {"ode", "control_variate", HS_KEY_BOOL, 1, HS_READ_BY_ODE, OFF(ode_control_variate), 0, 1,
     "true", NULL,
     "remove the fixed samples' source term from dm/dt (gated control variate, on the "
     "features whose P_c is symmetric under c_k -> -c_k; false: the older ODE)"},
    {"ode", "replicas", HS_KEY_INT, 1, HS_READ_BY_ODE, OFF(ode_replicas), 1, 1000, "1", NULL,
     "Monte Carlo replicas: the ODE again on R - 1 independent sample sets (and once on a "
     "quarter set) for its error bars and the convergence in N; 1: none"},
    {"ode", "rtol", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(ode_rtol), 1e-14, 1, "1e-6", NULL,
     "relative tolerance of the adaptive stepper"},
    {"ode", "atol", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(ode_atol), 1e-14, 1, "1e-8", NULL,
     "absolute tolerance of the adaptive stepper"},
    {"ode", "method", HS_KEY_NAME, 1, HS_READ_BY_ODE, OFF(ode_method), 0, 0, "auto",
     check_ode_method, "adaptive stepper: rkf45 (explicit), bdf (implicit, for stiff or long "
                       "runs) or auto (the one predicted to need fewer right-hand sides)"},
    {"ode", "start", HS_KEY_NAME, 1, HS_READ_BY_ODE, OFF(ode_start), 0, 0, "sgd",
     check_ode_start, "sgd (its initialisation), bayes (the Bayes point) or given"},
    {"ode", "start_m", HS_KEY_MATRIX, 0, HS_READ_BY_GIVEN, OFF(start_m), -1e6, 1e6, "", NULL,
     "given start: m (H x K)"},
    {"ode", "start_Q", HS_KEY_MATRIX, 0, HS_READ_BY_GIVEN, OFF(start_Q), -1e6, 1e6, "", NULL,
     "given start: Q (H x H); Q - m m^T must be positive semi-definite"},
    {"ode", "start_b", HS_KEY_VECTOR, 0, HS_READ_BY_GIVEN, OFF(start_b), -1e6, 1e6, "", NULL,
     "given start: b (H); default 0"},
    {"ode", "start_noise", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(start_noise), 0, 1e3, "0",
     NULL, "standard deviation of noise added to the start's m and V"},
    {"ode", "start_lambda", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(start_lambda), -1e3, 1e3, "1",
     NULL, "the ODE's initial lambda (softmax1's output scale; others ignore it)"},
    {"ode", "resample_dt", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(resample_dt), 0, 1e3, "0", NULL,
     "> 0: Euler steps of this dt, each on fresh samples (0: fixed samples, adaptive rkf45)"},
    {"ode", "stop_when_converged", HS_KEY_BOOL, 1, HS_READ_BY_ODE, OFF(ode_stop_converged), 0,
     1, "false", NULL,
     "stop at the first record where the ODE has converged (analysis.converged_tol); "
     "t_max is then a cap"},
    {"analysis", "bayes_samples", HS_KEY_INT, 1, 0, OFF(bayes_samples), 0,
     1000000000, "100000", NULL, "Monte Carlo samples of the Bayes risk (0: skip)"},
    {"analysis", "fresh_samples", HS_KEY_INT, 1, 0, OFF(fresh_samples), 0, 1000000000,
     "100000", NULL, "independent Monte Carlo samples for the final states' Lpop (0: skip)"},
    {"analysis", "maps", HS_KEY_INT, 1, 0, OFF(maps), 1, 10000, "4", NULL,
     "sequences shown in the attention maps"},
    {"analysis", "prune", HS_KEY_BOOL, 1, 0, OFF(prune), 0, 1, "true", NULL,
     "greedy head pruning of the final model"},
    {"analysis", "converged_loss_tol", HS_KEY_REAL, 1, 0, OFF(converged_loss_tol), 1e-12, 1e3,
     "1e-3", NULL, "converged needs the loss's relative change per unit log-time over the "
     "last stretch (t/2 to t) below this"},
    {"analysis", "converged_speed_tol", HS_KEY_REAL, 1, 0, OFF(converged_speed_tol), 1e-12,
     1e3, "1e-2", NULL, "converged needs the order parameters' relative speed per unit "
     "log-time at the end below this"},
    {"analysis", "attention_samples", HS_KEY_INT, 1, 0, OFF(attention_samples), 0, 100000000,
     "1000", NULL, "sequences for the attention statistics at each record (0: skip)"},
    {"analysis", "stability", HS_KEY_BOOL, 1, HS_READ_BY_ODE, OFF(stability), 0, 1, "false",
     NULL, "predict each feature's escape from the linearised ODE (stability/)"},
    {"analysis", "stability_threshold", HS_KEY_REAL, 1, HS_READ_BY_ODE, OFF(stability_threshold),
     1e-9, 1e3, "0.1", NULL, "max_h |m_hk| that marks a feature's escape (end of linear regime)"},
    {"testing", "fail_point", HS_KEY_INT, 0, HS_READ_TESTING, OFF(fail_on_purpose), -1, 1e9, "-1",
     NULL, "grid index of a point that fails on purpose (tests only)"},
};
#undef OFF
/* ode.method's default was rkf45 and the control variate did not exist
 * before layout revision 5 (issues 25 and 26). */
const hs_key_change hs_job_key_changes[] = {
    {"ode", "method", 5, "rkf45"},
    {"ode", "control_variate", 5, "false"},
};
const int hs_n_job_key_changes = sizeof hs_job_key_changes / sizeof *hs_job_key_changes;

const int hs_n_job_keys = sizeof hs_job_keys / sizeof *hs_job_keys;

int hs_job_key_index(const char *section, const char *name) {
  for (int i = 0; i < hs_n_job_keys; i++)
    if (strcmp(hs_job_keys[i].section, section) == 0 &&
        strcmp(hs_job_keys[i].name, name) == 0)
      return i;
  return -1;
}
