/* sgd.h: finite-d online SGD of the attention layer (MODEL.md section 4).
 *
 * Each step draws a fresh batch from one stream keyed by the step, so a run
 * is a pure function of its seeds and can be restarted at any step. Two
 * samplers of the same step, equal in law:
 *   full:    the B L d Gaussian token entries, stream (TRAIN, step); the
 *            heavy work is three BLAS products and the tokens;
 *   reduced: MODEL.md section 4b, stream (TRAIN_REDUCED, step): the
 *            tokens' coordinates in S = span(W, xi), a Bartlett factor of
 *            the rest's Gram and a uniform min(H, L)-frame orthogonal to S
 *            per sequence (sgd_reduced.c). When S is degenerate (d <= H + K,
 *            or heads that are linearly dependent) a step falls back to
 *            the full sampler's draw of that step, which is exact too.
 * The test set and the attention maps are drawn in full by both.
 *
 * With a fixed training set (n_train > 0; full sampler only) a step draws
 * no new sequences: sequence i of the set is the pure function stream
 * (TRAIN_SET, i), and the step's batch is B indices into the set, from
 * stream (TRAIN_ORDER, step) uniformly with replacement, or the next B
 * positions of shuffled epochs (epoch e's permutation from stream
 * (TRAIN_ORDER, e); batches run on across epoch ends). With epochs and
 * B = n every step takes the whole set in index order: gradient descent.
 * The set is held in memory when it fits HS_SGD_SET_HOLD_BYTES, else each
 * sequence is redrawn from its stream at each use: the same numbers, so
 * the results do not depend on the choice (bit for bit), only the speed.
 */
#ifndef HEADSPEC_SGD_H
#define HEADSPEC_SGD_H

#include <stdint.h>

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/progress.h"

typedef enum { HS_SAMPLER_FULL = 0, HS_SAMPLER_REDUCED = 1 } hs_sampler;

/* The sampler with this name ("full", "reduced"), or -1. */
int hs_sgd_sampler_find(const char *name);
/* Space-separated names, for messages. */
const char *hs_sgd_sampler_names(void);

/* How a step picks its batch from a fixed training set. */
typedef enum { HS_BATCHES_EPOCHS = 0, HS_BATCHES_WITH_REPLACEMENT = 1 } hs_batches;

/* The batch order with this name ("epochs", "replacement"), or -1. */
int hs_sgd_batches_find(const char *name);
/* Space-separated names, for messages. */
const char *hs_sgd_batches_names(void);

/* A training set of at most this many bytes of tokens (n L d doubles) is
 * held in memory: a step then copies its batch instead of drawing its L d
 * normals per sequence, 2-3x faster at H = 2 (2x at H = 8; bench_sgd
 * trainset). Above it the sequences are redrawn at each use (the speed of
 * online SGD; an epoch's permutation, n longs, is held). */
#define HS_SGD_SET_HOLD_BYTES (2.0 * 1024 * 1024 * 1024)

typedef struct hs_sgd_config {
  int d, L, H, B;
  hs_sampler sampler;
  long n_train;        /* > 0: a fixed training set of this many sequences */
  hs_batches batches;  /* how batches are drawn from it */
  int stream_set;      /* nonzero: never hold the set (testing; same results) */
  double eta, kappa, sigma0;
  const hs_activation *act;
  const hs_dist *dist;
  const double *xi; /* spikes, K x d (K = dist->K) */
  uint64_t job_seed, seed;
  int test_samples;
  /* Hears from steps, the test loss and the maps every ~0.1 s (may be
   * NULL); once it says stop they return NAN (1 for the maps), a step
   * without changing the model. */
  hs_progress *progress;
} hs_sgd_config;

