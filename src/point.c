/* point.c: run one grid point (SGD with records on the time grid). */
#include "headspec/point.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/bayes.h"
#include "headspec/timegrid.h"
#include "point_impl.h"

#define F1(path, member, doc, d0) {path, doc, 1, {d0}, offsetof(hs_result, member)}
#define F2(path, member, doc, d0, d1) \
  {path, doc, 2, {d0, d1}, offsetof(hs_result, member)}
#define F3(path, member, doc, d0, d1, d2) \
  {path, doc, 3, {d0, d1, d2}, offsetof(hs_result, member)}
const hs_result_field hs_result_fields[] = {
    F1("sgd/t", t, "time t = steps * eta / d of each record", HS_DIM_T),
    F1("sgd/step", step, "SGD steps taken at each record", HS_DIM_T),
    F3("sgd/m", m, "m_hk = <w_h, xi_k>/d", HS_DIM_T, HS_DIM_H, HS_DIM_K),
    F3("sgd/Q", Q, "Q_hh' = <w_h, w_h'>/d", HS_DIM_T, HS_DIM_H, HS_DIM_H),
    F3("sgd/Qperp", Qperp, "Q - m M^-1 m^T: the heads' Gram orthogonal to the spikes",
       HS_DIM_T, HS_DIM_H, HS_DIM_H),
    F2("sgd/b", b, "biases b_h", HS_DIM_T, HS_DIM_H),
    F1("sgd/lambda", lambda, "softmax1 output scale", HS_DIM_T),
    F1("sgd/test_loss", test_loss, "mean loss |y - f(X)|^2/d on the fixed test set", HS_DIM_T),
    F1("sgd/train_loss", train_loss, "mean batch loss over the steps since the last record",
       HS_DIM_T),
    F1("sgd/lpop", lpop, "population loss Lpop at the measured (m, Q, b, lambda)", HS_DIM_T),
    F2("sgd/M", M, "spike Gram M_kk' = <xi_k, xi_k'>/d", HS_DIM_K, HS_DIM_K),
    F1("sgd/prune_loss", sgd_prune_loss, "Lpop of the final SGD model with k heads kept (index k-1)",
       HS_DIM_H),
    F1("sgd/prune_order", sgd_prune_order, "heads in the order greedy pruning removes them",
       HS_DIM_H),
    F3("sgd/maps", sgd_maps, "attention weights A_hl of the final SGD model on sampled sequences",
       HS_DIM_MAPS, HS_DIM_H, HS_DIM_L),
    F1("sgd/maps_eps", sgd_maps_eps, "relevant token of each map's sequence", HS_DIM_MAPS),
    F1("ode/t", ode_t, "time t of each record", HS_DIM_T),
    F3("ode/m", ode_m, "m of the ODE", HS_DIM_T, HS_DIM_H, HS_DIM_K),
    F3("ode/Q", ode_Q, "Q of the ODE", HS_DIM_T, HS_DIM_H, HS_DIM_H),
    F3("ode/Qperp", ode_Qperp, "Q_perp = V V^T of the ODE", HS_DIM_T, HS_DIM_H, HS_DIM_H),
    F2("ode/b", ode_b, "biases of the ODE", HS_DIM_T, HS_DIM_H),
    F1("ode/lambda", ode_lambda, "softmax1 output scale of the ODE", HS_DIM_T),
    F1("ode/loss", ode_loss, "population loss Lpop along the ODE", HS_DIM_T),
    F1("ode/prune_loss", ode_prune_loss, "Lpop of the final ODE model with k heads kept (index k-1)",
       HS_DIM_H),
    F1("ode/prune_order", ode_prune_order, "heads in the order greedy pruning removes them",
       HS_DIM_H),
    F3("ode/maps", ode_maps, "attention weights A_hl of the final ODE model (token 0 relevant)",
       HS_DIM_MAPS, HS_DIM_H, HS_DIM_L),
    {"bayes_risk", "Bayes risk R* (Monte Carlo)", 0, {0}, offsetof(hs_result, bayes_risk)},
    {"bayes_risk_se", "standard error of bayes_risk", 0, {0},
     offsetof(hs_result, bayes_risk_se)},
    {"seconds", "wall-clock seconds spent on the point", 0, {0},
     offsetof(hs_result, seconds)},
};
#undef F1
#undef F2
#undef F3
const int hs_n_result_fields = sizeof hs_result_fields / sizeof *hs_result_fields;

