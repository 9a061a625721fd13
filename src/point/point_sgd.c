/* point_sgd.c: the SGD part of a point's run (point_impl.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/overlap.h"
#include "headspec/prune.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"
#include "point_impl.h"

/* MODEL.md section 5: measured (m, Q) as a reduced model that gives the
 * scores' exact law a_.1 ~ N(m c, Q), a_.l ~ N(0, Q). R = [m | chol(Q - m m^T)]
 * where that is PSD (as the ODE's start, so both use the samples the same
 * way); else (finite d) R = [0 | chol Q] with the shift m (*shift = m). */
hs_status hs_point_measured_model(int H, int K, const double *m, const double *Q,
                                  double *R, const double **shift, hs_err *err) {
  hs_err ignore;
  *shift = NULL;
  if (hs_population_represent(H, K, m, Q, R, &ignore) == HS_OK) return HS_OK;
  int W = K + H;
  double *Lc = calloc((size_t)H * H, sizeof(double));
  if (!Lc) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_cholesky_psd(H, Q, Lc, err);
  if (!st) {
    memset(R, 0, sizeof(double) * H * W);
    for (int h = 0; h < H; h++)
      for (int j = 0; j < H; j++) R[h * W + K + j] = Lc[h * H + j];
    *shift = m;
  }
  free(Lc);
  return st;
}

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
  if (!st && hs_progress_stopped(&ctx->progress))
    st = hs_err_set(err, HS_EINTERRUPT, "interrupted at the record t = %g", res->t[j]);
  free(R);
  return st;
}

/* Pruning curve and attention maps of the final SGD model. */
static hs_status analyse_final(hs_point_context *ctx, hs_sgd *s, hs_err *err) {
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

/* MODEL.md section 4: online SGD, recorded on the time grid. */
hs_status hs_point_run_sgd(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int T = res->shape.T;
  hs_overlap_spike_gram(ctx->xi, ctx->dist.K, p->d, res->M);
  int sampler = hs_sgd_sampler_find(p->sampler);
  hs_sgd_config cfg = {.d = p->d, .L = p->L, .H = p->H, .B = p->B,
                       .sampler = sampler > 0 ? HS_SAMPLER_REDUCED : HS_SAMPLER_FULL, .eta = p->eta,
                       .kappa = p->kappa, .sigma0 = p->sigma0, .act = ctx->act,
                       .dist = &ctx->dist, .xi = ctx->xi, .job_seed = p->job_seed,
                       .seed = (uint64_t)p->seed, .test_samples = p->test_samples,
                       .progress = &ctx->progress};
  hs_sgd s;
  hs_status st = hs_sgd_init(&s, &cfg, err);
  if (st) return st;
  /* progress: the phase's estimated cost done (steps and records) */
  double phase = ctx->cost[HS_PHASE_SGD] > 0 ? ctx->cost[HS_PHASE_SGD] : 1;
  hs_point_phase(ctx, HS_PHASE_SGD);
  for (int j = 0; j < T && !st; j++) {
    int64_t target = hs_timegrid_step(ctx->times[j], p->eta, p->d);
    double loss_sum = 0;
    long n = 0;
    for (; s.step < target && !st; n++) {
      hs_progress_set(&ctx->progress, (s.step * ctx->cost_step + j * ctx->cost_record) / phase);
      loss_sum += hs_sgd_step(&s);
      if (hs_progress_stopped(&ctx->progress))
        st = hs_err_set(err, HS_EINTERRUPT, "interrupted at t = %g", s.step * p->eta / p->d);
    }
    if (st) break;
    res->train_loss[j] = n ? loss_sum / n : NAN;
    if (n && !isfinite(loss_sum))
      st = hs_err_set(err, HS_ENUM, "training loss is not finite before t = %g", ctx->times[j]);
    else
      st = record(ctx, &s, j, err);
  }
  if (!st) {
    hs_point_phase(ctx, HS_PHASE_SGD_FINAL);
    st = analyse_final(ctx, &s, err);
  }
  hs_sgd_free(&s);
  return st;
}
