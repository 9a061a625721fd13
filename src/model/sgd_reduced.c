/* sgd_reduced.c: the online-SGD step sampled in the subspace that matters
 * (MODEL.md section 4b), exact in law.
 *
 * With Bm = [W; xi] (r = H + K rows, stored contiguously in s->Bm), its Gram
 * Gam = Bm Bm^T = Lc Lc^T and the orthonormal rows U = Lc^{-1} Bm of S:
 *   - token l of a sequence is s_l + (its part in S_perp), s_l = sig_l U with
 *     sig_l = y_l + [l == eps] (c^T Lc[H:, :]) / sqrt(d), y_l ~ N(0, I_r);
 *     head h has coordinates Lc[h, :], so the scores are Lc[:H] sig^T/sqrt d;
 *   - the S_perp parts, an L x d' Gaussian matrix (d' = d - r) in a basis
 *     of S_perp, are T O: T (L x q, q = min(L, d')) the Bartlett factor of
 *     their Gram, O a uniform q-frame of S_perp independent of T;
 *   - G = (sig sig^T + T T^T)/d, and the weight gradient's S_perp part is
 *     g^T T O, equal in law to Lo Y with A = g^T T = Lo Qa (Qa orthonormal
 *     rows; Lo = A when q <= H) and Y a uniform k-frame of S_perp,
 *     k = min(H, q);
 *   - Y = R^{-1} Z P_perp for Z (k x d) Gaussian and R R^T = Z P_perp Z^T
 *     (the Gram-Schmidt of Z P_perp, which is Haar); P_perp is never formed:
 *     Lo Y = M1 Z - M1 Pt Lc^{-1} Bm with M1 = Lo R^{-1}, Pt = Z Bm^T Lc^{-T}.
 * So a step's update is W += -eta/(B sqrt d) [M1all | Cacc Lc^{-1}] [Zall; Bm],
 * one GEMM (Zall and Bm are adjacent in memory; with B = 1 one SYRK gives
 * Gam, Z Bm^T and Z Z^T too), and it needs k d + L (r + 1) + L(L-1)/2-ish normals per
 * sequence instead of L d.
 *
 * Draws of step s come from stream (TRAIN_REDUCED, s), in this order: eps
 * and c of each sequence, the uniforms of the chi^2 draws, then (fast
 * generator) every sequence's y, T and chi^2 proposals, then every
 * sequence's Z; rejected chi^2 proposals draw again from the 64-bit words.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "headspec/overlap.h"
#include "headspec/sgd.h"

#include "rows.h"


typedef struct hs_sgd_reduced {
  int r, dp, q, k;   /* rank of S, d' = d - r, q = min(L, d'), k = min(H, q) */
  int nb;            /* normals below T's diagonal */
  int nsmall;        /* normals per sequence besides its frame: y, T, chi^2 */
  double *gam, *lc;  /* r x r: Gram of Bm, its Cholesky factor */
  double *draw;      /* B nsmall + B k d normals of a step, then Bm (r x d) */
  double *draw_mem;  /* draw's allocation: draw is offset in it so that the
                        frames' Z (and, d a multiple of 8, each of its rows
                        and Bm's) start on a 64-byte line, as rows.c reads
                        them (a lane vector across two lines loads twice) */
  size_t ndraw_mem;  /* doubles in draw_mem */
  int bm_moved;      /* hs_sgd's Bm (and W) now live in draw */
  double *gall;      /* (k + r)^2: Gram of [Z; Bm] (B = 1) */
  double *uni;       /* B q uniforms */
  double *sig;       /* L x r token coordinates */
  double *T;         /* L x q */
  double *A;         /* H x q: g^T T, then the rows Qa */
  double *lo;        /* H x k */
  double *Pt;        /* B k x r: Z Bm^T, then times Lc^{-T} */
  double *zz, *R;    /* k x k: Z P_perp Z^T and its Cholesky factor */
  double *coef;      /* H x (B k + r): [M1all | Cacc] */
  double *D;         /* H x d: the step's update */
  double *sv, *u, *t; /* r signal coordinates, r, q */
  double *gb;        /* H */
} hs_sgd_reduced;

