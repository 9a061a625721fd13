/* population.c: Monte Carlo population loss in the reduced representation
 * (population.h; MODEL.md sections 5-6). */
#include "headspec/population.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "headspec/overlap.h"

/* Samples processed together: their scores, weights and gradients stay in
 * cache between the products and the per-sample passes. */
enum { CHUNK = 256 }; /* even: antithetic pairs never straddle chunks */

/* Normals drawn between progress reports: a multiple of the generator's
 * 512-normal blocks, so drawing in pieces gives the same stream. */
enum { PIECE = 64 * 512 };

hs_status hs_population_alloc(hs_population *pop, const hs_activation *act, int K, int L,
                              int H, int N, hs_progress *progress, hs_err *err) {
  memset(pop, 0, sizeof *pop);
  int W = K + H;
  *pop = (hs_population){.L = L, .H = H, .K = K, .N = N, .act = act, .progress = progress};
  size_t rows = (size_t)N * L, chunk = (size_t)CHUNK * L;
  pop->U = malloc(sizeof(double) * rows * W);
  pop->C = malloc(sizeof(double) * (size_t)N * K);
  pop->S = malloc(sizeof(double) * chunk * H);
  pop->P = malloc(sizeof(double) * chunk * H);
  pop->G = malloc(sizeof(double) * chunk * H);
  pop->alpha = malloc(sizeof(double) * chunk);
  pop->e = malloc(sizeof(double) * chunk);
  pop->gbs = malloc(sizeof(double) * H);
  pop->work = malloc(sizeof(double) * 2 * H);
  if (!pop->U || !pop->C || !pop->S || !pop->P || !pop->G || !pop->alpha || !pop->e ||
      !pop->gbs || !pop->work) {
    hs_population_free(pop);
    return hs_err_set(err, HS_ENOMEM, "out of memory for %d population samples", N);
  }
  return HS_OK;
}

hs_status hs_population_draw(hs_population *pop, const hs_dist *dist, uint64_t job_seed,
                             uint64_t seed, uint64_t stream, hs_err *err) {
  int K = pop->K, W = K + pop->H;
  size_t n = (size_t)pop->N * pop->L * W;
  hs_rng r;
  hs_rng_init(&r, job_seed, seed, HS_PURPOSE_POPULATION, stream);
  for (size_t done = 0; done < n; done += PIECE) {
    size_t k = n - done < PIECE ? n - done : PIECE;
    hs_rng_normal(&r, pop->U + done, k);
    if (hs_progress_work(pop->progress, (double)k))
      return hs_err_set(err, HS_EINTERRUPT, "interrupted while drawing the population samples");
  }
  for (int s = 0; s < pop->N; s++) hs_dist_sample(dist, &r, pop->C + (size_t)s * K);
  pop->antithetic = 0;
  return HS_OK;
}

hs_status hs_population_init(hs_population *pop, const hs_activation *act,
                             const hs_dist *dist, int L, int H, int N,
                             uint64_t job_seed, uint64_t seed, uint64_t stream,
                             hs_progress *progress, hs_err *err) {
  hs_status st = hs_population_alloc(pop, act, dist->K, L, H, N, progress, err);
  if (!st) st = hs_population_draw(pop, dist, job_seed, seed, stream, err);
  if (st) hs_population_free(pop);
  return st;
}

void hs_population_make_antithetic(hs_population *pop) {
  int K = pop->K;
  size_t row = (size_t)pop->L * (K + pop->H);
  for (int s = 0; s + 1 < pop->N; s += 2) {
    const double *u = pop->U + s * row;
    double *v = pop->U + (s + 1) * row;
    for (size_t i = 0; i < row; i++) v[i] = -u[i];
    for (int k = 0; k < K; k++) pop->C[(s + 1) * K + k] = pop->C[s * K + k];
  }
  pop->antithetic = 1;
}

