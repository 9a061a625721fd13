/* population.c: Monte Carlo population loss in the reduced representation
 * (population.h; MODEL.md sections 5-6). */
#include "headspec/population.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "headspec/overlap.h"
#include "population_lanes.h"

/* Samples between progress reports (a multiple of HS_LANES, even:
 * antithetic pairs never straddle a block). */
enum { CHUNK = 256 };

/* Normals drawn between progress reports: a multiple of the generator's
 * 512-normal blocks, so drawing in pieces gives the same stream. */
enum { PIECE = 64 * 512 };

static size_t blocks(int N) { return ((size_t)N + HS_LANES - 1) / HS_LANES; }

/* 64-byte aligned and zeroed (the padding lanes of the last block stay 0). */
static double *lane_alloc(size_t n) {
  size_t bytes = (sizeof(double) * n + 63) / 64 * 64;
  double *p = aligned_alloc(64, bytes ? bytes : 64);
  if (p) memset(p, 0, bytes);
  return p;
}

hs_status hs_population_alloc(hs_population *pop, const hs_activation *act, int K, int L,
                              int H, int N, hs_progress *progress, hs_err *err) {
  memset(pop, 0, sizeof *pop);
  int width = K + H;
  *pop = (hs_population){.L = L, .H = H, .K = K, .N = N, .act = act, .progress = progress};
  size_t lanes = blocks(N) * HS_LANES;
  pop->U = lane_alloc(lanes * L * width);
  pop->C = lane_alloc(lanes * K);
  pop->scratch = lane_alloc(hs_lanes_scratch(L, H, width));
  pop->u = malloc(sizeof(double) * ((size_t)L * width + K + 3 * (size_t)L * H + 2 * L + 3 * H));
  if (!pop->U || !pop->C || !pop->scratch || !pop->u) {
    hs_population_free(pop);
    return hs_err_set(err, HS_ENOMEM, "out of memory for %d population samples", N);
  }
  return HS_OK;
}

/* Normals i0 .. i0 + n of the sample-major stream (sample, token, entry)
 * into their places in the lane layout. */
static void scatter_normals(hs_population *pop, size_t i0, const double *x, size_t n) {
  size_t row = (size_t)pop->L * (pop->K + pop->H), s = i0 / row, r = i0 % row;
  for (size_t i = 0; i < n; i++) {
    pop->U[(s / HS_LANES * row + r) * HS_LANES + s % HS_LANES] = x[i];
    if (++r == row) r = 0, s++;
  }
}

hs_status hs_population_draw(hs_population *pop, const hs_dist *dist, uint64_t job_seed,
                             uint64_t seed, uint64_t stream, hs_err *err) {
  int K = pop->K, width = K + pop->H;
  size_t n = (size_t)pop->N * pop->L * width;
  double *piece = malloc(sizeof(double) * (n < PIECE ? n : PIECE) + sizeof(double) * K);
  if (!piece) return hs_err_set(err, HS_ENOMEM, "out of memory for the population samples");
  hs_rng r;
  hs_rng_init(&r, job_seed, seed, HS_PURPOSE_POPULATION, stream);
  for (size_t done = 0; done < n; done += PIECE) {
    size_t k = n - done < PIECE ? n - done : PIECE;
    hs_rng_normal(&r, piece, k);
    scatter_normals(pop, done, piece, k);
    if (hs_progress_work(pop->progress, (double)k)) {
      free(piece);
      return hs_err_set(err, HS_EINTERRUPT, "interrupted while drawing the population samples");
    }
  }
  for (int s = 0; s < pop->N; s++) {
    hs_dist_sample(dist, &r, piece);
    for (int k = 0; k < K; k++)
      pop->C[((size_t)s / HS_LANES * K + k) * HS_LANES + s % HS_LANES] = piece[k];
  }
  free(piece);
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

/* Lane j + 1 of every block becomes lane j negated (j even), c copied. */
void hs_population_make_antithetic(hs_population *pop) {
  int K = pop->K;
  size_t row = (size_t)pop->L * (K + pop->H);
  for (int s = 0; s + 1 < pop->N; s += 2) {
    size_t b = s / HS_LANES, j = s % HS_LANES;
    double *u = pop->U + b * row * HS_LANES, *c = pop->C + b * K * HS_LANES;
    for (size_t i = 0; i < row; i++) u[i * HS_LANES + j + 1] = -u[i * HS_LANES + j];
    for (int k = 0; k < K; k++) c[k * HS_LANES + j + 1] = c[k * HS_LANES + j];
  }
  pop->antithetic = 1;
}

void hs_population_match_moments(hs_population *pop, const hs_dist *dist) {
  if (dist->n_atoms > 0 || pop->N < 1) return;
  int K = pop->K;
  for (int k = 0; k < K; k++) {
    double sum = 0;
    for (int s = 0; s < pop->N; s++) {
      double c = pop->C[((size_t)s / HS_LANES * K + k) * HS_LANES + s % HS_LANES];
      sum += c * c;
    }
    double scale = sum > 0 ? dist->scales[k] / sqrt(sum / pop->N) : 1;
    for (int s = 0; s < pop->N; s++)
      pop->C[((size_t)s / HS_LANES * K + k) * HS_LANES + s % HS_LANES] *= scale;
  }
}

void hs_population_free(hs_population *pop) {
  free(pop->U), free(pop->C), free(pop->scratch), free(pop->u);
  memset(pop, 0, sizeof *pop);
}

/* Scores of n samples from U and C: a = U R^T, plus shift c on token 0. */
static void scores(int n, int L, int K, int width, int Hh, const double *U,
                   const double *C, const double *R, const double *shift,
                   double *S) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n * L, Hh, width, 1.0, U, width,
              R, width, 0.0, S, Hh);
  const double *m = shift ? shift : R;
  int ldm = shift ? K : width;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Hh, K, 1.0, C, K, m,
              ldm, 1.0, S, L * Hh);
}

