/* test_ode_stiff.c: the fast paths of the ODE (issue 16) against slower
 * independent ones:
 *  - the population loss's lane kernels (population_lanes.c), at every SIMD
 *    width this CPU runs, against the
 *    per-sample path through attention.c's activation table, for the three
 *    activations, gradients, N, the shift form, fewer heads than stored,
 *    antithetic pairs and a sample count that is no multiple of the lanes;
 *  - the control variate's second state, computed in the same pass over
 *    the samples, against Lpop's gradient evaluated afresh there;
 *  - the lane layout of the samples against the generator's stream itself
 *    (a loss computed here by hand from hs_rng_normal);
 *  - CVODE's BDF against GSL's rkf45 on a stiff softmax1 flow (kappa 100)
 *    and on gradient flow, BDF needing far fewer right-hand sides when stiff;
 *    BDF restarted when the caller changes the state between calls;
 *  - ode method auto: the stepper it picks is the one measured to need
 *    fewer right-hand sides (a clear case each way), and a point run with
 *    auto equals the same point run with that stepper. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/ode.h"
#include "headspec/population.h"
#include "point_fixture.h"
#include "point_run.h"

static hs_dist flipping(void) {
  hs_dist d;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&d, &p, NULL);
  return d;
}

/* |a - b| <= tol (1 + |b|) over n entries. */
static void close_all(const double *a, const double *b, int n, double tol, const char *what) {
  for (int i = 0; i < n; i++)
    CHECK(fabs(a[i] - b[i]) <= tol * (1 + fabs(b[i])), "%s[%d]: %.15g vs %.15g", what, i, a[i],
          b[i]);
}

/* One evaluation (loss, se, gradients, N) by the lane kernel and by the
 * per-sample reference on the same samples. */
static void compare_paths(hs_population *pop, int Hh, const double *R, const double *shift,
                          const double *b, double lambda, const char *what) {
  int W = pop->K + pop->H;
  double g1[128], g2[128], b1[8], b2[8], l1 = 0, l2 = 0, N1[64], N2[64], se1, se2;
  double *gR1 = shift ? NULL : g1, *gR2 = shift ? NULL : g2;
  pop->reference = 0;
  double fast = hs_population_loss(pop, Hh, R, shift, b, lambda, gR1, b1, &l1, N1, &se1);
  pop->reference = 1;
  double slow = hs_population_loss(pop, Hh, R, shift, b, lambda, gR2, b2, &l2, N2, &se2);
  pop->reference = 0;
  char name[96];
  snprintf(name, sizeof name, "%s: Lpop", what);
  CHECK_CLOSE(fast, slow, 1e-13, name);
  snprintf(name, sizeof name, "%s: se", what);
  CHECK_CLOSE(se1, se2, 1e-13, name);
  if (shift) return;
  snprintf(name, sizeof name, "%s: gR", what);
  close_all(g1, g2, Hh * W, 1e-12, name);
  snprintf(name, sizeof name, "%s: N", what);
  close_all(N1, N2, Hh * Hh, 1e-12, name);
  snprintf(name, sizeof name, "%s: gb", what);
  close_all(b1, b2, Hh, 1e-12, name);
  snprintf(name, sizeof name, "%s: glambda", what);
  close_all(&l1, &l2, 1, 1e-12, name);
}

/* At L x H: the generic kernel (7 x 5) and the shapes compiled with their
 * sizes known (8 x 2, 16 x 8: population_lanes.c's SHAPE list). */
