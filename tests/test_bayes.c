/* test_bayes.c: Lpop at the Bayes point against the Bayes risk and
 * MODEL.md's reference value, and the Bayes point's refusal of a head count
 * other than the atoms' (bayes.h, MODEL.md sections 7 and 9). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/bayes.h"
#include "headspec/population.h"

static hs_dist flipping(void) {
  hs_dist d;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&d, &p, NULL);
  return d;
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

int main(void) {
  test_bayes();
  return check_report("test_bayes");
}
