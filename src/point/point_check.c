/* point_check.c: what a point needs before it runs: its step count, its
 * memory, and whether it can run at all (point.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/bayes.h"
#include "headspec/point.h"
#include "headspec/population.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"
#include "phase.h"

int64_t hs_point_steps(const hs_point *p) {
  double steps = p->t_max * p->d / p->eta; /* in double: cannot overflow */
  return steps <= HS_MAX_STEPS ? hs_timegrid_step(p->t_max, p->eta, p->d) : -1;
}

/* Whether SGD's steps are gradient descent on a held set (sgd.c). */
static int set_gd_held(const hs_point *p) {
  long n = p->run_sgd ? hs_point_n_train(p) : 0;
  return n > 0 && n == p->B && p->batches == HS_BATCHES_EPOCHS &&
         8.0 * n * p->L * p->d <= HS_SGD_SET_HOLD_BYTES;
}

/* Doubles of a training set's arrays (sgd.h): its tokens and relevant
 * indices if held, an epoch's permutation, a batch's indices. */
static double set_doubles(const hs_point *p) {
  double n = p->run_sgd ? hs_point_n_train(p) : 0, held = n * p->L * p->d;
  if (n == 0) return 0;
  if (8 * held > HS_SGD_SET_HOLD_BYTES) held = 0;
  return held + n / 2 + n + p->B;
}

/* K of the point's distribution, from the distribution itself (0 if it is
 * invalid: hs_point_check then refuses it by name). */
static double spikes_of(const hs_point *p) {
  hs_dist dist;
  hs_err ignore;
  if (hs_dist_init(&dist, &p->dist, &ignore)) return 0;
  int K = dist.K;
  hs_dist_free(&dist);
  return K;
}

double hs_point_memory(const hs_point *p) {
  double H = p->H, K = spikes_of(p), L = p->L, d = p->d, N = p->ode_samples;
  double T = p->records, width = K + H, cap = p->B > 64 ? p->B : 64; /* sgd.c's batch */
  /* one sample set at a time: the fresh one is drawn after set 0 is freed */
  if (p->fresh_samples > N) N = p->fresh_samples;
  if (!p->run_sgd && !p->run_ode) N = 0; /* only the Bayes risk */
  double doubles = K * d + N * L * width + N * K + 256 * L * (3 * H + 2); /* population.c */
  int sgd_start = p->run_ode && p->ode_start == HS_START_SGD;
  /* gradient descent on a held set reads the set itself: X of 64 rows */
  double x_cap = set_gd_held(p) ? 64 : cap;
  if (p->run_sgd || sgd_start) doubles += H * d + x_cap * L * d + cap * L * (3 * H + 3) + d;
  if (p->run_ode) doubles += 12 * (H * width + H + 1) + 3 * H * H; /* rkf45 state, N, LU */
  if (p->run_ode && p->stability) /* Jacobian, its eigenvectors, GSL's copies; tangent flow */
    doubles += 7 * pow(H * width + H + 1, 2) + 40 * (H * width + H + 1);
  if (p->run_ode && p->resample_dt > 0) /* the steps' set, besides set 0 */
    doubles += (double)p->ode_samples * (L * width + K);
  if (p->run_ode && p->ode_replicas > 1) { /* a replica's set beside set 0, their records */
    double R = p->ode_replicas;
    doubles += (double)p->ode_samples * (L * width + K) + R * (H * width + H + 1);
    doubles += R * T * (H * K + H * H + H + 2) + R * (K + 1) + T * H * K;
  }
  doubles += 2 * T * (H * K + 3 * H * H + H + 4) + K * K + 2 * p->maps * H * L; /* results */
  doubles += L * K;                                                          /* Bayes */
  doubles += set_doubles(p);
  doubles += 16.0 * H * L;                                     /* attention statistics */
  return 8 * doubles;
}

double hs_point_samples_needed(const hs_point *p, const hs_dist *dist) {
  if (!p->run_ode || p->resample_dt > 0 || p->ode_start == HS_START_BAYES) return 0;
  int H = p->H, K = dist->K, given = p->ode_start == HS_START_GIVEN, exposed = 0;
  double s0 = INFINITY;
  for (int k = 0; k < K; k++) {
    if (p->ode_control_variate && hs_dist_flip_symmetric(dist, k) == 1) continue;
    if (fabs(dist->mean[k]) > 1e-12) continue; /* driven by E[c_k], no saddle to leave */
    exposed = 1;
    double seed = given ? 0 : p->d > 0 ? p->sigma0 / sqrt((double)p->d) : 0;
    for (int h = 0; given && p->start_m.data && h < H && p->start_m.cols == K; h++)
      seed = fmax(seed, fabs(p->start_m.data[h * K + k]));
    s0 = fmin(s0, fmax(seed, p->start_noise));
  }
  if (!exposed) return 0;
  return s0 > 0 ? HS_SOURCE_MARGIN * HS_SOURCE_MARGIN / (s0 * s0) : INFINITY;
}

