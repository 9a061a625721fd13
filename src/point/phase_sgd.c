/* phase_sgd.c: the SGD phases of a point's run (phase.h): online SGD (or
 * SGD on a fixed training set) with records, then the maps and pruning of
 * its final model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/overlap.h"
#include "headspec/prune.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"
#include "phase.h"

/* Store the SGD state as record j. */
static hs_status record(hs_point_context *ctx, hs_sgd *s, int j, hs_err *err) {
  hs_result *res = ctx->res;
  int H = res->shape.H, K = res->shape.K;
  double *m = res->m + (size_t)j * H * K, *Q = res->Q + (size_t)j * H * H;
  res->t[j] = s->step * s->cfg.eta / s->cfg.d;
  res->step[j] = (double)s->step;
  hs_status st = hs_overlap_compute(s->W, H, s->cfg.xi, K, s->cfg.d, res->M, m, Q,
                                    res->Qperp + (size_t)j * H * H, err);
  if (st) return st;
  memcpy(res->b + (size_t)j * H, s->b, sizeof(double) * H);
  res->lambda[j] = s->lambda;
  res->test_loss[j] = hs_sgd_test_loss(s);
  if (s->cfg.n_train > 0) { /* exact: every sequence of the set */
    res->passes[j] = hs_sgd_passes(s);
    res->train_set_loss[j] = hs_sgd_train_set_loss(s);
  }
  if (hs_progress_stopped(&ctx->progress))
    return hs_err_set(err, HS_EINTERRUPT, "interrupted at the record t = %g", res->t[j]);
  if (!isfinite(res->test_loss[j]))
    return hs_err_set(err, HS_ENUM, "test loss is not finite at t = %g", res->t[j]);
  double *R = malloc(sizeof(double) * H * (K + H));
  const double *shift;
  st = R ? hs_point_measured_model(H, K, m, Q, R, &shift, err)
         : hs_err_set(err, HS_ENOMEM, "out of memory");
  if (!st)
    res->lpop[j] = hs_population_loss(&ctx->pop, H, R, shift, s->b, s->lambda, NULL,
                                      NULL, NULL, NULL, NULL);
  if (!st) st = hs_attention_stats(ctx, R, shift, s->b, s->lambda, j, 0, err);
  if (!st && hs_progress_stopped(&ctx->progress))
    st = hs_err_set(err, HS_EINTERRUPT, "interrupted at the record t = %g", res->t[j]);
  free(R);
  return st;
}

/* Whether a training set of n sequences is held in memory (sgd.h). */
static int set_held(const hs_point *p, long n) {
  return 8.0 * n * p->L * p->d <= HS_SGD_SET_HOLD_BYTES;
}

/* Estimated seconds of one step: the full sampler ~7 ns per normal plus
 * ~0.6 ns per head and token-dimension; on a held training set ~2 ns per
 * entry copied (with the BLAS calls' overhead at small sizes: bench_sgd
 * trainset measures a held step 2-3x faster than online) instead of the
 * normal; the reduced one its own estimate (sgd.h). */
static double step_cost(const hs_point *p, int K) {
  if (p->sampler == HS_SAMPLER_REDUCED)
    return 1e-9 * hs_sgd_reduced_step_ns(p->B, p->d, p->L, p->H, K);
  long n = hs_point_n_train(p);
  if (n > 0 && set_held(p, n)) return (double)p->B * p->L * p->d * (2e-9 + 0.6e-9 * p->H);
  return (double)p->B * p->L * p->d * (7e-9 + 0.6e-9 * p->H);
}

/* Of one record: the test loss, the training set's loss (a held set not
 * drawn), Lpop without gradients, the attention statistics. */
static double record_cost(const hs_point *p, int K) {
  long n = hs_point_n_train(p);
  double set = n == 0 ? 0 : (double)n * p->L * p->d * (set_held(p, n) ? 1e-9 : 8e-9);
  return (double)p->test_samples * p->L * p->d * 8e-9 + set + 0.5 * hs_cost_lpop_head(p) * p->H +
         hs_cost_attention(p, K);
}

/* Of drawing a held training set once. */
static double set_cost(const hs_point *p) {
  long n = hs_point_n_train(p);
  return n > 0 && set_held(p, n) ? (double)n * p->L * p->d * 7e-9 : 0;
}

static int sgd_runs(const hs_point *p) { return p->run_sgd; }

static double sgd_cost(const hs_point *p, const hs_dist *dist) {
  double steps = ceil(p->t_max * p->d / p->eta);
  return steps * step_cost(p, dist->K) + p->records * record_cost(p, dist->K) + set_cost(p);
}

