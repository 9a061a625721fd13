/* dispatch.h: runtime dispatch of hot vector loops (private to src/).
 *
 * The default build assumes only x86-64 (SSE2), so one binary runs on any
 * cluster node. A function marked HS_DISPATCH is compiled three times
 * (SSE2, AVX2, AVX-512) and the loader picks the copy the CPU runs; its
 * loops then call the matching libmvec variant. With -march=native
 * (HS_NATIVE) the copies are the same code. */
#ifndef HEADSPEC_DISPATCH_H
#define HEADSPEC_DISPATCH_H

#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HS_DISPATCH __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#endif
#endif
#ifndef HS_DISPATCH
#define HS_DISPATCH
#endif

/* Kernels compiled once per vector width by hand (the population's lanes,
 * the SGD's row products: gcc's target_clones cannot pick the register
 * width of a vector type) take the widest copy this CPU runs (simd.c).
 * Off x86-64 only the portable copy, in the SSE2 slot, exists. */
typedef enum { HS_SIMD_SSE2, HS_SIMD_AVX2, HS_SIMD_AVX512, HS_N_SIMD } hs_simd;

/* Whether this CPU runs the width (AVX2 also with FMA if asked). */
int hs_simd_runs(hs_simd width, int needs_fma);
hs_simd hs_simd_widest(int needs_fma);
const char *hs_simd_name(hs_simd width);
/* The width of that name if this CPU runs it, else -1. */
int hs_simd_find(const char *name, int needs_fma);

#endif
