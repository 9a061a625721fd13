/* rng.c: Philox4x64-10 streams, their Gaussian transform, and the faster
 * Philox4x32 generator of the reduced SGD sampler (see rng.h).
 *
 * Compiled with -O3 -ffast-math (CMakeLists.txt) so that the Box-Muller loops
 * below vectorise through glibc's libmvec; the hot functions exist in SSE2,
 * AVX2 and AVX-512 copies chosen at run time (dispatch.h). hs_rng_normal is
 * unchanged draw by draw (the sampler `full` reproduces earlier results).
 * Nothing here tests for NaN/Inf. */
#include "headspec/rng.h"

#include "core/dispatch.h"

#include <Random123/philox.h>
#include <immintrin.h>
#include <math.h>
#include <string.h>

/* Pairs of normals produced per Box-Muller chunk: the uniforms and the
 * intermediate arrays stay in L1. */
enum { CHUNK = 256 };


void hs_rng_init(hs_rng *r, uint64_t job_seed, uint64_t point_seed,
                 hs_purpose purpose, uint64_t index) {
  r->key[0] = job_seed;
  r->key[1] = point_seed;
  r->purpose = (uint64_t)purpose;
  r->index = index;
  r->block = 0;
  r->nbuf = 0;
  /* The fast generator's 128-bit key: one Philox4x64 block with a tag no
   * ordinary block uses, so it is a pure function of the stream's key. */
  philox4x64_ctr_t ctr = {{0, index, (uint64_t)purpose, 0x6873333278ULL}};
  philox4x64_key_t key = {{job_seed, point_seed}};
  philox4x64_ctr_t dig = philox4x64(ctr, key);
  r->key32[0] = (uint32_t)dig.v[0], r->key32[1] = (uint32_t)(dig.v[0] >> 32);
  r->prefix32[0] = (uint32_t)dig.v[1], r->prefix32[1] = (uint32_t)(dig.v[1] >> 32);
  r->block32 = 0;
}

static inline philox4x64_ctr_t next_block(hs_rng *r) {
  philox4x64_ctr_t ctr = {{r->block++, r->index, r->purpose, 0x68656164ULL}};
  philox4x64_key_t key = {{r->key[0], r->key[1]}};
  return philox4x64(ctr, key);
}

uint64_t hs_rng_u64(hs_rng *r) {
  if (r->nbuf == 0) {
    philox4x64_ctr_t out = next_block(r);
    memcpy(r->buf, out.v, sizeof r->buf);
    r->nbuf = 4;
  }
  return r->buf[4 - r->nbuf--];
}

uint64_t hs_rng_below(hs_rng *r, uint64_t n) {
  /* Lemire's multiply-shift; the bias is below 2^-64 * n, negligible here. */
  return (uint64_t)(((unsigned __int128)hs_rng_u64(r) * n) >> 64);
}

void hs_rng_uniform(hs_rng *r, double *out, size_t n) {
  r->nbuf = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    philox4x64_ctr_t b = next_block(r);
    for (int j = 0; j < 4; j++) out[i + j] = hs_rng_u01(b.v[j]);
  }
  if (i < n) {
    philox4x64_ctr_t b = next_block(r);
    for (int j = 0; i < n; j++, i++) out[i] = hs_rng_u01(b.v[j]);
  }
}

/* Box-Muller on n pairs of uniforms: cosines to c[], sines to s[]. Each loop
 * does one thing so that gcc calls the vector log/cos/sin. */
HS_DISPATCH static void box_muller(const double *u1, const double *u2, double *c,
                       double *s, int n) {
  double rad[CHUNK], ang[CHUNK];
  for (int i = 0; i < n; i++) rad[i] = sqrt(-2.0 * log(u1[i]));
  for (int i = 0; i < n; i++) ang[i] = 6.283185307179586 * u2[i];
  for (int i = 0; i < n; i++) c[i] = rad[i] * cos(ang[i]);
  for (int i = 0; i < n; i++) s[i] = rad[i] * sin(ang[i]);
}

