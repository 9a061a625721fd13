/* point_fixture.h: a hand-built grid point for the C tests and benchmarks,
 * with the job table's usual settings (flipping(1, 2), L = 8, H = 2, eta =
 * 0.5, sigma0 = 0.5, the ODE from the SGD start with lambda = 1, linear
 * records, the reduced sampler); each caller then sets what it varies. One
 * place to add a new hs_point field's value, instead of one per test. */
#ifndef HEADSPEC_TESTS_POINT_FIXTURE_H
#define HEADSPEC_TESTS_POINT_FIXTURE_H

#include <string.h>

#include "headspec/point.h"

static inline hs_point hs_test_point(const char *activation) {
  hs_point p = {.job_seed = 1, .L = 8, .H = 2, .sigma0 = 0.5, .seed = 1,
                .orthonormal_spikes = 1, .d = 100, .B = 1, .eta = 0.5, .kappa = 1,
                .test_samples = 100, .records = 2, .t_max = 1, .run_ode = 1,
                .noise_term = 1, .ode_samples = 2000, .antithetic = 1, .ode_rtol = 1e-6,
                .ode_atol = 1e-8, .start_lambda = 1, .maps = 1, .converged_loss_tol = 1e-3,
                .converged_speed_tol = 1e-2};
  strcpy(p.activation, activation);
  p.record_grid = HS_GRID_LINEAR;
  p.sampler = HS_SAMPLER_REDUCED;
  p.ode_start = HS_START_SGD;
  strcpy(p.dist.name, "flipping");
  p.dist.b1 = 1, p.dist.b2 = 2;
  return p;
}

#endif
