/* cli_validate.c: what `headspec validate` prints of a plan (cli.h): the
 * swept keys and their values, notes on per-spike keys, ode.method auto's
 * choices, small Monte Carlo sets, and the cost estimate per phase. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/job.h"
#include "headspec/plan.h"
#include "headspec/point.h"
#include "headspec/store.h"
#include "cli.h"

/* Column c at point i as text ("" where the point does not read it). */
static void column_text(const hs_plan *plan, int c, long i, char *v, size_t len) {
  hs_column_type type = hs_plan_columns(plan)[c].type;
  double x = type == HS_COLUMN_NAME ? 0 : hs_plan_column_number(plan, c, i);
  if (type == HS_COLUMN_NAME)
    snprintf(v, len, "%s", hs_plan_column_word(plan, c, i));
  else if (type == HS_COLUMN_REAL ? isnan(x) : x == -1)
    v[0] = '\0';
  else
    snprintf(v, len, "%.10g", x);
}

/* The first 16 distinct values of columns cols[0..n) together: "0.5" for
 * one column, "(0.5, 1)" for a zip group. */
static void print_values(const hs_plan *plan, const int *cols, int n) {
  char seen[16][256];
  int shown = 0;
  for (long i = 0; i < hs_plan_n_points(plan) && shown < 16; i++) {
    char v[256] = "";
    size_t used = 0;
    for (int e = 0; e < n && used < sizeof v; e++) {
      char one[64];
      column_text(plan, cols[e], i, one, sizeof one);
      if (!one[0]) used = sizeof v; /* not read here */
      else used += (size_t)snprintf(v + used, sizeof v - used, "%s%s", e ? ", " : "", one);
    }
    int dup = used >= sizeof v || !v[0];
    for (int k = 0; k < shown && !dup; k++) dup = strcmp(seen[k], v) == 0;
    if (dup) continue;
    snprintf(seen[shown++], sizeof seen[0], "%s", v);
    printf(n > 1 ? " (%s)" : " %s", v);
  }
  printf("\n");
}

/* The values a swept column takes, as "softmax softmax1 bsoftmax", and the
 * tuples of each zip group. */
static void print_swept(const hs_plan *plan) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  for (int c = 0; c < hs_plan_n_columns(plan); c++) {
    if (!cols[c].swept) continue;
    printf("  swept: %s:", cols[c].name);
    print_values(plan, &c, 1);
  }
  for (int z = 0; z < hs_plan_n_zips(plan); z++) {
    const hs_plan_zip *zip = &hs_plan_zips(plan)[z];
    printf("  zipped: %s:", zip->names);
    print_values(plan, zip->columns, zip->n);
  }
  if (hs_plan_time_is_index(plan))
    printf("  t_max is swept: the results' time axis is the record index (each point's own "
           "times are its sgd/t, ode/t)\n");
}

/* Keys whose list sweeps the grid where a per-spike variant of the model
 * reads one value per spike: a list under the first may be meant as the
 * second (iso_gaussian with beta: [3, 2, 1] is three points, not one). */
static const struct per_spike {
  const char *dist, *key, *variant, *variant_key;
} per_spike[] = {{"iso_gaussian", "beta", "diag_gaussian", "betas"},
                 {"onehot", "beta", "discrete", "atoms"}};

static void print_per_spike_notes(const hs_plan *plan) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  for (size_t v = 0; v < sizeof per_spike / sizeof *per_spike; v++) {
    int key = hs_job_key_index("model", per_spike[v].key), c = 0;
    while (c < hs_plan_n_columns(plan) && cols[c].key != key) c++;
    if (c == hs_plan_n_columns(plan) || !cols[c].swept) continue;
    long with = 0;
    for (long i = 0; i < hs_plan_n_points(plan); i++) {
      hs_point p;
      hs_plan_point(plan, i, &p);
      with += strcmp(p.dist.name, per_spike[v].dist) == 0;
    }
    if (!with) continue;
    printf("note: %s is swept: its %s points take one value each (one strength for every "
           "spike), %ld points in all; for one value per spike use distribution %s with %s\n",
           per_spike[v].key, per_spike[v].dist, with, per_spike[v].variant,
           per_spike[v].variant_key);
  }
}

