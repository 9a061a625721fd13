/* rows.c: products of a few long rows (rows.h).
 *
 * OpenBLAS packs both operands of a product before its kernel runs; for an
 * 18 x 4000 SYRK that packing and its small-matrix paths left it at a
 * quarter of the core's multiply-add rate. Here the rows are read where
 * they lie: lane vectors of 8 columns, tiles of rows whose sums stay in
 * registers, columns in chunks that stay in L1 while every tile passes
 * over them. Each entry is summed in a fixed order (per lane over the
 * columns, then the tail, then the lanes), so the result does not depend
 * on the instruction set's vector width beyond FMA contraction.
 */
#include "rows.h"

#include <string.h>

#include "core/dispatch.h"

enum { LANES = 8, CHUNK = 128 /* columns: 18 rows of them are 18 KB */ };

typedef double vd __attribute__((vector_size(8 * LANES))); /* loaded by memcpy: rows
                                                             may be unaligned */
#define INLINE static inline __attribute__((always_inline))

static const double zeros[CHUNK];

/* acc[i][j] += x_i . y_j over nv lane vectors, 4 x 4 rows (missing rows
 * point at zeros). */
INLINE void gram_tile(const double *const x[4], const double *const y[4], int nv, vd acc[4][4]) {
  vd a[4][4];
  memcpy(a, acc, sizeof a);
  for (int v = 0; v < nv; v++) {
    vd xv[4], yv[4];
    for (int i = 0; i < 4; i++) memcpy(&xv[i], x[i] + v * LANES, sizeof(vd));
    for (int j = 0; j < 4; j++) memcpy(&yv[j], y[j] + v * LANES, sizeof(vd));
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 4; j++) a[i][j] += xv[i] * yv[j];
  }
  memcpy(acc, a, sizeof a);
}

HS_DISPATCH void hs_rows_gram(int n, int d, const double *M, double *G) {
  int nb = (n + 3) / 4, body = d / LANES * LANES;
  enum { NB = HS_ROWS_MAX / 4 };
  vd acc[NB * (NB + 1) / 2][4][4]; /* the lower block pairs' sums */
  memset(acc, 0, sizeof(vd) * 16 * (size_t)(nb * (nb + 1) / 2));
  for (int c0 = 0; c0 < body; c0 += CHUNK) {
    int nc = body - c0 < CHUNK ? body - c0 : CHUNK;
    const double *row[HS_ROWS_MAX + 3];
    for (int a = 0; a < nb * 4; a++) row[a] = a < n ? M + (size_t)a * d + c0 : zeros;
    for (int A = 0, p = 0; A < nb; A++)
      for (int B = 0; B <= A; B++, p++) gram_tile(row + 4 * A, row + 4 * B, nc / LANES, acc[p]);
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

/* D[h][0..tv lanes) = sum_j coef[h][j] M[j][c0..] for nh rows and tv lane
 * vectors of columns (constants after inlining: nh tv sums in registers,
 * each loaded vector feeding nh multiply-adds, each broadcast coefficient
 * tv). D's rows are TW columns apart. */
enum { TW = 32 };
INLINE void update_tile(int nh, int tv, int m, int d, const double *coef, int ldc,
                        const double *M, double *D) {
  vd a[8][4];
  for (int h = 0; h < nh; h++)
    for (int v = 0; v < tv; v++) a[h][v] = (vd){0};
  for (int j = 0; j < m; j++) {
    vd u[4];
    for (int v = 0; v < tv; v++) memcpy(&u[v], M + (size_t)j * d + v * LANES, sizeof(vd));
    for (int h = 0; h < nh; h++) {
      double f = coef[h * ldc + j];
      for (int v = 0; v < tv; v++) a[h][v] += f * u[v];
    }
  }
  for (int h = 0; h < nh; h++)
    for (int v = 0; v < tv; v++) memcpy(D + h * TW + v * LANES, &a[h][v], sizeof(vd));
}

/* Rows h.. of D over TW columns: eight at a time with two vectors, then
 * four and one with four. */
INLINE void update_columns(int H, int m, int d, const double *coef, const double *M, double *D) {
  int h = 0;
  for (; h + 8 <= H; h += 8)
    for (int v = 0; v < TW / LANES; v += 2)
      update_tile(8, 2, m, d, coef + h * m, m, M + v * LANES, D + h * TW + v * LANES);
  for (; h + 4 <= H; h += 4) update_tile(4, 4, m, d, coef + h * m, m, M, D + h * TW);
  for (; h < H; h++) update_tile(1, 4, m, d, coef + h * m, m, M, D + h * TW);
}

HS_DISPATCH void hs_rows_update(int H, int m, int d, double alpha, const double *coef,
                                const double *M, double *W) {
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
