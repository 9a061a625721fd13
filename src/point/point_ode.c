/* point_ode.c: the ODE part of a point's run (point_impl.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "headspec/bayes.h"
#include "headspec/ode.h"
#include "headspec/overlap.h"
#include "headspec/prune.h"
#include "headspec/sgd.h"
#include "point_impl.h"

/* The exact order parameters of the SGD initialisation (same seed and d). */
static hs_status start_from_sgd(hs_point_context *ctx, double *R, hs_err *err) {
  const hs_point *p = ctx->p;
  int H = p->H, K = ctx->dist.K;
  hs_sgd_config cfg = {.d = p->d, .L = p->L, .H = H, .B = 1, .eta = p->eta,
                       .kappa = p->kappa, .sigma0 = p->sigma0, .act = ctx->act,
                       .dist = &ctx->dist, .xi = ctx->xi, .job_seed = p->job_seed,
                       .seed = (uint64_t)p->seed, .test_samples = 1};
  hs_sgd s;
  hs_status st = hs_sgd_init(&s, &cfg, err);
  if (st) return st;
  double *M = malloc(sizeof(double) * K * K), *m = malloc(sizeof(double) * H * K);
  double *Q = malloc(sizeof(double) * H * H), *Qp = malloc(sizeof(double) * H * H);
  if (!M || !m || !Q || !Qp) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory for the SGD start");
  } else {
    hs_overlap_spike_gram(ctx->xi, K, p->d, M);
    st = hs_overlap_compute(s.W, H, ctx->xi, K, p->d, M, m, Q, Qp, err);
  }
  if (!st) st = hs_population_represent(H, K, m, Q, R, err);
  hs_sgd_free(&s);
  free(M), free(m), free(Q), free(Qp);
  return st;
}

static hs_status initial_state(hs_point_context *ctx, double *y, hs_err *err) {
  const hs_point *p = ctx->p;
  int H = p->H, K = ctx->dist.K, W = K + H;
  double *R = y, *b = y + H * W;
  memset(y, 0, sizeof(double) * hs_ode_dim(H, K));
  y[H * W + H] = p->start_lambda; /* lambda: only softmax1 reads it */
  hs_status st;
  if (strcmp(p->ode_start, "bayes") == 0) {
    st = hs_bayes_point(&ctx->dist, H, R, b, err);
  } else if (strcmp(p->ode_start, "given") == 0) {
    st = hs_population_represent(H, K, p->start_m.data, p->start_Q.data, R, err);
    if (p->start_b.data) memcpy(b, p->start_b.data, sizeof(double) * H);
  } else {
    st = start_from_sgd(ctx, R, err);
  }
  if (!st && p->start_noise > 0) {
    double *noise = malloc(sizeof(double) * H * W);
    if (!noise) return hs_err_set(err, HS_ENOMEM, "out of memory for the start noise");
    hs_rng r;
    hs_rng_init(&r, p->job_seed, (uint64_t)p->seed, HS_PURPOSE_START, 0);
    hs_rng_normal(&r, noise, (size_t)H * W);
    for (int i = 0; i < H * W; i++) R[i] += p->start_noise * noise[i];
    free(noise);
  }
  return st;
}

/* Store the ODE state as record j: m = R[:, :K], Q = R R^T, Q_perp = V V^T. */
static hs_status record(hs_point_context *ctx, const double *y, double t, int j,
                        hs_err *err) {
  hs_result *res = ctx->res;
  int H = res->shape.H, K = res->shape.K, W = K + H;
  const double *R = y, *b = y + H * W;
  res->ode_t[j] = t;
  for (int h = 0; h < H; h++)
    memcpy(res->ode_m + ((size_t)j * H + h) * K, R + h * W, sizeof(double) * K);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, W, 1.0, R, W, R, W,
              0.0, res->ode_Q + (size_t)j * H * H, H);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, H, 1.0, R + K, W,
              R + K, W, 0.0, res->ode_Qperp + (size_t)j * H * H, H);
  memcpy(res->ode_b + (size_t)j * H, b, sizeof(double) * H);
  res->ode_lambda[j] = y[H * W + H];
  res->ode_loss[j] = hs_population_loss(&ctx->pop, H, R, NULL, b, y[H * W + H], NULL,
                                        NULL, NULL, NULL, NULL);
  return hs_progress_stopped(&ctx->progress)
             ? hs_err_set(err, HS_EINTERRUPT, "interrupted at the ODE record t = %g", t)
             : HS_OK;
}

/* Progress (and a chance to stop) at every right-hand side; the
 * population's loss also hears from the listener within one. */
static int poll(void *user, double t) {
  hs_point_context *ctx = user;
  hs_progress_set(&ctx->progress, t / ctx->times[ctx->res->shape.T - 1]);
  return hs_progress_poll(&ctx->progress);
}

hs_status hs_point_run_ode(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, K = ctx->dist.K, W = K + H, T = res->shape.T;
  double *y = malloc(sizeof(double) * hs_ode_dim(H, K));
  if (!y) return hs_err_set(err, HS_ENOMEM, "out of memory");
  int method = hs_ode_method_find(p->ode_method);
  hs_ode_config cfg = {.method = method < 0 ? HS_ODE_RKF45 : (hs_ode_method)method,
                       .eta_over_B = p->eta / p->B, .kappa = p->kappa,
                       .noise_term = p->noise_term, .rtol = p->ode_rtol,
                       .atol = p->ode_atol, .poll = poll, .poll_user = ctx,
                       .resample_dt = p->resample_dt, .dist = &ctx->dist,
                       .job_seed = p->job_seed, .seed = (uint64_t)p->seed,
                       .antithetic = p->antithetic};
  hs_ode *ode = NULL;
  /* resampled: the steps draw into a population of their own, so that
   * ode/loss, the maps and pruning keep to the fixed set 0 */
  hs_population steps = {0};
  hs_point_phase(ctx, HS_PHASE_ODE);
  hs_status st = initial_state(ctx, y, err);
  if (!st && p->resample_dt > 0)
    st = hs_population_alloc(&steps, ctx->act, K, p->L, H, p->ode_samples, &ctx->progress,
                             err);
  if (!st) st = hs_ode_create(p->resample_dt > 0 ? &steps : &ctx->pop, &cfg, &ode, err);
  double t = 0;
  for (int j = 0; j < T && !st; j++) {
    st = hs_ode_advance(ode, y, &t, ctx->times[j], err);
    if (!st) st = record(ctx, y, t, j, err);
  }
  if (!st) {
    const double *b = y + H * W;
    hs_point_phase(ctx, HS_PHASE_ODE_FINAL);
    if (hs_population_maps(&ctx->pop, &ctx->dist, H, y, NULL, b, y[H * W + H], p->maps,
                           p->job_seed, (uint64_t)p->seed, res->ode_maps))
      st = hs_err_set(err, HS_EINTERRUPT, "interrupted in the ODE maps");
    if (!st && p->prune)
      st = hs_prune(&ctx->pop, H, y, NULL, b, y[H * W + H], res->ode_prune_loss,
                    res->ode_prune_order, err);
  }
  hs_ode_free(ode);
  hs_population_free(&steps);
  if (!st) ctx->ode_y = y; /* for the out-of-sample loss (point_fresh.c) */
  else free(y);
  return st;
}
