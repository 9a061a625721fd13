/* overlap.c: order parameters and a semi-definite Cholesky (overlap.h). */
#include "headspec/overlap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

void hs_overlap_spike_gram(const double *xi, int K, int d, double *M) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, K, d, 1.0 / d, xi,
              d, xi, d, 0.0, M, K);
}

hs_status hs_overlap_qperp(int H, int K, const double *m, const double *Q,
                           const double *M, double *Qperp, hs_err *err) {
  /* Y = Lm^{-1} m^T with M = Lm Lm^T, then Q_perp = Q - Y^T Y. */
  double *Lm = malloc(sizeof(double) * K * K), *Y = malloc(sizeof(double) * K * H);
  hs_status s = Lm && Y ? hs_cholesky_psd(K, M, Lm, err)
                        : hs_err_set(err, HS_ENOMEM, "out of memory");
  for (int k = 0; k < K && !s; k++)
    if (!(Lm[k * K + k] > 0))
      s = hs_err_set(err, HS_ENUM, "spike Gram matrix M is singular");
  if (s) {
    free(Lm), free(Y);
    return s;
  }
  for (int k = 0; k < K; k++)
    for (int h = 0; h < H; h++) Y[k * H + h] = m[h * K + k];
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
              K, H, 1.0, Lm, K, Y, H);
  memcpy(Qperp, Q, sizeof(double) * H * H);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, H, K, -1.0, Y, H, Y,
              H, 1.0, Qperp, H);
  free(Lm), free(Y);
  return HS_OK;
}

hs_status hs_overlap_compute(const double *W, int H, const double *xi, int K,
                             int d, const double *M, double *m, double *Q,
                             double *Qperp, hs_err *err) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, K, d, 1.0 / d, W, d,
              xi, d, 0.0, m, K);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, d, 1.0 / d, W, d,
              W, d, 0.0, Q, H);
  return hs_overlap_qperp(H, K, m, Q, M, Qperp, err);
}

/* Outer-product Cholesky with pivots below a tolerance set to zero: the
 * columns of a zero pivot are zero, so Lc Lc^T reproduces A up to tol. */
hs_status hs_cholesky_psd(int n, const double *A, double *Lc, hs_err *err) {
  double maxdiag = 0;
  for (int i = 0; i < n; i++) maxdiag = fmax(maxdiag, A[i * n + i]);
  return hs_cholesky_psd_scaled(n, A, maxdiag, Lc, err);
}

hs_status hs_cholesky_psd_scaled(int n, const double *A, double scale, double *Lc,
                                 hs_err *err) {
  double maxdiag = scale;
  double tol = 1e-12 * (maxdiag > 0 ? maxdiag : 1);
  memset(Lc, 0, sizeof(double) * n * n);
  for (int j = 0; j < n; j++) {
    double s = A[j * n + j];
    for (int k = 0; k < j; k++) s -= Lc[j * n + k] * Lc[j * n + k];
    if (s < -1e-8 * (maxdiag > 0 ? maxdiag : 1) || !isfinite(s))
      return hs_err_set(err, HS_ENUM,
                        "matrix is not positive semi-definite (pivot %g)", s);
    if (s <= tol) continue; /* zero column */
    double piv = sqrt(s);
    Lc[j * n + j] = piv;
    for (int i = j + 1; i < n; i++) {
      double v = A[i * n + j];
      for (int k = 0; k < j; k++) v -= Lc[i * n + k] * Lc[j * n + k];
      Lc[i * n + j] = v / piv;
    }
  }
  return HS_OK;
}
