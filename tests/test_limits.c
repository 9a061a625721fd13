/* test_limits.c: a point runs at the largest H, K and L the job-key table
 * allows (docs/JOBS.md), with tiny d, times and sample counts so each takes
 * seconds. These sizes once overflowed the stack (H = 512 and 1024 in the
 * ODE start and the SGD records, gaussian K = 1024 in Q_perp, L = 20000 in
 * the Bayes risk). Checked against closed forms that hold at any size:
 * orthonormal spikes have M = I; the ODE's records satisfy Q = m m^T +
 * Q_perp; softmax heads' weights sum to 1/H over the tokens; losses are
 * finite and the Bayes risk lies in [0, 2]. Run under ASan by scripts/test.sh. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "headspec/job.h"
#include "headspec/point.h"
#include "point_fixture.h"

/* The table's maximum of model key `name`: the test follows docs/JOBS.md. */
static int key_max(const char *name) {
  for (int i = 0; i < hs_n_job_keys; i++)
    if (strcmp(hs_job_keys[i].section, "model") == 0 && strcmp(hs_job_keys[i].name, name) == 0)
      return (int)hs_job_keys[i].max;
  return -1;
}

/* A small point: one SGD step or so, two records, few samples. */
static hs_point small_point(const char *dist, int K, int H, int L, int d) {
  hs_point p = hs_test_point("softmax");
  p.job_seed = 0, p.L = L, p.H = H, p.d = d, p.eta = 1, p.test_samples = 1, p.run_sgd = 1;
  p.t_max = 1.0 / d, p.t_min = 0.1, p.noise_term = 0, p.ode_samples = 10, p.bayes_samples = 2;
  p.sampler = HS_SAMPLER_FULL;
  p.dist = (hs_dist_params){.b1 = 1, .b2 = 2, .beta = 2, .K = K, .bmin = 0.5, .bmax = 1};
  strcpy(p.dist.name, dist);
  return p;
}

static void check_result(const char *what, const hs_result *r) {
  const hs_shape *s = &r->shape;
  int H = s->H, K = s->K, T = s->T, L = s->L;
  double worst = 0;
  for (int i = 0; i < K; i++)
    for (int j = 0; j < K; j++) worst = fmax(worst, fabs(r->M[i * K + j] - (i == j)));
  CHECK(worst < 1e-10, "%s: orthonormal spikes: |M - I| = %g", what, worst);
  worst = 0;
  const double *m = r->ode_m + (size_t)(T - 1) * H * K, *Q = r->ode_Q + (size_t)(T - 1) * H * H;
  const double *Qp = r->ode_Qperp + (size_t)(T - 1) * H * H;
  for (int h = 0; h < H; h += H > 64 ? 37 : 1)
    for (int g = 0; g < H; g += H > 64 ? 41 : 1) {
      double mm = 0;
      for (int k = 0; k < K; k++) mm += m[h * K + k] * m[g * K + k];
      worst = fmax(worst, fabs(Q[h * H + g] - mm - Qp[h * H + g]));
    }
  CHECK(worst < 1e-10, "%s: ODE Q - m m^T - Q_perp = %g", what, worst);
  for (int h = 0; h < H; h++) {
    double sum = 0;
    for (int l = 0; l < L; l++) sum += r->sgd_maps[(size_t)h * L + l];
    if (fabs(sum - 1.0 / H) > 1e-12 / H) {
      CHECK(0, "%s: head %d's weights sum to %g, not 1/H", what, h, sum);
      break;
    }
  }
  CHECK(isfinite(r->test_loss[T - 1]) && isfinite(r->lpop[T - 1]) &&
            isfinite(r->ode_loss[T - 1]),
        "%s: finite losses (%g, %g, %g)", what, r->test_loss[T - 1], r->lpop[T - 1],
        r->ode_loss[T - 1]);
  CHECK(r->bayes_risk[0] >= 0 && r->bayes_risk[0] <= 2, "%s: R* = %g", what, r->bayes_risk[0]);
}

static void run(const char *what, const hs_point *p) {
  hs_err err;
  hs_err_clear(&err);
  hs_shape shape;
  hs_result r;
  const char *key;
  CHECK(hs_point_check(p, &key, &err) == HS_OK, "%s: refused: %s", what, err.msg);
  if (hs_point_shape(p, &shape, &err) || hs_result_alloc(&r, &shape, &err)) {
    CHECK(0, "%s: %s", what, err.msg);
    return;
  }
  hs_status st = hs_point_run(p, &r, NULL, NULL, &err);
  CHECK(st == HS_OK, "%s: %s", what, err.msg);
  if (!st) check_result(what, &r);
  printf("%s: H = %d, K = %d, L = %d: %s\n", what, shape.H, shape.K, shape.L,
         st ? "FAILED" : "ran");
  hs_result_free(&r);
}

int main(void) {
  int H = key_max("H"), K = key_max("K"), L = key_max("L");
  CHECK(H >= 1024 && K >= 1024 && L >= 100000, "table maxima H %d K %d L %d", H, K, L);
  /* flipping has K = 2; orthonormal spikes need d >= K */
  hs_point p = small_point("flipping", 0, H, 2, 4);
  run("max H", &p);
  p = small_point("gaussian", K, 1, 2, K);
  run("max K (gaussian)", &p);
  p = small_point("onehot", 16, 1, L, 16); /* the Bayes risk's L x K draws */
  run("max L", &p);
  return check_report("limits");
}