void hs_population_free(hs_population *pop) {
  free(pop->U), free(pop->C), free(pop->S), free(pop->P), free(pop->G);
  free(pop->alpha), free(pop->e), free(pop->gbs), free(pop->work);
  memset(pop, 0, sizeof *pop);
}

/* Scores of n samples from U and C: a = U R^T, plus shift c on token 0. */
static void scores(int n, int L, int K, int W, int Hh, const double *U,
                   const double *C, const double *R, const double *shift,
                   double *S) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n * L, Hh, W, 1.0, U, W,
              R, W, 0.0, S, Hh);
  const double *m = shift ? shift : R;
  int ldm = shift ? K : W;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Hh, K, 1.0, C, K, m,
              ldm, 1.0, S, L * Hh);
}

/* One chunk of n samples starting at s0 (even): forward (and backward),
 * adding to the loss sums (sums[0]: loss; sums[1]: squares of the loss, or
 * of pair means when antithetic; sums[2]: their count) and, with gradients,
 * to gR, Nmat and the b/lambda sums. */
static void loss_chunk(hs_population *pop, int s0, int n, int Hh, const double *R,
                       const double *shift, const hs_attn_model *model, double *sums,
                       double *gR, double *gbs, double *gl, double *Nmat) {
  int L = pop->L, K = pop->K, W = K + pop->H;
  const double *U = pop->U + (size_t)s0 * L * W, *C = pop->C + (size_t)s0 * K;
  scores(n, L, K, W, Hh, U, C, R, shift, pop->S);
  double pair = 0;
  for (int s = 0; s < n; s++) {
    size_t o = (size_t)s * L;
    double *P = pop->P + o * Hh, *alpha = pop->alpha + o, *e = pop->e + o;
    pop->act->forward(model, L, pop->S + o * Hh, P, alpha);
    hs_attn_residual(L, 0, alpha, e);
    double ell = 0;
    for (int l = 0; l < L; l++) ell += e[l] * e[l];
    sums[0] += ell;
    if (!pop->antithetic) {
      sums[1] += ell * ell, sums[2] += 1;
    } else if (s % 2 == 0) {
      pair = ell;
    } else {
      double mean = 0.5 * (pair + ell);
      sums[1] += mean * mean, sums[2] += 1, sums[3] += mean;
    }
    /* G = I, so rho = e */
    if (gR) pop->act->backward(model, L, P, alpha, e, pop->G + o * Hh, gbs, gl);
  }
  if (!gR) return;
  /* grad r_h += sum_l g_hl u_l, and g_h0 c on the m part */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Hh, W, n * L, 1.0, pop->G, Hh, U, W,
              1.0, gR, W);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Hh, K, n, 1.0, pop->G, L * Hh, C, K,
              1.0, gR, W);
  if (Nmat)
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Hh, Hh, n * L, 1.0, pop->G, Hh,
                pop->G, Hh, 1.0, Nmat, Hh);
}

double hs_population_loss(hs_population *pop, int Hh, const double *R,
                          const double *shift, const double *b, double lambda,
                          double *gR, double *gb, double *glambda,
                          double *Nmat, double *se) {
  int N = pop->N, W = pop->K + pop->H;
  hs_attn_model model = {Hh, b, lambda, pop->work};
  double sums[4] = {0, 0, 0, 0}, *gbs = pop->gbs, gl = 0;
  memset(gbs, 0, sizeof(double) * Hh);
  if (gR) memset(gR, 0, sizeof(double) * Hh * W);
  if (gR && Nmat) memset(Nmat, 0, sizeof(double) * Hh * Hh);
  for (int s0 = 0; s0 < N; s0 += CHUNK) {
    int n = N - s0 < CHUNK ? N - s0 : CHUNK;
    loss_chunk(pop, s0, n, Hh, R, shift, &model, sums, gR, gbs, &gl, Nmat);
    if (hs_progress_work(pop->progress, (gR ? 6.0 : 2.0) * n * pop->L * Hh * W))
      return NAN;
  }
  double mean = sums[0] / N;
  if (se) { /* over samples, or over pair means (antithetic) */
    double m = pop->antithetic ? sums[3] / sums[2] : mean;
    *se = sums[2] > 1 ? sqrt(fmax(sums[1] / sums[2] - m * m, 0) / sums[2]) : NAN;
  }
  if (!gR) return mean;
  for (int i = 0; i < Hh * W; i++) gR[i] /= N;
  if (Nmat)
    for (int i = 0; i < Hh * Hh; i++) Nmat[i] /= N;
  for (int h = 0; h < Hh; h++) gb[h] = gbs[h] / N;
  *glambda = gl / N;
  return mean;
}

