/* phase_ode.c: the ODE phases of a point's run (phase.h): the integration
 * with records, then the maps and pruning of its final state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "headspec/bayes.h"
#include "headspec/ode.h"
#include "headspec/overlap.h"
#include "headspec/prune.h"
#include "headspec/sgd.h"
#include "phase.h"

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

hs_status hs_ode_phase_start(hs_point_context *ctx, double *y, hs_err *err) {
  const hs_point *p = ctx->p;
  int H = p->H, K = ctx->dist.K, width = K + H;
  double *R = y, *b = y + H * width;
  memset(y, 0, sizeof(double) * hs_ode_dim(H, K));
  y[H * width + H] = p->start_lambda; /* lambda: only softmax1 reads it */
  hs_status st;
  if (p->ode_start == HS_START_BAYES) {
    st = hs_bayes_point(&ctx->dist, H, R, b, err);
  } else if (p->ode_start == HS_START_GIVEN) {
    st = hs_point_represent_given(H, K, p->start_m.data, p->start_Q.data, R, err);
    if (p->start_b.data) memcpy(b, p->start_b.data, sizeof(double) * H);
  } else {
    st = start_from_sgd(ctx, R, err);
  }
  if (!st && p->start_noise > 0) {
    double *noise = malloc(sizeof(double) * H * width);
    if (!noise) return hs_err_set(err, HS_ENOMEM, "out of memory for the start noise");
    hs_rng r;
    hs_rng_init(&r, p->job_seed, (uint64_t)p->seed, HS_PURPOSE_START, 0);
    hs_rng_normal(&r, noise, (size_t)H * width);
    for (int i = 0; i < H * width; i++) R[i] += p->start_noise * noise[i];
    free(noise);
  }
  return st;
}

/* Store the ODE state as record j: m = R[:, :K], Q = R R^T, Q_perp = V V^T. */
static hs_status record(hs_point_context *ctx, const double *y, double t, int j,
                        hs_err *err) {
  hs_result *res = ctx->res;
  int H = res->shape.H, K = res->shape.K, width = K + H;
  const double *R = y, *b = y + H * width;
  res->ode_t[j] = t;
  for (int h = 0; h < H; h++)
    memcpy(res->ode_m + ((size_t)j * H + h) * K, R + h * width, sizeof(double) * K);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, width, 1.0, R, width, R, width,
              0.0, res->ode_Q + (size_t)j * H * H, H);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, H, 1.0, R + K, width,
              R + K, width, 0.0, res->ode_Qperp + (size_t)j * H * H, H);
  memcpy(res->ode_b + (size_t)j * H, b, sizeof(double) * H);
  res->ode_lambda[j] = y[H * width + H];
  res->ode_loss[j] = hs_population_loss(&ctx->pop, H, R, NULL, b, y[H * width + H], NULL,
                                        NULL, NULL, NULL, NULL);
  if (hs_progress_stopped(&ctx->progress))
    return hs_err_set(err, HS_EINTERRUPT, "interrupted at the ODE record t = %g", t);
  return hs_attention_stats(ctx, R, NULL, b, y[H * width + H], j, 1, err);
}

/* Progress (and a chance to stop) at every right-hand side; the
 * population's loss also hears from the listener within one. */
static int poll(void *user, double t) {
  hs_point_context *ctx = user;
  hs_progress_set(&ctx->progress, t / ctx->times[ctx->res->shape.T - 1]);
  return hs_progress_poll(&ctx->progress);
}

/* The convergence rule at record j, with the speed from the right-hand
 * side at the state y and, where loss and speed are slow, the saddle test
 * of the linearised flow there (records after a converged stop stay NaN). */
static hs_status judge(hs_point_context *ctx, hs_ode *ode, const double *y, int j,
                       int *converged, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, K = ctx->dist.K;
  double *dydt = malloc(sizeof(double) * hs_ode_dim(H, K));
  if (!dydt) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_ode_rhs(ode, y, dydt, err);
  if (!st) {
    hs_trajectory tr = {res->ode_t, res->ode_m, res->ode_Q, res->ode_b, res->ode_lambda,
                        res->ode_loss};
    hs_convergence_of(&tr, H, K, j, p, hs_order_velocity(H, K, y, dydt),
                      res->ode_loss_rate, res->ode_speed, res->ode_converged);
    /* a plateau is slow, not converged: the flow must have no way out */
    st = hs_convergence_check_saddle(ode, H, K, y, res->ode_converged, err);
    *converged = p->ode_stop_converged && res->ode_converged[0] == 1;
  }
  free(dydt);
  return st;
}