/* One sample's loss into the sums (sums[0]: loss; sums[1]: squares of the
 * loss, or of pair means when antithetic; sums[2]: their count; sums[3]:
 * the pair means). */
static void add_loss(const hs_population *pop, int s, double ell, double *pair,
                     double *sums) {
  sums[0] += ell;
  if (!pop->antithetic) {
    sums[1] += ell * ell, sums[2] += 1;
  } else if (s % 2 == 0) {
    *pair = ell;
  } else {
    double mean = 0.5 * (*pair + ell);
    sums[1] += mean * mean, sums[2] += 1, sums[3] += mean;
  }
}

/* The lane kernel of an activation, or -1 (then the per-sample path). */
static int lanes_kind(const hs_population *pop) {
  if (pop->reference) return -1;
  if (pop->act == &hs_softmax) return HS_LANES_SOFTMAX;
  if (pop->act == &hs_softmax1) return HS_LANES_SOFTMAX1;
  if (pop->act == &hs_bsoftmax) return HS_LANES_BSOFTMAX;
  return -1;
}

/* Sample s's U rows (L x width) and c out of the lane layout. */
static void gather(const hs_population *pop, int s, double *u, double *c) {
  int K = pop->K;
  size_t row = (size_t)pop->L * (K + pop->H), b = s / HS_LANES, j = s % HS_LANES;
  for (size_t i = 0; i < row; i++) u[i] = pop->U[(b * row + i) * HS_LANES + j];
  for (int k = 0; k < K; k++) c[k] = pop->C[(b * K + k) * HS_LANES + j];
}

/* The per-sample path through the attention module's table: activations
 * without a lane kernel, and the tests' reference for the lane kernels. */
static void sample_reference(hs_population *pop, int s, int Hh, const double *R,
                             const double *shift, const hs_attn_model *model, double *ell,
                             double *gR, double *gbs, double *gl, double *Nmat) {
  int L = pop->L, K = pop->K, width = K + pop->H;
  double *u = pop->u, *c = u + (size_t)L * width, *S = c + K, *P = S + (size_t)L * Hh;
  double *G = P + (size_t)L * Hh, *alpha = G + (size_t)L * Hh, *e = alpha + L;
  gather(pop, s, u, c);
  scores(1, L, K, width, Hh, u, c, R, shift, S);
  pop->act->forward(model, L, S, P, alpha);
  hs_attn_residual(L, 0, alpha, e);
  *ell = 0;
  for (int l = 0; l < L; l++) *ell += e[l] * e[l];
  if (!gR) return;
  pop->act->backward(model, L, P, alpha, e, G, gbs, gl); /* G = I, so rho = e */
  for (int l = 0; l < L; l++)
    for (int h = 0; h < Hh; h++) {
      for (int w = 0; w < width; w++) gR[h * width + w] += G[l * Hh + h] * u[l * width + w];
      for (int g = 0; g < Hh && Nmat; g++) Nmat[h * Hh + g] += G[l * Hh + h] * G[l * Hh + g];
    }
  for (int h = 0; h < Hh; h++)
    for (int k = 0; k < K; k++) gR[h * width + k] += G[h] * c[k];
}