/* MODEL.md section 4: online SGD (or SGD on a fixed training set),
 * recorded on the time grid. */
static hs_status sgd_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int T = res->shape.T;
  hs_overlap_spike_gram(ctx->xi, ctx->dist.K, p->d, res->M);
  hs_sgd_config cfg = {.d = p->d, .L = p->L, .H = p->H, .B = p->B,
                       .sampler = p->sampler, .n_train = hs_point_n_train(p),
                       .batches = p->batches,
                       .eta = p->eta,
                       .kappa = p->kappa, .sigma0 = p->sigma0, .act = ctx->act,
                       .dist = &ctx->dist, .xi = ctx->xi, .job_seed = p->job_seed,
                       .seed = (uint64_t)p->seed, .test_samples = p->test_samples,
                       .progress = &ctx->progress};
  hs_sgd *s = &ctx->sgd;
  hs_status st = hs_sgd_init(s, &cfg, err);
  if (st) return st;
  ctx->has_sgd = 1; /* freed by the runner, after its final phase */
  /* progress: the phase's estimated cost done (steps and records) */
  double c_step = step_cost(p, ctx->dist.K), c_record = record_cost(p, ctx->dist.K);
  double phase = sgd_cost(p, &ctx->dist), c_set = set_cost(p);
  if (!(phase > 0)) phase = 1;
  for (int j = 0; j < T && !st; j++) {
    int64_t target = hs_timegrid_step(ctx->times[j], p->eta, p->d);
    double loss_sum = 0;
    long n = 0;
    for (; s->step < target && !st; n++) {
      hs_progress_set(&ctx->progress, (c_set + s->step * c_step + j * c_record) / phase);
      loss_sum += hs_sgd_step(s);
      if (hs_progress_stopped(&ctx->progress))
        st = hs_err_set(err, HS_EINTERRUPT, "interrupted at t = %g", s->step * p->eta / p->d);
    }
    if (st) break;
    res->train_loss[j] = n ? loss_sum / n : NAN;
    if (n && !isfinite(loss_sum))
      st = hs_err_set(err, HS_ENUM, "training loss is not finite before t = %g", ctx->times[j]);
    else
      st = record(ctx, s, j, err);
  }
  if (!st) {
    hs_trajectory tr = {res->t, res->m, res->Q, res->b, res->lambda, res->lpop};
    hs_convergence_of(&tr, p->H, ctx->dist.K, T - 1, p, NAN,
                      res->sgd_loss_rate, res->sgd_speed, res->sgd_converged);
  }
  return st;
}

const hs_phase hs_phase_sgd = {"sgd", sgd_runs, sgd_cost, sgd_run};

/* Pruning curve and attention maps of the final SGD model. */
static hs_status analyse_final(hs_point_context *ctx, hs_err *err) {
  hs_sgd *s = &ctx->sgd;
  hs_result *res = ctx->res;
  const hs_point *p = ctx->p;
  int H = res->shape.H, K = res->shape.K, T = res->shape.T;
  int *eps = malloc(sizeof(int) * p->maps);
  if (!eps) return hs_err_set(err, HS_ENOMEM, "out of memory for maps");
  int stopped = hs_sgd_attention_maps(s, p->maps, res->sgd_maps, eps);
  for (int i = 0; i < p->maps; i++) res->sgd_maps_eps[i] = eps[i];
  free(eps);
  if (stopped) return hs_err_set(err, HS_EINTERRUPT, "interrupted in the SGD maps");
  if (!p->prune) return HS_OK;
  double *R = malloc(sizeof(double) * H * (K + H));
  hs_status st = R ? HS_OK : hs_err_set(err, HS_ENOMEM, "out of memory");
  const double *m = res->m + (size_t)(T - 1) * H * K, *shift;
  if (!st)
    st = hs_point_measured_model(H, K, m, res->Q + (size_t)(T - 1) * H * H, R, &shift, err);
  if (!st)
    st = hs_prune(&ctx->pop, H, R, shift, s->b, s->lambda, res->sgd_prune_loss,
                  res->sgd_prune_order, err);
  free(R);
  return st;
}

static hs_status sgd_final_run(hs_point_context *ctx, hs_err *err) {
  hs_status st = analyse_final(ctx, err);
  hs_sgd_free(&ctx->sgd); /* before the ODE: the peak holds one model's batch */
  ctx->has_sgd = 0;
  return st;
}

static double sgd_final_cost(const hs_point *p, const hs_dist *dist) {
  (void)dist;
  return hs_cost_maps(p) + hs_cost_prune(p);
}

const hs_phase hs_phase_sgd_final = {"sgd_final", sgd_runs, sgd_final_cost, sgd_final_run};
