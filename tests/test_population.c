/* test_population.c: Lpop's gradients against finite differences of the
 * Monte Carlo loss; the ODE's noise term against its defining identity
 * d(Q_perp)/dt = (eta/B) N; Lpop at the Bayes point against the Bayes risk
 * and MODEL.md's reference value (population.h, ode.h, bayes.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/bayes.h"
#include "headspec/ode.h"
#include "headspec/population.h"

static hs_dist flipping(void) {
  hs_dist d;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&d, &p, NULL);
  return d;
}

/* Central difference of Lpop in the variable *x (an entry of R, b or
 * lambda's storage). */
static double fd(hs_population *pop, int H, double *R, double *b, double *lambda,
                 double *x) {
  double h = 1e-6, keep = *x;
  *x = keep + h;
  double up = hs_population_loss(pop, H, R, NULL, b, *lambda, NULL, NULL, NULL, NULL, NULL);
  *x = keep - h;
  double down = hs_population_loss(pop, H, R, NULL, b, *lambda, NULL, NULL, NULL, NULL, NULL);
  *x = keep;
  return (up - down) / (2 * h);
}

static void test_gradients(const hs_activation *act) {
  enum { H = 3, K = 2, W = K + H, L = 5 };
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, act, &dist, L, H, 2000, 1, 2, 0, NULL, &err) == HS_OK, "%s", err.msg);
  double R[H * W], b[H] = {0.2, -0.3, 0.1}, lambda = 1.1, gR[H * W], gb[H], gl;
  hs_rng r;
  hs_rng_init(&r, 5, 5, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, R, H * W);
  hs_population_loss(&pop, H, R, NULL, b, lambda, gR, gb, &gl, NULL, NULL);
  char what[64];
  for (int i = 0; i < H * W; i++) {
    snprintf(what, sizeof what, "%s dLpop/dR[%d]", act->name, i);
    CHECK_CLOSE(gR[i], fd(&pop, H, R, b, &lambda, &R[i]), 1e-7, what);
  }
  for (int k = 0; k < H && act->trains_b; k++)
    CHECK_CLOSE(gb[k], fd(&pop, H, R, b, &lambda, &b[k]), 1e-7, "dLpop/db");
  if (act->trains_lambda)
    CHECK_CLOSE(gl, fd(&pop, H, R, b, &lambda, &lambda), 1e-7, "dLpop/dlambda");
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* With the term on, d(V V^T)/dt gains exactly (eta/B) N (MODEL.md sec. 6). */
static void test_noise_term(void) {
  enum { H = 2, K = 2, W = K + H, L = 6 };
  hs_dist dist = flipping();
  hs_population pop;
  hs_err err;
  hs_population_init(&pop, &hs_softmax, &dist, L, H, 3000, 1, 3, 0, NULL, &err);
  size_t n = hs_ode_dim(H, K);
  double y[n], on[n], off[n], gR[H * W], gb[H], gl, N[H * H];
  hs_rng r;
  hs_rng_init(&r, 6, 6, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, y, n);
  y[n - 1] = 1;
  hs_ode_config cfg = {.eta_over_B = 0.5, .kappa = 1, .noise_term = 1, .rtol = 1e-6, .atol = 1e-8};
  hs_ode *ode;
  hs_ode_create(&pop, &cfg, &ode, &err);
  CHECK(hs_ode_rhs(ode, y, on, &err) == HS_OK, "%s", err.msg);
  hs_ode_free(ode);
  cfg.noise_term = 0;
  hs_ode_create(&pop, &cfg, &ode, &err);
  hs_ode_rhs(ode, y, off, &err);
  hs_ode_free(ode);
  hs_population_loss(&pop, H, y, NULL, y + H * W, 1, gR, gb, &gl, N, NULL);
  /* d(V V^T) = dV V^T + V dV^T, with dV the difference of the two RHS */
  for (int a = 0; a < H; a++)
    for (int c = 0; c < H; c++) {
      double s = 0;
      for (int j = 0; j < H; j++)
        s += (on[a * W + K + j] - off[a * W + K + j]) * y[c * W + K + j] +
             y[a * W + K + j] * (on[c * W + K + j] - off[c * W + K + j]);
      CHECK_CLOSE(s, 0.5 * N[a * H + c], 1e-10, "noise term adds (eta/B) N to dQ_perp/dt");
    }
  for (int i = 0; i < H * W; i++)
    if (i % W < K) CHECK_CLOSE(on[i], off[i], 0, "noise term leaves m alone");
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* Lpop of the bsoftmax at its Bayes point equals R* (MODEL.md section 7). */
static void check_bayes_point(hs_dist *dist, int L, int N, double reference,
                              double reference_se, const char *what) {
  int H = dist->n_atoms, K = dist->K;
  hs_population pop;
  hs_err err;
  CHECK(hs_population_init(&pop, &hs_bsoftmax, dist, L, H, N, 1, 1, 0, NULL, &err) == HS_OK, "%s", err.msg);
  double R[H * (K + H)], b[H], se_pop, risk, se;
  CHECK(hs_bayes_point(dist, H, R, b, &err) == HS_OK, "%s", err.msg);
  double lpop = hs_population_loss(&pop, H, R, NULL, b, 1, NULL, NULL, NULL, NULL, &se_pop);
  CHECK(hs_bayes_risk(dist, L, N, 1, 1, NULL, &risk, &se, &err) == HS_OK, "%s", err.msg);
  printf("%s: Lpop at the Bayes point %.4f +- %.4f, R* %.4f +- %.4f\n", what, lpop,
         se_pop, risk, se);
  CHECK_CLOSE(lpop, risk, 4 * sqrt(se * se + se_pop * se_pop), what);
  if (reference > 0)
    CHECK_CLOSE(risk, reference, 4 * sqrt(se * se + reference_se * reference_se),
                "R* against MODEL.md's reference");
  hs_population_free(&pop);
}

static void test_bayes(void) {
  hs_dist d = flipping();
  check_bayes_point(&d, 8, 200000, 0.4366, 0.0011, "flipping(1,2), L=8, H=2");
  hs_err err;
  double R[4 * 6], b[2];
  CHECK(hs_bayes_point(&d, 3, R, b, &err) == HS_EINPUT, "Bayes point needs H = atoms");
  hs_dist_free(&d);
  hs_dist_params p = {.name = "onehot", .beta = 2, .K = 3, .is_signed = 1};
  hs_dist_init(&d, &p, NULL);
  check_bayes_point(&d, 8, 100000, 0, 0, "signed onehot(2, K=3), L=8, H=6");
  hs_dist_free(&d);
}

/* Antithetic samples: the reported standard error (over pairs) matches the
 * spread over independent sample sets, and is about half the plain one at
 * a specialised state. */
static void test_antithetic(void) {
  enum { H = 2, K = 2, L = 8, N = 2000, SETS = 24 };
  hs_dist dist = flipping();
  double R[8] = {0.9, 1.2, 0.3, 0, 0.9, -1.2, 0, 0.3}, b[H] = {0, 0};
  double spread[2], reported[2];
  for (int anti = 0; anti < 2; anti++) {
    double sum = 0, sum2 = 0, se_sum = 0;
    for (int set = 0; set < SETS; set++) {
      hs_population pop;
      hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 200 + set, 1, 0, NULL, NULL);
      if (anti) hs_population_make_antithetic(&pop);
      double se, l = hs_population_loss(&pop, H, R, NULL, b, 1, NULL, NULL, NULL, NULL, &se);
      sum += l, sum2 += l * l, se_sum += se;
      hs_population_free(&pop);
    }
    spread[anti] = sqrt((sum2 - sum * sum / SETS) / (SETS - 1));
    reported[anti] = se_sum / SETS;
    /* the sample std of 24 values is within +-40% of the truth at 3 sigma */
    CHECK(spread[anti] < 1.5 * reported[anti] && spread[anti] > 0.6 * reported[anti],
          "%s: standard error %.5f vs spread over sets %.5f", anti ? "antithetic" : "plain",
          reported[anti], spread[anti]);
  }
  printf("antithetic: standard error of Lpop %.5f (plain %.5f)\n", reported[1], reported[0]);
  CHECK(reported[1] < 0.7 * reported[0], "antithetic halves the error: %.5f vs %.5f",
        reported[1], reported[0]);
  hs_dist_free(&dist);
}

int main(void) {
  test_antithetic();
  test_gradients(&hs_softmax);
  test_gradients(&hs_softmax1);
  test_gradients(&hs_bsoftmax);
  test_noise_term();
  test_bayes();
  return check_report("test_population");
}
