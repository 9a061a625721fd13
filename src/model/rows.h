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

/* The compiled width in use ("sse2", "avx2", "avx512"; "portable" off
 * x86-64), and a width to use instead (NULL: the widest this CPU runs;
 * -1 if it does not run the named one). For tests and benchmarks. */
const char *hs_rows_kernel(void);
int hs_rows_use_kernel(const char *name);

#endif