void hs_rng_normal(hs_rng *r, double *out, size_t n) {
  double u[2 * CHUNK];
  while (n >= 2 * CHUNK) {
    hs_rng_uniform(r, u, 2 * CHUNK);
    box_muller(u, u + CHUNK, out, out + CHUNK, CHUNK);
    out += 2 * CHUNK;
    n -= 2 * CHUNK;
  }
  if (n > 0) {
    double tail[2 * CHUNK];
    int pairs = (int)((n + 1) / 2);
    hs_rng_uniform(r, u, 2 * (size_t)pairs);
    box_muller(u, u + pairs, tail, tail + pairs, pairs);
    memcpy(out, tail, n * sizeof *out);
  }
}

/* ---- The fast generator: Philox4x32-10 in SIMD lanes ---------------- */

enum { LANES = 64,           /* Philox blocks computed side by side */
       FAST_PAIRS = 2 * LANES /* normal pairs per chunk (two per block) */ };

/* Philox4x32-10 on blocks first..first+LANES-1 of the stream, word-major:
 * w[i][j] is word i of block first + j. Each 32-bit word sits in a 64-bit
 * vector lane so that a round's two 32x32->64 products are single
 * (v)pmuludq instructions; groups of 4 vectors give the CPU independent
 * chains. One copy per instruction set (SSE2, AVX2, AVX-512F), written
 * once as a macro over the vector type and its multiply. */
#define PHILOX_LANES(NAME, TARGET, VT, VD, MUL)                               \
  TARGET static void NAME(uint32_t key0, uint32_t key1, uint32_t p0,          \
                          uint32_t p1, uint64_t first, uint64_t (*w)[LANES],  \
                          double *u, double *a, double *qd) {                 \
    enum { NV = sizeof(VT) / 8, GROUP = 4 };                                  \
    const VT lo32 = (VT){0} + 0xffffffffu, m0 = (VT){0} + 0xD2511F53u,        \
             m1 = (VT){0} + 0xCD9E8D57u, magic = (VT){0} + 0x4330000000000000u; \
    for (int g = 0; g < LANES; g += GROUP * NV) {                             \
      VT c0[GROUP], c1[GROUP], c2[GROUP], c3[GROUP];                          \
      for (int v = 0; v < GROUP; v++) {                                       \
        uint64_t lo[NV], hi[NV];                                              \
        for (int j = 0; j < NV; j++) {                                        \
          uint64_t b = first + (uint64_t)(g + v * NV + j);                    \
          lo[j] = b & 0xffffffffu, hi[j] = b >> 32;                           \
        }                                                                     \
        memcpy(&c0[v], lo, sizeof lo), memcpy(&c1[v], hi, sizeof hi);         \
        c2[v] = (VT){0} + p0, c3[v] = (VT){0} + p1;                           \
      }                                                                       \
      uint64_t k0 = key0, k1 = key1;                                          \
      for (int round = 0; round < 10; round++) {                              \
        for (int v = 0; v < GROUP; v++) {                                     \
          VT p = MUL(c0[v], m0), q = MUL(c2[v], m1);                          \
          VT n0 = (q >> 32) ^ c1[v] ^ k0, n2 = (p >> 32) ^ c3[v] ^ k1;        \
          c1[v] = q & lo32, c3[v] = p & lo32, c0[v] = n0, c2[v] = n2;         \
        }                                                                     \
        k0 = (k0 + 0x9E3779B9u) & 0xffffffffu;                                \
        k1 = (k1 + 0xBB67AE85u) & 0xffffffffu;                                \
      }                                                                       \
      for (int v = 0; v < GROUP; v++) {                                       \
        int lane = g + v * NV;                                                \
        if (w) {                                                              \
          memcpy(&w[0][lane], &c0[v], sizeof(VT));                            \
          memcpy(&w[1][lane], &c1[v], sizeof(VT));                            \
          memcpy(&w[2][lane], &c2[v], sizeof(VT));                            \
          memcpy(&w[3][lane], &c3[v], sizeof(VT));                            \
          continue;                                                           \
        }                                                                     \
        /* integers below 2^52 to doubles through their bits: the radius   \
         * uniform, the angle's quadrant and its offset in the quadrant */    \
        VT bits[6] = {((c0[v] << 8) | (c1[v] & 0xffu)) | magic,               \
                      ((c2[v] << 8) | (c3[v] & 0xffu)) | magic,               \
                      (c1[v] >> 10) | magic, (c3[v] >> 10) | magic,           \
                      ((c1[v] >> 8) & 3u) | magic, ((c3[v] >> 8) & 3u) | magic}; \
        VD f[6];                                                              \
        memcpy(f, bits, sizeof f);                                            \
        for (int i = 0; i < 6; i++) f[i] -= 0x1p52;                           \
        for (int i = 0; i < 2; i++) {                                         \
          f[i] = (f[i] + 0.5) * 0x1p-40;                                      \
          f[2 + i] = ((f[2 + i] + 0.5) * 0x1p-22 - 0.5) * 1.5707963267948966; \
        }                                                                     \
        memcpy(u + lane, &f[0], sizeof(VD));                                  \
        memcpy(u + LANES + lane, &f[1], sizeof(VD));                          \
        memcpy(a + lane, &f[2], sizeof(VD));                                  \
        memcpy(a + LANES + lane, &f[3], sizeof(VD));                          \
        memcpy(qd + lane, &f[4], sizeof(VD));                                 \
        memcpy(qd + LANES + lane, &f[5], sizeof(VD));                         \
      }                                                                       \
    }                                                                         \
  }