/* Sums over the lanes of the lane kernel's accumulators. */
static void reduce_lanes(const hs_lanes *k, double *gR, double *gbs, double *gl,
                         double *Nmat) {
  int Hh = k->Hh, width = k->width;
  for (int i = 0; i < Hh * width; i++)
    for (int j = 0; j < HS_LANES; j++) gR[i] += k->gacc[i * HS_LANES + j];
  for (int h = 0; h < Hh; h++)
    for (int j = 0; j < HS_LANES; j++) gbs[h] += k->gbacc[h * HS_LANES + j];
  for (int j = 0; j < HS_LANES; j++) *gl += k->glacc[j];
  for (int h = 0; h < Hh && Nmat; h++)
    for (int g = h; g < Hh; g++) {
      double sum = 0;
      for (int j = 0; j < HS_LANES; j++) sum += k->nacc[(h * Hh + g) * HS_LANES + j];
      Nmat[h * Hh + g] = Nmat[g * Hh + h] = sum;
    }
}

/* The arguments of one evaluation (hs_population_loss's, and the control
 * variate's second state: hs_population_loss_zeroed). */
typedef struct {
  int Hh;
  const double *R, *shift, *b;
  double lambda;
  double *gR, *gb, *glambda, *Nmat, *se;
  const unsigned char *zero;
  double *gmz;
} lpop_call;

/* The second state's m-gradient from the lane accumulators (the mean). */
static void reduce_zeroed(const hs_lanes *k, int N, double *gmz) {
  for (int i = 0; i < k->Hh * k->K; i++) {
    double sum = 0;
    for (int j = 0; j < HS_LANES; j++) sum += k->zacc[i * HS_LANES + j];
    gmz[i] = sum / N;
  }
}

static double evaluate(hs_population *pop, const lpop_call *a);

/* Without a lane kernel: the second state evaluated on its own. */
static hs_status zeroed_apart(hs_population *pop, const lpop_call *a) {
  int Hh = a->Hh, K = pop->K, width = K + pop->H;
  double *Rz = malloc(sizeof(double) * Hh * width), *g = malloc(sizeof(double) * Hh * width);
  double *gb = malloc(sizeof(double) * Hh), gl, loss = NAN;
  if (Rz && g && gb) {
    memcpy(Rz, a->R, sizeof(double) * Hh * width);
    for (int h = 0; h < Hh; h++)
      for (int j = 0; j < K; j++)
        if (a->zero[j]) Rz[h * width + j] = 0;
    lpop_call z = {.Hh = Hh, .R = Rz, .b = a->b, .lambda = a->lambda, .gR = g, .gb = gb,
                   .glambda = &gl};
    loss = evaluate(pop, &z);
    for (int h = 0; h < Hh; h++)
      for (int j = 0; j < K; j++) a->gmz[h * K + j] = g[h * width + j];
  }
  free(Rz), free(g), free(gb);
  return isnan(loss) ? HS_ENOMEM : HS_OK;
}

