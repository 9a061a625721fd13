/* overlap.h: order parameters of a finite-d model (MODEL.md section 5).
 *
 * m = W xi^T / d (H x K), Q = W W^T / d (H x H), M = xi xi^T / d (K x K) and
 * Q_perp = Q - m M^{-1} m^T, the Gram matrix of the heads' parts orthogonal to
 * the spikes (positive semi-definite by construction, unlike Q - m m^T).
 * All matrices are row-major.
 */
#ifndef HEADSPEC_OVERLAP_H
#define HEADSPEC_OVERLAP_H

#include "headspec/error.h"

/* M = xi xi^T / d. */
void hs_overlap_spike_gram(const double *xi, int K, int d, double *M);

/* m, Q and Q_perp of the heads W (H x d), given the spikes and their Gram M. */
hs_status hs_overlap_compute(const double *W, int H, const double *xi, int K,
                             int d, const double *M, double *m, double *Q,
                             double *Qperp, hs_err *err);

/* Q_perp = Q - m M^{-1} m^T from order parameters alone. */
hs_status hs_overlap_qperp(int H, int K, const double *m, const double *Q,
                           const double *M, double *Qperp, hs_err *err);

/* Lower Cholesky factor Lc of a symmetric positive semi-definite n x n
 * matrix A (Lc L_c^T = A). Pivots below tol * max diag are treated as zero,
 * so singular matrices (e.g. Q_perp = 0 at a Bayes point) are accepted. */
hs_status hs_cholesky_psd(int n, const double *A, double *Lc, hs_err *err);
/* The same with the tolerances relative to a given scale: for A = Q - m m^T
 * from rounded Q and m, the scale of Q (a difference of O(1) entries
 * written to 10 decimals is O(1e-10), far above 1e-8 of its own size). */
hs_status hs_cholesky_psd_scaled(int n, const double *A, double scale, double *Lc,
                                 hs_err *err);

#endif
