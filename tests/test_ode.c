/* test_ode.c: the ODE's noise term against its defining identity
 * d(Q_perp)/dt = (eta/B) N, with N from Lpop's gradients on the same
 * samples (ode.h, MODEL.md section 6). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/ode.h"
#include "headspec/population.h"

static hs_dist flipping(void) {
  hs_dist d;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&d, &p, NULL);
  return d;
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

int main(void) {
  test_noise_term();
  return check_report("test_ode");
}
