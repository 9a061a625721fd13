/* point.c: run one grid point, phase by phase (phase.h), and price it. */
#include "headspec/point.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phase.h"

/* The phases in the order they run. Final-model phases follow their
 * model; the out-of-sample set is drawn after set 0 is freed. */
static const char *const start_names[] = {"sgd", "bayes", "given"}; /* hs_ode_start */

int hs_ode_start_find(const char *name) {
  for (int i = 0; i < (int)(sizeof start_names / sizeof *start_names); i++)
    if (strcmp(name, start_names[i]) == 0) return i;
  return -1;
}

const char *hs_ode_start_names(void) { return "sgd bayes given"; }

static const hs_phase *const phases[] = {
    &hs_phase_population, &hs_phase_sgd,       &hs_phase_sgd_final, &hs_phase_ode,
    &hs_phase_ode_final,  &hs_phase_stability, &hs_phase_replicas,  &hs_phase_out_of_sample,
    &hs_phase_bayes};
enum { N_PHASES = sizeof phases / sizeof *phases };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The cost model behind the ETA, the queue's order, `validate` and the
 * per-point limit: each phase's estimate (in its file) from unit costs
 * measured by bench/ on this machine class, one core. */
static double phase_cost(const hs_point *p, const hs_dist *dist, int i) {
  return phases[i]->runs(p) ? phases[i]->cost(p, dist) : 0;
}

double hs_point_phase_rhs(const hs_point *p, const hs_dist *dist, const hs_phase *phase) {
  if (phase == &hs_phase_ode) return hs_ode_phase_rhs(p, dist);
  if (phase == &hs_phase_stability) return hs_stability_phase_rhs(p, dist);
  if (phase == &hs_phase_replicas) return hs_replicas_phase_rhs(p, dist);
  return -1;
}

_Static_assert(N_PHASES + 1 == HS_N_COST_PARTS, "one cost part per phase, and the overhead");

const char *hs_point_cost_part_name(int part) {
  return part < N_PHASES ? phases[part]->name : "overhead";
}

double hs_point_cost_parts(const hs_point *p, double *cost) {
  hs_dist dist;
  hs_err ignore;
  memset(cost, 0, sizeof(double) * HS_N_COST_PARTS);
  if (hs_dist_init(&dist, &p->dist, &ignore)) return 0;
  double total = cost[N_PHASES] = HS_POINT_OVERHEAD_S;
  for (int i = 0; i < N_PHASES; i++) total += cost[i] = phase_cost(p, &dist, i);
  hs_dist_free(&dist);
  return total;
}

double hs_point_cost(const hs_point *p) {
  double cost[HS_N_COST_PARTS];
  return hs_point_cost_parts(p, cost);
}

/* Each phase's share of the progress fraction is its share of the cost.
 * HEADSPEC_REPORT_WORK (tests/cost_model.sh, docs/BENCHMARKS.md) prints each
 * phase's estimate against what it did: seconds, and the right-hand sides
 * counted where it integrates. */
static hs_status run_phase(hs_point_context *ctx, int i, hs_err *err) {
  double cost = phase_cost(ctx->p, &ctx->dist, i);
  double total = ctx->total_cost > 0 ? ctx->total_cost : 1;
  hs_progress_phase(&ctx->progress, phases[i]->name, ctx->cost_before / total, cost / total);
  ctx->cost_before += cost;
  ctx->rhs_calls = -1;
  double start = now();
  hs_status st = phases[i]->run(ctx, err);
  if (getenv("HEADSPEC_REPORT_WORK") && !st) {
    fprintf(stderr, "headspec: work: point %d phase %s: %.3g s (estimated %.3g s)", ctx->p->index,
            phases[i]->name, now() - start, cost);
    if (ctx->rhs_calls >= 0)
      fprintf(stderr, ", %ld right-hand sides (estimated %.0f)", ctx->rhs_calls,
              hs_point_phase_rhs(ctx->p, &ctx->dist, phases[i]));
    fprintf(stderr, "\n");
  }
  return st;
}

static void context_free(hs_point_context *ctx) {
  if (ctx->has_sgd) hs_sgd_free(&ctx->sgd);
  hs_population_free(&ctx->pop);
  free(ctx->xi);
  free(ctx->times);
  free(ctx->ode_y);
  free(ctx->replica_y);
  hs_dist_free(&ctx->dist);
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
  memcpy(res->mean_c, ctx.dist.mean, sizeof(double) * ctx.dist.K);
  for (int i = 0; i < N_PHASES; i++) ctx.total_cost += phase_cost(p, &ctx.dist, i);
  for (int i = 0; i < N_PHASES && !st; i++)
    if (phases[i]->runs(p)) st = run_phase(&ctx, i, err);
  context_free(&ctx);
  res->seconds[0] = now() - start;
  return st;
}
