/* rows_kernel.h: the bodies of the row products (rows.h), compiled once per
 * SIMD width by the files that include it (rows_sse2.c, _avx2.c, _avx512.c;
 * rows.c picks the widest the CPU runs), which define
 *   HS_VW          doubles per vector register (2, 4 or 8),
 *   HS_ROWS_GRAM   and HS_ROWS_UPDATE, the names of the entry points.
 *
 * Until this split the kernels used one 8-double vector type at every
 * width (target clones of one function): one register on AVX-512, but on
 * AVX2 and SSE2 gcc lowered it through the stack (the Gram at 0.06 of its
 * floor, the update at 0.02). Here every vector is one register and each
 * tile holds no more sums than the registers of its width.
 *
 * OpenBLAS packs both operands of a product before its kernel runs; for an
 * 18 x 4000 SYRK that packing and its small-matrix paths left it at a
 * quarter of the core's multiply-add rate. Here the rows are read where
 * they lie, in tiles of rows whose sums stay in registers, columns in
 * chunks that stay in L1 while every tile passes over them.
 *
 * The Gram sums each entry in 8 lanes (column c in lane c mod 8) at every
 * width (an AVX2 register holds lanes 0-3 or 4-7 of one entry), then the
 * tail columns, then the lanes: the same operations in the same order, so
 * the widths agree bit for bit where their instructions round alike (all
 * but SSE2 contract to FMA). The update's sums run over the rows of M in
 * order for every column, at any width. */
#include <string.h>

#include "rows.h"

#if !defined(HS_VW) || !defined(HS_ROWS_GRAM) || !defined(HS_ROWS_UPDATE) || 8 % HS_VW
#error "define HS_VW (2, 4 or 8), HS_ROWS_GRAM and HS_ROWS_UPDATE before including this file"
#endif

enum { LANES = 8, SUB = LANES / HS_VW, CHUNK = 128 /* columns: 18 rows of them are 18 KB */ };

typedef double vd __attribute__((vector_size(8 * HS_VW))); /* loaded by memcpy: rows
                                                               may be unaligned */
#define INLINE static inline __attribute__((always_inline))
/* the tiles' loops over rows, whole (gcc left some as loops over stack
 * copies) */
#define UNROLL _Pragma("GCC unroll 8")

static const double zeros[CHUNK];

/* A loaded vector kept in a register: gcc would fold its loads into the
 * multiply-adds, loading it again for every row it meets (10 loads per 8
 * multiply-adds in a 2 x 4 tile, more than the core's two a cycle). */
#if defined(__x86_64__) && HS_VW < 8
#define IN_REGISTER(v) __asm__("" : "+x"(v))
#else
#define IN_REGISTER(v) ((void)0)
#endif

/* acc[i][j][s * HS_VW ..] += x_i . y_j over the lanes of sub-block s, nv
 * lane groups of 8 columns, ni x nj rows (constants after inlining: the
 * ni nj sums stay in registers). */
INLINE void gram_tile(int ni, int nj, const double *const *x, const double *const *y, int nv,
                      int s, double (*acc)[4][LANES]) {
  vd a[4][4];
  const double *xp[4], *yp[4]; /* local: no store can move them */
  UNROLL for (int i = 0; i < ni; i++) xp[i] = x[i] + s * HS_VW;
  UNROLL for (int j = 0; j < nj; j++) yp[j] = y[j] + s * HS_VW;
  UNROLL for (int i = 0; i < ni; i++)
    UNROLL for (int j = 0; j < nj; j++) memcpy(&a[i][j], &acc[i][j][s * HS_VW], sizeof(vd));
  for (int v = 0; v < nv; v++) {
    vd xv[4], yv[4];
    UNROLL for (int i = 0; i < ni; i++) memcpy(&xv[i], xp[i] + v * LANES, sizeof(vd));
    UNROLL for (int j = 0; j < nj; j++) {
      memcpy(&yv[j], yp[j] + v * LANES, sizeof(vd));
      IN_REGISTER(yv[j]);
    }
    UNROLL for (int i = 0; i < ni; i++)
      UNROLL for (int j = 0; j < nj; j++) a[i][j] += xv[i] * yv[j];
  }
  UNROLL for (int i = 0; i < ni; i++)
    UNROLL for (int j = 0; j < nj; j++) memcpy(&acc[i][j][s * HS_VW], &a[i][j], sizeof(vd));
}

/* A 4 x 4 block of rows: one tile of 16 sums with 8-double registers (32
 * of them), two tiles of 2 x 4 per sub-block below (16 registers). */
INLINE void gram_block(const double *const x[4], const double *const y[4], int nv,
                       double (*acc)[4][LANES]) {
  if (HS_VW == 8) {
    gram_tile(4, 4, x, y, nv, 0, acc);
    return;
  }
  for (int s = 0; s < SUB; s++) {
    gram_tile(2, 4, x, y, nv, s, acc);
    gram_tile(2, 4, x + 2, y, nv, s, acc + 2);
  }
}

