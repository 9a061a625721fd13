/* bench_sgd.c: SGD steps per second against the machine's floor.
 *
 * For L = 16, H = 8, K = 2 (flipping), softmax, and each (d, B), measures
 *   step:  hs_sgd_step, the whole online-SGD step;
 *   floor: drawing the step's B*L*d normals with our generator, plus the
 *          step's products with the same BLAS calls (scores GEMM, weight-
 *          gradient GEMM, two GEMVs per sequence for the Gram terms).
 * Prints one row per (d, B): steps/s, floor steps/s, step/floor ratio, and
 * ns per normal. Usage: bench_sgd [seconds-per-measurement]
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "headspec/dist.h"
#include "headspec/sgd.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Calls per second of fn(arg), run for about `budget` seconds. */
#define RATE(budget, stmt)                                       \
  ({                                                             \
    long n_ = 0;                                                 \
    double t0_ = now(), t_;                                      \
    do {                                                         \
      for (int k_ = 0; k_ < 16; k_++, n_++) { stmt; }            \
    } while ((t_ = now() - t0_) < (budget));                     \
    n_ / t_;                                                     \
  })

int main(int argc, char **argv) {
  double budget = argc > 1 ? atof(argv[1]) : 1.0;
  enum { L = 16, H = 8, K = 2 };
  int ds[] = {200, 1000, 4000}, Bs[] = {1, 16};
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  printf("%6s %4s %12s %12s %7s %9s\n", "d", "B", "steps/s", "floor/s", "floor%", "ns/normal");
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      int d = ds[i], B = Bs[j];
      double *xi = malloc(sizeof(double) * K * d);
      hs_teacher_spikes(xi, K, d, 1, 1, 0, NULL);
      hs_sgd_config cfg = {.d = d, .L = L, .H = H, .B = B, .eta = 0.1, .kappa = 1,
                           .sigma0 = 0.5, .act = &hs_softmax, .dist = &dist,
                           .xi = xi, .job_seed = 1, .seed = 1, .test_samples = 1};
      hs_sgd s;
      hs_sgd_init(&s, &cfg, NULL);
      double steps = RATE(budget, hs_sgd_step(&s));
      size_t n = (size_t)B * L * d;
      hs_rng r;
      hs_rng_init(&r, 1, 1, HS_PURPOSE_TRAIN, 0);
      double normals = RATE(budget, hs_rng_normal(&r, s.X, n));
      double products = RATE(budget, {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * L, H, d, 1.0,
                    s.X, d, s.W, d, 0.0, s.S, H);
        for (int b = 0; b < B; b++) {
          cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, s.X + (size_t)b * L * d, d,
                      s.e, 1, 0.0, s.r, 1);
          cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, s.X + (size_t)b * L * d,
                      d, s.r, 1, 0.0, s.rho, 1);
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, B * L, -1e-9,
                    s.G, H, s.X, d, 1.0, s.W, d);
      });
      double floor = 1 / (1 / normals + 1 / products);
      printf("%6d %4d %12.0f %12.0f %6.0f%% %9.2f\n", d, B, steps, floor,
             100 * steps / floor, 1e9 / (normals * n));
      fflush(stdout);
      hs_sgd_free(&s);
      free(xi);
    }
  hs_dist_free(&dist);
  return 0;
}
