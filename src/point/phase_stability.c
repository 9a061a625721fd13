/* phase_stability.c: the linearised flow's predictions for a point whose
 * ODE ran (phase.h, stability.h, issue 20): the escape of each spike
 * direction from the head-symmetric trajectory, the growth rates and head
 * patterns of the Jacobian's m-modes, and saddle to saddle from each
 * plateau of the ODE's own records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/ode.h"
#include "headspec/stability.h"
#include "phase.h"

/* tangent-flow samples per record interval, at most MAX_SAMPLES in all (a
 * sample is K comparisons; the ODE's own records bound the resolution) */
enum { SUBSTEPS = 8, MAX_SAMPLES = 8192 };

static int stability_runs(const hs_point *p) { return p->run_ode && p->stability; }

/* The tangent flows (the symmetric one to the last escape, then one from
 * each plateau) are stepped by rkf45 (6 tangent right-hand sides a step,
 * each 3 ODE ones) at least once per sample interval of t_max / steps, and
 * the samples, not accuracy, set the step on these flows: their count is
 * 18 samples-crossed. How long they last, D in time units summed over the
 * flows, is the escape times', which only running the flow tells; on the
 * stability jobs D ~ 0.4 K^3 H^0.75 (measured 5-60: flipping H = 2..8,
 * diag_gaussian K = 3 at H = 4, 8; docs/BENCHMARKS.md), at most t_max per
 * flow; with the control variate about twice that (no source seeds the
 * escapes, and a feature never learned keeps its flow going: 1.4-2.6x on
 * tests/cost_model.sh's jobs). Then K + 1 Jacobians of 2n right-hand
 * sides each. */
static int samples_of(const hs_point *p) {
  return p->records - 1 > MAX_SAMPLES / SUBSTEPS ? MAX_SAMPLES : SUBSTEPS * (p->records - 1);
}

static double flows_rhs(const hs_point *p, double duration) {
  return 18.0 * samples_of(p) * duration / p->t_max;
}

double hs_stability_phase_rhs(const hs_point *p, const hs_dist *dist) {
  double K = dist->K, n = (double)hs_ode_dim(p->H, dist->K);
  double cv = hs_point_control_variate(p, dist) ? 2 : 1;
  double flows = fmin(cv * 0.4 * K * K * K * pow(p->H, 0.75), K * p->t_max);
  return flows_rhs(p, flows) + 2 * n * (K + 1);
}

double hs_stability_prediction_rhs(const hs_point *p, const hs_dist *dist) {
  double K = dist->K;
  double cv = hs_point_control_variate(p, dist) ? 2 : 1;
  return flows_rhs(p, fmin(cv * 0.4 * K * K * K * pow(p->H, 0.75), K * p->t_max) / K);
}

/* Each right-hand side as the ODE's (the same function on the same
 * samples); each Jacobian's eigen-decomposition ~10-25 n^3 flops. */
static double stability_cost(const hs_point *p, const hs_dist *dist) {
  double K = dist->K, n = (double)hs_ode_dim(p->H, dist->K);
  return hs_stability_phase_rhs(p, dist) * hs_cost_rhs(p, dist) + (K + 1) * 2e-8 * n * n * n;
}

static double threshold(const hs_point *p) {
  return p->stability_threshold > 0 ? p->stability_threshold : 0.1;
}

/* The ODE state of record r in the representation of its start:
 * R = [m | chol(Q - m m^T)] (MODEL.md section 6), b, lambda. */
static hs_status record_state(const hs_result *res, int r, double *y, hs_err *err) {
  int H = res->shape.H, K = res->shape.K, W = K + H;
  hs_status st = hs_population_represent(H, K, res->ode_m + (size_t)r * H * K,
                                         res->ode_Q + (size_t)r * H * H, y, err);
  memcpy(y + H * W, res->ode_b + (size_t)r * H, sizeof(double) * H);
  y[H * W + H] = res->ode_lambda[r];
  for (int h = 0; h < H; h++)
    if (isnan(y[H * W + h])) y[H * W + h] = 0;
  if (isnan(y[H * W + H])) y[H * W + H] = 1;
  return st;
}

/* Growth rate, unstable count and head pattern of each spike direction at
 * the symmetric trajectory's state where that direction escapes (at_escape,
 * K x n); the asymmetry at its start ys. */