/* FAST_PAIRS pairs of normals from blocks first.. : cosines to c[], sines
 * to s[]. Pair (a, b) of 32-bit words: the radius uniform is the 40 bits
 * a:b_low8 (never 0); the angle's 24 bits b_high24 give a quadrant (2 bits)
 * and an offset x in (-pi/4, pi/4) (22 bits), whose sine and cosine are
 * Taylor polynomials to x^15 and x^16 (error below 1e-16). The log runs
 * through libmvec in the instruction set of TARGET. */
#define FAST_PAIRS_FN(NAME, TARGET, PHILOX)                                   \
  TARGET static void NAME(uint32_t k0, uint32_t k1, uint32_t p0, uint32_t p1, \
                          uint64_t first, double *c, double *s) {             \
    double rad[FAST_PAIRS], ang[FAST_PAIRS], quad[FAST_PAIRS];                \
    for (int g = 0; g < FAST_PAIRS / (2 * LANES); g++)                        \
      PHILOX(k0, k1, p0, p1, first + (uint64_t)g * LANES, NULL,               \
             rad + 2 * LANES * g, ang + 2 * LANES * g, quad + 2 * LANES * g); \
    for (int i = 0; i < FAST_PAIRS; i++) rad[i] = sqrt(-2.0 * log(rad[i]));   \
    for (int i = 0; i < FAST_PAIRS; i++) {                                    \
      double x = ang[i], x2 = x * x, q = quad[i];                             \
      double sn = x * (1 + x2 * (-1.0 / 6 + x2 * (1.0 / 120 + x2 * (-1.0 / 5040 + \
                  x2 * (1.0 / 362880 + x2 * (-1.0 / 39916800 +                \
                  x2 * (1.0 / 6227020800 + x2 * (-1.0 / 1307674368000))))))));  \
      double cs = 1 + x2 * (-0.5 + x2 * (1.0 / 24 + x2 * (-1.0 / 720 +        \
                  x2 * (1.0 / 40320 + x2 * (-1.0 / 3628800 +                  \
                  x2 * (1.0 / 479001600 + x2 * (-1.0 / 87178291200 +          \
                  x2 * (1.0 / 20922789888000))))))));                         \
      /* rotate by q quarter turns */                                         \
      int odd = q == 1 || q == 3;                                             \
      double cq = odd ? sn : cs, sq = odd ? cs : sn;                          \
      c[i] = rad[i] * ((q == 1 || q == 2) ? -cq : cq);                        \
      s[i] = rad[i] * (q >= 2 ? -sq : sq);                                    \
    }                                                                         \
  }

typedef void fast_pairs_fn(uint32_t, uint32_t, uint32_t, uint32_t, uint64_t,
                           double *, double *);

