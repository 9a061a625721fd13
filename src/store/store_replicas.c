/* store_replicas.c: the ODE's Monte Carlo error bars and its convergence in
 * the sample size N (replicas/, docs/MODEL.md#monte-carlo-error), for
 * `headspec info`: per point with replicas the final loss, the escape times
 * and (analysis.stability) their head-symmetric predictions as mean ± se
 * over the replicas (se = sd / sqrt(R)) and the verdict of the rule in N;
 * points without replicas are counted as having none. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/point.h"
#include "store_impl.h"

/* Points listed by name; the rest are counted. */
enum { MAX_LISTED = 10 };

/* Dataset `name` of a group's replicas/ folder, whole (NULL if absent). */
static double *read_field(hid_t f, const hs_plan_group *grp, const char *name, size_t per_row) {
  char path[256];
  snprintf(path, sizeof path, "results/%s/replicas/%s", grp->name, name);
  double *x = malloc(sizeof(double) * (size_t)(grp->n > 0 ? grp->n : 1) * per_row);
  if (x && (H5Lexists(f, path, H5P_DEFAULT) <= 0 ||
            hs_h5_read_all(f, path, H5T_NATIVE_DOUBLE, x) != 0))
    free(x), x = NULL;
  return x;
}

static void mean_se(const double *x, int R, int stride, double *mean, double *se) {
  double s = 0, q = 0;
  for (int r = 0; r < R; r++) s += x[(size_t)r * stride];
  *mean = s / R;
  for (int r = 0; r < R; r++) q += pow(x[(size_t)r * stride] - *mean, 2);
  *se = sqrt(q / (R - 1) / R);
}

/* Per spike, times (R x K: replicas/escape_t or predicted_t) as mean ± se
 * where every replica has one, "never" where none has, else how many. */
static void print_times(const char *what, const double *x, int R, int K, FILE *out) {
  fprintf(out, ", %s", what);
  for (int k = 0; k < K; k++) {
    int escaped = 0;
    double mean, se;
    for (int r = 0; r < R; r++) escaped += !isnan(x[(size_t)r * K + k]);
    if (escaped == R) {
      mean_se(x + k, R, K, &mean, &se);
      fprintf(out, " %d: %.4g ± %.2g", k + 1, mean, se);
    } else if (escaped == 0) {
      fprintf(out, " %d: never", k + 1);
    } else {
      fprintf(out, " %d: on %d of %d replicas", k + 1, escaped, R);
    }
  }
}

/* One point's line: x is its row of replicas/loss (R x T), esc of
 * replicas/escape_t (R x K), pred of replicas/predicted_t (R x K; NULL
 * without analysis.stability, or in a file before it). */
static void print_point(const hs_plan *plan, long i, int R, int T, int K, const double *loss,
                        const double *esc, const double *pred, double verdict, FILE *out) {
  char label[HS_LABEL_LEN];
  hs_plan_label(plan, i, label, sizeof label);
  int last = -1;
  for (int j = 0; j < T; j++)
    if (!isnan(loss[j])) last = j;
  double mean, se;
  fprintf(out, "  point %ld (%s): R = %d", i, label, R);
  if (last >= 0) {
    mean_se(loss + last, R, T, &mean, &se);
    fprintf(out, ", final ODE loss %.6g ± %.2g", mean, se);
  }
  print_times("escapes", esc, R, K, out);
  if (pred) print_times("predicted (head-symmetric)", pred, R, K, out);
  fprintf(out, "; %s\n", verdict == 1   ? "converged in N"
                         : verdict == 0 ? "NOT converged in N (more ode.samples)"
                                        : "convergence in N unknown");
}

void hs_store_print_error_bars(hid_t f, const hs_plan *plan, const signed char *status,
                               FILE *out) {
  long without = 0, with = 0, flagged = 0, shown = 0;
  for (int g = 0; g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    int R = grp->shape.replicas, T = grp->shape.T, K = grp->shape.K;
    double *loss = R ? read_field(f, grp, "loss", (size_t)R * T) : NULL;
    double *esc = R ? read_field(f, grp, "escape_t", (size_t)R * K) : NULL;
    double *pred = R ? read_field(f, grp, "predicted_t", (size_t)R * K) : NULL;
    double *verdict = R ? read_field(f, grp, "n_converged", 1) : NULL;
    for (long r = 0; r < grp->n; r++) {
      long i = grp->points[r];
      hs_point p;
      hs_plan_point(plan, i, &p);
      if (status[i] != HS_POINT_DONE || !p.run_ode) continue;
      if (!R || !loss || !esc || !verdict) {
        without++;
        continue;
      }
      with++;
      flagged += verdict[r] == 0;
      if (shown++ == 0)
        fprintf(out, "error bars (ode.replicas): mean ± se over the replicas, se = sd / "
                     "sqrt(R):\n");
      if (shown <= MAX_LISTED)
        print_point(plan, i, R, T, K, loss + (size_t)r * R * T, esc + (size_t)r * R * K,
                    p.stability && pred ? pred + (size_t)r * R * K : NULL, verdict[r], out);
    }
    free(loss), free(esc), free(pred), free(verdict);
  }
  if (shown > MAX_LISTED)
    fprintf(out, "  ... and %ld more with replicas (replicas/ in the file)\n",
            shown - MAX_LISTED);
  if (with)
    fprintf(out, "convergence in N: %ld of %ld points with replicas flagged (a final loss or "
                 "escape time would move by more than its error bar at 4N: replicas/n_converged)\n",
            flagged, with);
  if (without)
    fprintf(out, "error bars: none for %ld done ODE point%s (ode.replicas = 1; give 2 or more "
                 "for mean ± se)\n",
            without, without == 1 ? "" : "s");
}
