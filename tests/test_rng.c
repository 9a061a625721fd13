/* test_rng.c: moments of the normals and uniforms, reproducibility and
 * independence of streams (rng.h). Bounds are 5 standard errors. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/rng.h"

#include <Random123/philox.h>

/* A normal generator: hs_rng_normal or hs_rng_normal_fast. */
typedef void normal_fn(hs_rng *r, double *out, size_t n);

enum { N = 2000003 }; /* odd, so the last chunk is partial */

static void test_normal_moments(normal_fn *normal, const char *name) {
  double *z = malloc(sizeof(double) * N);
  hs_rng r;
  hs_rng_init(&r, 7, 11, HS_PURPOSE_TRAIN, 3);
  normal(&r, z, N);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0, tail = 0;
  for (int i = 0; i < N; i++) {
    m1 += z[i], m2 += z[i] * z[i], m3 += pow(z[i], 3), m4 += pow(z[i], 4);
    tail += fabs(z[i]) > 3;
  }
  m1 /= N, m2 /= N, m3 /= N, m4 /= N, tail /= N;
  double se = 1 / sqrt((double)N);
  CHECK_CLOSE(m1, 0, 5 * se, name);
  CHECK_CLOSE(m2, 1, 5 * sqrt(2.0) * se, name);
  CHECK_CLOSE(m3, 0, 5 * sqrt(15.0) * se, name);
  CHECK_CLOSE(m4, 3, 5 * sqrt(96.0) * se, name);
  double p3 = 0.0026997960632601866; /* P(|z| > 3) */
  CHECK_CLOSE(tail, p3, 5 * sqrt(p3 / N), name);
  /* lag-1 correlation within the stream, across the cos/sin halves too */
  double c = 0;
  for (int i = 0; i + 1 < N; i++) c += z[i] * z[i + 1];
  CHECK_CLOSE(c / (N - 1), 0, 5 * se, name);
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
static void test_streams(normal_fn *normal) {
  enum { M = 100000 };
  static double a[M], b[M];
  hs_rng r;
  hs_rng_init(&r, 5, 6, HS_PURPOSE_INIT, 0);
  normal(&r, a, M);
  hs_rng_init(&r, 5, 6, HS_PURPOSE_INIT, 0);
  normal(&r, b, M);
  CHECK(memcmp(a, b, sizeof a) == 0, "a stream is reproducible");
  const uint64_t keys[4][4] = {{6, 6, HS_PURPOSE_INIT, 0}, {5, 7, HS_PURPOSE_INIT, 0},
                               {5, 6, HS_PURPOSE_TRAIN, 0}, {5, 6, HS_PURPOSE_INIT, 1}};
  for (int k = 0; k < 4; k++) {
    hs_rng_init(&r, keys[k][0], keys[k][1], (hs_purpose)keys[k][2], keys[k][3]);
    normal(&r, b, M);
    double c = 0;
    for (int i = 0; i < M; i++) c += a[i] * b[i];
    CHECK_CLOSE(c / M, 0, 5 / sqrt((double)M), "correlation between streams");
  }
}

/* The far tail, where a generator's shortcuts show: P(|z| > 4) and
 * P(|z| > 5) over 2^27 normals (8500 and 77 expected; 2^24 under the
 * sanitizers), drawn in pieces. */
static void test_tail(normal_fn *normal, const char *name, int log2n) {
  enum { PIECE = 1 << 20 };
  double *z = malloc(sizeof(double) * PIECE);
  hs_rng r;
  hs_rng_init(&r, 3, 4, HS_PURPOSE_TRAIN, 9);
  double n = ldexp(1, log2n), over4 = 0, over5 = 0, big = 0;
  for (long k = 0; k < (long)n / PIECE; k++) {
    normal(&r, z, PIECE);
    for (int i = 0; i < PIECE; i++) {
      double a = fabs(z[i]);
      over4 += a > 4, over5 += a > 5, big = fmax(big, a);
    }
  }
  const double p4 = 6.334248366623996e-05, p5 = 5.733031437583878e-07;
  char what[80];
  snprintf(what, sizeof what, "%s: P(|z| > 4)", name);
  CHECK_CLOSE(over4 / n, p4, 5 * sqrt(p4 / n), what);
  snprintf(what, sizeof what, "%s: P(|z| > 5)", name);
  CHECK_CLOSE(over5 / n, p5, 5 * sqrt(p5 / n), what);
  /* the largest of 2^27 normals is above 5 (all but surely) and below 7.5
   * (probability 1 - 1e-5): a tail cut short or stretched shows here */
  CHECK(big > 5.0 && big < 7.5, "%s: largest |z| = %g", name, big);
  free(z);
}

/* The two normals of one Box-Muller pair (`lag` apart in the output: the
 * cosines of a chunk, then its sines) are independent: E[c s] = 0 and
 * E[c^2 s^2] = 1, and alike: E[c^2 - s^2] = 0 (a wrong quadrant or angle
 * map shows in the last two). */
static void test_pairs(normal_fn *normal, const char *name, int lag) {
  double *z = malloc(sizeof(double) * N);
  hs_rng r;
  hs_rng_init(&r, 8, 9, HS_PURPOSE_TEST, 1);
  normal(&r, z, N);
  double cs = 0, c2s2 = 0, c2_s2 = 0;
  long n = 0;
  for (long i = 0; i + 2 * lag <= N; i += 2 * lag)
    for (int j = 0; j < lag; j++, n++) {
      double c = z[i + j], s_ = z[i + lag + j];
      cs += c * s_, c2s2 += c * c * s_ * s_, c2_s2 += c * c - s_ * s_;
    }
  char what[80];
  snprintf(what, sizeof what, "%s: E[c s] of a pair", name);
  CHECK_CLOSE(cs / n, 0, 5 / sqrt((double)n), what);
  snprintf(what, sizeof what, "%s: E[c^2 s^2] of a pair", name);
  CHECK_CLOSE(c2s2 / n, 1, 5 * sqrt(8.0 / n), what);
  snprintf(what, sizeof what, "%s: E[c^2 - s^2] of a pair", name);
  CHECK_CLOSE(c2_s2 / n, 0, 5 * 2 / sqrt((double)n), what);
  free(z);
}

/* The fast generator's blocks are Random123's Philox4x32-10 (the
 * reference implementation) on counters (block, 0, prefix) under the
 * stream's derived key. */
static void test_fast_blocks(void) {
  enum { NB = 300 };
  uint32_t w[4 * NB];
  hs_rng r;
  hs_rng_init(&r, 12, 34, HS_PURPOSE_TRAIN_REDUCED, 56);
  uint64_t first = (1ULL << 32) - 100; /* crosses into the counter's high word */
  hs_rng_blocks32(&r, first, NB, w);
  int bad = 0;
  for (int j = 0; j < NB; j++) {
    uint64_t b = first + (uint64_t)j;
    philox4x32_ctr_t c = {{(uint32_t)b, (uint32_t)(b >> 32), r.prefix32[0], r.prefix32[1]}};
    philox4x32_key_t k = {{r.key32[0], r.key32[1]}};
    philox4x32_ctr_t ref = philox4x32(c, k);
    for (int i = 0; i < 4; i++) bad += ref.v[i] != w[4 * j + i];
  }
  CHECK(bad == 0, "%d words differ from Random123's philox4x32", bad);
  /* streams with different keys get different derived keys */
  hs_rng q;
  hs_rng_init(&q, 12, 34, HS_PURPOSE_TRAIN_REDUCED, 57);
  CHECK(q.key32[0] != r.key32[0] || q.prefix32[0] != r.prefix32[0], "derived keys differ");
}

int main(int argc, char **argv) {
  /* under the sanitizers: 2^24 normals in the tail test (argument "quick") */
  int log2n = argc > 1 && strcmp(argv[1], "quick") == 0 ? 24 : 27;
  test_normal_moments(hs_rng_normal, "normal");
  test_normal_moments(hs_rng_normal_fast, "normal_fast");
  test_uniform();
  test_streams(hs_rng_normal);
  test_streams(hs_rng_normal_fast);
  test_fast_blocks();
  test_pairs(hs_rng_normal, "normal", 256);
  test_pairs(hs_rng_normal_fast, "normal_fast", 128);
  test_tail(hs_rng_normal, "normal", log2n);
  test_tail(hs_rng_normal_fast, "normal_fast", log2n);
  return check_report("test_rng");
}
