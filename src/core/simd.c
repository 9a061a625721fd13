/* simd.c: which vector width this CPU runs (dispatch.h). The default
 * build assumes only x86-64 (SSE2), so one binary runs on any cluster
 * node; kernels compiled once per width ask here which copy to take. */
#include "core/dispatch.h"

#include <string.h>

static const char *const names[HS_N_SIMD] = {"sse2", "avx2", "avx512"};

int hs_simd_runs(hs_simd width, int needs_fma) {
#if defined(__x86_64__)
  switch (width) {
  case HS_SIMD_SSE2:
    return 1;
  case HS_SIMD_AVX2:
    return __builtin_cpu_supports("avx2") && (!needs_fma || __builtin_cpu_supports("fma"));
  case HS_SIMD_AVX512: /* gcc's arch=x86-64-v4 */
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
  default:
    return 0;
  }
#else
  (void)needs_fma;
  return width == HS_SIMD_SSE2; /* the portable copy stands in its place */
#endif
}

hs_simd hs_simd_widest(int needs_fma) {
  hs_simd best = HS_SIMD_SSE2;
  for (int w = 1; w < HS_N_SIMD; w++)
    if (hs_simd_runs((hs_simd)w, needs_fma)) best = (hs_simd)w;
  return best;
}

const char *hs_simd_name(hs_simd width) {
#if !defined(__x86_64__)
  if (width == HS_SIMD_SSE2) return "portable";
#endif
  return width >= 0 && width < HS_N_SIMD ? names[width] : "?";
}

int hs_simd_find(const char *name, int needs_fma) {
  for (int w = 0; w < HS_N_SIMD; w++)
    if (strcmp(hs_simd_name((hs_simd)w), name) == 0 && hs_simd_runs((hs_simd)w, needs_fma))
      return w;
  return -1;
}
