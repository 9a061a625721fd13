/* point_impl.h: what the parts of a point's run share (private to
 * point.c, point_sgd.c and point_ode.c). */
#ifndef HEADSPEC_POINT_IMPL_H
#define HEADSPEC_POINT_IMPL_H

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/point.h"
#include "headspec/population.h"
#include "headspec/progress.h"

/* The phases of a point's run, in order; each gets its share of the
 * progress fraction from its estimated cost. */
typedef enum {
  HS_PHASE_POPULATION, /* drawing the Monte Carlo samples */
  HS_PHASE_SGD,        /* steps, and the test loss and Lpop at each record */
  HS_PHASE_SGD_FINAL,  /* maps and pruning of the final SGD model */
  HS_PHASE_ODE,        /* the integration and Lpop at each record */
  HS_PHASE_ODE_FINAL,  /* maps and pruning of the final ODE model */
  HS_PHASE_FRESH,      /* Lpop of the final models on an independent sample set */
  HS_PHASE_BAYES,      /* the Bayes risk */
  HS_N_PHASES
} hs_phase;

typedef struct hs_point_context {
  const hs_point *p;
  hs_result *res;
  const hs_activation *act;
  hs_dist dist;
  double *xi;          /* K x d spikes */
  double *times;       /* T record times */
  hs_population pop;   /* Monte Carlo samples shared by Lpop, ODE, pruning */
  double *ode_y;       /* the ODE's final state (R, b, lambda), once it ran */
  hs_progress progress;
  double cost[HS_N_PHASES]; /* estimated seconds of each phase */
  double cost_step, cost_record; /* of one SGD step, of one SGD record */
} hs_point_context;

/* SGD with records, Lpop at each record, pruning and maps of the result. */
hs_status hs_point_run_sgd(hs_point_context *ctx, hs_err *err);
/* The ODE from its start, with records, pruning and maps. */
hs_status hs_point_run_ode(hs_point_context *ctx, hs_err *err);
/* Lpop of the final SGD and ODE states on an independent sample set
 * (stream 1), drawn here and freed before returning. */
hs_status hs_point_run_fresh(hs_point_context *ctx, hs_err *err);
/* Measured (m, Q) as a reduced model R (H x (K+H)) giving the scores'
 * exact law; *shift is NULL or m (point_sgd.c, MODEL.md section 5). */
hs_status hs_point_measured_model(int H, int K, const double *m, const double *Q,
                                  double *R, const double **shift, hs_err *err);
/* Enter a phase: its share of the progress fraction (and the testing hook
 * HEADSPEC_TESTING_SIGNAL_IN, docs/TESTS.md). */
void hs_point_phase(hs_point_context *ctx, hs_phase phase);

#endif