static hs_status growth_rates(hs_ode *ode, const hs_point *p, hs_result *res,
                              const double *ys, const double *at_escape, hs_err *err) {
  int H = p->H, K = res->shape.K;
  size_t n = hs_ode_dim(H, K);
  double *J = malloc(sizeof(double) * n * n), *w = malloc(sizeof(double) * n * K);
  hs_stability_mode *modes = malloc(sizeof *modes * n);
  hs_status st = !J || !w || !modes ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  const double *have = NULL;
  for (int k = -1; k < K && !st; k++) {
    /* k = -1: the start, for the asymmetry */
    const double *y = k < 0 ? ys : at_escape + (size_t)k * n;
    if (!have || memcmp(y, have, sizeof(double) * n) != 0) {
      st = hs_stability_jacobian(ode, H, K, y, 1e-5, J, err);
      if (!st) st = hs_stability_modes(J, H, K, modes, w, k < 0 ? res->stab_asymmetry : NULL, err);
      have = y;
    }
    if (st || k < 0) continue;
    int unstable;
    double tol = 1e-3 * fmax(fabs(modes[0].rate), fabs(modes[n - 1].rate));
    res->stab_growth[k] = hs_stability_growth(modes, w, (int)n, K, k, tol, &unstable,
                                              res->stab_together + k);
    res->stab_unstable[k] = unstable;
  }
  free(J), free(w), free(modes);
  return st;
}

/* The record between two measured escapes where the ODE moves least in
 * (m, Q): the plateau (-1 if no record lies strictly between). */