int hs_shape_dim(const hs_shape *s, hs_dim d) {
  switch (d) {
    case HS_DIM_T: return s->T;
    case HS_DIM_H: return s->H;
    case HS_DIM_K: return s->K;
    case HS_DIM_L: return s->L;
    case HS_DIM_MAPS: return s->maps;
  }
  return 0;
}

size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s) {
  size_t n = 1;
  for (int i = 0; i < f->rank; i++) n *= (size_t)hs_shape_dim(s, f->dims[i]);
  return n;
}

double *hs_result_field_data(const hs_result *r, const hs_result_field *f) {
  return *(double *const *)((const char *)r + f->offset);
}

hs_status hs_point_shape(const hs_point *p, hs_shape *shape, hs_err *err) {
  hs_dist dist;
  hs_status s = hs_dist_init(&dist, &p->dist, err);
  if (s) return s;
  shape->T = p->records;
  shape->H = p->H;
  shape->K = dist.K;
  shape->L = p->L;
  shape->maps = p->maps;
  hs_dist_free(&dist);
  return HS_OK;
}

hs_status hs_result_alloc(hs_result *r, const hs_shape *shape, hs_err *err) {
  memset(r, 0, sizeof *r);
  r->shape = *shape;
  for (int i = 0; i < hs_n_result_fields; i++) {
    const hs_result_field *f = &hs_result_fields[i];
    double **slot = (double **)((char *)r + f->offset);
    size_t n = hs_result_field_size(f, shape);
    if (!(*slot = malloc(n * sizeof(double)))) {
      hs_result_free(r);
      return hs_err_set(err, HS_ENOMEM, "out of memory for results");
    }
    for (size_t j = 0; j < n; j++) (*slot)[j] = NAN;
  }
  return HS_OK;
}