void hs_sgd_reduced_free(hs_sgd *s) {
  hs_sgd_reduced *w = s->red;
  if (!w) return;
  free(w->gam), free(w->lc), free(w->uni), free(w->sig);
  free(w->T), free(w->A), free(w->lo), free(w->Pt), free(w->zz), free(w->R), free(w->coef);
  free(w->gall), free(w->D), free(w->sv), free(w->u), free(w->t), free(w->gb);
  /* Bm and W live in draw once the allocation moved them there; before
   * that (out of memory in hs_sgd_reduced_alloc) they are hs_sgd's own */
  if (w->bm_moved) s->Bm = s->W = NULL;
  free(w->draw_mem);
  free(w);
  s->red = NULL;
}

static double *zalloc(size_t n, int *failed) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) *failed = 1;
  return p;
}

hs_status hs_sgd_reduced_alloc(hs_sgd *s, hs_err *err) {
  const hs_sgd_config *cfg = &s->cfg;
  int d = cfg->d, L = cfg->L, H = cfg->H, B = cfg->B, r = H + s->K;
  if (d <= r) return HS_OK; /* S is all of R^d: every step is a full one */
  hs_sgd_reduced *w = calloc(1, sizeof *w);
  if (!w) return hs_err_set(err, HS_ENOMEM, "out of memory for the reduced sampler");
  s->red = w;
  w->r = r, w->dp = d - r;
  w->q = L < w->dp ? L : w->dp;
  w->k = H < w->q ? H : w->q;
  for (int l = 0; l < L; l++) w->nb += l < w->q ? l : w->q;
  w->nsmall = L * r + w->nb + w->q;
  size_t bk = (size_t)B * w->k;
  int failed = 0;
  w->gam = zalloc((size_t)r * r, &failed);
  w->lc = zalloc((size_t)r * r, &failed);
  size_t ndraw = (size_t)B * w->nsmall + (bk + r) * d, shift = (8 - (size_t)B * w->nsmall % 8) % 8;
  w->ndraw_mem = ndraw + 8;
  w->draw_mem = aligned_alloc(64, w->ndraw_mem * sizeof(double) / 64 * 64 + 64);
  if (w->draw_mem) memset(w->draw_mem, 0, w->ndraw_mem * sizeof(double));
  else failed = 1;
  w->draw = w->draw_mem ? w->draw_mem + shift : NULL;
  w->gall = zalloc((size_t)(w->k + r) * (w->k + r), &failed);
  w->uni = zalloc((size_t)B * w->q, &failed);
  w->sig = zalloc((size_t)L * r, &failed);
  w->T = zalloc((size_t)L * w->q, &failed);
  w->A = zalloc((size_t)H * w->q, &failed);
  w->lo = zalloc((size_t)H * w->k, &failed);
  w->Pt = zalloc(bk * r, &failed);
  w->zz = zalloc((size_t)w->k * w->k, &failed);
  w->R = zalloc((size_t)w->k * w->k, &failed);
  w->gb = zalloc((size_t)H, &failed);
  w->coef = zalloc((size_t)H * (bk + r), &failed);
  w->D = zalloc((size_t)H * d, &failed);
  w->sv = zalloc((size_t)r, &failed);
  w->u = zalloc((size_t)r, &failed);
  w->t = zalloc((size_t)w->q, &failed);
  if (failed) {
    hs_sgd_reduced_free(s);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the reduced sampler at d = %d", d);
  }
  /* Bm moves behind the frames' Z, so [Z; Bm] is one matrix */
  double *Bm = w->draw + (size_t)B * w->nsmall + bk * d;
  memcpy(Bm, s->Bm, sizeof(double) * r * d);
  free(s->Bm);
  s->Bm = s->W = Bm;
  w->bm_moved = 1;
  return HS_OK;
}

