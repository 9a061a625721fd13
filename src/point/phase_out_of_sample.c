/* phase_out_of_sample.c: out-of-sample Lpop of a point's final states
 * (phase.h). The ODE follows Lpop on its own fixed samples (stream 0),
 * so its final loss is biased low by the fit to those samples; SGD's Lpop
 * is evaluated on the same set. An independent set (stream 1) gives an
 * unbiased value with its standard error, and with pruning the loss of
 * each pruned model on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/prune.h"
#include "phase.h"

/* SGD's final record as measured: the shift form used for sgd/lpop. */
static hs_status sgd_out_of_sample(hs_point_context *ctx, hs_population *pop, double *R,
                           hs_err *err) {
  hs_result *res = ctx->res;
  int H = res->shape.H, K = res->shape.K, j = res->shape.T - 1;
  const double *shift;
  hs_status st = hs_point_measured_model(H, K, res->m + (size_t)j * H * K,
                                         res->Q + (size_t)j * H * H, R, &shift, err);
  const double *b = res->b + (size_t)j * H;
  if (!st)
    res->lpop_fresh[0] = hs_population_loss(pop, H, R, shift, b, res->lambda[j], NULL, NULL,
                                            NULL, NULL, res->lpop_fresh_se);
  if (!st && ctx->p->prune)
    st = hs_prune_along(pop, H, R, shift, b, res->lambda[j], res->sgd_prune_order,
                        res->sgd_prune_loss_fresh, res->sgd_prune_loss_fresh_se, err);
  return st;
}

/* The ODE's final state as it ran (R = [m | V], b, lambda): on the ODE's
 * own samples this would give ode/loss's last record exactly. Each
 * replica's on the same set (replicas/loss_fresh; replica 0's is
 * ode/loss_fresh): their spread is the trajectories', the set's own
 * error is ode/loss_fresh_se. With pruning, the pruned models' losses on
 * this set too. */
static hs_status ode_out_of_sample(hs_point_context *ctx, hs_population *pop, hs_err *err) {
  hs_result *res = ctx->res;
  int H = res->shape.H, width = res->shape.K + H;
  const double *y = ctx->ode_y;
  res->ode_loss_fresh[0] = hs_population_loss(pop, H, y, NULL, y + H * width, y[H * width + H],
                                              NULL, NULL, NULL, NULL, res->ode_loss_fresh_se);
  if (ctx->replica_y) {
    size_t dim = hs_ode_dim(H, res->shape.K);
    res->rep_loss_fresh[0] = res->ode_loss_fresh[0];
    for (int r = 1; r < res->shape.replicas; r++) {
      const double *yr = ctx->replica_y + (r - 1) * dim;
      res->rep_loss_fresh[r] = hs_population_loss(pop, H, yr, NULL, yr + H * width,
                                                  yr[H * width + H], NULL, NULL, NULL, NULL, NULL);
    }
  }
  /* the pruning curve on this set, in the order chosen on the ODE's own
   * samples (the fit set would favour the heads fitted to it) */
  if (!ctx->p->prune) return HS_OK;
  return hs_prune_along(pop, H, y, NULL, y + H * width, y[H * width + H], res->ode_prune_order,
                        res->ode_prune_loss_fresh, res->ode_prune_loss_fresh_se, err);
}

static int out_of_sample_runs(const hs_point *p) { return hs_point_trains(p) && p->fresh_samples > 0; }

/* The draw, then one loss per model without gradients, and with pruning
 * one per number of heads kept (H (H + 1) / 2 heads in all). */
static double out_of_sample_cost(const hs_point *p, const hs_dist *dist) {
  double H = p->H, K = dist->K, heads = H + (p->prune ? H * (H + 1) / 2 : 0);
  double models = p->run_sgd + (p->run_ode ? (p->ode_replicas > 1 ? p->ode_replicas : 1) : 0);
  return (double)p->fresh_samples * p->L * ((K + H) * 7e-9 + models * 0.5 * 12e-9 * H +
                                            (p->run_sgd + p->run_ode) * 0.5 * 12e-9 * (heads - H));
}

static hs_status out_of_sample_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  int H = p->H, K = ctx->dist.K;
  hs_population pop;
  hs_population_free(&ctx->pop); /* set 0 is done with: the peak is one set */
  hs_status st = hs_population_init(&pop, ctx->act, &ctx->dist, p->L, H, p->fresh_samples,
                                    p->job_seed, (uint64_t)p->seed, 1, &ctx->progress, err);
  if (st) return st;
  if (p->antithetic) hs_population_make_antithetic(&pop);
  double *R = malloc(sizeof(double) * H * (K + H));
  if (!R) st = hs_err_set(err, HS_ENOMEM, "out of memory");
  if (!st && p->run_sgd) st = sgd_out_of_sample(ctx, &pop, R, err);
  if (!st && ctx->ode_y) st = ode_out_of_sample(ctx, &pop, err);
  if (!st && hs_progress_stopped(&ctx->progress))
    st = hs_err_set(err, HS_EINTERRUPT, "interrupted in the out-of-sample Lpop");
  free(R);
  hs_population_free(&pop);
  return st;
}

const hs_phase hs_phase_out_of_sample = {"out_of_sample", out_of_sample_runs,
                                         out_of_sample_cost, out_of_sample_run};