#if defined(__x86_64__)
typedef uint64_t v2u64 __attribute__((vector_size(16)));
typedef uint64_t v4u64 __attribute__((vector_size(32)));
typedef uint64_t v8u64 __attribute__((vector_size(64)));
typedef double v2f64 __attribute__((vector_size(16)));
typedef double v4f64 __attribute__((vector_size(32)));
typedef double v8f64 __attribute__((vector_size(64)));
#define MUL_SSE2(a, b) ((v2u64)_mm_mul_epu32((__m128i)(a), (__m128i)(b)))
#define MUL_AVX2(a, b) ((v4u64)_mm256_mul_epu32((__m256i)(a), (__m256i)(b)))
#define MUL_AVX512(a, b) ((v8u64)_mm512_mul_epu32((__m512i)(a), (__m512i)(b)))
#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
PHILOX_LANES(philox_sse2, , v2u64, v2f64, MUL_SSE2)
PHILOX_LANES(philox_avx2, T_AVX2, v4u64, v4f64, MUL_AVX2)
PHILOX_LANES(philox_avx512, T_AVX512, v8u64, v8f64, MUL_AVX512)
FAST_PAIRS_FN(fast_pairs_sse2, , philox_sse2)
FAST_PAIRS_FN(fast_pairs_avx2, T_AVX2, philox_avx2)
FAST_PAIRS_FN(fast_pairs_avx512, T_AVX512, philox_avx512)

/* The instruction set this CPU runs: 2 AVX-512, 1 AVX2, 0 SSE2. */
static int isa_level(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw"))
    return 2;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static fast_pairs_fn *fast_pairs_pick(void) {
  fast_pairs_fn *fn[] = {fast_pairs_sse2, fast_pairs_avx2, fast_pairs_avx512};
  return fn[isa_level()];
}
#else
#error "hs_rng_normal_fast: x86-64 only"
#endif

static void fast_pairs(uint32_t k0, uint32_t k1, uint32_t p0, uint32_t p1,
                       uint64_t first, double *c, double *s) {
  static fast_pairs_fn *fn;
  if (!fn) fn = fast_pairs_pick(); /* idempotent: a race writes the same value */
  fn(k0, k1, p0, p1, first, c, s);
}

void hs_rng_normal_fast(hs_rng *r, double *out, size_t n) {
  const uint64_t blocks = FAST_PAIRS / 2;
  while (n >= 2 * FAST_PAIRS) {
    fast_pairs(r->key32[0], r->key32[1], r->prefix32[0], r->prefix32[1],
               r->block32, out, out + FAST_PAIRS);
    r->block32 += blocks;
    out += 2 * FAST_PAIRS;
    n -= 2 * FAST_PAIRS;
  }
  if (n > 0) {
    double tail[2 * FAST_PAIRS];
    fast_pairs(r->key32[0], r->key32[1], r->prefix32[0], r->prefix32[1],
               r->block32, tail, tail + FAST_PAIRS);
    r->block32 += blocks;
    memcpy(out, tail, n * sizeof *out);
  }
}

/* The counter blocks behind hs_rng_normal_fast (rng.h), for testing. */
void hs_rng_blocks32(const hs_rng *r, uint64_t first, size_t nblocks, uint32_t *out) {
  uint64_t w[4][LANES];
  for (size_t done = 0; done < nblocks; done += LANES) {
    /* the copy hs_rng_normal_fast runs on this CPU */
    switch (isa_level()) {
    case 2: philox_avx512(r->key32[0], r->key32[1], r->prefix32[0], r->prefix32[1],
                          first + done, w, NULL, NULL, NULL); break;
    case 1: philox_avx2(r->key32[0], r->key32[1], r->prefix32[0], r->prefix32[1],
                        first + done, w, NULL, NULL, NULL); break;
    default: philox_sse2(r->key32[0], r->key32[1], r->prefix32[0], r->prefix32[1],
                         first + done, w, NULL, NULL, NULL);
    }
    for (size_t j = 0; j < LANES && done + j < nblocks; j++)
      for (int i = 0; i < 4; i++) out[4 * (done + j) + (size_t)i] = (uint32_t)w[i][j];
  }
}