int hs_population_maps(const hs_population *pop, const hs_dist *dist, int Hh,
                       const double *R, const double *shift, const double *b,
                       double lambda, int n, uint64_t job_seed, uint64_t seed,
                       double *A) {
  return hs_population_maps_from(pop, dist, Hh, R, shift, b, lambda, 0, n, job_seed, seed, A);
}

int hs_population_maps_from(const hs_population *pop, const hs_dist *dist, int Hh,
                            const double *R, const double *shift, const double *b,
                            double lambda, long first, int n, uint64_t job_seed,
                            uint64_t seed, double *A) {
  int L = pop->L, K = pop->K, W = K + pop->H;
  double *U = malloc(sizeof(double) * L * W), *S = malloc(sizeof(double) * L * Hh);
  double *P = malloc(sizeof(double) * L * Hh), *alpha = malloc(sizeof(double) * L);
  double *c = malloc(sizeof(double) * K), *work = malloc(sizeof(double) * 2 * Hh);
  hs_attn_model model = {Hh, b, lambda, work};
  double scale = pop->act->head_scale(&model);
  for (int i = 0; i < n && U && S && P && alpha && c && work; i++) {
    hs_rng r;
    hs_rng_init(&r, job_seed, seed, HS_PURPOSE_MAPS, 1000000 + (uint64_t)(first + i));
    hs_rng_normal(&r, U, (size_t)L * W);
    hs_dist_sample(dist, &r, c);
    scores(1, L, K, W, Hh, U, c, R, shift, S);
    pop->act->forward(&model, L, S, P, alpha);
    for (int h = 0; h < Hh; h++)
      for (int l = 0; l < L; l++) A[((size_t)i * Hh + h) * L + l] = scale * P[l * Hh + h];
    if (hs_progress_work(pop->progress, 4.0 * L * W * Hh)) break;
  }
  free(U), free(S), free(P), free(alpha), free(c), free(work);
  return hs_progress_stopped(pop->progress);
}

hs_status hs_population_represent(int H, int K, const double *m,
                                  const double *Q, double *R, hs_err *err) {
  return hs_population_represent_scaled(H, K, m, Q, -1, R, err);
}

hs_status hs_population_represent_scaled(int H, int K, const double *m, const double *Q,
                                         double scale, double *R, hs_err *err) {
  int W = K + H;
  /* calloc: gcc cannot see that H > 0 fills A */
  double *A = calloc((size_t)H * H, sizeof(double)), *V = malloc(sizeof(double) * H * H);
  if (!A || !V) {
    free(A), free(V);
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  }
  for (int h = 0; h < H; h++)
    for (int g = 0; g < H; g++) {
      A[h * H + g] = Q[h * H + g];
      for (int k = 0; k < K; k++) A[h * H + g] -= m[h * K + k] * m[g * K + k];
    }
  hs_status st = scale < 0 ? hs_cholesky_psd(H, A, V, err)
                           : hs_cholesky_psd_scaled(H, A, scale, V, err);
  if (st) hs_err_set(err, st, "Q - m m^T is not positive semi-definite");
  for (int h = 0; h < H && !st; h++) {
    memcpy(R + (size_t)h * W, m + (size_t)h * K, sizeof(double) * K);
    memcpy(R + (size_t)h * W + K, V + (size_t)h * H, sizeof(double) * H);
  }
  free(A), free(V);
  return st;
}