/* For ode method auto: how many ODE points take each stepper. */
static void print_auto_method(const hs_plan *plan) {
  long n = hs_plan_n_points(plan), with[2] = {0, 0};
  for (long i = 0; i < n; i++) {
    hs_point p;
    hs_plan_point(plan, i, &p);
    if (!p.run_ode || p.ode_method != HS_ODE_AUTO) continue;
    int K = hs_plan_groups(plan)[hs_plan_group_of(plan, i)].shape.K;
    with[hs_point_ode_method(&p, K) == HS_ODE_BDF]++;
  }
  if (with[0] + with[1])
    printf("ode method auto: bdf for %ld point%s, rkf45 for %ld\n", with[1],
           with[1] == 1 ? "" : "s", with[0]);
}

/* Points whose ode.samples is small for their start (hs_point_samples_needed):
 * the fixed samples' source term would seed escapes the theory does not
 * have (issue 26). At most ~10^5 points are examined, evenly spaced. */
static void print_small_samples(const hs_plan *plan) {
  long n = hs_plan_n_points(plan), stride = n > 100000 ? n / 100000 : 1, small = 0, seen = 0;
  long first = -1;
  double need = 0;
  for (long i = 0; i < n; i += stride, seen++) {
    hs_point p;
    hs_dist dist;
    hs_err ignore;
    hs_plan_point(plan, i, &p);
    if (hs_dist_init(&dist, &p.dist, &ignore)) continue;
    double needed = hs_point_samples_needed(&p, &dist);
    hs_dist_free(&dist);
    if (!(p.ode_samples < needed)) continue;
    if (small++ == 0) first = i, need = needed;
  }
  if (!small) return;
  char label[HS_LABEL_LEN];
  hs_plan_label(plan, first, label, sizeof label);
  printf("warning: ode.samples is small for %ld of %ld point%s%s: the fixed samples' source "
         "term, of order 1/sqrt(samples), competes with the start's components that seed the "
         "escapes, on features the control variate does not cover; e.g. point %ld (%s) wants "
         "samples >= %.3g (16 / s0^2, s0 = sigma0 / sqrt(d) or the given start_m; "
         "docs/MODEL.md#monte-carlo-error)\n",
         small, seen, seen == 1 ? "" : "s", stride > 1 ? " examined" : "", first, label, need);
}

/* The estimate of the points left to compute (done[i]: reused as done; may
 * be NULL), and its parts: the phases and the per-point overhead, each
 * summed over at most ~10^5 of those points, evenly spaced (the shares;
 * the total is every point's). */
void hs_cli_print_cost(const hs_plan *plan, const unsigned char *done, long to_compute) {
  long n = hs_plan_n_points(plan), stride = to_compute > 100000 ? to_compute / 100000 : 1;
  double total = 0, part[HS_N_COST_PARTS] = {0}, sampled = 0;
  for (long i = 0, k = 0; i < n; i++) {
    if (done && done[i]) continue;
    total += hs_plan_cost(plan, i);
    if (k++ % stride) continue;
    hs_point p;
    double c[HS_N_COST_PARTS];
    hs_plan_point(plan, i, &p);
    sampled += hs_point_cost_parts(&p, c);
    for (int j = 0; j < HS_N_COST_PARTS; j++) part[j] += c[j];
  }
  printf("estimated cost: %.3g core-hours (%.0f core-seconds)%s\n", total / 3600, total,
         done && to_compute < n ? " for the points left to compute" : "");
  if (!(total > 0) || !(sampled > 0)) return;
  printf("  by phase:");
  for (int j = 0; j < HS_N_COST_PARTS; j++) {
    double s = total * part[j] / sampled;
    if (part[j] > 0 && s >= 0.005 * total)
      printf(" %s %.3g s (%.0f%%)", hs_point_cost_part_name(j), s, 100 * part[j] / sampled);
  }
  printf("\n");
}

void hs_cli_print_grid(const hs_plan *plan) {
  print_swept(plan);
  print_per_spike_notes(plan);
  print_auto_method(plan);
  print_small_samples(plan);
}