typedef struct hs_sgd {
  hs_sgd_config cfg;
  int K;
  long step;      /* steps taken */
  long full_steps; /* of which drawn by the full sampler (reduced: fallbacks) */
  double *Bm;     /* (H + K) x d: the heads, then a copy of the spikes */
  double *W;      /* H x d heads: the first rows of Bm */
  double *b;      /* H biases */
  double lambda;
  /* workspace for a batch of up to `cap` sequences */
  int cap;
  double *X;      /* cap*L x d tokens (TEST_CHUNK*L x d in gradient descent
                     on a held set, whose steps read the set itself) */
  double *S;      /* cap*L x H scores */
  double *P;      /* cap*L x H normalised weights */
  double *G;      /* cap*L x H score gradients */
  double *alpha, *e, *rho; /* cap*L each */
  double *r, *c;  /* d residual; feature weights (cap x K) */
  double *gb;     /* H bias gradients of a step */
  double *work;   /* 2H scratch of the attention (hs_attn_model) */
  int *eps;       /* cap relevant indices */
  /* the fixed training set (n_train > 0) */
  double *set;    /* n x L x d tokens if held, else NULL */
  int *set_eps;   /* n relevant indices if held */
  long *idx;      /* cap: the set sequences of a step's batch */
  long *order;    /* n: epoch `epoch`'s permutation (epochs) */
  long epoch;     /* -1: none yet */
  struct hs_sgd_reduced *red; /* the reduced sampler's workspace, or NULL */
} hs_sgd;

/* Initialise heads w_h ~ N(0, sigma0^2 I) from stream (INIT, h), b = 0,
 * lambda = 1. */
hs_status hs_sgd_init(hs_sgd *s, const hs_sgd_config *cfg, hs_err *err);
void hs_sgd_free(hs_sgd *s);

/* Estimated nanoseconds of one step of the reduced sampler on this core
 * class, in the units of the full sampler's estimate (bench_sgd samplers:
 * fitted to the four settings' ratios): k = min(H, L) frame normals per
 * dimension at ~2.5 ns, the Gram and update of n = k + H + K rows at 0.06
 * ns per d-long multiply-add (0.1 through BLAS: B > 1 or n > 32), and
 * ~2 us + 0.25 us per token of per-sequence work. Both the progress report
 * and the cost model (src/point) use it. */
double hs_sgd_reduced_step_ns(int B, int d, int L, int H, int K);

/* One SGD step on a fresh batch (or a batch of the training set); returns
 * the batch's mean loss. */
double hs_sgd_step(hs_sgd *s);

/* Passes over the training set so far, step B / n (0 online). */
double hs_sgd_passes(const hs_sgd *s);

/* Mean per-sample loss on the whole training set at the current
 * parameters, exact (every sequence; NAN online or if told to stop). */
double hs_sgd_train_set_loss(hs_sgd *s);

/* Tokens (L x d) and relevant index of training-set sequence i, exactly
 * as every step sees it (for tests: the same from held and streamed). */
int hs_sgd_set_sequence(hs_sgd *s, long i, double *X);

/* The reduced sampler (sgd_reduced.c, private to sgd.c): its workspace,
 * and one step; returns 0, changing nothing, where S is degenerate. */
hs_status hs_sgd_reduced_alloc(hs_sgd *s, hs_err *err);
void hs_sgd_reduced_free(hs_sgd *s);
int hs_sgd_reduced_step(hs_sgd *s, double *loss);

/* Mean loss, at the current parameters, of the batch that the full sampler
 * draws at step number `step` (for checking gradients; changes nothing;
 * online only: NAN with a training set). */
double hs_sgd_batch_loss(hs_sgd *s, long step);

/* Mean per-sample loss on the fixed test set (streams (TEST, chunk)), the
 * same sequences at every call. */
double hs_sgd_test_loss(hs_sgd *s);

/* Attention weights A (n x H x L) of the current model on n sequences from
 * stream (MAPS, 0); eps gets their relevant indices. Nonzero: stopped. */
int hs_sgd_attention_maps(hs_sgd *s, int n, double *A, int *eps);

#endif
