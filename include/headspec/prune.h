/* prune.h: greedy head pruning (MODEL.md section 8, paper Fig. 7). */
#ifndef HEADSPEC_PRUNE_H
#define HEADSPEC_PRUNE_H

#include "headspec/error.h"
#include "headspec/population.h"

/* Remove heads one at a time, each time the one whose removal raises Lpop
 * least, renormalising the aggregation to the heads kept (1/H -> 1/H').
 * loss[k-1] gets Lpop with k heads kept (k = H..1); order[i] the index of
 * the i-th head removed (order[H-1]: the last one kept). R is H x (K+H) in
 * the population's width; shift as in hs_population_loss. HS_EINTERRUPT
 * when the population's progress listener says stop. */
hs_status hs_prune(hs_population *pop, int H, const double *R,
                   const double *shift, const double *b, double lambda,
                   double *loss, double *order, hs_err *err);

/* The pruning curve of a removal order chosen elsewhere (order as hs_prune
 * gives it, e.g. on the set the model was fitted to), evaluated on this
 * population (e.g. an independent set): loss[k-1] is Lpop with the last k
 * heads of order kept, loss_se[k-1] its Monte Carlo standard error. With
 * every head kept it is hs_population_loss of the whole model. HS_EINPUT
 * if order is not a permutation of 0..H-1 (a model that was not pruned). */
hs_status hs_prune_along(hs_population *pop, int H, const double *R, const double *shift,
                         const double *b, double lambda, const double *order, double *loss,
                         double *loss_se, hs_err *err);

#endif
