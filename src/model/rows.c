/* rows.c: which compiled width of the row products runs (rows.h). The
 * default build assumes only x86-64 (SSE2), so one binary runs on any
 * cluster node: the kernels are compiled for SSE2, AVX2 (with FMA) and
 * AVX-512 (rows_kernel.h) and the widest this CPU runs is taken, as
 * population_lanes.c does for the ODE's kernel. */
#include "rows.h"

#include <string.h>

typedef void gram_fn(int n, int d, const double *M, double *G);
typedef void update_fn(int H, int m, int d, double alpha, const double *coef, const double *M,
                       double *W);

gram_fn hs_rows_gram_sse2;
update_fn hs_rows_update_sse2;
#if defined(__x86_64__)
gram_fn hs_rows_gram_avx2, hs_rows_gram_avx512;
update_fn hs_rows_update_avx2, hs_rows_update_avx512;
#endif

typedef struct {
  const char *name;
  gram_fn *gram;
  update_fn *update;
  int (*runs)(void); /* whether this CPU has the instructions */
} kernel;

static int always(void) { return 1; }
#if defined(__x86_64__)
static int has_avx2(void) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int has_avx512(void) { /* gcc's arch=x86-64-v4 */
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

/* Narrowest first. */
static const kernel kernels[] = {
#if defined(__x86_64__)
    {"sse2", hs_rows_gram_sse2, hs_rows_update_sse2, always},
    {"avx2", hs_rows_gram_avx2, hs_rows_update_avx2, has_avx2},
    {"avx512", hs_rows_gram_avx512, hs_rows_update_avx512, has_avx512},
#else
    {"portable", hs_rows_gram_sse2, hs_rows_update_sse2, always},
#endif
};
enum { N_KERNELS = sizeof kernels / sizeof kernels[0] };

static const kernel *chosen; /* NULL: not yet picked */

static const kernel *widest(void) {
  const kernel *best = &kernels[0];
  for (int i = 1; i < N_KERNELS; i++)
    if (kernels[i].runs()) best = &kernels[i];
  return best;
}

static const kernel *current(void) {
  if (!chosen) chosen = widest();
  return chosen;
}

void hs_rows_gram(int n, int d, const double *M, double *G) { current()->gram(n, d, M, G); }

void hs_rows_update(int H, int m, int d, double alpha, const double *coef, const double *M,
                    double *W) {
  current()->update(H, m, d, alpha, coef, M, W);
}

const char *hs_rows_kernel(void) { return current()->name; }

int hs_rows_use_kernel(const char *name) {
  if (!name) {
    chosen = widest();
    return 0;
  }
  for (int i = 0; i < N_KERNELS; i++)
    if (strcmp(kernels[i].name, name) == 0 && kernels[i].runs()) {
      chosen = &kernels[i];
      return 0;
    }
  return -1;
}
