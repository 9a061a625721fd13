/* test_zip.c: the grid of jobs with a zip group and a swept t_max, against
 * the points written out by hand with nested loops (the plan's expansion is
 * a recursion over the key table: the loops are an independent account of
 * what it must give); the time coordinate of a swept t_max; matching a
 * file's plan to a job that adds t_max values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/plan.h"
#include "headspec/timegrid.h"

static hs_plan *plan_of(const char *text) {
  hs_plan *plan = NULL;
  hs_err err;
  hs_err_clear(&err);
  int s = hs_plan_from_text("zip.yaml", text, &plan, &err);
  CHECK(s == 0, "plan refused: %s", err.msg);
  return s ? NULL : plan;
}

/* distribution x (b1, b2 zipped, flipping only) x H x t_max: the pairs
 * move together where the distribution reads them, and vary where b1 sits
 * in the table (after distribution, before H). */
static void test_zip_order(void) {
  const char *text = "output: x.h5\n"
                     "zip: [[model.b2, model.b1]]\n" /* the order named does not matter */
                     "model:\n"
                     "  distribution: [flipping, onehot]\n"
                     "  b1: [0.5, 1, 1]\n"
                     "  b2: [0.5, 0.5, 1]\n"
                     "  beta: 2\n"
                     "  K: 2\n"
                     "  activation: softmax\n"
                     "  H: [1, 2]\n"
                     "training: {d: 100, eta: 0.5, t_max: [3, 1, 2]}\n";
  hs_plan *plan = plan_of(text);
  if (!plan) return;
  const double b1[] = {0.5, 1, 1}, b2[] = {0.5, 0.5, 1}, t_max[] = {3, 1, 2};
  long i = 0, n = hs_plan_n_points(plan);
  CHECK(n == 3 * 2 * 3 + 2 * 3, "3 pairs x 2 H x 3 t_max + 2 H x 3 t_max, got %ld", n);
  for (int d = 0; d < 2; d++)
    for (int z = 0; z < (d == 0 ? 3 : 1); z++)
      for (int h = 1; h <= 2; h++)
        for (int t = 0; t < 3 && i < n; t++, i++) {
          hs_point p;
          hs_plan_point(plan, i, &p);
          CHECK(strcmp(p.dist.name, d ? "onehot" : "flipping") == 0, "point %ld: %s", i,
                p.dist.name);
          if (d == 0)
            CHECK(p.dist.b1 == b1[z] && p.dist.b2 == b2[z], "point %ld: b1 %g b2 %g, want %g %g",
                  i, p.dist.b1, p.dist.b2, b1[z], b2[z]);
          CHECK(p.H == h && p.t_max == t_max[t], "point %ld: H %d t_max %g", i, p.H, p.t_max);
        }
  CHECK(hs_plan_n_zips(plan) == 1, "one zip group");
  if (hs_plan_n_zips(plan) == 1) {
    const hs_plan_zip *zip = hs_plan_zips(plan);
    CHECK(strcmp(zip->names, "b1 b2") == 0, "zipped_keys '%s' (in table order)", zip->names);
    CHECK(zip->n == 2 && hs_plan_columns(plan)[zip->columns[0]].key + 1 ==
                             hs_plan_columns(plan)[zip->columns[1]].key,
          "columns of b1 and b2");
  }
  /* onehot points do not read b1, b2: NaN in /grid; the label shows the pair */
  int c_b1 = -1;
  for (int c = 0; c < hs_plan_n_columns(plan); c++)
    if (strcmp(hs_plan_columns(plan)[c].name, "b1") == 0) c_b1 = c;
  CHECK(c_b1 >= 0 && isnan(hs_plan_column_number(plan, c_b1, n - 1)), "onehot's b1 is NaN");
  char label[HS_LABEL_LEN];
  hs_plan_label(plan, 6, label, sizeof label);
  CHECK(strcmp(label, "distribution=flipping b1=1 b2=0.5 H=1 t_max=3") == 0, "label '%s'", label);
  /* t_max swept: the time coordinate is the record index */
  double times[51];
  hs_plan_times(plan, 51, times);
  CHECK(hs_plan_time_is_index(plan), "t_max swept: the record index");
  for (int j = 0; j < 51; j++) CHECK(times[j] == j, "times[%d] = %g", j, times[j]);
  hs_plan_free(plan);
}

/* A group whose keys are apart in the table (b1 ... H ... t_max): it varies
 * at its first key, so slower than H. */
static void test_zip_apart(void) {
  hs_plan *plan = plan_of("output: x.h5\n"
                          "zip: [[training.t_max, model.b1]]\n"
                          "model: {distribution: flipping, b1: [1, 2], b2: 1, activation: softmax,"
                          " H: [1, 2, 3]}\n"
                          "training: {d: 100, eta: 0.5, t_max: [10, 20]}\n");
  if (!plan) return;
  CHECK(hs_plan_n_points(plan) == 6, "2 pairs x 3 H, got %ld", hs_plan_n_points(plan));
  long i = 0;
  for (int z = 0; z < 2; z++)
    for (int h = 1; h <= 3 && i < hs_plan_n_points(plan); h++, i++) {
      hs_point p;
      hs_plan_point(plan, i, &p);
      CHECK(p.dist.b1 == z + 1 && p.t_max == 10 * (z + 1) && p.H == h,
            "point %ld: b1 %g t_max %g H %d", i, p.dist.b1, p.t_max, p.H);
    }
  hs_plan_free(plan);
}

