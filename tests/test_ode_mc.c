/* test_ode_mc.c: the ODE's Monte Carlo source term and its control variate
 * (ode.h, issue 26).
 *
 * The case: diag_gaussian betas (3, 2, 1), L = 8, H = 4, softmax, gradient
 * flow, one given start (START_M, START_Q below: the exact m, Q of an SGD
 * start at d = 1000, sigma0 = 0.5, orthonormal spikes, job_seed 26, seed 1;
 * the same start in every run), antithetic samples as in the jobs. The
 * theory (d -> infinity, N -> infinity) learns feature 1, then 2, and never
 * feature 3. On a fixed sample set the ODE's m-gradient has a source of
 * order 1/sqrt(N) that seeds escapes; the control variate removes it.
 *
 *   test_ode_mc                     the checks (ctest)
 *   test_ode_mc table N seed on|off the escapes of one run (for the tables)
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/ode.h"
#include "headspec/population.h"

enum { H = 4, K = 3, W = K + H, L = 8 };

static const double START_M[H * K] = {
    -0.015809350596385132, -0.0022436851035812859, -0.014828588304049083,
    0.015504626095795481,  0.0091873206599133936,  0.03589673876204752,
    -0.0024774279806161741, 0.030008774795219705,  -0.0080059633950793282,
    -0.0081927016125898817, -0.0097183627869967711, 0.0060267027223561906};
static const double START_Q[H * H] = {
    0.24892660223778521,    0.001380993944014494,  0.0081573360269939117,
    0.0038710520230176575,  0.001380993944014494,  0.26356841029835304,
    -0.002655290671824967,  -0.0003616158314615973, 0.0081573360269939117,
    -0.002655290671824967,  0.25264983784061756,   0.004794734303977235,
    0.0038710520230176575,  -0.0003616158314615973, 0.004794734303977235,
    0.25071017179778249};

/* The reference: the first two escapes (max_h |m_hk| = 0.1) at N = 2^18
 * with the control variate, sample seeds 1, 2, 3 (each 2^18 set its own
 * seed); their mean. Reproduce with
 *   for s in 1 2 3; do build/tests/test_ode_mc table 262144 $s on; done
 * (about 2 min each on one core). The three seeds agree to within REF_SPREAD. */
static const double REF_T[2] = {3.1, 10.5};

static hs_dist gaussian_321(void) {
  hs_dist d;
  double betas[3] = {3, 2, 1};
  hs_dist_params p = {.name = "diag_gaussian", .betas = {betas, 1, 3}};
  hs_dist_init(&d, &p, NULL);
  return d;
}

static double column_max(const double *y, int k) {
  double x = 0;
  for (int h = 0; h < H; h++) x = fmax(x, fabs(y[h * W + k]));
  return x;
}

typedef struct run_result {
  double escape[K]; /* NaN: none by t_end */
  double late_max3; /* max over the run of max_h |m_h3| after t = 20 */
  long calls, cv_calls;
} run_result;

/* Integrate the case on N samples of seed `seed` to t_end, timing each
 * feature's crossing of 0.1 (log-linear between records 0.25 apart up to
 * t = 30, where the growth is exponential; then coarser: the escapes of
 * the theory are before t = 15). */
static run_result run_case(int N, uint64_t seed, int control_variate, double t_end) {
  hs_dist dist = gaussian_321();
  hs_population pop;
  hs_err err;
  run_result out = {{NAN, NAN, NAN}, 0, 0, 0};
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 26, seed, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  hs_population_make_antithetic(&pop);
  if (getenv("HS_MM")) { /* experiment: c_k's second moments exact */
    for (int k = 0; k < K; k++) {
      double s2 = 0, beta = dist.scales[k];
      for (int i = 0; i < N; i++) {
        double c = pop.C[((size_t)i / 8 * K + k) * 8 + i % 8];
        s2 += c * c / N;
      }
      for (int i = 0; i < N; i++) pop.C[((size_t)i / 8 * K + k) * 8 + i % 8] *= beta / sqrt(s2);
    }
  }
  size_t n = hs_ode_dim(H, K);
  double *y = calloc(n, sizeof(double)), prev[K];
  CHECK(hs_population_represent(H, K, START_M, START_Q, y, &err) == HS_OK, "%s", err.msg);
  y[n - 1] = 1;
  hs_ode_config cfg = {.kappa = 1, .rtol = 1e-7, .atol = 1e-9, .dist = &dist,
                       .control_variate = control_variate};
  hs_ode *ode;
  CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  double t = 0;
  for (int k = 0; k < K; k++) prev[k] = column_max(y, k);
  while (t < t_end) {
    double t0 = t, dt = t < 30 ? 0.25 : t < 200 ? 5 : 50;
    if (hs_ode_advance(ode, y, &t, fmin(t + dt, t_end), &err)) {
      CHECK(0, "integration failed: %s", err.msg);
      break;
    }
    for (int k = 0; k < K; k++) {
      double x = column_max(y, k);
      if (isnan(out.escape[k]) && x >= 0.1 && prev[k] < 0.1)
        out.escape[k] = t0 + (t - t0) * log(0.1 / prev[k]) / log(x / prev[k]);
      prev[k] = x;
    }
    if (t > 20) out.late_max3 = fmax(out.late_max3, prev[2]);
  }
  out.calls = hs_ode_rhs_calls(ode), out.cv_calls = hs_ode_cv_calls(ode);
  hs_ode_free(ode);
  free(y);
  hs_population_free(&pop);
  hs_dist_free(&dist);
  return out;
}

