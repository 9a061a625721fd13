/* test_overlap.c: m, Q and Q_perp against a direct projection of the heads
 * onto the orthogonal complement of the spikes; the semi-definite Cholesky
 * on a singular matrix (overlap.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/overlap.h"
#include "headspec/rng.h"

enum { H = 3, K = 2, D = 200 };

static double dot(const double *x, const double *y) {
  double s = 0;
  for (int i = 0; i < D; i++) s += x[i] * y[i];
  return s;
}

static void test_qperp(void) {
  static double W[H * D], xi[K * D], basis[K * D], Wp[H * D];
  hs_rng r;
  hs_rng_init(&r, 3, 4, HS_PURPOSE_INIT, 0);
  hs_rng_normal(&r, W, H * D);
  hs_rng_normal(&r, xi, K * D);
  for (int i = 0; i < D; i++) W[i] += 2 * xi[i] - xi[D + i]; /* overlap */
  /* orthonormal basis of span(xi), by classical Gram-Schmidt here */
  memcpy(basis, xi, sizeof xi);
  for (int k = 0; k < K; k++) {
    for (int j = 0; j < k; j++) {
      double c = dot(basis + k * D, basis + j * D);
      for (int i = 0; i < D; i++) basis[k * D + i] -= c * basis[j * D + i];
    }
    double n = sqrt(dot(basis + k * D, basis + k * D));
    for (int i = 0; i < D; i++) basis[k * D + i] /= n;
  }
  memcpy(Wp, W, sizeof W);
  for (int h = 0; h < H; h++)
    for (int k = 0; k < K; k++) {
      double c = dot(Wp + h * D, basis + k * D);
      for (int i = 0; i < D; i++) Wp[h * D + i] -= c * basis[k * D + i];
    }
  double M[K * K], m[H * K], Q[H * H], Qp[H * H];
  hs_err err;
  hs_overlap_spike_gram(xi, K, D, M);
  CHECK(hs_overlap_compute(W, H, xi, K, D, M, m, Q, Qp, &err) == HS_OK, "%s", err.msg);
  for (int h = 0; h < H; h++) {
    for (int k = 0; k < K; k++) CHECK_CLOSE(m[h * K + k], dot(W + h * D, xi + k * D) / D, 1e-12, "m");
    for (int g = 0; g < H; g++) {
      CHECK_CLOSE(Q[h * H + g], dot(W + h * D, W + g * D) / D, 1e-12, "Q");
      CHECK_CLOSE(Qp[h * H + g], dot(Wp + h * D, Wp + g * D) / D, 1e-12, "Q_perp");
    }
  }
}

static void test_cholesky(void) {
  /* A = C C^T with C 3x2: rank 2, singular */
  double C[6] = {1, 2, -1, 0.5, 3, 1}, A[9], Lc[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) A[i * 3 + j] = C[i * 2] * C[j * 2] + C[i * 2 + 1] * C[j * 2 + 1];
  hs_err err;
  CHECK(hs_cholesky_psd(3, A, Lc, &err) == HS_OK, "%s", err.msg);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0;
      for (int k = 0; k < 3; k++) s += Lc[i * 3 + k] * Lc[j * 3 + k];
      CHECK_CLOSE(s, A[i * 9 / 3 + j], 1e-10, "Lc Lc^T = A");
    }
  double neg[4] = {1, 2, 2, 1}; /* indefinite */
  CHECK(hs_cholesky_psd(2, neg, Lc, &err) == HS_ENUM, "indefinite matrix refused");
}

int main(void) {
  test_qperp();
  test_cholesky();
  return check_report("test_overlap");
}
