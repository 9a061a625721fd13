/* phase_population.c: the first phase of a point that trains a model: its
 * record times, the teacher's spikes and the Monte Carlo samples (set 0)
 * that Lpop, the ODE and pruning share (phase.h). */
#include <stdlib.h>
#include <string.h>

#include "headspec/timegrid.h"
#include "phase.h"

static int population_runs(const hs_point *p) { return hs_point_trains(p); }

/* ~7 ns per sample, token and row of the reduced representation. */
static double population_cost(const hs_point *p, const hs_dist *dist) {
  return (double)p->ode_samples * p->L * (dist->K + p->H) * 7e-9;
}

static hs_status population_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  int K = ctx->dist.K, T = ctx->res->shape.T;
  ctx->xi = malloc(sizeof(double) * K * p->d);
  ctx->times = malloc(sizeof(double) * T);
  if (!ctx->xi || !ctx->times) return hs_err_set(err, HS_ENOMEM, "out of memory for spikes");
  hs_timegrid(p->record_grid, p->t_min, p->t_max, T, ctx->times);
  hs_status st = hs_teacher_spikes(ctx->xi, K, p->d, p->job_seed, (uint64_t)p->seed,
                                   p->orthonormal_spikes, err);
  if (!st)
    st = hs_population_init(&ctx->pop, ctx->act, &ctx->dist, p->L, p->H, p->ode_samples,
                            p->job_seed, (uint64_t)p->seed, 0, &ctx->progress, err);
  if (!st && p->antithetic) hs_population_make_antithetic(&ctx->pop);
  /* the control variate's companion (population.h): c's second moments */
  if (!st && p->run_ode && p->ode_control_variate)
    hs_population_match_moments(&ctx->pop, &ctx->dist);
  return st;
}

const hs_phase hs_phase_population = {"population", population_runs, population_cost,
                                      population_run};
