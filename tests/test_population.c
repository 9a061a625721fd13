/* test_population.c: Lpop's gradients against finite differences of the
 * Monte Carlo loss, and the antithetic samples' standard error against the
 * spread over independent sample sets (population.h). The ODE's tests are
 * in test_ode.c, the Bayes point's in test_bayes.c. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
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
  return check_report("test_population");
}
