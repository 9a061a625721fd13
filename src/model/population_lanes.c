/* population_lanes.c: the lane kernel's scratch, and which of its compiled
 * widths runs (population_lanes.h). The default build assumes only x86-64
 * (SSE2), so one binary runs on any cluster node: the kernel is compiled
 * for SSE2, AVX2 and AVX-512 (population_lanes_kernel.h) and the widest
 * this CPU runs is taken, as core/dispatch.h does for other loops. */
#include "population_lanes.h"

#include <string.h>

#include "headspec/population.h"

void hs_lanes_block_sse2(hs_lanes *k, const double *U, const double *C, int valid);
#if defined(__x86_64__)
void hs_lanes_block_avx2(hs_lanes *k, const double *U, const double *C, int valid);
void hs_lanes_block_avx512(hs_lanes *k, const double *U, const double *C, int valid);
#endif

typedef struct {
  const char *name;
  void (*block)(hs_lanes *k, const double *U, const double *C, int valid);
  int (*runs)(void); /* whether this CPU has the instructions */
} kernel;

static int always(void) { return 1; }
#if defined(__x86_64__)
static int has_avx2(void) { return __builtin_cpu_supports("avx2"); }
static int has_avx512(void) { /* gcc's arch=x86-64-v4 */
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

/* Narrowest first. */
static const kernel kernels[] = {
#if defined(__x86_64__)
    {"sse2", hs_lanes_block_sse2, always},
    {"avx2", hs_lanes_block_avx2, has_avx2},
    {"avx512", hs_lanes_block_avx512, has_avx512},
#else
    {"portable", hs_lanes_block_sse2, always},
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

void hs_lanes_block(hs_lanes *k, const double *U, const double *C, int valid) {
  if (!chosen) chosen = widest();
  chosen->block(k, U, C, valid);
}

const char *hs_population_kernel(void) {
  if (!chosen) chosen = widest();
  return chosen->name;
}

int hs_population_use_kernel(const char *name) {
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
