/* population_lanes_kernel.h: the body of the population loss's lane kernel
 * (population_lanes.h), compiled once per SIMD width by the files that
 * include it (population_lanes_sse2.c, _avx2.c, _avx512.c), which define
 *   HS_VW             doubles per vector register (2, 4 or 8),
 *   HS_LANES_KERNEL   the name of the entry point they export.
 *
 * A block of HS_LANES samples is worked through in HS_LANES / HS_VW
 * sub-blocks of one register each; the layout ([..][lane]) stays the same,
 * so every array is still indexed in steps of HS_LANES and a sub-block is
 * the same arrays shifted by its first lane. Each lane (sample) sees the
 * same operations in the same order at every width: the widths agree bit
 * for bit where their instructions round alike. (Until this split the
 * kernel used one 8-double vector type at every width: on AVX2, gcc lowered
 * it through the stack, scalar stores and general registers, 10-13x off
 * the floor; the sub-blocks keep each vector in one register.)
 *
 * Built with -O3 -ffast-math (CMakeLists.txt) so that the exponentials run
 * through glibc's vector exp; nothing here relies on infinities or NaN
 * (maxima start from the first score). The products keep up to four
 * heads' sums in registers, so each lane vector of U is loaded once per
 * four multiply-adds. */
#include "population_lanes.h"

#include <math.h>
#include <string.h>

#if !defined(HS_VW) || !defined(HS_LANES_KERNEL) || HS_LANES % HS_VW
#error "define HS_VW (a divisor of HS_LANES) and HS_LANES_KERNEL before including this file"
#endif

typedef double vd __attribute__((vector_size(8 * HS_VW)));
#define V(p) (*(vd *)(p))
#define INLINE static inline __attribute__((always_inline))

/* S[l][h] = sum_w r[h][w] u[l][w] for a tile of nh heads x nl tokens; nh
 * and nl are constants after inlining, so the nh * nl sums are independent
 * chains in registers (a single chain would wait on the FMA latency). With
 * next, each lane vector (a cache line) of u has the same line `next`
 * doubles on prefetched as it is loaded: spread out, the prefetches do not
 * queue behind each other for the line fill buffers. */
INLINE void score_tile(int nh, int nl, int width, int Hh, const double *r, const double *u,
                       double *S, size_t next) {
  vd a[4][4];
  for (int h = 0; h < nh; h++)
    for (int i = 0; i < nl; i++) a[h][i] = (vd){0};
  for (int w = 0; w < width; w++) {
    for (int i = 0; i < nl && next; i++) __builtin_prefetch(u + (i * width + w) * HS_LANES + next);
    for (int h = 0; h < nh; h++) {
      double x = r[h * width + w];
      for (int i = 0; i < nl; i++) a[h][i] += x * V(u + (i * width + w) * HS_LANES);
    }
  }
  for (int h = 0; h < nh; h++)
    for (int i = 0; i < nl; i++) V(S + (i * Hh + h) * HS_LANES) = a[h][i];
}

/* Tiles of nh heads over all tokens, nl at a time. The first heads' pass
 * prefetches the next block (contiguous after this one): U streams from L3
 * or memory, and the hardware prefetcher stops at every 4 KB page (a block
 * is 10 KB at L = 16, K + H = 10; below 4 KB, at L = 8, H = 2, the
 * prefetches cost more than they save). */
INLINE void score_heads(int nh, int nl, const hs_lanes *k, int h, const double *U) {
  int L = k->L, width = k->width, Hh = k->Hh, l = 0;
  const double *r = k->R + h * width;
  double *S = k->S + h * HS_LANES;
  size_t next = h == 0 && L * width >= 64 ? (size_t)L * width * HS_LANES : 0;
  for (; l + nl <= L; l += nl)
    score_tile(nh, nl, width, Hh, r, U + l * width * HS_LANES, S + l * Hh * HS_LANES, next);
  for (; l < L; l++)
    score_tile(nh, 1, width, Hh, r, U + l * width * HS_LANES, S + l * Hh * HS_LANES, next);
}

