/* test_rows.c: the reduced step's row products (src/model/rows.c) against
 * plain triple loops: every row count up to HS_ROWS_MAX, lengths with and
 * without tails past the lane vectors and column tiles, rows on and off
 * 64-byte lines, and W as rows of M (the update reads M's columns before it
 * writes them); every compiled width this CPU runs (rows_kernel.h), each
 * against the loops and against the SSE2 width's numbers (FMA contraction
 * apart, the same operations in the same order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/rng.h"
#include "model/rows.h"

static void test_gram(int n, int d, int offset, hs_rng *r) {
  /* a size that is a multiple of the alignment (C11; ASan checks it) */
  double *mem = aligned_alloc(64, ((size_t)n * d + 64) * sizeof(double) / 64 * 64 + 64);
  double *M = mem + offset, *G = calloc((size_t)n * n, sizeof(double));
  CHECK(mem && G, "out of memory");
  if (!mem || !G) return free(mem), free(G);
  hs_rng_normal(r, M, (size_t)n * d);
  hs_rows_gram(n, d, M, G);
  for (int a = 0; a < n; a++)
    for (int b = 0; b <= a; b++) {
      double want = 0, size = 0;
      for (int c = 0; c < d; c++) {
        want += M[(size_t)a * d + c] * M[(size_t)b * d + c];
        size += fabs(M[(size_t)a * d + c] * M[(size_t)b * d + c]);
      }
      CHECK(fabs(G[a * n + b] - want) <= 1e-14 * size, "gram n=%d d=%d off=%d [%d][%d]: %.17g vs %.17g",
            n, d, offset, a, b, G[a * n + b], want);
    }
  free(mem), free(G);
}

/* W = the first H rows of M, as in the reduced step ([Z; W; xi] with Z
 * empty here), or separate rows (first = 0). */
static void test_update(int H, int m, int d, int first, hs_rng *r) {
  double *M = malloc(sizeof(double) * ((size_t)m * d + 3)), *coef = malloc(sizeof(double) * H * m);
  double *W0 = malloc(sizeof(double) * (size_t)H * d), *sep = malloc(sizeof(double) * (size_t)H * d);
  M += 3; /* off the 64-byte lines */
  hs_rng_normal(r, M, (size_t)m * d);
  hs_rng_normal(r, coef, (size_t)H * m);
  hs_rng_normal(r, sep, (size_t)H * d);
  double *W = first ? M : sep, alpha = -0.37;
  memcpy(W0, W, sizeof(double) * (size_t)H * d);
  double *want = malloc(sizeof(double) * (size_t)H * d);
  for (int h = 0; h < H; h++)
    for (int c = 0; c < d; c++) {
      double sum = 0;
      for (int j = 0; j < m; j++) sum += coef[h * m + j] * M[(size_t)j * d + c];
      want[(size_t)h * d + c] = W0[(size_t)h * d + c] + alpha * sum;
    }
  hs_rows_update(H, m, d, alpha, coef, M, W);
  for (size_t i = 0; i < (size_t)H * d; i++)
    CHECK(fabs(W[i] - want[i]) <= 1e-13 * (1 + fabs(want[i])), "update H=%d m=%d d=%d in M=%d [%zu]: %.17g vs %.17g",
          H, m, d, first, i, W[i], want[i]);
  free(M - 3), free(coef), free(W0), free(sep), free(want);
}

/* The Gram and the update of one shape at the named width and at SSE2's,
 * from the same inputs: relative to the sum of |terms|, at most a few
 * roundings apart (1e-14). Returns the largest such difference. */
static double against_sse2(const char *name, int n, int H, int d, hs_rng *r) {
  double *M = malloc(sizeof(double) * (size_t)n * d), *coef = malloc(sizeof(double) * H * n);
  double *G[2] = {calloc((size_t)n * n, sizeof(double)), calloc((size_t)n * n, sizeof(double))};
  double *W[2] = {malloc(sizeof(double) * (size_t)H * d), malloc(sizeof(double) * (size_t)H * d)};
  hs_rng_normal(r, M, (size_t)n * d);
  hs_rng_normal(r, coef, (size_t)H * n);
  hs_rng_normal(r, W[0], (size_t)H * d);
  memcpy(W[1], W[0], sizeof(double) * (size_t)H * d);
  const char *names[2] = {"sse2", name};
  for (int w = 0; w < 2; w++) {
    CHECK(hs_rows_use_kernel(names[w]) == 0, "width %s does not run", names[w]);
    hs_rows_gram(n, d, M, G[w]);
    hs_rows_update(H, n, d, 0.5, coef, M, W[w]);
  }
  double worst = 0;
  for (int a = 0; a < n; a++)
    for (int b = 0; b <= a; b++) {
      double size = 0;
      for (int c = 0; c < d; c++) size += fabs(M[(size_t)a * d + c] * M[(size_t)b * d + c]);
      worst = fmax(worst, fabs(G[0][a * n + b] - G[1][a * n + b]) / size);
    }
  for (size_t i = 0; i < (size_t)H * d; i++)
    worst = fmax(worst, fabs(W[0][i] - W[1][i]) / (1 + fabs(W[0][i])));
  CHECK(worst <= 1e-14, "%s against sse2 n=%d H=%d d=%d: %.3g", name, n, H, d, worst);
  free(M), free(coef), free(G[0]), free(G[1]), free(W[0]), free(W[1]);
  return worst;
}

static void every_shape(hs_rng *r) {
  int ds[] = {1, 7, 8, 31, 32, 129, 1000, 1003};
  for (int n = 1; n <= HS_ROWS_MAX; n++)
    for (int i = 0; i < 8; i++) test_gram(n, ds[i], (n + i) % 8, r);
  int hs[] = {1, 2, 3, 4, 5, 8, 9, 13, 16, 27, 32}, ms[] = {1, 4, 18, 32};
  for (int a = 0; a < 11; a++)
    for (int b = 0; b < 4; b++)
      for (int i = 0; i < 8; i++) {
        test_update(hs[a], ms[b], ds[i], 0, r);
        if (hs[a] <= ms[b]) test_update(hs[a], ms[b], ds[i], 1, r);
      }
}

int main(void) {
  hs_rng r;
  hs_rng_init(&r, 5, 5, HS_PURPOSE_TEST, 0);
  const char *widths[] = {"sse2", "avx2", "avx512", "portable"};
  int ran = 0;
  for (int w = 0; w < 4; w++) {
    if (hs_rows_use_kernel(widths[w]) != 0) continue;
    ran++;
    every_shape(&r);
    if (w == 0 || w == 3) continue;
    double worst = 0; /* the reduced step's shapes (B = 1) and a few others */
    int shapes[][3] = {{18, 8, 4000}, {6, 2, 1000}, {6, 2, 2000}, {32, 27, 1003}, {5, 3, 37}};
    for (int i = 0; i < 5; i++)
      worst = fmax(worst, against_sse2(widths[w], shapes[i][0], shapes[i][1], shapes[i][2], &r));
    printf("rows: width %s against sse2: at most %.3g of the sum of |terms|\n", widths[w], worst);
  }
  CHECK(ran >= 1, "no compiled width runs");
  hs_rows_use_kernel(NULL);
  return check_report("rows");
}
