/* rows.c: which compiled width of the row products runs (rows.h). The
 * default build assumes only x86-64 (SSE2), so one binary runs on any
 * cluster node: the kernels are compiled for SSE2, AVX2 (with FMA) and
 * AVX-512 (rows_kernel.h) and the widest this CPU runs is taken, as
 * population_lanes.c does for the ODE's kernel. */
#include "rows.h"

#include "core/dispatch.h"

typedef void gram_fn(int n, int d, const double *M, double *G);
typedef void update_fn(int H, int m, int d, double alpha, const double *coef, const double *M,
                       double *W);

gram_fn hs_rows_gram_sse2;
update_fn hs_rows_update_sse2;
#if defined(__x86_64__)
gram_fn hs_rows_gram_avx2, hs_rows_gram_avx512;
update_fn hs_rows_update_avx2, hs_rows_update_avx512;
#endif

/* The copies of each width (core/dispatch.h); off x86-64 the portable one.
 * The AVX2 copy is built with FMA, so it runs only where FMA does. */
static gram_fn *const grams[HS_N_SIMD] = {
#if defined(__x86_64__)
    hs_rows_gram_sse2, hs_rows_gram_avx2, hs_rows_gram_avx512,
#else
    hs_rows_gram_sse2,
#endif
};
static update_fn *const updates[HS_N_SIMD] = {
#if defined(__x86_64__)
    hs_rows_update_sse2, hs_rows_update_avx2, hs_rows_update_avx512,
#else
    hs_rows_update_sse2,
#endif
};
enum { NEEDS_FMA = 1 };

static int chosen = -1; /* not yet picked */

static hs_simd current(void) {
  if (chosen < 0) chosen = hs_simd_widest(NEEDS_FMA);
  return (hs_simd)chosen;
}

void hs_rows_gram(int n, int d, const double *M, double *G) { grams[current()](n, d, M, G); }

void hs_rows_update(int H, int m, int d, double alpha, const double *coef, const double *M,
                    double *W) {
  updates[current()](H, m, d, alpha, coef, M, W);
}

const char *hs_rows_kernel(void) { return hs_simd_name(current()); }

int hs_rows_use_kernel(const char *name) {
  int width = name ? hs_simd_find(name, NEEDS_FMA) : (int)hs_simd_widest(NEEDS_FMA);
  if (width < 0) return -1;
  chosen = width;
  return 0;
}