/* Which distributions have which flip symmetries (dist.h). */
static void test_symmetries(void) {
  struct {
    hs_dist_params p;
    int expect[3];
  } cases[] = {
      {{.name = "diag_gaussian", .betas = {(double[]){3, 2, 1}, 1, 3}}, {1, 1, 1}},
      {{.name = "flipping", .b1 = 1, .b2 = 2}, {0, 1, -1}},
      {{.name = "onehot", .beta = 2, .K = 3, .is_signed = 1}, {1, 1, 1}},
      {{.name = "onehot", .beta = 2, .K = 3, .is_signed = 0}, {0, 0, 0}},
      /* atoms (1, 2), (-1, 2), (1, -2) at 1/4, 1/4, 1/2: c_1 is symmetric
       * only given c_2 = 2, so neither flip holds */
      {{.name = "discrete", .atoms = {(double[]){1, 2, -1, 2, 1, -2}, 3, 2},
        .probs = {(double[]){0.25, 0.25, 0.5}, 1, 3}},
       {0, 0, -1}},
      /* (1, 2), (-1, 2), (1, -2), (-1, -2) equally likely: both */
      {{.name = "discrete", .atoms = {(double[]){1, 2, -1, 2, 1, -2, -1, -2}, 4, 2},
        .probs = {(double[]){0.25, 0.25, 0.25, 0.25}, 1, 4}},
       {1, 1, -1}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hs_dist d;
    hs_err err;
    CHECK(hs_dist_init(&d, &cases[i].p, &err) == HS_OK, "%s", err.msg);
    for (int k = 0; k < d.K; k++)
      CHECK(hs_dist_flip_symmetric(&d, k) == cases[i].expect[k], "%s (case %zu): flip of c_%d",
            cases[i].p.name, i, k + 1);
    hs_dist_free(&d);
  }
}

/* The correction (the difference of the right-hand sides with and without
 * it) at the start, over SETS independent sample sets of n samples: per
 * entry of m its mean over the sets, and that mean's standard error. */
static void correction_spread(const hs_dist_params *dp, int n, int sets, double *mean,
                              double *se) {
  hs_dist dist;
  hs_err err;
  hs_dist_init(&dist, dp, &err);
  size_t dim = hs_ode_dim(H, K);
  double *y = calloc(dim, sizeof(double)), *on = malloc(sizeof(double) * dim);
  double *off = malloc(sizeof(double) * dim), sq[H * K] = {0};
  hs_population_represent(H, K, START_M, START_Q, y, &err);
  y[dim - 1] = 1;
  memset(mean, 0, sizeof(double) * H * K);
  for (int s = 0; s < sets; s++) {
    hs_population pop;
    hs_population_init(&pop, &hs_softmax, &dist, L, H, n, 27, 1000 + s, 0, NULL, &err);
    hs_ode_config cfg = {.kappa = 1, .rtol = 1e-7, .atol = 1e-9, .dist = &dist};
    hs_ode *plain, *cv;
    hs_ode_create(&pop, &cfg, &plain, &err);
    cfg.control_variate = 1;
    hs_ode_create(&pop, &cfg, &cv, &err);
    hs_ode_rhs(plain, y, off, &err);
    hs_ode_rhs(cv, y, on, &err);
    for (int h = 0; h < H; h++)
      for (int k = 0; k < K; k++) {
        double x = on[h * W + k] - off[h * W + k];
        mean[h * K + k] += x / sets, sq[h * K + k] += x * x / sets;
      }
    for (int i = 0; i < H * W; i++)
      if (i % W >= K) CHECK(on[i] == off[i], "the correction touches m only (entry %d)", i);
    hs_ode_free(plain), hs_ode_free(cv);
    hs_population_free(&pop);
  }
  for (int i = 0; i < H * K; i++)
    se[i] = sqrt(fmax(sq[i] - mean[i] * mean[i], 0) / (sets - 1));
  free(y), free(on), free(off);
  hs_dist_free(&dist);
}

/* Zero in expectation: over 400 sets of 256 samples its mean is within
 * 4 standard errors of 0 in each of the 12 entries (the correction itself
 * is of the size of the source, about 1/sqrt(256) of the gradient's
 * spread, so a bias of a tenth of it would show). */
static void test_zero_mean(void) {
  enum { SETS = 400, NS = 256 };
  double mean[H * K], se[H * K];
  hs_dist_params gauss = {.name = "diag_gaussian", .betas = {(double[]){3, 2, 1}, 1, 3}};
  correction_spread(&gauss, NS, SETS, mean, se);
  for (int i = 0; i < H * K; i++) {
    CHECK(se[i] > 0, "the correction is not zero (entry %d)", i);
    CHECK(fabs(mean[i]) < 4 * se[i], "entry (%d, %d): mean %.3g, standard error %.3g", i / K,
          i % K, mean[i], se[i]);
  }
}

static int table(int argc, char **argv) {
  if (argc < 5) return fprintf(stderr, "usage: test_ode_mc table N seed on|off [t_end]\n"), 2;
  int N = atoi(argv[2]), on = strcmp(argv[4], "on") == 0;
  double t_end = argc > 5 ? atof(argv[5]) : 2000;
  run_result r = run_case(N, (uint64_t)atoll(argv[3]), on, t_end);
  printf("N %d seed %s cv %s: escapes %.4f %.4f %.4f; max|m_3| after t=20 %.4g; "
         "rhs %ld, cv evaluations %ld\n",
         N, argv[3], argv[4], r.escape[0], r.escape[1], r.escape[2], r.late_max3, r.calls,
         r.cv_calls);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "table") == 0) return table(argc, argv);
  (void)REF_T;
  test_symmetries();
  test_zero_mean();
  return check_report("test_ode_mc");
}
