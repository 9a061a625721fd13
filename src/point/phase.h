/* phase.h: a point's run as a table of phases (private to src/point).
 *
 * Each phase is one entry: its name, whether a point needs it, its
 * estimated cost (next to the code it prices) and its run function. point.c
 * runs the table in order; a new phase (e.g. a stability analysis) is one
 * entry in hs_point_phases and one file. The context below is what the
 * phases share; it knows nothing of any phase.
 */
#ifndef HEADSPEC_POINT_PHASE_H
#define HEADSPEC_POINT_PHASE_H

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/point.h"
#include "headspec/population.h"
#include "headspec/progress.h"
#include "headspec/sgd.h"

typedef struct hs_point_context {
  const hs_point *p;
  hs_result *res;
  const hs_activation *act;
  hs_dist dist;
  double *xi;          /* K x d spikes */
  double *times;       /* T record times */
  hs_population pop;   /* Monte Carlo samples shared by Lpop, ODE, pruning */
  hs_sgd sgd;          /* the SGD model, once SGD ran (has_sgd) */
  int has_sgd;
  double *ode_y;       /* the ODE's final state (R, b, lambda), once it ran */
  hs_progress progress;
  double total_cost;   /* estimated seconds of the point's phases */
  double cost_before;  /* of the phases before the current one */
} hs_point_context;

typedef struct hs_phase {
  const char *name; /* in messages and HEADSPEC_TESTING_SIGNAL_IN (README) */
  /* whether the point runs this phase */
  int (*runs)(const hs_point *p);
  /* estimated single-core seconds (the cost model: point.c) */
  double (*cost)(const hs_point *p, const hs_dist *dist);
  hs_status (*run)(hs_point_context *ctx, hs_err *err);
} hs_phase;

/* The phases, each defined in its own file. */
extern const hs_phase hs_phase_population, hs_phase_sgd, hs_phase_sgd_final, hs_phase_ode,
    hs_phase_ode_final, hs_phase_stability, hs_phase_out_of_sample, hs_phase_bayes;

/* Whether the point trains a model (SGD or the ODE); else it computes only
 * the Bayes risk, and has no d and no time axis. */
int hs_point_trains(const hs_point *p);

/* Estimated seconds of Lpop on the point's Monte Carlo samples, per head
 * with gradients (half without): ~12 ns per sample, token and head. */
double hs_cost_lpop_head(const hs_point *p);
/* Of greedy pruning (~H^3/3 head evaluations of Lpop) and of the attention
 * maps of one final model. */
double hs_cost_prune(const hs_point *p);
double hs_cost_maps(const hs_point *p);

/* Measured (m, Q) as a reduced model R (H x (K+H)) giving the scores'
 * exact law; *shift is NULL or m (context.c, MODEL.md section 5). */
hs_status hs_point_measured_model(int H, int K, const double *m, const double *Q,
                                  double *R, const double **shift, hs_err *err);

#endif