static int ode_runs(const hs_point *p) { return p->run_ode; }

/* Right-hand sides to t_max with a method, fitted to bench_ode's counts at
 * t = 10..2000 (L = 8, H = 2 and L = 16, H = 8): rkf45 ~35 t_max^0.45,
 * more where a fast b or lambda (kappa > 1) holds the step; bdf ~(30 +
 * n/2) ln(1 + t_max), each Jacobian costing n = dim right-hand sides, plus
 * the first Jacobian (auto chose bdf at t_max = 0.1, L = 16, H = 8: 133
 * right-hand sides against rkf45's 64). */
static double calls_with(const hs_point *p, int K, hs_ode_method method) {
  const hs_activation *act = hs_activation_find(p->activation);
  double stiff = act && (act->trains_b || act->trains_lambda) && p->kappa > 1 ? pow(p->kappa, 0.8) : 1;
  double n = (double)hs_ode_dim(p->H, K);
  if (method == HS_ODE_BDF) return n + (30 + n / 2) * log1p(p->t_max); /* n: its first Jacobian */
  return 35 * pow(p->t_max, 0.45) * stiff;
}

int hs_point_ode_method_find(const char *name) {
  return strcmp(name, "auto") == 0 ? HS_ODE_AUTO : hs_ode_method_find(name);
}

hs_ode_method hs_point_ode_method(const hs_point *p, int K) {
  if (p->ode_method == HS_ODE_AUTO)
    return hs_ode_dim(p->H, K) <= HS_ODE_BDF_MAX_DIM &&
                   calls_with(p, K, HS_ODE_BDF) < calls_with(p, K, HS_ODE_RKF45)
               ? HS_ODE_BDF
               : HS_ODE_RKF45;
  return p->ode_method == HS_ODE_BDF ? HS_ODE_BDF : HS_ODE_RKF45;
}

/* rkf45 also ends a step at every record time (GSL's driver lands on
 * each), six right-hand sides a step: on the stability jobs' 121-record
 * log grids those steps are most of the count (measured 764-1268 against
 * 221-456 without them; tests/cost_model.sh). BDF interpolates. */
static double rhs_calls(const hs_point *p, const hs_dist *dist) {
  hs_ode_method method = hs_point_ode_method(p, dist->K);
  /* bdf steps more with the control variate's gates closing: 1.2-2.2x on
   * tests/cost_model.sh's jobs */
  double cv = method == HS_ODE_BDF && hs_point_control_variate(p, dist) ? 1.5 : 1;
  return cv * calls_with(p, dist->K, method) +
         (method == HS_ODE_RKF45 ? 6.0 * (p->records - 1) : 0);
}

/* The final verdict's saddle test (hs_convergence_check_saddle): 2 H K
 * right-hand sides (with stop_when_converged also at each record where the
 * rule holds), none above its block size. */
static double saddle_rhs(const hs_point *p, int K) {
  return p->H * K > HS_SADDLE_MAX_BLOCK ? 0 : 2.0 * p->H * K;
}

/* The right-hand sides and one Lpop per record; resampled, a draw of the
 * samples and a right-hand side per Euler step. */
static double ode_cost(const hs_point *p, const hs_dist *dist) {
  double T = p->records, lpop = hs_cost_lpop_head(p) * p->H;
  double records = T * (0.5 * lpop + hs_cost_attention(p, dist->K));
  if (p->resample_dt > 0) {
    double steps = ceil(p->t_max / p->resample_dt) + T;
    double rhs = lpop + (p->noise_term ? 3e-9 * p->H * p->H * p->H : 0);
    return steps * (hs_phase_population.cost(p, dist) + rhs) + records;
  }
  return (rhs_calls(p, dist) + saddle_rhs(p, dist->K)) * hs_cost_rhs(p, dist) + records;
}

double hs_ode_phase_integration_rhs(const hs_point *p, const hs_dist *dist) {
  return rhs_calls(p, dist);
}

double hs_ode_phase_integration_cost(const hs_point *p, const hs_dist *dist) {
  return rhs_calls(p, dist) * hs_cost_rhs(p, dist);
}

double hs_ode_phase_rhs(const hs_point *p, const hs_dist *dist) {
  if (p->resample_dt > 0) return ceil(p->t_max / p->resample_dt) + p->records;
  return rhs_calls(p, dist) + saddle_rhs(p, dist->K);
}

