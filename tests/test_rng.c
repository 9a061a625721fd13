/* test_rng.c: moments of the normals and uniforms, reproducibility and
 * independence of streams (rng.h). Bounds are 5 standard errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/rng.h"

enum { N = 2000003 }; /* odd, so the last chunk is partial */

static void test_normal_moments(void) {
  double *z = malloc(sizeof(double) * N);
  hs_rng r;
  hs_rng_init(&r, 7, 11, HS_PURPOSE_TRAIN, 3);
  hs_rng_normal(&r, z, N);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, tail = 0;
  for (int i = 0; i < N; i++) {
    m1 += z[i], m2 += z[i] * z[i], m3 += pow(z[i], 3), m4 += pow(z[i], 4);
    tail += fabs(z[i]) > 3;
  }
  m1 /= N, m2 /= N, m3 /= N, m4 /= N, tail /= N;
  double se = 1 / sqrt((double)N);
  CHECK_CLOSE(m1, 0, 5 * se, "mean");
  CHECK_CLOSE(m2, 1, 5 * sqrt(2.0) * se, "variance");
  CHECK_CLOSE(m3, 0, 5 * sqrt(15.0) * se, "third moment");
  CHECK_CLOSE(m4, 3, 5 * sqrt(96.0) * se, "fourth moment");
  double p3 = 0.0026997960632601866; /* P(|z| > 3) */
  CHECK_CLOSE(tail, p3, 5 * sqrt(p3 / N), "P(|z| > 3)");
  /* lag-1 correlation within the stream, across the cos/sin halves too */
  double c = 0;
  for (int i = 0; i + 1 < N; i++) c += z[i] * z[i + 1];
  CHECK_CLOSE(c / (N - 1), 0, 5 * se, "lag-1 correlation");
  free(z);
}

static void test_uniform(void) {
  double *u = malloc(sizeof(double) * N);
  hs_rng r;
  hs_rng_init(&r, 1, 2, HS_PURPOSE_TEST, 0);
  hs_rng_uniform(&r, u, N);
  double m = 0, lo = 1, hi = 0;
  int hist[10] = {0};
  for (int i = 0; i < N; i++) {
    m += u[i];
    lo = fmin(lo, u[i]), hi = fmax(hi, u[i]);
    hist[(int)(u[i] * 10)]++;
  }
  CHECK_CLOSE(m / N, 0.5, 5 * sqrt(1.0 / 12 / N), "uniform mean");
  CHECK(lo > 0 && hi < 1, "uniforms in the open interval: %g %g", lo, hi);
  double chi2 = 0;
  for (int b = 0; b < 10; b++) chi2 += pow(hist[b] - N / 10.0, 2) / (N / 10.0);
  CHECK(chi2 < 30, "chi2 of 10 bins = %g (9 dof; 30 is p < 0.001)", chi2);
  uint64_t counts[5] = {0};
  for (int i = 0; i < 100000; i++) counts[hs_rng_below(&r, 5)]++;
  for (int k = 0; k < 5; k++)
    CHECK_CLOSE(counts[k], 20000, 5 * sqrt(16000.0), "hs_rng_below bins");
  free(u);
}

/* The same key gives the same numbers; any change of key gives others,
 * uncorrelated with the first. */
static void test_streams(void) {
  enum { M = 100000 };
  static double a[M], b[M];
  hs_rng r;
  hs_rng_init(&r, 5, 6, HS_PURPOSE_INIT, 0);
  hs_rng_normal(&r, a, M);
  hs_rng_init(&r, 5, 6, HS_PURPOSE_INIT, 0);
  hs_rng_normal(&r, b, M);
  CHECK(memcmp(a, b, sizeof a) == 0, "a stream is reproducible");
  const uint64_t keys[4][4] = {{6, 6, HS_PURPOSE_INIT, 0}, {5, 7, HS_PURPOSE_INIT, 0},
                               {5, 6, HS_PURPOSE_TRAIN, 0}, {5, 6, HS_PURPOSE_INIT, 1}};
  for (int k = 0; k < 4; k++) {
    hs_rng_init(&r, keys[k][0], keys[k][1], (hs_purpose)keys[k][2], keys[k][3]);
    hs_rng_normal(&r, b, M);
    double c = 0;
    for (int i = 0; i < M; i++) c += a[i] * b[i];
    CHECK_CLOSE(c / M, 0, 5 / sqrt((double)M), "correlation between streams");
  }
}

int main(void) {
  test_normal_moments();
  test_uniform();
  test_streams();
  return check_report("test_rng");
}
