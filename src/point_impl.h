/* point_impl.h: what the parts of a point's run share (private to
 * point.c, point_sgd.c and point_ode.c). */
#ifndef HEADSPEC_POINT_IMPL_H
#define HEADSPEC_POINT_IMPL_H

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/point.h"
#include "headspec/population.h"

typedef struct hs_point_context {
  const hs_point *p;
  hs_result *res;
  const hs_activation *act;
  hs_dist dist;
  double *xi;          /* K x d spikes */
  double *times;       /* T record times */
  hs_population pop;   /* Monte Carlo samples shared by Lpop, ODE, pruning */
  hs_progress_fn progress;
  void *user;
  double work_done, work_total; /* for progress: SGD counts 1, the ODE 0.2 */
} hs_point_context;

/* SGD with records, Lpop at each record, pruning and maps of the result. */
hs_status hs_point_run_sgd(hs_point_context *ctx, hs_err *err);
/* The ODE from its start, with records, pruning and maps. */
hs_status hs_point_run_ode(hs_point_context *ctx, hs_err *err);
/* Report progress of the current part (fraction in [0, 1]); nonzero: stop. */
int hs_point_report(hs_point_context *ctx, double fraction);

#endif