static double evaluate(hs_population *pop, const lpop_call *a) {
  int N = pop->N, L = pop->L, K = pop->K, width = K + pop->H, kind = lanes_kind(pop);
  int Hh = a->Hh;
  double *gR = a->gR, *Nmat = a->Nmat;
  double *gbs = pop->u + (size_t)L * width + K + 3 * (size_t)L * Hh + 2 * L; /* Hh, then 2Hh work */
  hs_attn_model model = {Hh, a->b, a->lambda, gbs + Hh};
  double sums[4] = {0, 0, 0, 0}, gl = 0, pair = 0;
  memset(gbs, 0, sizeof(double) * Hh);
  if (gR) memset(gR, 0, sizeof(double) * Hh * width);
  if (gR && Nmat) memset(Nmat, 0, sizeof(double) * Hh * Hh);
  int zero_in_lanes = kind >= 0 && gR && a->zero;
  hs_lanes k = {.kind = kind < 0 ? HS_LANES_SOFTMAX : (hs_lanes_kind)kind, .L = L, .K = K,
                .width = width, .Hh = Hh, .R = a->R, .shift = a->shift, .b = a->b,
                .lambda = a->lambda, .grads = gR != NULL, .nmat = gR && Nmat,
                .zero = zero_in_lanes ? a->zero : NULL};
  hs_lanes_setup(&k, pop->scratch);
  size_t ublock = (size_t)L * width * HS_LANES, cblock = (size_t)K * HS_LANES;
  double work = (gR ? 6.0 : 2.0) * L * Hh * width + (zero_in_lanes ? 4.0 * L * Hh * K : 0);
  for (int s0 = 0; s0 < N; s0 += CHUNK) {
    int n = N - s0 < CHUNK ? N - s0 : CHUNK;
    for (int s = s0; s < s0 + n && kind >= 0; s += HS_LANES) {
      int valid = N - s < HS_LANES ? N - s : HS_LANES;
      hs_lanes_block(&k, pop->U + s / HS_LANES * ublock, pop->C + s / HS_LANES * cblock,
                     valid);
      for (int j = 0; j < valid; j++) add_loss(pop, s + j, k.ell[j], &pair, sums);
    }
    for (int s = s0; s < s0 + n && kind < 0; s++) {
      double ell;
      sample_reference(pop, s, Hh, a->R, a->shift, &model, &ell, gR, gbs, &gl, Nmat);
      add_loss(pop, s, ell, &pair, sums);
    }
    if (hs_progress_work(pop->progress, work * n)) return NAN;
  }
  if (kind >= 0 && gR) reduce_lanes(&k, gR, gbs, &gl, Nmat);
  if (zero_in_lanes) reduce_zeroed(&k, N, a->gmz);
  double mean = sums[0] / N;
  if (a->se) { /* over samples, or over pair means (antithetic) */
    double m = pop->antithetic ? sums[3] / sums[2] : mean;
    *a->se = sums[2] > 1 ? sqrt(fmax(sums[1] / sums[2] - m * m, 0) / sums[2]) : NAN;
  }
  if (!gR) return mean;
  for (int i = 0; i < Hh * width; i++) gR[i] /= N;
  if (Nmat)
    for (int i = 0; i < Hh * Hh; i++) Nmat[i] /= N;
  for (int h = 0; h < Hh; h++) a->gb[h] = gbs[h] / N;
  *a->glambda = gl / N;
  /* (the per-sample path's buffers are reused: the second state after) */
  if (a->zero && !zero_in_lanes && zeroed_apart(pop, a)) return NAN;
  return mean;
}

double hs_population_loss(hs_population *pop, int Hh, const double *R,
                          const double *shift, const double *b, double lambda,
                          double *gR, double *gb, double *glambda,
                          double *Nmat, double *se) {
  lpop_call a = {.Hh = Hh, .R = R, .shift = shift, .b = b, .lambda = lambda, .gR = gR,
                 .gb = gb, .glambda = glambda, .Nmat = Nmat, .se = se};
  return evaluate(pop, &a);
}

double hs_population_loss_zeroed(hs_population *pop, int Hh, const double *R, const double *b,
                                 double lambda, double *gR, double *gb, double *glambda,
                                 double *Nmat, const unsigned char *zero, double *gmz) {
  lpop_call a = {.Hh = Hh, .R = R, .b = b, .lambda = lambda, .gR = gR, .gb = gb,
                 .glambda = glambda, .Nmat = Nmat, .zero = zero, .gmz = gmz};
  return evaluate(pop, &a);
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
  int L = pop->L, K = pop->K, width = K + pop->H;
  double *U = malloc(sizeof(double) * L * width), *S = malloc(sizeof(double) * L * Hh);
  double *P = malloc(sizeof(double) * L * Hh), *alpha = malloc(sizeof(double) * L);
  double *c = malloc(sizeof(double) * K), *work = malloc(sizeof(double) * 2 * Hh);
  hs_attn_model model = {Hh, b, lambda, work};
  double scale = pop->act->head_scale(&model);
  for (int i = 0; i < n && U && S && P && alpha && c && work; i++) {
    hs_rng r;
    hs_rng_init(&r, job_seed, seed, HS_PURPOSE_MAPS, 1000000 + (uint64_t)(first + i));
    hs_rng_normal(&r, U, (size_t)L * width);
    hs_dist_sample(dist, &r, c);
    scores(1, L, K, width, Hh, U, c, R, shift, S);
    pop->act->forward(&model, L, S, P, alpha);
    for (int h = 0; h < Hh; h++)
      for (int l = 0; l < L; l++) A[((size_t)i * Hh + h) * L + l] = scale * P[l * Hh + h];
    if (hs_progress_work(pop->progress, 4.0 * L * width * Hh)) break;
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
  int width = K + H;
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
    memcpy(R + (size_t)h * width, m + (size_t)h * K, sizeof(double) * K);
    memcpy(R + (size_t)h * width + K, V + (size_t)h * H, sizeof(double) * H);
  }
  free(A), free(V);
  return st;
}