/* S = U R^T per token, plus shift c on token 0. */
INLINE void scores(const hs_lanes *k, const double *U, const double *C) {
  int Hh = k->Hh, K = k->K, h = 0;
  for (; h + 4 <= Hh; h += 4) score_heads(4, 2, k, h, U);
  for (; h + 2 <= Hh; h += 2) score_heads(2, 4, k, h, U);
  for (; h < Hh; h++) score_heads(1, 4, k, h, U);
  const double *m = k->shift ? k->shift : k->R;
  int ldm = k->shift ? K : k->width;
  for (h = 0; h < Hh; h++) {
    vd a = V(k->S + h * HS_LANES);
    for (int j = 0; j < K; j++) a += m[h * ldm + j] * V(C + j * HS_LANES);
    V(k->S + h * HS_LANES) = a;
  }
}

typedef long long vi __attribute__((vector_size(8 * HS_VW)));

/* Lane-wise max(a, b), a bit select (as a loop over a small array of
 * doubles, gcc kept the maxima in memory: a quarter of a block's time). */
INLINE vd vmax(vd a, vd b) {
  vi gt = a > b;
  return (vd)(((vi)a & gt) | ((vi)b & ~gt));
}

/* Per-head (per-lane) maxima of the scores into mx (Hh lanes). */
INLINE void head_max(const hs_lanes *k, double *restrict mx) {
  int L = k->L, Hh = k->Hh;
  const double *restrict S = k->S;
  for (int h = 0; h < Hh; h++) {
    vd m = V(S + h * HS_LANES);
    for (int l = 1; l < L; l++) m = vmax(V(S + (l * Hh + h) * HS_LANES), m);
    V(mx + h * HS_LANES) = m;
  }
}

/* x = exp(x) on one register's lanes (one vector call of libmvec). */
INLINE void exp_lanes(double *restrict x) {
#pragma omp simd
  for (int j = 0; j < HS_VW; j++) x[j] = exp(x[j]);
}

/* S = exp(S - shift[h]) over the sub-block. */
INLINE void exp_shifted(const hs_lanes *k, const double *restrict shift) {
  int L = k->L, Hh = k->Hh, n = Hh * HS_LANES;
  double *restrict S = k->S;
  for (int l = 0; l < L; l++)
    for (int h = 0; h < Hh; h++) {
      V(S + l * n + h * HS_LANES) -= V(shift + h * HS_LANES);
      exp_lanes(S + l * n + h * HS_LANES);
    }
}

/* The weights are P[l][h] = S[l][h] inv[h] (S the shifted exponentials):
 * inv is kept and P never stored, a block's stores being what bounds it at
 * small H. Here the residual e_l = [l == 0] - scale sum_h P[l][h], zero
 * in the lanes past `valid`, and ell = |e|^2. */
INLINE void residual(const hs_lanes *k, const double *restrict inv, double scale, int valid) {
  int L = k->L, Hh = k->Hh, n = Hh * HS_LANES;
  const double *restrict S = k->S;
  vd ell = {0}, mask;
  for (int j = 0; j < HS_VW; j++) mask[j] = j < valid;
  for (int l = 0; l < L; l++) {
    vd alpha = {0};
    for (int h = 0; h < Hh; h++) alpha += V(S + l * n + h * HS_LANES) * V(inv + h * HS_LANES);
    vd e = ((l == 0) - scale * alpha) * mask;
    V(k->e + l * HS_LANES) = e;
    ell += e * e;
  }
  V(k->ell) = ell;
}

/* inv[h] = 1 / (extra[h] + sum_l S[l][h]), extra optional; in lane vectors,
 * kept in registers (as doubles this loop was compiled to scalar adds). */
INLINE void head_norms(const hs_lanes *k, const double *extra, double *restrict inv) {
  int L = k->L, Hh = k->Hh, n = Hh * HS_LANES;
  for (int h = 0; h < Hh; h++) {
    vd sum = extra ? V(extra + h * HS_LANES) : (vd){0};
    for (int l = 0; l < L; l++) sum += V(k->S + l * n + h * HS_LANES);
    V(inv + h * HS_LANES) = 1 / sum;
  }
}

INLINE void forward_softmax(const hs_lanes *k, int valid) {
  double *mx = k->tmp, *inv = k->tmp + k->Hh * HS_LANES;
  head_max(k, mx);
  exp_shifted(k, mx);
  head_norms(k, NULL, inv);
  residual(k, inv, 1.0 / k->Hh, valid);
}