static void test_lanes(const hs_activation *act, int L, int H) {
  enum { K = 2, N = 1003 }; /* 1003 = 125 * 8 + 3 */
  int W = K + H;
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, act, &dist, L, H, N, 3, 4, 0, NULL, &err) == HS_OK, "%s",
        err.msg);
  double R[8 * 10], b[8], shift[8 * K];
  hs_rng r;
  hs_rng_init(&r, 9, 9, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, R, H * W);
  hs_rng_normal(&r, shift, H * K);
  hs_rng_normal(&r, b, H);
  char what[64];
  for (int Hh = 1; Hh <= H; Hh++) {
    snprintf(what, sizeof what, "%s L=%d H=%d Hh=%d", act->name, L, H, Hh);
    compare_paths(&pop, Hh, R, NULL, b, 1.3, what);
  }
  snprintf(what, sizeof what, "%s L=%d H=%d shift", act->name, L, H);
  compare_paths(&pop, H, R, shift, b, 0.7, what);
  hs_population_make_antithetic(&pop);
  snprintf(what, sizeof what, "%s L=%d H=%d antithetic", act->name, L, H);
  compare_paths(&pop, H < 4 ? H : 4, R, NULL, b, 1.1, what);
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* The control variate's second state (hs_population_loss_zeroed): its
 * m-gradient from the lane kernel's shared pass against Lpop's gradient
 * evaluated afresh at R with those columns zeroed (per-sample path), and
 * the first state's outputs against hs_population_loss. */