/* The given start's shapes, and Q - m m^T = V V^T positive semi-definite
 * (positive definite if the noise term needs V^-1). */
static hs_status check_given(const hs_point *p, int K, int need_pd, hs_err *err) {
  int H = p->H;
  if (p->start_m.rows != H || p->start_m.cols != K)
    return hs_err_set(err, HS_EINPUT, "start_m must be H x K = %d x %d (got %d x %d)", H, K,
                      p->start_m.rows, p->start_m.cols);
  if (p->start_Q.rows != H || p->start_Q.cols != H)
    return hs_err_set(err, HS_EINPUT, "start_Q must be H x H = %d x %d (got %d x %d)", H, H,
                      p->start_Q.rows, p->start_Q.cols);
  if (p->start_b.data && p->start_b.cols != H)
    return hs_err_set(err, HS_EINPUT, "start_b must have H = %d entries", H);
  double *R = malloc(sizeof(double) * H * (K + H));
  if (!R) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_point_represent_given(H, K, p->start_m.data, p->start_Q.data, R, err);
  if (st) hs_err_set(err, HS_EINPUT, "start_Q - start_m start_m^T is not positive semi-definite");
  for (int h = 0; h < H && !st && need_pd; h++)
    if (!(R[h * (K + H) + K + h] > 0))
      st = hs_err_set(err, HS_EINPUT,
                      "start_Q - start_m start_m^T is singular, so the ODE's noise term "
                      "(which needs its inverse) is undefined: set ode noise_term: false, "
                      "or start_noise > 0");
  free(R);
  return st;
}

/* Whether the ODE's start fits the point: the Bayes point's atoms, the
 * given m/Q/b, and a start whose Q_perp is invertible when the noise term
 * needs it (start_noise > 0 makes it so almost surely). */
static hs_status check_start(const hs_point *p, const hs_dist *dist, hs_err *err) {
  int H = p->H, K = dist->K;
  int need_pd = p->noise_term && p->start_noise == 0;
  if (p->ode_start == HS_START_BAYES) {
    double *R = malloc(sizeof(double) * H * (K + H)), *b = malloc(sizeof(double) * H);
    hs_status st = R && b ? hs_bayes_point(dist, H, R, b, err)
                          : hs_err_set(err, HS_ENOMEM, "out of memory");
    free(R), free(b);
    if (!st && need_pd)
      st = hs_err_set(err, HS_EINPUT,
                      "the Bayes point has Q_perp = 0, where the ODE's noise term (which "
                      "needs Q_perp^-1) is undefined: set ode noise_term: false, or "
                      "start_noise > 0");
    return st;
  }
  if (p->ode_start == HS_START_GIVEN) return check_given(p, K, need_pd, err);
  /* sgd: Q - m m^T = W (I - xi^T xi / d) W^T / d. With H > d heads the W
   * span all of R^d, where I - xi^T xi / d has negative directions unless
   * the spikes are orthonormal: indefinite, no start. Orthonormal, it is a
   * projector of rank d - K: singular when H > d - K. */
  if (!p->orthonormal_spikes && H > p->d)
    return hs_err_set(err, HS_EINPUT,
                      "the ODE's start from SGD needs H <= d (H = %d, d = %d): with more "
                      "heads than dimensions Q - m m^T is indefinite; raise d, or use "
                      "orthonormal_spikes",
                      H, p->d);
  if (need_pd && p->orthonormal_spikes && H > p->d - K)
    return hs_err_set(err, HS_EINPUT,
                      "the SGD start's Q_perp has rank d - K = %d < H = %d, so the ODE's "
                      "noise term (which needs Q_perp^-1) is undefined: raise d to H + K, set "
                      "ode noise_term: false, or start_noise > 0",
                      p->d - K, H);
  return HS_OK;
}