/* The sink's exp(b - max) joins each head's normalisation. */
INLINE void forward_softmax1(const hs_lanes *k, int valid) {
  int n = k->Hh * HS_LANES;
  double *restrict mx = k->tmp, *restrict inv = k->tmp + n;
  head_max(k, mx);
  for (int h = 0; h < k->Hh; h++)
    for (int j = 0; j < HS_VW; j++) {
      double *x = mx + h * HS_LANES + j;
      *x = k->b[h] > *x ? k->b[h] : *x;
    }
  exp_shifted(k, mx);
  for (int h = 0; h < k->Hh; h++) {
    for (int j = 0; j < HS_VW; j++) mx[h * HS_LANES + j] = k->b[h] - mx[h * HS_LANES + j];
    exp_lanes(mx + h * HS_LANES);
  }
  head_norms(k, mx, inv);
  residual(k, inv, k->lambda / k->Hh, valid);
}

/* bsoftmax: one normalisation over all heads and tokens, scores shifted by
 * b; every head's inv is the one 1 / Z. */
INLINE void forward_bsoftmax(const hs_lanes *k, int valid) {
  int L = k->L, Hh = k->Hh, n = Hh * HS_LANES;
  double *restrict S = k->S, *restrict shift = k->tmp, *restrict inv = k->tmp + n;
  double mx[HS_VW];
  for (int j = 0; j < HS_VW; j++) mx[j] = S[j] + k->b[0];
  for (int l = 0; l < L; l++)
    for (int h = 0; h < Hh; h++)
      for (int j = 0; j < HS_VW; j++) {
        double x = S[l * n + h * HS_LANES + j] + k->b[h];
        mx[j] = x > mx[j] ? x : mx[j];
      }
  for (int h = 0; h < Hh; h++)
    for (int j = 0; j < HS_VW; j++) shift[h * HS_LANES + j] = mx[j] - k->b[h];
  exp_shifted(k, shift);
  vd Z = {0};
  for (int i = 0; i < L * Hh; i++) Z += V(S + i * HS_LANES);
  Z = 1 / Z;
  for (int h = 0; h < Hh; h++) V(inv + h * HS_LANES) = Z;
  residual(k, inv, 1.0, valid);
}

/* t_h = sum_l P[l][h] e_l of head h (P = S inv). */
INLINE void head_rbar(const hs_lanes *k, int h, const double *inv, vd *t, vd *q0) {
  int L = k->L, n = k->Hh * HS_LANES;
  vd a = {0}, q = {0};
  for (int l = 0; l < L; l++) {
    vd s = V(k->S + l * n + h * HS_LANES);
    a += s * V(k->e + l * HS_LANES);
    q += s;
  }
  *t = a * V(inv + h * HS_LANES);
  *q0 = q * V(inv + h * HS_LANES);
}

/* G[l][h] = coef P[l][h] (e_l - rbar), P = S inv. */
INLINE void head_grad(const hs_lanes *k, int h, const double *inv, double coef, vd rbar) {
  int L = k->L, n = k->Hh * HS_LANES;
  vd c = coef * V(inv + h * HS_LANES);
  for (int l = 0; l < L; l++)
    V(k->G + l * n + h * HS_LANES) = c * V(k->S + l * n + h * HS_LANES) * (V(k->e + l * HS_LANES) - rbar);
}

/* G = -c P (e - rbar_h), rbar_h = sum_l P_lh e_l (softmax, softmax1; the
 * latter also adds its b and lambda derivatives, q0 = sum_l P_lh). */
INLINE void backward_heads(const hs_lanes *k, double c, int one) {
  const double *inv = k->tmp + k->Hh * HS_LANES;
  for (int h = 0; h < k->Hh; h++) {
    vd rbar, q0;
    head_rbar(k, h, inv, &rbar, &q0);
    head_grad(k, h, inv, -c, rbar);
    if (one) {
      V(k->gbacc + h * HS_LANES) += c * (1 - q0) * rbar;
      V(k->glacc) += (-2.0 / k->Hh) * rbar;
    }
  }
}

/* bsoftmax: G = -2 P (e - rbar), rbar = sum_l alpha_l e_l = sum_h t_h;
 * d/db_h = sum_l G. */
