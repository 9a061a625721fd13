/* population.h: the population loss Lpop and its gradients by Monte Carlo in
 * the reduced representation (MODEL.md sections 5-6).
 *
 * A head is a row r_h = (m_h, v_h) of R (H x (K+H)); scores are
 * a_hl = <r_h, u_l> + [l == 1] <m_h, c> with u_l ~ N(0, I_{K+H}) and c ~ P_c.
 * The N samples are drawn once (stream POPULATION) and reused at every call:
 * common random numbers make Lpop a smooth function of (R, b, lambda), so
 * adaptive ODE steppers apply. The attention module does the forward and
 * backward passes, with G = I (rho = e).
 */
#ifndef HEADSPEC_POPULATION_H
#define HEADSPEC_POPULATION_H

#include <stdint.h>

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/progress.h"

typedef struct hs_population {
  int L, H, K, N; /* H: the most heads evaluated; rows of R are K + H wide */
  int antithetic; /* samples 2i and 2i+1 are partners (u, -u) */
  int reference;  /* 1: the slow per-sample path through attention.c's table
                     (tests compare the vectorised kernels with it) */
  const hs_activation *act;
  /* Samples in blocks of 8 ("lanes", population_lanes.h): U is, per block,
   * L x (K+H) x 8 (entry (l, w) of the block's 8 samples side by side;
   * token 0 is the relevant one), C is K x 8; the lanes past N are 0. */
  double *U, *C;
  double *scratch; /* the lane kernel's scratch and accumulators */
  double *u;       /* the per-sample path's scratch */
  hs_progress *progress; /* hears from every call (may be NULL) */
} hs_population;

/* Streams of purpose POPULATION beside 0, 1 and 2 + k below: replica
 * r >= 1 of the ODE (phase_replicas.c) draws stream HS_STREAM_REPLICA + r,
 * its run on N/4 samples stream HS_STREAM_QUARTER; far above any step
 * count of the resampled ODE. */
#define HS_STREAM_REPLICA (UINT64_C(1) << 62)
#define HS_STREAM_QUARTER (UINT64_C(1) << 61)

/* Draws the samples (stream index `stream` of purpose POPULATION: 0 is the
 * set the ODE and Lpop follow, 1 the independent out-of-sample set, 2 + k
 * the set of step k of the resampled ODE, HS_STREAM_* above); progress (may be NULL) hears
 * from this and every later call on pop, and once it says stop they give
 * up: init with HS_EINTERRUPT, the loss with NAN, the maps with nonzero. */
hs_status hs_population_init(hs_population *pop, const hs_activation *act,
                             const hs_dist *dist, int L, int H, int N,
                             uint64_t job_seed, uint64_t seed, uint64_t stream,
                             hs_progress *progress, hs_err *err);
/* hs_population_init in two parts: the arrays for N samples of K spikes
 * (no samples yet), and (re)drawing them in place from one stream (plain,
 * not antithetic: make them so after each draw if wanted). */
hs_status hs_population_alloc(hs_population *pop, const hs_activation *act, int K, int L,
                              int H, int N, hs_progress *progress, hs_err *err);
hs_status hs_population_draw(hs_population *pop, const hs_dist *dist, uint64_t job_seed,
                             uint64_t seed, uint64_t stream, hs_err *err);
void hs_population_free(hs_population *pop);

/* The lane kernel is compiled for several SIMD widths ("sse2", "avx2",
 * "avx512" on x86-64; "portable" elsewhere) and the widest this CPU runs
 * is used. For tests and benchmarks: the one in use, and picking one by
 * name (0; -1 if this build or CPU has none such; NULL: the widest again).
 * Process-wide, not thread-safe. */
const char *hs_population_kernel(void);
int hs_population_use_kernel(const char *name);

/* Antithetic samples: every odd sample becomes its even neighbour with
 * u -> -u (same c), and standard errors are taken over the pairs. At equal
 * N this halves the spread of Lpop and trims that of its gradient by 10-20%
 * (bench/bench_ode). */
void hs_population_make_antithetic(hs_population *pop);

/* For P_c of the Gaussian form (dist->n_atoms == 0): rescale each c_k of
 * the set so that its sample second moment is exactly beta_k^2 (atoms:
 * nothing). The growth rate of m_.k on its saddle is proportional to that
 * moment; its sampling error (3 % at N = 4096 antithetic) timed the ODE's
 * escapes 5 % apart between sample sets even with the control variate
 * (ode.h), and half as far apart with it matched (issue 26). */
void hs_population_match_moments(hs_population *pop, const hs_dist *dist);

/* Lpop at (R, b, lambda) for the first Hh <= H heads (R is Hh rows of
 * K+H). The relevant token's scores are shifted by shift c, shift (Hh x K)
 * being m = R's first K columns when NULL; a separate shift evaluates
 * measured (m, Q) exactly as R = [0 | chol(Q)], shift = m (section 5).
 * If gR is non-NULL also the gradients (only with shift NULL): gR
 * (Hh x (K+H)), gb (Hh), *glambda, and N_hh' = E[sum_l g_hl g_h'l] into
 * Nmat (Hh x Hh, may be NULL). *se (may be NULL) gets the Monte Carlo
 * standard error of Lpop. */
double hs_population_loss(hs_population *pop, int Hh, const double *R,
                          const double *shift, const double *b, double lambda,
                          double *gR, double *gb, double *glambda,
                          double *Nmat, double *se);
/* hs_population_loss with gradients (no shift, no se) and, from the same
 * pass over the samples, gmz (Hh x K): the m-gradient at R with the m
 * columns k where zero[k] is set taken as 0 (ode.c's control variate), in
 * those columns only (the others are left 0 where the lane kernel runs). Its
 * scores are R's less those columns' terms, not computed afresh (equal up
 * to rounding), and the rest of its gradient is not formed: about half the
 * price of a second hs_population_loss. */
double hs_population_loss_zeroed(hs_population *pop, int Hh, const double *R, const double *b,
                                 double lambda, double *gR, double *gb, double *glambda,
                                 double *Nmat, const unsigned char *zero, double *gmz);

/* R = [m | V] with V V^T = Q - m m^T, the reduced representation of given
 * order parameters (MODEL.md section 6); HS_ENUM if Q - m m^T is not
 * positive semi-definite. R is H x (K+H). */
hs_status hs_population_represent(int H, int K, const double *m,
                                  const double *Q, double *R, hs_err *err);
/* The same with the semi-definiteness tolerances relative to scale (< 0:
 * to Q - m m^T's own largest diagonal entry, as above); see
 * hs_cholesky_psd_scaled. */
hs_status hs_population_represent_scaled(int H, int K, const double *m, const double *Q,
                                         double scale, double *R, hs_err *err);

/* Attention weights A (n x Hh x L) of the reduced model on n sampled
 * sequences (stream MAPS); the relevant token is token 0. Nonzero: stopped. */
int hs_population_maps(const hs_population *pop, const hs_dist *dist, int Hh,
                       const double *R, const double *shift, const double *b,
                       double lambda, int n, uint64_t job_seed, uint64_t seed,
                       double *A);
/* The same for sequences first .. first + n - 1 of that stream (in chunks:
 * the attention statistics over many sequences). */
int hs_population_maps_from(const hs_population *pop, const hs_dist *dist, int Hh,
                            const double *R, const double *shift, const double *b,
                            double lambda, long first, int n, uint64_t job_seed,
                            uint64_t seed, double *A);

#endif