/* One normal from one 64-bit word (Box-Muller, 40-bit radius). */
static double word_normal(hs_rng *r) {
  uint64_t x = hs_rng_u64(r);
  double u = ((double)(x >> 24) + 0.5) * 0x1p-40;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * 0x1p-24 * (double)(x & 0xffffff));
}

/* chi^2(n) = 2 Gamma(n/2) by Marsaglia and Tsang, first trying the given
 * proposal (x0, u0); Gamma(1/2) = Gamma(3/2) U^2. */
static double chi2(int n, double x0, double u0, hs_rng *r) {
  double a = 0.5 * n, boost = 1;
  if (a < 1) {
    boost = pow(hs_rng_u01(hs_rng_u64(r)), 1.0 / a);
    a += 1;
  }
  double dd = a - 1.0 / 3, cc = 1 / sqrt(9 * dd), x = x0, u = u0;
  for (;;) {
    double v = 1 + cc * x;
    if (v > 0) {
      v = v * v * v;
      if (u < 1 - 0.0331 * x * x * x * x ||
          log(u) < 0.5 * x * x + dd * (1 - v + log(v)))
        return 2 * dd * v * boost;
    }
    x = word_normal(r);
    u = hs_rng_u01(hs_rng_u64(r));
  }
}

/* T (L x q): N(0,1) below the diagonal, sqrt(chi^2(d' - l)) on it. */
static void bartlett(hs_sgd_reduced *w, int L, const double *z, const double *uni,
                     hs_rng *r) {
  const double *prop = z + w->nb; /* the chi^2 proposals */
  memset(w->T, 0, sizeof(double) * L * w->q);
  for (int l = 0; l < L; l++) {
    int below = l < w->q ? l : w->q;
    memcpy(w->T + (size_t)l * w->q, z, sizeof(double) * below);
    z += below;
    if (l < w->q) w->T[(size_t)l * w->q + l] = sqrt(chi2(w->dp - l, prop[l], uni[l], r));
  }
}

/* A = Lo Qa for the H x q matrix A (q > H): Gram-Schmidt on its rows,
 * twice (so Qa is orthonormal to rounding); a row that is (numerically) in
 * the span of the earlier ones gets a zero pivot and contributes nothing. */
static void lq(int H, int q, double *A, double *lo) {
  memset(lo, 0, sizeof(double) * H * H);
  for (int h = 0; h < H; h++) {
    double *v = A + (size_t)h * q, norm0 = cblas_dnrm2(q, v, 1);
    for (int pass = 0; pass < 2; pass++)
      for (int j = 0; j < h; j++) {
        double c = cblas_ddot(q, v, 1, A + (size_t)j * q, 1);
        lo[h * H + j] += c;
        cblas_daxpy(q, -c, A + (size_t)j * q, 1, v, 1);
      }
    double norm = cblas_dnrm2(q, v, 1);
    if (norm > 1e-13 * norm0 && norm > 0) {
      lo[h * H + h] = norm;
      cblas_dscal(q, 1 / norm, v, 1);
    } else {
      memset(v, 0, sizeof(double) * q);
    }
  }
}

/* Whether the lower Cholesky factor of the n x n matrix A (lower triangle
 * read) exists with every pivot positive. */
static int cholesky_pd(int n, const double *A, double *Lc) {
  hs_err ignore;
  if (hs_cholesky_psd(n, A, Lc, &ignore) != HS_OK) return 0;
  for (int i = 0; i < n; i++)
    if (!(Lc[i * n + i] > 0)) return 0;
  return 1;
}

/* Sequence i of the batch: forward and backward in S, its coefficients
 * (into cacc and column block i of m1). Returns its loss, or NAN if its
 * frame Gram is singular. */
