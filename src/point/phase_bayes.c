/* phase_bayes.c: the Bayes risk of a point's distribution (phase.h,
 * MODEL.md section 7). */
#include "headspec/bayes.h"
#include "phase.h"

static int bayes_runs(const hs_point *p) { return p->bayes_samples > 0; }

/* ~30 ns per token and spike or atom. */
static double bayes_cost(const hs_point *p, const hs_dist *dist) {
  return (double)p->bayes_samples * p->L * (dist->K + dist->n_atoms) * 30e-9;
}

static hs_status bayes_run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  return hs_bayes_risk(&ctx->dist, p->L, p->bayes_samples, p->job_seed, (uint64_t)p->seed,
                       &ctx->progress, ctx->res->bayes_risk, ctx->res->bayes_risk_se, err);
}

const hs_phase hs_phase_bayes = {"bayes", bayes_runs, bayes_cost, bayes_run};