static void test_zeroed(const hs_activation *act, int L, int H, int K) {
  enum { N = 1003 };
  int W = K + H;
  double betas[3] = {3, 2, 1};
  hs_dist dist;
  hs_dist_params dp = {.name = "diag_gaussian", .betas = {betas, 1, 3}};
  CHECK(K <= 3 && hs_dist_init(&dist, &dp, NULL) == HS_OK, "dist");
  hs_population pop;
  hs_err err;
  CHECK(hs_population_alloc(&pop, act, K, L, H, N, NULL, &err) == HS_OK, "%s", err.msg);
  CHECK(hs_population_draw(&pop, &dist, 5, 6, 0, &err) == HS_OK, "%s", err.msg);
  hs_population_make_antithetic(&pop);
  double R[8 * 11], Rz[8 * 11], b[8], g1[88], g2[88], gz[24], gref[88], b1[8], b2[8], N1[64];
  double N2[64], l1, l2;
  unsigned char zero[3] = {1, 0, 1};
  hs_rng r;
  hs_rng_init(&r, 9, 10, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, R, H * W);
  hs_rng_normal(&r, b, H);
  memcpy(Rz, R, sizeof R);
  for (int h = 0; h < H; h++)
    for (int j = 0; j < K; j++) Rz[h * W + j] = zero[j] ? 0 : 0.1 * R[h * W + j];
  memcpy(R, Rz, sizeof R); /* small open columns, as where a gate is open */
  for (int h = 0; h < H; h++)
    for (int j = 0; j < K; j++) R[h * W + j] = zero[j] ? 0.05 * (h + 1) * (j - 1.5) : Rz[h * W + j];
  char what[96];
  snprintf(what, sizeof what, "zeroed %s L=%d H=%d K=%d", act->name, L, H, K);
  double fast = hs_population_loss_zeroed(&pop, H, R, b, 0.9, g1, b1, &l1, N1, zero, gz);
  double plain = hs_population_loss(&pop, H, R, NULL, b, 0.9, g2, b2, &l2, N2, NULL);
  CHECK(fast == plain, "%s: Lpop %.17g vs %.17g", what, fast, plain);
  close_all(g1, g2, H * W, 0, what);
  close_all(N1, N2, H * H, 0, what);
  pop.reference = 1;
  hs_population_loss(&pop, H, Rz, NULL, b, 0.9, gref, b2, &l2, NULL, NULL);
  pop.reference = 0;
  for (int h = 0; h < H; h++)
    for (int j = 0; j < K; j++)
      CHECK(!zero[j] || fabs(gz[h * K + j] - gref[h * W + j]) <= 1e-12 * (1 + fabs(gref[h * W + j])),
            "%s: gmz[%d][%d] %.15g vs %.15g afresh", what, h, j, gz[h * K + j], gref[h * W + j]);
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* The softmax Lpop of the first samples of stream (3, 4, POPULATION, 0),
 * drawn here in the generator's order (sample, token, entry; then c). */
static void test_layout(void) {
  enum { H = 2, K = 2, W = K + H, L = 3, N = 11 };
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 3, 4, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  double U[N * L * W], C[N * K], R[H * W] = {0.5, -0.2, 1.0, 0.1, 0.3, 0.4, -0.6, 0.9};
  double b[H] = {0, 0};
  hs_rng r;
  hs_rng_init(&r, 3, 4, HS_PURPOSE_POPULATION, 0);
  hs_rng_normal(&r, U, N * L * W);
  for (int s = 0; s < N; s++) hs_dist_sample(&dist, &r, C + s * K);
  double sum = 0;
  for (int s = 0; s < N; s++) {
    double p[L][H], z[H] = {0, 0}, ell = 0;
    for (int l = 0; l < L; l++)
      for (int h = 0; h < H; h++) {
        double a = 0;
        for (int w = 0; w < W; w++) a += R[h * W + w] * U[(s * L + l) * W + w];
        for (int k = 0; k < K && l == 0; k++) a += R[h * W + k] * C[s * K + k];
        z[h] += p[l][h] = exp(a);
      }
    for (int l = 0; l < L; l++) {
      double alpha = 0;
      for (int h = 0; h < H; h++) alpha += p[l][h] / z[h] / H;
      ell += ((l == 0) - alpha) * ((l == 0) - alpha);
    }
    sum += ell;
  }
  double lpop = hs_population_loss(&pop, H, R, NULL, b, 1, NULL, NULL, NULL, NULL, NULL);
  CHECK_CLOSE(lpop, sum / N, 1e-14, "Lpop of the lane layout against the stream by hand");
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* A fixed start, H = K = 2. */
static void start_state(double *y) {
  enum { H = 2, K = 2, W = K + H };
  memset(y, 0, sizeof(double) * hs_ode_dim(H, K));
  for (int h = 0; h < H; h++) {
    for (int k = 0; k < K; k++) y[h * W + k] = 0.05 * (h + 1) * (k % 2 ? -1 : 1);
    y[h * W + K + h] = 0.5;
  }
  y[H * W + H] = 1;
}

/* softmax1 from the fixed start in `pieces` calls; returns the right-hand
 * sides used and the final state in y. */
static long integrate(hs_population *pop, hs_ode_method method, double kappa, int noise,
                      double t_end, int pieces, double *y) {
  start_state(y);
  hs_ode_config cfg = {.method = method, .eta_over_B = 0.5, .kappa = kappa,
                       .noise_term = noise, .rtol = 1e-7, .atol = 1e-9};
  hs_ode *ode;
  hs_err err;
  CHECK(hs_ode_create(pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  double t = 0;
  for (int j = 1; j <= pieces; j++)
    CHECK(hs_ode_advance(ode, y, &t, t_end * j / pieces, &err) == HS_OK, "%s", err.msg);
  CHECK_CLOSE(t, t_end, 0, "advance lands on t1");
  long calls = hs_ode_rhs_calls(ode);
  hs_ode_free(ode);
  return calls;
}

static void test_bdf(void) {
  enum { H = 2, K = 2, L = 8, N = 2000, n = H * (K + H) + H + 1 };
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, &hs_softmax1, &dist, L, H, N, 1, 1, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  double a[n], b[n];
  struct { double kappa; int noise; double t; } cases[] = {{1, 1, 30}, {100, 1, 30}, {1, 0, 300}};
  for (int c = 0; c < 3; c++) {
    long explicit_calls = integrate(&pop, HS_ODE_RKF45, cases[c].kappa, cases[c].noise,
                                    cases[c].t, 10, a);
    long bdf_calls = integrate(&pop, HS_ODE_BDF, cases[c].kappa, cases[c].noise, cases[c].t,
                               10, b);
    printf("kappa %g noise %d t %g: rkf45 %ld, bdf %ld right-hand sides\n", cases[c].kappa,
           cases[c].noise, cases[c].t, explicit_calls, bdf_calls);
    char what[64];
    snprintf(what, sizeof what, "bdf vs rkf45, kappa %g noise %d", cases[c].kappa,
             cases[c].noise);
    close_all(b, a, n, 2e-5, what);
    if (cases[c].kappa >= 100)
      CHECK(bdf_calls * 4 < explicit_calls, "stiff: bdf %ld vs rkf45 %ld right-hand sides",
            bdf_calls, explicit_calls);
  }
  /* one call or ten: the same flow (CVODE continues across calls) */
  integrate(&pop, HS_ODE_BDF, 100, 1, 30, 10, b);
  integrate(&pop, HS_ODE_BDF, 100, 1, 30, 1, a);
  close_all(b, a, n, 2e-5, "bdf in one call vs in ten");
  /* a state changed between calls restarts the integrator from it */
  hs_ode_config cfg = {.method = HS_ODE_BDF, .eta_over_B = 0.5, .kappa = 1, .noise_term = 1,
                       .rtol = 1e-7, .atol = 1e-9};
  hs_ode *ode;
  hs_ode_create(&pop, &cfg, &ode, &err);
  start_state(a);
  double t = 0;
  CHECK(hs_ode_advance(ode, a, &t, 5, &err) == HS_OK, "%s", err.msg);
  memcpy(b, a, sizeof b);
  a[0] += 0.1, b[0] += 0.1; /* the caller changes the state at t = 5 */
  CHECK(hs_ode_advance(ode, a, &t, 10, &err) == HS_OK, "%s", err.msg);
  hs_ode_free(ode);
  cfg.method = HS_ODE_RKF45;
  hs_ode_create(&pop, &cfg, &ode, &err);
  t = 5;
  CHECK(hs_ode_advance(ode, b, &t, 10, &err) == HS_OK, "%s", err.msg);
  hs_ode_free(ode);
  close_all(a, b, n, 2e-5, "bdf restarted from a changed state");
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* Right-hand sides of the softmax flow from m_hk = 0.01 (h+1) (-1)^k,
 * V = 0.5 I to t_end (the noise term on, a point's tolerances). */
static long flow_calls(int L, int H, double t_end, hs_ode_method method) {
  enum { K = 2, N = 1000 };
  int W = K + H;
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 1, 1, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  double y[8 * 10 + 8 + 1] = {0}, t = 0;
  for (int h = 0; h < H; h++) {
    for (int k = 0; k < K; k++) y[h * W + k] = 0.01 * (h + 1) * (k % 2 ? -1 : 1);
    y[h * W + K + h] = 0.5;
  }
  y[H * W + H] = 1;
  hs_ode_config cfg = {.method = method, .eta_over_B = 0.5, .kappa = 1, .noise_term = 1,
                       .rtol = 1e-6, .atol = 1e-8};
  hs_ode *ode;
  CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  CHECK(hs_ode_advance(ode, y, &t, t_end, &err) == HS_OK, "%s", err.msg);
  long calls = hs_ode_rhs_calls(ode);
  hs_ode_free(ode);
  hs_population_free(&pop);
  hs_dist_free(&dist);
  return calls;
}

static void test_auto(void) {
  /* many heads and a short horizon (bdf's Jacobian costs dim = 89
   * right-hand sides); few heads and a longer one; many heads and a very
   * short one (bdf pays its first Jacobian however short the run) */
  struct { int L, H; double t; } cases[] = {{16, 8, 10}, {8, 2, 100}, {16, 8, 0.1}};
  for (int c = 0; c < 3; c++) {
    long rk = flow_calls(cases[c].L, cases[c].H, cases[c].t, HS_ODE_RKF45);
    long bdf = flow_calls(cases[c].L, cases[c].H, cases[c].t, HS_ODE_BDF);
    hs_point p = hs_test_point("softmax");
    p.L = cases[c].L, p.H = cases[c].H, p.t_max = cases[c].t;
    p.ode_method = HS_ODE_AUTO;
    hs_ode_method picked = hs_point_ode_method(&p, 2);
    printf("auto at L=%d H=%d t=%g: rkf45 %ld, bdf %ld right-hand sides; picks %s\n",
           cases[c].L, cases[c].H, cases[c].t, rk, bdf, picked == HS_ODE_BDF ? "bdf" : "rkf45");
    CHECK(picked == (bdf < rk ? HS_ODE_BDF : HS_ODE_RKF45), "auto picked the costlier stepper at "
          "L=%d H=%d t=%g (rkf45 %ld, bdf %ld)", cases[c].L, cases[c].H, cases[c].t, rk, bdf);
  }
  /* never bdf beyond the state it takes (H = 150: 22951 entries), even
   * where its predicted count is the lower (t_max = 1e9) */
  hs_point big = hs_test_point("softmax");
  big.H = 150, big.t_max = 1e9;
  big.ode_method = HS_ODE_AUTO;
  CHECK(hs_point_ode_method(&big, 2) == HS_ODE_RKF45, "auto chose bdf for a state of %zu",
        hs_ode_dim(150, 2));
  /* a point with auto runs the stepper picked: its ODE records equal bdf's */
  hs_point p = hs_test_point("softmax1");
  p.t_max = 50, p.records = 4, p.kappa = 10;
  p.ode_method = HS_ODE_AUTO;
  CHECK(hs_point_ode_method(&p, 2) == HS_ODE_BDF, "auto at L=8 H=2 t=50 kappa=10: bdf");
  hs_result a, b;
  if (run(&p, &a)) return;
  p.ode_method = HS_ODE_BDF;
  if (run(&p, &b)) return;
  for (int j = 0; j < p.records; j++)
    CHECK(a.ode_loss[j] == b.ode_loss[j], "auto vs bdf: ode/loss[%d] %.17g vs %.17g", j,
          a.ode_loss[j], b.ode_loss[j]);
  p.ode_method = HS_ODE_RKF45;
  hs_result c;
  if (!run(&p, &c)) {
    CHECK(c.ode_loss[p.records - 1] != a.ode_loss[p.records - 1], "rkf45 differs from bdf");
    hs_result_free(&c);
  }
  hs_result_free(&a), hs_result_free(&b);
}

int main(void) {
  const hs_activation *acts[] = {&hs_softmax, &hs_softmax1, &hs_bsoftmax};
  int shapes[][2] = {{7, 5}, {8, 2}, {16, 8}};
  /* every SIMD width of the lane kernel this CPU runs, then the widest */
  const char *kernels[] = {"portable", "sse2", "avx2", "avx512"};
  int ran = 0;
  for (int v = 0; v < 4; v++) {
    if (hs_population_use_kernel(kernels[v])) continue;
    ran++;
    printf("ode_stiff: lane kernel %s\n", hs_population_kernel());
    for (int a = 0; a < 3; a++) {
      for (int i = 0; i < 3; i++) test_lanes(acts[a], shapes[i][0], shapes[i][1]);
      test_zeroed(acts[a], 8, 4, 3);
      test_zeroed(acts[a], 7, 5, 3);
    }
  }
  CHECK(ran >= 1, "no lane kernel runs here");
  const char *last = hs_population_kernel();
  CHECK(hs_population_use_kernel(NULL) == 0 && strcmp(hs_population_kernel(), last) == 0,
        "the kernel in use is %s, not the widest this CPU runs (%s)", hs_population_kernel(),
        last);
  CHECK(hs_population_use_kernel("mmx") < 0, "an unknown kernel is refused");
  test_layout();
  test_bdf();
  test_auto();
  CHECK(hs_ode_method_find("rkf45") == HS_ODE_RKF45 && hs_ode_method_find("bdf") == HS_ODE_BDF &&
            hs_ode_method_find("euler") < 0 && hs_ode_method_find("auto") < 0 &&
            strcmp(hs_ode_method_names(), "rkf45 bdf") == 0,
        "method names: %s", hs_ode_method_names());
  return check_report("ode_stiff");
}