static double sequence(hs_sgd *s, int i, const double *z, const double *uni,
                       hs_rng *rng, double *gb, double *glambda) {
  hs_sgd_reduced *w = s->red;
  const hs_sgd_config *cfg = &s->cfg;
  int d = cfg->d, L = cfg->L, H = cfg->H, r = w->r, q = w->q, k = w->k, K = s->K;
  int ld = cfg->B * k + r; /* of coef */
  double isd = 1 / sqrt((double)d);
  /* token coordinates sig = y + [l == eps] c^T Lc[H:, :] / sqrt(d) */
  memcpy(w->sig, z, sizeof(double) * L * r);
  cblas_dgemv(CblasRowMajor, CblasTrans, K, r, isd, w->lc + (size_t)H * r, r, s->c + (size_t)i * K,
              1, 0.0, w->sv, 1);
  cblas_daxpy(r, 1.0, w->sv, 1, w->sig + (size_t)s->eps[i] * r, 1);
  bartlett(w, L, z + (size_t)L * r, uni, rng);
  /* scores, forward, residual */
  size_t o = (size_t)i * L;
  double *S = s->S + o * H, *P = s->P + o * H, *g = s->G + o * H;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, H, r, isd, w->sig, r, w->lc, r,
              0.0, S, H);
  hs_attn_model m = {H, s->b, s->lambda, s->work};
  cfg->act->forward(&m, L, S, P, s->alpha + o);
  hs_attn_residual(L, s->eps[i], s->alpha + o, s->e + o);
  /* rho = G e = (sig sig^T e + T T^T e)/d; loss e^T G e */
  const double *e = s->e + o;
  double *rho = s->rho + o;
  cblas_dgemv(CblasRowMajor, CblasTrans, L, r, 1.0, w->sig, r, e, 1, 0.0, w->u, 1);
  cblas_dgemv(CblasRowMajor, CblasTrans, L, q, 1.0, w->T, q, e, 1, 0.0, w->t, 1);
  cblas_dgemv(CblasRowMajor, CblasNoTrans, L, r, 1.0 / d, w->sig, r, w->u, 1, 0.0, rho, 1);
  cblas_dgemv(CblasRowMajor, CblasNoTrans, L, q, 1.0 / d, w->T, q, w->t, 1, 1.0, rho, 1);
  double loss = (cblas_ddot(r, w->u, 1, w->u, 1) + cblas_ddot(q, w->t, 1, w->t, 1)) / d;
  cfg->act->backward(&m, L, P, s->alpha + o, rho, g, gb, glambda);
  /* the S part of the gradient: C = g^T sig (H x r) */
  double *cacc = w->coef + cfg->B * k;
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, r, L, 1.0, g, H, w->sig, r, 1.0,
              cacc, ld);
  /* the S_perp part: A = g^T T = Lo Qa */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, q, L, 1.0, g, H, w->T, q, 0.0, w->A,
              q);
  if (q <= H) memcpy(w->lo, w->A, sizeof(double) * H * q);
  else lq(H, q, w->A, w->lo);
  /* frame: Z P_perp Z^T = Z Z^T - Pt Pt^T = R R^T, M1 = Lo R^{-1} */
  const double *Z = w->draw + (size_t)cfg->B * w->nsmall + (size_t)i * k * d;
  double *Pt = w->Pt + (size_t)i * k * r, *m1 = w->coef + (size_t)i * k;
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, k, r, 1.0,
              w->lc, r, Pt, r);
  if (cfg->B == 1) /* Z Z^T from the joint Gram */
    for (int a = 0; a < k; a++) memcpy(w->zz + a * k, w->gall + a * (k + r), sizeof(double) * (a + 1));
  else
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, d, 1.0, Z, d, 0.0, w->zz, k);
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, k, r, -1.0, Pt, r, 1.0, w->zz, k);
  if (!cholesky_pd(k, w->zz, w->R)) return NAN;
  for (int h = 0; h < H; h++) memcpy(m1 + (size_t)h * ld, w->lo + (size_t)h * k, sizeof(double) * k);
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, H, k, 1.0, w->R, k,
              m1, ld);
  /* M1 Z P_perp = M1 Z - M1 Pt Lc^{-1} Bm: the Bm part joins cacc */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, H, r, k, -1.0, m1, ld, Pt, r, 1.0,
              cacc, ld);
  return loss;
}