INLINE void backward_bsoftmax(const hs_lanes *k) {
  int L = k->L, Hh = k->Hh, n = Hh * HS_LANES;
  const double *inv = k->tmp + n;
  vd rbar = {0}, t, q0;
  for (int h = 0; h < Hh; h++) head_rbar(k, h, inv, &t, &q0), rbar += t;
  for (int h = 0; h < Hh; h++) {
    head_grad(k, h, inv, -2.0, rbar);
    vd gb = {0};
    for (int l = 0; l < L; l++) gb += V(k->G + l * n + h * HS_LANES);
    V(k->gbacc + h * HS_LANES) += gb;
  }
}

/* acc[h][w] += sum_l g[l][h] x[l][w] for a tile of nh x nw (constants
 * after inlining: independent chains in registers); g has ldg and x ldx
 * lane vectors a token, acc ldacc a row. */
INLINE void acc_tile(int nh, int nw, int L, const double *g, int ldg, const double *x,
                     int ldx, double *acc, int ldacc) {
  vd a[4][4];
  for (int h = 0; h < nh; h++)
    for (int w = 0; w < nw; w++) a[h][w] = V(acc + (h * ldacc + w) * HS_LANES);
  for (int l = 0; l < L; l++) {
    vd u[4];
    for (int w = 0; w < nw; w++) u[w] = V(x + (l * ldx + w) * HS_LANES);
    for (int h = 0; h < nh; h++) {
      vd gv = V(g + (l * ldg + h) * HS_LANES);
      for (int w = 0; w < nw; w++) a[h][w] += gv * u[w];
    }
  }
  for (int h = 0; h < nh; h++)
    for (int w = 0; w < nw; w++) V(acc + (h * ldacc + w) * HS_LANES) = a[h][w];
}

/* Tiles of nh rows over width columns, nw at a time. */
INLINE void acc_rows(int nh, int nw, int L, int width, const double *g, int ldg, const double *x,
                     int ldx, double *acc, int ldacc) {
  int w = 0;
  for (; w + nw <= width; w += nw)
    acc_tile(nh, nw, L, g, ldg, x + w * HS_LANES, ldx, acc + w * HS_LANES, ldacc);
  for (; w < width; w++) acc_tile(nh, 1, L, g, ldg, x + w * HS_LANES, ldx, acc + w * HS_LANES, ldacc);
}

/* acc (Hh x width, row stride ldacc) += g^T x over L tokens; with tri, row h
 * starts at column h (x and acc shifted along), for N's upper triangle. */
INLINE void acc_all(int Hh, int L, int width, const double *g, int ldg, const double *x,
                    int ldx, double *acc, int ldacc, int tri) {
  int h = 0;
  for (; h + 4 <= Hh; h += 4)
    acc_rows(4, 2, L, width - tri * h, g + h * HS_LANES, ldg, x + tri * h * HS_LANES, ldx,
             acc + (h * ldacc + tri * h) * HS_LANES, ldacc);
  for (; h + 2 <= Hh; h += 2)
    acc_rows(2, 4, L, width - tri * h, g + h * HS_LANES, ldg, x + tri * h * HS_LANES, ldx,
             acc + (h * ldacc + tri * h) * HS_LANES, ldacc);
  for (; h < Hh; h++)
    acc_rows(1, 4, L, width - tri * h, g + h * HS_LANES, ldg, x + tri * h * HS_LANES, ldx,
             acc + (h * ldacc + tri * h) * HS_LANES, ldacc);
}

/* gR += G^T U (and G_0^T c on the m part); N's upper triangle += G^T G. */
INLINE void accumulate(const hs_lanes *k, const double *U, const double *C) {
  int L = k->L, width = k->width, Hh = k->Hh;
  acc_all(Hh, L, width, k->G, Hh, U, width, k->gacc, width, 0);
  acc_all(Hh, 1, k->K, k->G, Hh, C, k->K, k->gacc, width, 0);
  if (k->nmat) acc_all(Hh, L, Hh, k->G, Hh, k->G, Hh, k->nacc, Hh, 1);
}

/* One state's activation forward and backward (S holds its scores). */
INLINE void pass(const hs_lanes *k, int valid) {
  switch (k->kind) {
  case HS_LANES_SOFTMAX: forward_softmax(k, valid); break;
  case HS_LANES_SOFTMAX1: forward_softmax1(k, valid); break;
  case HS_LANES_BSOFTMAX: forward_bsoftmax(k, valid); break;
  }
  if (!k->grads) return;
  switch (k->kind) {
  case HS_LANES_SOFTMAX: backward_heads(k, 2.0 / k->Hh, 0); break;
  case HS_LANES_SOFTMAX1: backward_heads(k, 2.0 * k->lambda / k->Hh, 1); break;
  case HS_LANES_BSOFTMAX: backward_bsoftmax(k); break;
  }
}