void HS_ROWS_GRAM(int n, int d, const double *M, double *G) {
  int nb = (n + 3) / 4, body = d / LANES * LANES;
  enum { NB = HS_ROWS_MAX / 4 };
  double acc[NB * (NB + 1) / 2][4][4][LANES]; /* the lower block pairs' sums */
  memset(acc, 0, sizeof(acc[0]) * (size_t)(nb * (nb + 1) / 2));
  for (int c0 = 0; c0 < body; c0 += CHUNK) {
    int nc = body - c0 < CHUNK ? body - c0 : CHUNK;
    const double *row[HS_ROWS_MAX + 3];
    for (int a = 0; a < nb * 4; a++) row[a] = a < n ? M + (size_t)a * d + c0 : zeros;
    for (int A = 0, p = 0; A < nb; A++)
      for (int B = 0; B <= A; B++, p++) gram_block(row + 4 * A, row + 4 * B, nc / LANES, acc[p]);
  }
  for (int A = 0, p = 0; A < nb; A++)
    for (int B = 0; B <= A; B++, p++)
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          int a = 4 * A + i, b = 4 * B + j;
          if (a >= n || b > a) continue;
          const double *x = M + (size_t)a * d, *y = M + (size_t)b * d;
          double sum = 0;
          for (int c = body; c < d; c++) sum += x[c] * y[c];
          for (int l = 0; l < LANES; l++) sum += acc[p][i][j][l];
          G[a * n + b] = sum;
        }
}

/* D[h][0..tv vectors) = sum_j coef[h][j] M[j][c0..] for nh rows and tv
 * vectors of columns (constants after inlining: nh tv sums in registers,
 * each loaded vector feeding nh multiply-adds, each broadcast coefficient
 * tv). D's rows are TW columns apart. */
enum { TW = 32, TV = TW / HS_VW };
INLINE void update_tile(int nh, int tv, int m, int d, const double *coef, int ldc,
                        const double *M, double *D) {
  vd a[8][4];
  UNROLL for (int h = 0; h < nh; h++)
    UNROLL for (int v = 0; v < tv; v++) a[h][v] = (vd){0};
  for (int j = 0; j < m; j++) {
    vd u[4];
    UNROLL for (int v = 0; v < tv; v++) {
      memcpy(&u[v], M + (size_t)j * d + v * HS_VW, sizeof(vd));
      IN_REGISTER(u[v]);
    }
    UNROLL for (int h = 0; h < nh; h++) {
      double f = coef[h * ldc + j];
      UNROLL for (int v = 0; v < tv; v++) a[h][v] += f * u[v];
    }
  }
  UNROLL for (int h = 0; h < nh; h++)
    UNROLL for (int v = 0; v < tv; v++) memcpy(D + h * TW + v * HS_VW, &a[h][v], sizeof(vd));
}

/* nh rows of D over TW columns in tiles of tv vectors. */
INLINE void update_rows(int nh, int tv, int m, int d, const double *coef, const double *M,
                        double *D) {
  for (int v = 0; v < TV; v += tv)
    update_tile(nh, tv, m, d, coef, m, M + v * HS_VW, D + v * HS_VW);
}

/* Rows h.. of D over TW columns. 8-double registers (32): eight rows with
 * two vectors, then four and one with four; 16 registers: four rows with
 * two vectors, then two and one with four. */
INLINE void update_columns(int H, int m, int d, const double *coef, const double *M, double *D) {
  int h = 0;
  if (HS_VW == 8)
    for (; h + 8 <= H; h += 8) update_rows(8, 2, m, d, coef + h * m, M, D + h * TW);
  else
    for (; h + 4 <= H; h += 4) update_rows(4, 2, m, d, coef + h * m, M, D + h * TW);
  if (HS_VW == 8)
    for (; h + 4 <= H; h += 4) update_rows(4, 4, m, d, coef + h * m, M, D + h * TW);
  else
    for (; h + 2 <= H; h += 2) update_rows(2, 4, m, d, coef + h * m, M, D + h * TW);
  for (; h < H; h++) update_rows(1, 4, m, d, coef + h * m, M, D + h * TW);
}

void HS_ROWS_UPDATE(int H, int m, int d, double alpha, const double *coef, const double *M,
                    double *W) {
  double D[HS_ROWS_MAX * TW];
  int c0 = 0;
  for (; c0 + TW <= d; c0 += TW) {
    /* every row's product of these columns before W's are written (W may
     * be rows of M) */
    update_columns(H, m, d, coef, M + c0, D);
    for (int h = 0; h < H; h++)
      for (int c = 0; c < TW; c++) W[(size_t)h * d + c0 + c] += alpha * D[h * TW + c];
  }
  for (int h = 0; h < H && c0 < d; h++)
    for (int c = c0; c < d; c++) {
      double sum = 0;
      for (int j = 0; j < m; j++) sum += coef[h * m + j] * M[(size_t)j * d + c];
      D[h * TW + c - c0] = sum;
    }
  for (int h = 0; h < H && c0 < d; h++)
    for (int c = c0; c < d; c++) W[(size_t)h * d + c] += alpha * D[h * TW + c - c0];
}
