/* sgd.h: finite-d online SGD of the attention layer (MODEL.md section 4).
 *
 * Each step draws a fresh batch from the stream (TRAIN, step), so a run is a
 * pure function of its seeds and can be restarted at any step. The heavy
 * work is three BLAS products per step (scores, residual/Gram, weight
 * gradient) and the Gaussian tokens.
 */
#ifndef HEADSPEC_SGD_H
#define HEADSPEC_SGD_H

#include <stdint.h>

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/progress.h"

typedef struct hs_sgd_config {
  int d, L, H, B;
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
  double *W;      /* H x d heads */
  double *b;      /* H biases */
  double lambda;
  /* workspace for a batch of up to `cap` sequences */
  int cap;
  double *X;      /* cap*L x d tokens */
  double *S;      /* cap*L x H scores */
  double *P;      /* cap*L x H normalised weights */
  double *G;      /* cap*L x H score gradients */
  double *alpha, *e, *rho; /* cap*L each */
  double *r, *c;  /* d residual, K feature weights */
  int *eps;       /* cap relevant indices */
} hs_sgd;

/* Initialise heads w_h ~ N(0, sigma0^2 I) from stream (INIT, h), b = 0,
 * lambda = 1. */
hs_status hs_sgd_init(hs_sgd *s, const hs_sgd_config *cfg, hs_err *err);
void hs_sgd_free(hs_sgd *s);

/* One SGD step on a fresh batch; returns the batch's mean loss. */
double hs_sgd_step(hs_sgd *s);

/* Mean loss, at the current parameters, of the batch that step number
 * `step` draws (for checking gradients; changes nothing). */
double hs_sgd_batch_loss(hs_sgd *s, long step);

/* Mean per-sample loss on the fixed test set (streams (TEST, chunk)), the
 * same sequences at every call. */
double hs_sgd_test_loss(hs_sgd *s);

/* Attention weights A (n x H x L) of the current model on n sequences from
 * stream (MAPS, 0); eps gets their relevant indices. Nonzero: stopped. */
int hs_sgd_attention_maps(hs_sgd *s, int n, double *A, int *eps);

#endif
