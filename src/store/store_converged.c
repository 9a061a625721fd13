/* store_converged.c: which done points of a results file were still moving
 * at the end of their run (the convergence rule, docs/RESULTS.md), for
 * `headspec info`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* The verdicts of one run (sgd or ode) of every point, from each results
 * group's <run>/converged (NaN where a file lacks it or a point has none). */
static void read_verdicts(hid_t f, const hs_plan *plan, const char *run, double *verdict) {
  long n = hs_plan_n_points(plan);
  for (long i = 0; i < n; i++) verdict[i] = NAN;
  for (int g = 0; g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    char path[256];
    snprintf(path, sizeof path, "results/%s/%s/converged", grp->name, run);
    double *rows = malloc(sizeof(double) * (grp->n > 0 ? grp->n : 1));
    if (rows && H5Lexists(f, path, H5P_DEFAULT) > 0 &&
        hs_h5_read_all(f, path, H5T_NATIVE_DOUBLE, rows) == 0)
      for (long r = 0; r < grp->n; r++) verdict[grp->points[r]] = rows[r];
    free(rows);
  }
}

/* Points listed by name; the rest are counted. */
enum { MAX_LISTED = 10 };

void hs_store_print_moving(hid_t f, const hs_plan *plan, const signed char *status,
                           FILE *out) {
  long n = hs_plan_n_points(plan);
  double *sgd = malloc(sizeof(double) * n), *ode = malloc(sizeof(double) * n);
  if (!sgd || !ode) {
    free(sgd), free(ode);
    return;
  }
  read_verdicts(f, plan, "sgd", sgd);
  read_verdicts(f, plan, "ode", ode);
  long moving = 0, judged = 0;
  for (long i = 0; i < n; i++) {
    if (status[i] != HS_POINT_DONE) continue;
    judged += !isnan(sgd[i]) || !isnan(ode[i]);
    moving += sgd[i] == 0 || ode[i] == 0;
  }
  if (judged)
    fprintf(out, "convergence: %ld of %ld done points still moving at their end%s\n", moving,
            judged, moving ? " (a longer t_max, or ode.stop_when_converged with a cap)" : "");
  long shown = 0;
  for (long i = 0; i < n && shown < MAX_LISTED; i++)
    if (status[i] == HS_POINT_DONE && (sgd[i] == 0 || ode[i] == 0)) {
      char label[HS_LABEL_LEN];
      hs_plan_label(plan, i, label, sizeof label);
      fprintf(out, "still moving: point %ld (%s):%s%s\n", i, label, sgd[i] == 0 ? " sgd" : "",
              ode[i] == 0 ? " ode" : "");
      shown++;
    }
  if (moving > shown)
    fprintf(out, "... and %ld more still moving (their verdicts: sgd/converged, ode/converged)\n",
            moving - shown);
  free(sgd), free(ode);
}
