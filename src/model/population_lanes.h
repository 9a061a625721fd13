/* population_lanes.h: the population loss's per-sample work with SIMD lanes
 * over samples (private to src/model; population.c is the only caller).
 *
 * At the paper's sizes (L = 8..16 tokens, H = 2..8 heads, K + H <= 16) one
 * sample's matrices are far too small for BLAS: most of a product's time
 * went to packing skinny operands and to loops of 2..16 entries. Here
 * HS_LANES samples travel together, each array element being a vector of
 * HS_LANES doubles, one per sample ("lane layout"): U of a block is
 * [l][w][lane], c is [k][lane]. Every operation is then a full-width vector
 * operation whatever L, H and K are, and the exponentials are one long
 * vectorised loop (libmvec). Accumulators (gradient, N, b/lambda sums) are
 * kept per lane and summed over lanes once at the end.
 */
#ifndef HEADSPEC_POPULATION_LANES_H
#define HEADSPEC_POPULATION_LANES_H

#include <stddef.h>

enum { HS_LANES = 8 }; /* one AVX-512 register of doubles; even (antithetic pairs) */

typedef enum { HS_LANES_SOFTMAX, HS_LANES_SOFTMAX1, HS_LANES_BSOFTMAX } hs_lanes_kind;

/* One call's constants and per-block scratch/accumulators (all arrays of
 * lane vectors are 64-byte aligned). */
typedef struct hs_lanes {
  hs_lanes_kind kind;
  int L, K, width, Hh;
  const double *R;     /* Hh x width */
  const double *shift; /* Hh x K, or NULL: R's first K columns */
  const double *b;     /* Hh */
  double lambda;
  int grads, nmat;     /* accumulate gradients; and N (needs grads) */
  double *S;     /* L x Hh lanes: scores, then shifted exponentials */
  double *G;     /* L x Hh lanes: score gradients */
  double *e;     /* L lanes: the residual */
  double *tmp;   /* 2 Hh lanes: maxima, then each head's 1 / sum */
  double *ell;   /* 1 lane: each sample's loss, of the last block */
  double *gacc;  /* Hh x width lanes */
  double *nacc;  /* Hh x Hh lanes (upper triangle filled) */
  double *gbacc; /* Hh lanes */
  double *glacc; /* 1 lane */
  /* The control variate's second state (ode.c), optional: R with the m
   * columns k where zero[k] is set taken as 0. Its scores are the first
   * state's less those columns' terms (the samples are read once for
   * both), and only its m-gradient is kept. */
  const unsigned char *zero; /* K flags, or NULL: no second state */
  double *Sz, *Gz, *ez, *tmpz, *ellz; /* as S, G, e, tmp, ell */
  double *zacc;        /* Hh x K lanes: the second state's m-gradient */
  double *zgb, *zglam; /* Hh lanes, 1 lane: its b and lambda parts (unused) */
} hs_lanes;

/* Doubles of scratch and accumulators hs_lanes_setup carves out of one
 * buffer (a multiple of HS_LANES). */
size_t hs_lanes_scratch(int L, int H, int width);
/* Points k's arrays into buf (64-byte aligned, hs_lanes_scratch doubles)
 * and zeroes the accumulators. */
void hs_lanes_setup(hs_lanes *k, double *buf);

/* One block: U (L x W lanes) and C (K lanes) of HS_LANES samples of which
 * the first `valid` are real (the others contribute nothing). Writes
 * k->ell, adds to the accumulators when k->grads. */
void hs_lanes_block(hs_lanes *k, const double *U, const double *C, int valid);
/* (hs_lanes_block runs the widest compiled width this CPU has, or the one
 * hs_population_use_kernel picked: population_lanes.c.) */

#endif
