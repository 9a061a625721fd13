/* population_lanes.c: the lane kernel's scratch, and which of its compiled
 * widths runs (population_lanes.h). The default build assumes only x86-64
 * (SSE2), so one binary runs on any cluster node: the kernel is compiled
 * for SSE2, AVX2 and AVX-512 (population_lanes_kernel.h) and the widest
 * this CPU runs is taken (core/dispatch.h). */
#include "population_lanes.h"

#include <string.h>

#include "core/dispatch.h"
#include "headspec/population.h"

void hs_lanes_block_sse2(hs_lanes *k, const double *U, const double *C, int valid);
#if defined(__x86_64__)
void hs_lanes_block_avx2(hs_lanes *k, const double *U, const double *C, int valid);
void hs_lanes_block_avx512(hs_lanes *k, const double *U, const double *C, int valid);
#endif

typedef void block_fn(hs_lanes *k, const double *U, const double *C, int valid);

/* The copy of each width (core/dispatch.h); off x86-64 the portable one. */
static block_fn *const blocks[HS_N_SIMD] = {
#if defined(__x86_64__)
    hs_lanes_block_sse2, hs_lanes_block_avx2, hs_lanes_block_avx512,
#else
    hs_lanes_block_sse2,
#endif
};

static int chosen = -1; /* not yet picked */

static hs_simd current(void) {
  if (chosen < 0) chosen = hs_simd_widest(0);
  return (hs_simd)chosen;
}

void hs_lanes_block(hs_lanes *k, const double *U, const double *C, int valid) {
  blocks[current()](k, U, C, valid);
}

const char *hs_population_kernel(void) { return hs_simd_name(current()); }

int hs_population_use_kernel(const char *name) {
  int width = name ? hs_simd_find(name, 0) : (int)hs_simd_widest(0);
  if (width < 0) return -1;
  chosen = width;
  return 0;
}

size_t hs_lanes_scratch(int L, int H, int width) {
  size_t first = 2 * (size_t)L * H + L + 2 * H + 1 + (size_t)H * width + (size_t)H * H + H + 1;
  size_t second = 2 * (size_t)L * H + L + 2 * H + 1 + (size_t)H * (width - H) + H + 1;
  return (size_t)HS_LANES * (first + second);
}

void hs_lanes_setup(hs_lanes *k, double *buf) {
  size_t lh = (size_t)k->L * k->Hh * HS_LANES, hl = (size_t)k->Hh * HS_LANES;
  k->S = buf, buf += lh;
  k->G = buf, buf += lh;
  k->e = buf, buf += (size_t)k->L * HS_LANES;
  k->tmp = buf, buf += 2 * hl;
  k->ell = buf, buf += HS_LANES;
  k->gacc = buf, buf += hl * k->width;
  k->nacc = buf, buf += hl * k->Hh;
  k->gbacc = buf, buf += hl;
  k->glacc = buf, buf += HS_LANES;
  size_t acc = hl * k->width + hl * k->Hh + hl + HS_LANES;
  memset(k->gacc, 0, sizeof(double) * acc);
  k->Sz = buf, buf += lh;
  k->Gz = buf, buf += lh;
  k->ez = buf, buf += (size_t)k->L * HS_LANES;
  k->tmpz = buf, buf += 2 * hl;
  k->ellz = buf, buf += HS_LANES;
  k->zacc = buf, buf += hl * k->K;
  k->zgb = buf, buf += hl;
  k->zglam = buf;
  memset(k->zacc, 0, sizeof(double) * (hl * k->K + hl + HS_LANES));
}