/* Sz = S less the zeroed columns' terms r[h][j] (u_l[j] + [l == 0] c_j). */
INLINE void zeroed_scores(const hs_lanes *k, const double *U, const double *C) {
  int L = k->L, Hh = k->Hh, width = k->width;
  for (int i = 0; i < L * Hh; i++) V(k->Sz + i * HS_LANES) = V(k->S + i * HS_LANES);
  for (int j = 0; j < k->K; j++) {
    if (!k->zero[j]) continue;
    for (int h = 0; h < Hh; h++) {
      double r = k->R[h * width + j];
      V(k->Sz + h * HS_LANES) -= r * V(C + j * HS_LANES);
      for (int l = 0; l < L; l++)
        V(k->Sz + (l * Hh + h) * HS_LANES) -= r * V(U + (l * width + j) * HS_LANES);
    }
  }
}

/* The second state (hs_lanes.zero): its pass, and its m-gradient's zeroed
 * columns j, Gz^T U[:, j] + Gz_0^T c_j (the others are not used). */
INLINE void zeroed_state(const hs_lanes *k, const double *U, const double *C, int valid) {
  int L = k->L, Hh = k->Hh, K = k->K;
  hs_lanes z = *k;
  z.S = k->Sz, z.G = k->Gz, z.e = k->ez, z.tmp = k->tmpz, z.ell = k->ellz;
  z.gbacc = k->zgb, z.glacc = k->zglam, z.nmat = 0;
  pass(&z, valid);
  for (int j = 0; j < K; j++) {
    if (!k->zero[j]) continue;
    double *acc = k->zacc + j * HS_LANES;
    acc_all(Hh, L, 1, z.G, Hh, U + j * HS_LANES, k->width, acc, K, 0);
    acc_all(Hh, 1, 1, z.G, Hh, C + j * HS_LANES, K, acc, K, 0);
  }
}

INLINE void block(const hs_lanes *k, const double *U, const double *C, int valid) {
  scores(k, U, C);
  if (k->zero) zeroed_scores(k, U, C);
  pass(k, valid);
  if (!k->grads) return;
  accumulate(k, U, C);
  if (k->zero) zeroed_state(k, U, C, valid);
}

/* The shapes of the paper's figures with L, H, K known to the compiler (it
 * then unrolls the short loops and keeps a block's scores in registers),
 * each in a function of its own so that one shape's code does not change
 * another's; any other shape takes the same code with run-time sizes. */
#define SHAPE(l, h, kk)                                                               \
  static void block_##l##_##h##_##kk(const hs_lanes *k, const double *U, const double *C, \
                                     int valid) {                                     \
    hs_lanes c = *k;                                                                  \
    c.L = l, c.Hh = h, c.K = kk, c.width = kk + h;                                    \
    block(&c, U, C, valid);                                                           \
  }
SHAPE(8, 2, 2)
SHAPE(8, 4, 3)
SHAPE(16, 8, 2)
#define IS(l, h, kk) (k->L == l && k->Hh == h && k->K == kk && k->width == kk + h)

/* k's arrays shifted to the sub-block starting at lane `first`. */
static hs_lanes sub_block(const hs_lanes *k, int first) {
  hs_lanes s = *k;
  s.S += first, s.G += first, s.e += first, s.tmp += first, s.ell += first;
  s.gacc += first, s.nacc += first, s.gbacc += first, s.glacc += first;
  s.Sz += first, s.Gz += first, s.ez += first, s.tmpz += first, s.ellz += first;
  s.zacc += first, s.zgb += first, s.zglam += first;
  return s;
}

void HS_LANES_KERNEL(hs_lanes *k, const double *U, const double *C, int valid) {
  for (int first = 0; first < HS_LANES; first += HS_VW) {
    hs_lanes s = sub_block(k, first);
    const double *u = U + first, *c = C + first;
    if (IS(8, 2, 2)) block_8_2_2(&s, u, c, valid - first);
    else if (IS(8, 4, 3)) block_8_4_3(&s, u, c, valid - first);
    else if (IS(16, 8, 2)) block_16_8_2(&s, u, c, valid - first);
    else block(&s, u, c, valid - first);
  }
}
