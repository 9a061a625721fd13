/* rows.h: products of a few long rows, for the reduced SGD step (private
 * to src/model; sgd_reduced.c is the caller). Rows are row-major with
 * stride d (any alignment); at most HS_ROWS_MAX rows (callers use BLAS
 * beyond). */
#ifndef HEADSPEC_ROWS_H
#define HEADSPEC_ROWS_H

enum { HS_ROWS_MAX = 32 };

/* The lower triangle of G = M M^T (M: n x d, G: n x n, row stride n). */
void hs_rows_gram(int n, int d, const double *M, double *G);

/* W += alpha coef M (coef: H x m, row stride m; M: m x d), where W (H x d,
 * stride d) may be rows of M: each column's products are complete before
 * W's column is written. */
void hs_rows_update(int H, int m, int d, double alpha, const double *coef, const double *M,
                    double *W);

#endif
