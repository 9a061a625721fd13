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
 * with the control variate (c not matched), sample seed 1:
 *   HS_NO_MATCH=1 build/tests/test_ode_mc table 262144 1 on 14
 * (about 5 CPU minutes, at rtol 1e-7; at this file's 1e-6 the escapes at
 * N = 4096 agree with 1e-7's to 4 digits). Feature 3's max_h |m_h3| grows from the start's
 * 0.036 to a peak of 0.044 during the first two escapes, then decays to 0
 * (N = 65536, seed 1: build/tests/test_ode_mc table 65536 1 on 14). */
static const double REF_T[2] = {5.4708, 9.0028};

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
  double max3; /* max over the records of max_h |m_h3| */
  double end3; /* max_h |m_h3| at t_end */
  long calls, cv_calls;
} run_result;

/* Integrate the case on N samples of seed `seed` to t_end (with the
 * control variate or not; c's moments matched or not), timing each
 * feature's crossing of 0.1 (log-linear between records 0.25 apart up to
 * t = 15, where the growth is exponential; rkf45), then on to t_end with
 * bdf (records 50 apart: the theory's escapes are before t = 15, the late
 * phase is slow). */
static run_result run_case(int N, uint64_t seed, int control_variate, int match, double t_end) {
  hs_dist dist = gaussian_321();
  hs_population pop;
  hs_err err;
  run_result out = {{NAN, NAN, NAN}, 0, 0, 0, 0};
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 26, seed, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  hs_population_make_antithetic(&pop);
  if (match) hs_population_match_moments(&pop, &dist);
  size_t n = hs_ode_dim(H, K);
  double *y = calloc(n, sizeof(double)), prev[K];
  CHECK(hs_population_represent(H, K, START_M, START_Q, y, &err) == HS_OK, "%s", err.msg);
  y[n - 1] = 1;
  hs_ode_config cfg = {.kappa = 1, .rtol = 1e-6, .atol = 1e-8, .dist = &dist,
                       .control_variate = control_variate};
  hs_ode *ode;
  CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  double t = 0;
  for (int k = 0; k < K; k++) prev[k] = column_max(y, k);
  while (t < t_end) {
    /* past t = 15 the slow late phase: bdf, records 50 apart */
    if (t >= 15 && cfg.method != HS_ODE_BDF) {
      out.calls += hs_ode_rhs_calls(ode), out.cv_calls += hs_ode_cv_calls(ode);
      hs_ode_free(ode);
      cfg.method = HS_ODE_BDF;
      CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
    }
    double t0 = t, dt = t < 15 ? 0.25 : 50;
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
    out.max3 = fmax(out.max3, prev[2]);
  }
  out.end3 = prev[2];
  out.calls += hs_ode_rhs_calls(ode), out.cv_calls += hs_ode_cv_calls(ode);
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

/* The claims of issue 26 on its case, with the control variate (and c
 * matched), as a job runs it: at N = 4096 and 16384, sample seeds 1-3, the
 * first two escapes within 5 % and 3 % of the reference, and to t = 2000
 * feature 3 never escapes and has decayed below 1e-3 at the end. Its peak
 * max_h |m_h3|: below 0.05 at N = 16384 (measured 0.042-0.049; the
 * reference peaks at 0.044), below 0.06 at N = 4096 (0.045-0.053: the
 * control variate removes the source, not the noise of feature 3's
 * growth rate, which at 4096 lifts the peak up to 20 % above the
 * reference's). Without the correction it reaches 0.12-0.18 and escapes in
 * 3 of 3 seeds at 4096, t = 159-428. quick (sanitizers): N = 4096, seed 1. */
static void test_escapes(int quick) {
  const int Ns[2] = {4096, 16384};
  const double tol[2] = {0.05, 0.03}, peak[2] = {0.06, 0.05};
  for (int i = 0; i < (quick ? 1 : 2); i++)
    for (uint64_t seed = 1; seed <= (quick ? 1u : 3u); seed++) {
      run_result r = run_case(Ns[i], seed, 1, 1, 2000);
      for (int k = 0; k < 2; k++)
        CHECK(fabs(r.escape[k] / REF_T[k] - 1) <= tol[i],
              "N = %d, seed %d: escape %d at %.4g, reference %.4g (tolerance %g %%)", Ns[i],
              (int)seed, k + 1, r.escape[k], REF_T[k], 100 * tol[i]);
      CHECK(isnan(r.escape[2]), "N = %d, seed %d: feature 3 escapes at %g", Ns[i], (int)seed,
            r.escape[2]);
      CHECK(r.max3 < peak[i], "N = %d, seed %d: max_h |m_h3| reaches %.4g (limit %g)", Ns[i],
            (int)seed, r.max3, peak[i]);
      CHECK(r.end3 < 1e-3, "N = %d, seed %d: max_h |m_h3| = %.3g at t = 2000", Ns[i], (int)seed,
            r.end3);
    }
}

static int table(int argc, char **argv) {
  if (argc < 5) return fprintf(stderr, "usage: test_ode_mc table N seed on|off [t_end]\n"), 2;
  int N = atoi(argv[2]), on = strcmp(argv[4], "on") == 0, match = !getenv("HS_NO_MATCH");
  double t_end = argc > 5 ? atof(argv[5]) : 2000;
  run_result r = run_case(N, (uint64_t)atoll(argv[3]), on, on && match, t_end);
  printf("N %d seed %s cv %s%s: escapes %.4f %.4f %.4f; max_h |m_h3| to t = %g: %.4g, at the end %.3g; "
         "rhs %ld, cv evaluations %ld\n",
         N, argv[3], argv[4], on && match ? " (c matched)" : "", r.escape[0], r.escape[1],
         r.escape[2], t_end, r.max3, r.end3, r.calls, r.cv_calls);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "table") == 0) return table(argc, argv);
  int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
  test_symmetries();
  test_zero_mean();
  test_escapes(quick);
  return check_report("test_ode_mc");
}