void hs_result_free(hs_result *r) {
  for (int i = 0; i < hs_n_result_fields; i++)
    free(*(double **)((char *)r + hs_result_fields[i].offset));
  memset(r, 0, sizeof *r);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

hs_status hs_point_check_start(const hs_point *p, hs_err *err) {
  hs_dist dist;
  hs_status st = hs_dist_init(&dist, &p->dist, err);
  if (st) return st;
  int H = p->H, K = dist.K;
  if (strcmp(p->ode_start, "bayes") == 0) {
    double R[H * (K + H)], b[H];
    st = hs_bayes_point(&dist, H, R, b, err);
  } else if (strcmp(p->ode_start, "given") == 0) {
    if (p->start_m.rows != H || p->start_m.cols != K)
      st = hs_err_set(err, HS_EINPUT, "start_m must be H x K = %d x %d (got %d x %d)", H, K,
                      p->start_m.rows, p->start_m.cols);
    else if (p->start_Q.rows != H || p->start_Q.cols != H)
      st = hs_err_set(err, HS_EINPUT, "start_Q must be H x H = %d x %d (got %d x %d)", H, H,
                      p->start_Q.rows, p->start_Q.cols);
    else if (p->start_b.data && p->start_b.cols != H)
      st = hs_err_set(err, HS_EINPUT, "start_b must have H = %d entries", H);
  }
  hs_dist_free(&dist);
  return st;
}

/* Estimated single-core seconds of each phase (unit costs measured by
 * bench/ on this machine class: a normal ~7 ns, SGD ~0.6 ns more per head
 * and token-dimension; Lpop ~12 ns per sample, token and head with
 * gradients, half without; the ODE about two right-hand sides per unit of
 * t; the Bayes risk ~30 ns per token and spike or atom). */
static void estimate_costs(const hs_point *p, const hs_dist *dist, hs_point_context *ctx) {
  double *c = ctx->cost, H = p->H, T = p->records, K = dist->K;
  double lpop = (double)p->ode_samples * p->L * H * 12e-9;
  double prune = p->prune ? 0.5 * lpop * (1 + (H * H - 1) / 3) : 0;
  double maps = (double)p->maps * p->L * (p->d + H) * 8e-9;
  memset(c, 0, sizeof ctx->cost);
  c[HS_PHASE_POPULATION] = (double)p->ode_samples * p->L * (K + H) * 7e-9;
  ctx->cost_step = (double)p->B * p->L * p->d * (7e-9 + 0.6e-9 * H);
  ctx->cost_record = (double)p->test_samples * p->L * p->d * 8e-9 + 0.5 * lpop;
  if (p->run_sgd) {
    double steps = ceil(p->t_max * p->d / p->eta);
    c[HS_PHASE_SGD] = steps * ctx->cost_step + T * ctx->cost_record;
    c[HS_PHASE_SGD_FINAL] = maps + prune;
  }
  if (p->run_ode) {
    c[HS_PHASE_ODE] = (2 * p->t_max + T) * lpop;
    c[HS_PHASE_ODE_FINAL] = maps + prune;
  }
  c[HS_PHASE_BAYES] = (double)p->bayes_samples * p->L * (K + dist->n_atoms) * 30e-9;
}

double hs_point_cost(const hs_point *p) {
  hs_point_context ctx;
  hs_err ignore;
  if (hs_dist_init(&ctx.dist, &p->dist, &ignore)) return 0;
  estimate_costs(p, &ctx.dist, &ctx);
  hs_dist_free(&ctx.dist);
  double total = 0;
  for (int i = 0; i < HS_N_PHASES; i++) total += ctx.cost[i];
  return total;
}

void hs_point_phase(hs_point_context *ctx, hs_phase phase) {
  static const char *names[HS_N_PHASES] = {"population", "sgd", "sgd_final",
                                           "ode", "ode_final", "bayes"};
  double before = 0, total = 0;
  for (int i = 0; i < HS_N_PHASES; i++) {
    if (i < (int)phase) before += ctx->cost[i];
    total += ctx->cost[i];
  }
  if (!(total > 0)) total = 1;
  hs_progress_phase(&ctx->progress, before / total, ctx->cost[phase] / total);
  /* testing: a signal as the phase starts, which the phase must notice */
  const char *hook = getenv("HEADSPEC_TESTING_SIGNAL_IN");
  if (hook && strcmp(hook, names[phase]) == 0) raise(SIGUSR1);
}

hs_status hs_point_run(const hs_point *p, hs_result *res,
                       hs_progress_fn progress, void *user, hs_err *err) {
  double start = now();
  if (p->fail_on_purpose)
    return hs_err_set(err, HS_ENUM, "forced failure of point %d (testing: fail_point)",
                      p->index);
  hs_point_context ctx = {.p = p, .res = res};
  hs_progress_init(&ctx.progress, progress, user);
  ctx.act = hs_activation_find(p->activation);
  if (!ctx.act)
    return hs_err_set(err, HS_EINPUT, "unknown activation '%s'", p->activation);
  hs_status st = hs_dist_init(&ctx.dist, &p->dist, err);
  if (st) return st;
  int K = ctx.dist.K, T = res->shape.T;
  estimate_costs(p, &ctx.dist, &ctx);
  ctx.xi = malloc(sizeof(double) * K * p->d);
  ctx.times = malloc(sizeof(double) * T);
  if (!ctx.xi || !ctx.times) st = hs_err_set(err, HS_ENOMEM, "out of memory for spikes");
  if (!st) {
    hs_timegrid(strcmp(p->record_grid, "log") == 0, p->t_min, p->t_max, T, ctx.times);
    st = hs_teacher_spikes(ctx.xi, K, p->d, p->job_seed, (uint64_t)p->seed,
                           p->orthonormal_spikes, err);
  }
  if (!st) {
    hs_point_phase(&ctx, HS_PHASE_POPULATION);
    st = hs_population_init(&ctx.pop, ctx.act, &ctx.dist, p->L, p->H, p->ode_samples,
                            p->job_seed, (uint64_t)p->seed, &ctx.progress, err);
  }
  if (!st && p->antithetic) hs_population_make_antithetic(&ctx.pop);
  if (!st && p->run_sgd) st = hs_point_run_sgd(&ctx, err);
  if (!st && p->run_ode) st = hs_point_run_ode(&ctx, err);
  if (!st && p->bayes_samples > 0) {
    hs_point_phase(&ctx, HS_PHASE_BAYES);
    st = hs_bayes_risk(&ctx.dist, p->L, p->bayes_samples, p->job_seed, (uint64_t)p->seed,
                       &ctx.progress, res->bayes_risk, res->bayes_risk_se, err);
  }
  hs_population_free(&ctx.pop);
  free(ctx.xi);
  free(ctx.times);
  hs_dist_free(&ctx.dist);
  res->seconds[0] = now() - start;
  return st;
}