/* The checks that need the distribution (its K). */
static hs_status check_with_dist(const hs_point *p, const hs_dist *dist, const char **key,
                                 hs_err *err) {
  int models = p->run_sgd || p->run_ode; /* a Bayes-only point has no d */
  if (models && p->orthonormal_spikes && dist->K > p->d)
    return *key = "model.orthonormal_spikes",
           hs_err_set(err, HS_EINPUT, "orthonormal spikes need K <= d (K = %d, d = %d)",
                      dist->K, p->d);
  int spikes_used = p->run_sgd || (p->run_ode && p->ode_start == HS_START_SGD);
  if (spikes_used && dist->K > p->d)
    return *key = "training.d",
           hs_err_set(err, HS_EINPUT,
                      "K = %d spikes need d >= K (d = %d): their Gram matrix M would be "
                      "singular", dist->K, p->d);
  if (p->run_ode) return *key = "ode.start", check_start(p, dist, err);
  return HS_OK;
}

hs_status hs_point_check(const hs_point *p, const char **key, hs_err *err) {
  const char *blame = NULL;
  if (!key) key = &blame;
  *key = NULL;
  if (!p->run_sgd && !p->run_ode && p->bayes_samples == 0)
    return *key = "analysis.bayes_samples",
           hs_err_set(err, HS_EINPUT,
                      "nothing to compute: training run and ode run are both false and "
                      "analysis bayes_samples is 0 (give bayes_samples > 0 for a point "
                      "that computes only the Bayes risk)");
  if (p->run_ode && p->ode_replicas > 1 && p->resample_dt > 0)
    return *key = "ode.replicas",
           hs_err_set(err, HS_EINPUT,
                      "replicas are of the ODE on fixed samples: with resample_dt > 0 each "
                      "step draws fresh samples already (give replicas: 1 or resample_dt: 0)");
  if (p->run_sgd && hs_point_steps(p) < 0)
    return *key = "training.t_max",
           hs_err_set(err, HS_EINPUT,
                      "%.3g SGD steps (t_max d / eta = %g * %d / %g), over the limit of "
                      "2^53 = %.4g: lower t_max or d, or raise eta",
                      p->t_max * p->d / p->eta, p->t_max, p->d, p->eta, HS_MAX_STEPS);
  if (p->run_sgd && p->n_train > 0 && p->alpha_train > 0)
    return *key = "training.alpha",
           hs_err_set(err, HS_EINPUT,
                      "give the training set's size once: n_train (%d) or alpha (%g), not both",
                      p->n_train, p->alpha_train);
  if (p->run_sgd && hs_point_n_train(p) > 0 && p->sampler == HS_SAMPLER_REDUCED)
    return *key = "training.sampler",
           hs_err_set(err, HS_EINPUT,
                      "the reduced sampler draws fresh sequences at every step, so it cannot "
                      "reuse a fixed training set (n = %ld sequences, from training n_train or "
                      "alpha): set training sampler: full",
                      hs_point_n_train(p));
  double hours = hs_point_cost(p) / 3600;
  if (!(hours <= HS_MAX_POINT_CORE_HOURS))
    return *key = "training.t_max",
           hs_err_set(err, HS_EINPUT,
                      "one point is estimated at %.3g core-hours, over the limit of %g "
                      "(a probable mistake; to run it anyway raise HS_MAX_POINT_CORE_HOURS "
                      "in include/headspec/point.h and rebuild)",
                      hours, HS_MAX_POINT_CORE_HOURS);
  double gib = hs_point_memory(p) / (1 << 30);
  if (!(gib <= HS_MAX_POINT_GIB))
    return *key = "training.d",
           hs_err_set(err, HS_EINPUT,
                      "one point needs about %.3g GiB of memory, over the limit of %d GiB "
                      "(mostly 8 max(B, 64) L d bytes for SGD's batch, 8 n L d for a training "
                      "set of n sequences if held (up to %.3g GiB), 8 samples L (K + H) for "
                      "the ODE's samples, 8 records H^2 for the results, 56 H^4 for "
                      "analysis.stability's Jacobian; to run it "
                      "anyway raise HS_MAX_POINT_GIB in include/headspec/point.h)",
                      gib, HS_MAX_POINT_GIB, HS_SGD_SET_HOLD_BYTES / (1 << 30));
  hs_dist dist;
  *key = "model.distribution";
  hs_status st = hs_dist_init(&dist, &p->dist, err);
  if (st) return st;
  st = check_with_dist(p, &dist, key, err);
  hs_dist_free(&dist);
  return st;
}

