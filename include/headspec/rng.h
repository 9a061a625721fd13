/* rng.h: counter-based random streams (Random123 Philox4x64-10).
 *
 * A stream is a pure function of (job seed, point seed, purpose, index): the
 * numbers a point sees never depend on the rank that runs it, on timing, or
 * on what ran before (the SWIFT random.h idea). Within a stream, numbers come
 * in the order they are asked for; bulk calls start on a fresh counter block.
 */
#ifndef HEADSPEC_RNG_H
#define HEADSPEC_RNG_H

#include <stddef.h>
#include <stdint.h>

/* What a stream is used for; part of its key, so streams never overlap. */
typedef enum {
  HS_PURPOSE_SPIKES = 1, /* the teacher's spikes xi_k */
  HS_PURPOSE_INIT,       /* initial heads w_h (index = head) */
  HS_PURPOSE_TRAIN,      /* SGD batches (index = step) */
  HS_PURPOSE_TEST,       /* the fixed test set (index = chunk) */
  HS_PURPOSE_POPULATION, /* Monte Carlo samples of the population loss */
  HS_PURPOSE_BAYES,      /* Monte Carlo samples of the Bayes risk */
  HS_PURPOSE_MAPS,       /* sequences shown in attention maps */
  HS_PURPOSE_START,      /* noise added to a given ODE start */
  HS_PURPOSE_TRAIN_REDUCED, /* SGD batches of the reduced sampler (index = step) */
  HS_PURPOSE_TRAIN_SET,  /* the fixed training set (index = sequence) */
  HS_PURPOSE_TRAIN_ORDER /* which set sequences a step uses (index = step for
                            draws with replacement, epoch for shuffled epochs) */
} hs_purpose;

typedef struct hs_rng {
  uint64_t key[2];     /* (job seed, point seed) */
  uint64_t purpose;    /* hs_purpose */
  uint64_t index;      /* stream index within the purpose */
  uint64_t block;      /* next counter block */
  uint64_t buf[4];     /* words left over from the last block */
  int nbuf;
  /* the fast generator's Philox4x32 key and counter prefix, derived from
   * the stream's key at init, and its next counter block */
  uint32_t key32[2], prefix32[2];
  uint64_t block32;
} hs_rng;

void hs_rng_init(hs_rng *r, uint64_t job_seed, uint64_t point_seed,
                 hs_purpose purpose, uint64_t index);

/* Next 64 random bits. */
uint64_t hs_rng_u64(hs_rng *r);

/* A uniform integer in [0, n), n >= 1. */
uint64_t hs_rng_below(hs_rng *r, uint64_t n);

/* n uniforms in the open interval (0, 1), 53-bit resolution. */
void hs_rng_uniform(hs_rng *r, double *out, size_t n);

/* n independent standard normals (Box-Muller on Philox uniforms, written as
 * separate vectorisable loops; see the notes on generator speed). */
void hs_rng_normal(hs_rng *r, double *out, size_t n);

/* n independent standard normals, about 3x faster than hs_rng_normal and a
 * different sequence: Philox4x32-10 computed in SIMD lanes (keyed by a
 * 128-bit digest of the stream's key, so still a pure function of (job seed,
 * point seed, purpose, index)), 64 bits per pair of normals (40 for the
 * Box-Muller radius, so the tail is exact to |z| = 7.4, 24 for the angle).
 * Runtime dispatch picks AVX-512, AVX2 or SSE2 code; the values can differ
 * in the last bit between those instruction sets (libmvec's variants). */
void hs_rng_normal_fast(hs_rng *r, double *out, size_t n);

/* The Philox4x32-10 blocks behind hs_rng_normal_fast, for testing: words
 * 4j..4j+3 of out are block (first + j) of the stream, j < nblocks. */
void hs_rng_blocks32(const hs_rng *r, uint64_t first, size_t nblocks, uint32_t *out);

/* Convert 64 random bits to a uniform in (0, 1). */
static inline double hs_rng_u01(uint64_t x) {
  return ((double)(x >> 11) + 0.5) * 0x1p-53;
}

#endif
