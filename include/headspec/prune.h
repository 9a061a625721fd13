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

#endif
