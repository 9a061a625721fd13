/* timegrid.h: the times at which a run records its state (MODEL.md
 * section 8). Time is t = s eta / d; records are taken at the SGD steps
 * nearest to the grid times. */
#ifndef HEADSPEC_TIMEGRID_H
#define HEADSPEC_TIMEGRID_H

#include <stdint.h>

/* training.record_grid's names, in this order. */
typedef enum { HS_GRID_LINEAR = 0, HS_GRID_LOG = 1 } hs_record_grid;
int hs_record_grid_find(const char *name); /* -1 if unknown */
const char *hs_record_grid_names(void);

/* n >= 2 times: linear from 0 to t_max, or (log) 0 then n-1 times spaced
 * logarithmically from t_min to t_max. */
void hs_timegrid(hs_record_grid grid, double t_min, double t_max, int n, double *t);

/* The SGD step at which time t is reached (t d / eta must be below 2^63:
 * hs_point_check keeps it below 2^53). */
int64_t hs_timegrid_step(double t, double eta, int d);

#endif