hs_status hs_ode_phase_follow(hs_point_context *ctx, hs_population *pop, double *y, int n,
                             hs_ode_recorder rec, void *user, int (*poll_fn)(void *, double),
                             void *poll_user, long *calls, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_ode_config cfg = {.method = hs_point_ode_method(p, ctx->dist.K),
                       .eta_over_B = p->eta / p->B, .kappa = p->kappa,
                       .noise_term = p->noise_term, .rtol = p->ode_rtol,
                       .atol = p->ode_atol, .poll = poll_fn, .poll_user = poll_user,
                       .resample_dt = p->resample_dt, .dist = &ctx->dist,
                       .control_variate = p->ode_control_variate,
                       .job_seed = p->job_seed, .seed = (uint64_t)p->seed,
                       .antithetic = p->antithetic};
  hs_ode *ode = NULL;
  hs_status st = hs_ode_create(pop, &cfg, &ode, err);
  double t = 0;
  int stop = 0;
  for (int j = 0; j < n && !st && !stop; j++) {
    st = hs_ode_advance(ode, y, &t, ctx->times[j], err);
    if (!st) st = rec(ctx, ode, y, t, j, user, &stop, err);
  }
  if (ode) *calls = hs_ode_rhs_calls(ode);
  hs_ode_free(ode);
  return st;
}

/* Replica 0's record: the stored ode/ fields, and the convergence rule
 * where it may stop the run (*last: the last record stored). */
static hs_status record_primary(hs_point_context *ctx, hs_ode *ode, const double *y, double t,
                                int j, void *user, int *stop, hs_err *err) {
  int *last = user;
  hs_status st = record(ctx, y, t, j, err);
  if (!st) *last = j;
  if (!st && (ctx->p->ode_stop_converged || j == ctx->res->shape.T - 1))
    st = judge(ctx, ode, y, j, stop, err);
  return st;
}

static hs_status ode_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  int H = p->H, K = ctx->dist.K, T = ctx->res->shape.T;
  double *y = malloc(sizeof(double) * hs_ode_dim(H, K));
  if (!y) return hs_err_set(err, HS_ENOMEM, "out of memory");
  /* resampled: the steps draw into a population of their own, so that
   * ode/loss, the maps and pruning keep to the fixed set 0 */
  hs_population steps = {0};
  hs_status st = hs_ode_phase_start(ctx, y, err);
  if (!st && p->resample_dt > 0)
    st = hs_population_alloc(&steps, ctx->act, K, p->L, H, p->ode_samples, &ctx->progress,
                             err);
  int last = -1;
  long calls = 0;
  if (!st)
    st = hs_ode_phase_follow(ctx, p->resample_dt > 0 ? &steps : &ctx->pop, y, T, record_primary,
                             &last, poll, ctx, &calls, err);
  if (!st) ctx->res->ode_t_stop[0] = ctx->res->ode_t[last];
  if (!st)
    ctx->res->ode_method[0] = p->resample_dt > 0 ? (double)HS_ODE_EULER : (double)hs_point_ode_method(p, K);
  ctx->rhs_calls = calls;
  hs_population_free(&steps);
  if (!st) ctx->ode_y = y; /* for the final phase and the out-of-sample loss */
  else free(y);
  return st;
}

const hs_phase hs_phase_ode = {"ode", ode_runs, ode_cost, ode_run};

/* Attention maps and the pruning curve of the final ODE state. */
static hs_status ode_final_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, width = ctx->dist.K + H;
  const double *y = ctx->ode_y, *b = y + H * width;
  if (hs_population_maps(&ctx->pop, &ctx->dist, H, y, NULL, b, y[H * width + H], p->maps,
                         p->job_seed, (uint64_t)p->seed, res->ode_maps))
    return hs_err_set(err, HS_EINTERRUPT, "interrupted in the ODE maps");
  if (!p->prune) return HS_OK;
  return hs_prune(&ctx->pop, H, y, NULL, b, y[H * width + H], res->ode_prune_loss,
                  res->ode_prune_order, err);
}

static double ode_final_cost(const hs_point *p, const hs_dist *dist) {
  (void)dist;
  return hs_cost_maps(p) + hs_cost_prune(p);
}

const hs_phase hs_phase_ode_final = {"ode_final", ode_runs, ode_final_cost, ode_final_run};