static int plateau(const hs_result *res, double after, double before) {
  int T = res->shape.T, H = res->shape.H, K = res->shape.K, best = -1;
  double slowest = INFINITY;
  for (int r = 1; r + 1 < T; r++) {
    if (!(res->ode_t[r] > after && res->ode_t[r] < before)) continue;
    double v = 0;
    for (int i = 0; i < H * K; i++) {
      double dm = res->ode_m[(size_t)(r + 1) * H * K + i] - res->ode_m[(size_t)(r - 1) * H * K + i];
      v += dm * dm;
    }
    for (int i = 0; i < H * H; i++) {
      double dq = res->ode_Q[(size_t)(r + 1) * H * H + i] - res->ode_Q[(size_t)(r - 1) * H * H + i];
      v += dq * dq;
    }
    v = sqrt(v) / (res->ode_t[r + 1] - res->ode_t[r - 1]);
    if (v < slowest) slowest = v, best = r;
  }
  return best;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Saddle to saddle (Lemma III.2): from the plateau after each measured
 * escape, the features not yet learned (max_h |m_hk| below the threshold)
 * set to zero as the reference, their columns as the seed. A feature's
 * saddle prediction is the one from the last plateau before its measured
 * escape (any plateau if it has none). */
static hs_status saddles(hs_stability_flow *flow, const hs_point *p, hs_result *res, int steps,
                         hs_err *err) {
  int H = p->H, K = res->shape.K, W = K + H, ne = 0;
  size_t n = hs_ode_dim(H, K);
  double *te = malloc(sizeof(double) * (K + 1)), *esc = malloc(sizeof(double) * K);
  double *y = malloc(sizeof(double) * n), *yref = malloc(sizeof(double) * n);
  double *delta = malloc(sizeof(double) * n), *sign = malloc(sizeof(double) * H * K);
  int *zero = malloc(sizeof(int) * K);
  hs_status st = !te || !esc || !y || !yref || !delta || !sign || !zero
                     ? hs_err_set(err, HS_ENOMEM, "out of memory")
                     : HS_OK;
  for (int k = 0; k < K && !st; k++)
    if (!isnan(res->stab_measured_t[k])) te[ne++] = res->stab_measured_t[k];
  if (!st) qsort(te, (size_t)ne, sizeof *te, by_value);
  if (!st) te[ne] = p->t_max;
  flow->symmetric = 0;
  flow->zero_spike = zero;
  for (int j = 0; j < ne && !st; j++) {
    int r = plateau(res, te[j], te[j + 1]), unlearned = 0;
    hs_err ignore;
    if (r < 0 || record_state(res, r, y, &ignore)) continue;
    for (int k = 0; k < K; k++) {
      double v = 0;
      for (int h = 0; h < H; h++) v = fmax(v, fabs(y[h * W + k]));
      zero[k] = v < flow->threshold;
      unlearned += zero[k];
    }
    if (!unlearned) continue;
    memcpy(yref, y, sizeof(double) * n);
    hs_stability_project(flow, yref);
    for (size_t i = 0; i < n; i++) delta[i] = y[i] - yref[i];
    double t0 = res->ode_t[r];
    int s = (int)ceil(steps * (p->t_max - t0) / p->t_max);
    st = hs_stability_escape(flow, yref, delta, t0, p->t_max, s < SUBSTEPS ? SUBSTEPS : s, esc,
                             sign, NULL, err);
    for (int k = 0; k < K && !st; k++) {
      /* only plateaus before the feature's own escape: one after it (a
       * feature that crossed the threshold and fell back) predicts no
       * escape and would overwrite the prediction that timed it */
      if (!zero[k] || res->stab_measured_t[k] <= t0) continue;
      res->stab_saddle_t[k] = esc[k], res->stab_saddle_from[k] = t0;
      if (isnan(res->stab_saddle_first_t[k]) && j == 0) res->stab_saddle_first_t[k] = esc[k];
    }
  }
  free(te), free(esc), free(y), free(yref), free(delta), free(sign), free(zero);
  return st;
}

/* The ODE's own right-hand side (hs_ode_rhs) on whatever samples it is
 * created on, with the ODE's control variate if it had one. */
static hs_ode_config rhs_config(const hs_point *p, const hs_dist *dist) {
  return (hs_ode_config){.eta_over_B = p->eta / p->B, .kappa = p->kappa,
                         .noise_term = p->noise_term, .rtol = p->ode_rtol, .atol = p->ode_atol,
                         .control_variate = p->ode_control_variate, .dist = dist};
}

static hs_stability_flow symmetric_flow(hs_ode *ode, const hs_point *p, int K) {
  return (hs_stability_flow){.ode = ode, .H = p->H, .K = K, .symmetric = 1,
                             .threshold = threshold(p), .rtol = p->ode_rtol,
                             .atol = p->ode_atol};
}

/* The head-symmetric prediction on the right-hand side `ode`: from the
 * ODE's record 0, its head-symmetric part (into ys, n) as the reference and
 * the rest as the seed, each spike direction's escape (t_escape K, split
 * H x K, at K x n or NULL: hs_stability_escape). */
static hs_status predict_symmetric(hs_ode *ode, const hs_point *p, const hs_result *res,
                                   double *ys, double *t_escape, double *split, double *at,
                                   hs_err *err) {
  int H = p->H, K = res->shape.K;
  size_t n = hs_ode_dim(H, K);
  double *y0 = malloc(sizeof(double) * n), *delta = malloc(sizeof(double) * n);
  hs_status st = !y0 || !delta ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  if (!st) st = record_state(res, 0, y0, err);
  if (!st) st = hs_stability_symmetric_state(H, K, y0, ys, err);
  for (size_t i = 0; i < n && !st; i++) delta[i] = y0[i] - ys[i];
  hs_stability_flow flow = symmetric_flow(ode, p, K);
  if (!st)
    st = hs_stability_escape(&flow, ys, delta, 0, p->t_max, samples_of(p), t_escape, split, at,
                             err);
  free(y0), free(delta);
  return st;
}

hs_status hs_stability_predict_on(hs_point_context *ctx, hs_population *pop, double *t_escape,
                                  long *calls, hs_err *err) {
  const hs_point *p = ctx->p;
  int K = ctx->dist.K;
  hs_ode_config cfg = rhs_config(p, &ctx->dist);
  hs_ode *ode = NULL;
  double *ys = malloc(sizeof(double) * hs_ode_dim(p->H, K));
  double *split = malloc(sizeof(double) * p->H * K);
  hs_status st = !ys || !split ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  if (!st) st = hs_ode_create(pop, &cfg, &ode, err);
  if (!st) st = predict_symmetric(ode, p, ctx->res, ys, t_escape, split, NULL, err);
  if (ode) *calls += hs_ode_rhs_calls(ode);
  hs_ode_free(ode);
  free(ys), free(split);
  return st;
}

static hs_status stability_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, K = ctx->dist.K, T = res->shape.T;
  size_t n = hs_ode_dim(H, K);
  /* the ODE's own right-hand side on its fixed samples (set 0) */
  hs_ode_config cfg = rhs_config(p, &ctx->dist);
  hs_ode *ode = NULL;
  double *ys = malloc(sizeof(double) * n), *at = malloc(sizeof(double) * K * n);
  hs_status st = !ys || !at ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  if (!st) st = hs_ode_create(&ctx->pop, &cfg, &ode, err);
  if (!st) st = predict_symmetric(ode, p, res, ys, res->stab_predicted_t, res->stab_split, at, err);
  if (!st) st = growth_rates(ode, p, res, ys, at, err);
  hs_stability_flow flow = symmetric_flow(ode, p, K);
  if (!st) {
    hs_stability_measured_escape(T, res->ode_t, res->ode_m, H, K, flow.threshold,
                                 res->stab_measured_t);
    st = saddles(&flow, p, res, samples_of(p), err);
  }
  if (ode) ctx->rhs_calls = hs_ode_rhs_calls(ode);
  hs_ode_free(ode);
  free(ys), free(at);
  return st;
}

const hs_phase hs_phase_stability = {"stability", stability_runs, stability_cost, stability_run};