/* A zip of t_max and records: three points in two shapes, each point's own
 * times (hs_timegrid from its t_max) are what its run builds. */
static void test_zip_shapes(void) {
  hs_plan *plan = plan_of("output: x.h5\n"
                          "zip: [[training.t_max, training.records]]\n"
                          "model: {distribution: flipping, b1: 1, b2: 1, activation: softmax, "
                          "H: 2}\n"
                          "training: {d: 100, eta: 0.5, t_max: [1, 1, 10], records: [3, 5, 3],"
                          " record_grid: log, t_min: 0.5}\n");
  if (!plan) return;
  CHECK(hs_plan_n_points(plan) == 3, "3 tuples, got %ld", hs_plan_n_points(plan));
  CHECK(hs_plan_n_groups(plan) == 2, "2 shapes (T = 3, 5), got %d", hs_plan_n_groups(plan));
  const double want_t[] = {1, 1, 10};
  const int want_T[] = {3, 5, 3};
  for (long i = 0; i < hs_plan_n_points(plan) && i < 3; i++) {
    hs_point p;
    hs_plan_point(plan, i, &p);
    CHECK(p.t_max == want_t[i] && p.records == want_T[i], "point %ld: t_max %g records %d", i,
          p.t_max, p.records);
    double t[5];
    hs_timegrid(1, p.t_min, p.t_max, p.records, t);
    CHECK(t[0] == 0 && fabs(t[1] - 0.5) < 1e-15 && fabs(t[p.records - 1] - want_t[i]) < 1e-12,
          "point %ld: log grid 0, t_min .. its own t_max", i);
  }
  hs_plan_free(plan);
}

/* One t_max: the nominal record times, as before. */
static void test_single_t_max(void) {
  hs_plan *plan = plan_of("output: x.h5\n"
                          "model: {distribution: flipping, b1: 1, b2: 1, activation: softmax, "
                          "H: [1, 2]}\n"
                          "training: {d: 100, eta: 0.5, t_max: 2, records: 5}\n");
  if (!plan) return;
  double times[5];
  hs_plan_times(plan, 5, times);
  CHECK(!hs_plan_time_is_index(plan), "one t_max: nominal times");
  for (int j = 0; j < 5; j++) CHECK(times[j] == 0.5 * j, "times[%d] = %g", j, times[j]);
  CHECK(hs_plan_n_zips(plan) == 0, "no zip");
  hs_plan_free(plan);
}

/* A file of t_max 1 grown by a job with t_max [2, 1]: its points are the
 * job's points with t_max 1. */
static void test_match_t_max(void) {
  const char *model = "model: {distribution: flipping, b1: 1, b2: 1, activation: softmax, "
                      "H: [1, 2]}\n";
  char a[512], b[512];
  snprintf(a, sizeof a, "output: x.h5\n%straining: {d: 100, eta: 0.5, t_max: 1}\n", model);
  snprintf(b, sizeof b, "output: x.h5\n%straining: {d: 100, eta: 0.5, t_max: [2, 1]}\n", model);
  hs_plan *old = plan_of(a), *cur = plan_of(b);
  if (old && cur) {
    hs_plan_match m;
    hs_err err;
    int s = hs_plan_match_points(old, cur, &m, &err);
    CHECK(s == 0, "match: %s", err.msg);
    if (!s) {
      CHECK(m.common == 2 && !m.same, "2 points in common, not the same grid");
      for (long i = 0; i < hs_plan_n_points(old); i++) {
        hs_point p, q;
        hs_plan_point(old, i, &p);
        CHECK(m.cur_of_old[i] >= 0, "old point %ld found", i);
        if (m.cur_of_old[i] < 0) continue;
        hs_plan_point(cur, m.cur_of_old[i], &q);
        CHECK(q.H == p.H && q.t_max == 1, "old point %ld -> H %d t_max %g", i, q.H, q.t_max);
      }
      hs_plan_match_free(&m);
    }
  }
  hs_plan_free(old);
  hs_plan_free(cur);
}

/* Zipped keys read by different points are refused with the zip's line. */
static void test_mixed_readers(void) {
  hs_plan *plan = NULL;
  hs_err err;
  hs_err_clear(&err);
  int s = hs_plan_from_text("zip.yaml",
                            "output: x.h5\n"
                            "zip: [[model.b1, training.eta]]\n"
                            "model: {distribution: [onehot, flipping], b1: [1, 2], b2: 1, "
                            "beta: 1, K: 2, activation: softmax, H: 2}\n"
                            "training: {d: 100, eta: [0.5, 1], t_max: 1}\n",
                            &plan, &err);
  CHECK(s == HS_EINPUT, "refused (%d)", s);
  CHECK(strstr(err.msg, "zip.yaml:2: 'zip': some points read 'training.eta' but not 'model.b1'"),
        "message: %s", err.msg);
  hs_plan_free(plan);
}

int main(void) {
  test_zip_order();
  test_zip_apart();
  test_zip_shapes();
  test_single_t_max();
  test_match_t_max();
  test_mixed_readers();
  return check_report("test_zip");
}