/* Gam = Bm Bm^T, and Z Bm^T (into Pt); with B = 1 also Z Z^T, all from
 * one SYRK of [Z; Bm]. */
static void grams(hs_sgd *s, const double *Zall) {
  hs_sgd_reduced *w = s->red;
  int d = s->cfg.d, B = s->cfg.B, r = w->r, k = w->k, n = k + r;
  if (B == 1) {
    if (n <= HS_ROWS_MAX) hs_rows_gram(n, d, Zall, w->gall);
    else cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d, 1.0, Zall, d, 0.0, w->gall, n);
    for (int a = 0; a < r; a++) {
      memcpy(w->gam + a * r, w->gall + (size_t)(k + a) * n + k, sizeof(double) * (a + 1));
      for (int b = 0; b < k; b++) w->Pt[b * r + a] = w->gall[(size_t)(k + a) * n + b];
    }
    return;
  }
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, r, d, 1.0, s->Bm, d, 0.0, w->gam, r);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * k, r, d, 1.0, Zall, d, s->Bm, d, 0.0,
              w->Pt, r);
}

int hs_sgd_reduced_step(hs_sgd *s, double *loss_out) {
  hs_sgd_reduced *w = s->red;
  const hs_sgd_config *cfg = &s->cfg;
  int d = cfg->d, L = cfg->L, H = cfg->H, B = cfg->B, r = w->r, k = w->k, K = s->K;
  /* the frames' Gaussians first: Gam's Cholesky factor needs their Gram
   * only when B = 1, and the draws do not depend on it */
  hs_rng rng;
  hs_rng_init(&rng, cfg->job_seed, cfg->seed, HS_PURPOSE_TRAIN_REDUCED, (uint64_t)s->step);
  for (int i = 0; i < B; i++) {
    s->eps[i] = (int)hs_rng_below(&rng, (uint64_t)L);
    hs_dist_sample(cfg->dist, &rng, s->c + (size_t)i * K);
  }
  hs_rng_uniform(&rng, w->uni, (size_t)B * w->q);
  size_t nz = (size_t)B * k * d;
  hs_rng_normal_fast(&rng, w->draw, (size_t)B * w->nsmall + nz);
  const double *Zall = w->draw + (size_t)B * w->nsmall;
  /* S = span of Bm's rows, orthonormalised through Gam = Lc Lc^T */
  grams(s, Zall);
  if (!cholesky_pd(r, w->gam, w->lc)) return 0;
  int ld = B * k + r;
  double *cacc = w->coef + B * k;
  for (int h = 0; h < H; h++) memset(cacc + (size_t)h * ld, 0, sizeof(double) * r);
  double loss = 0, glambda = 0, *gb = w->gb;
  memset(gb, 0, sizeof(double) * H);
  for (int i = 0; i < B; i++)
    loss += sequence(s, i, w->draw + (size_t)i * w->nsmall, w->uni + (size_t)i * w->q, &rng, gb,
                     &glambda);
  if (isnan(loss)) return 0;
  /* D = [M1all | cacc Lc^{-1}] [Zall; Bm]; W -= eta/(B sqrt d) D */
  cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, H, r, 1.0, w->lc,
              r, cacc, ld);
  double alpha = -cfg->eta / (B * sqrt((double)d));
  if (H <= HS_ROWS_MAX && ld <= HS_ROWS_MAX) {
    hs_rows_update(H, ld, d, alpha, w->coef, Zall, s->W);
  } else {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, H, d, ld, 1.0, w->coef, ld, Zall, d,
                0.0, w->D, d);
    cblas_daxpy(H * d, alpha, w->D, 1, s->W, 1);
  }
  double rate = cfg->kappa * cfg->eta / d / B;
  if (cfg->act->trains_b)
    for (int h = 0; h < H; h++) s->b[h] -= rate * gb[h];
  if (cfg->act->trains_lambda) s->lambda -= rate * glambda;
  *loss_out = loss / B;
  return 1;
}
