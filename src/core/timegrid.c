/* timegrid.c: record times (timegrid.h). */
#include "headspec/timegrid.h"

#include <math.h>
#include <string.h>

int hs_record_grid_find(const char *name) {
  if (strcmp(name, "linear") == 0) return HS_GRID_LINEAR;
  if (strcmp(name, "log") == 0) return HS_GRID_LOG;
  return -1;
}

const char *hs_record_grid_names(void) { return "linear log"; }

void hs_timegrid(hs_record_grid grid, double t_min, double t_max, int n, double *t) {
  if (grid != HS_GRID_LOG) {
    for (int i = 0; i < n; i++) t[i] = t_max * i / (n - 1);
    return;
  }
  t[0] = 0;
  double a = log(t_min), z = log(t_max);
  for (int i = 1; i < n; i++)
    t[i] = n == 2 ? t_max : exp(a + (z - a) * (i - 1) / (n - 2));
}

int64_t hs_timegrid_step(double t, double eta, int d) {
  return llround(t * d / eta);
}
