/* stability.c: the linearised flow (stability.h, issue 20): the reference
 * subspaces, the Jacobian of the ODE's right-hand side, its eigenmodes and
 * the tangent flow that times each spike direction's escape. (Over 400
 * lines as one calculation: the three steps share the reference subspaces
 * and the Jacobian's layout.) */
#include "headspec/stability.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_complex_math.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

void hs_stability_project(const hs_stability_flow *f, double *v) {
  int H = f->H, K = f->K, W = K + H;
  if (f->symmetric) {
    /* Lemma A.1: the head-permutation average of a tangent vector */
    for (int k = 0; k < K; k++) {
      double s = 0;
      for (int h = 0; h < H; h++) s += v[h * W + k];
      for (int h = 0; h < H; h++) v[h * W + k] = s / H;
    }
    double diag = 0, off = 0, sb = 0;
    for (int h = 0; h < H; h++)
      for (int j = 0; j < H; j++) *(h == j ? &diag : &off) += v[h * W + K + j];
    diag /= H;
    off = H > 1 ? off / ((double)H * (H - 1)) : 0;
    for (int h = 0; h < H; h++)
      for (int j = 0; j < H; j++) v[h * W + K + j] = h == j ? diag : off;
    for (int h = 0; h < H; h++) sb += v[H * W + h];
    for (int h = 0; h < H; h++) v[H * W + h] = sb / H;
  }
  if (f->zero_spike)
    for (int k = 0; k < K; k++)
      if (f->zero_spike[k])
        for (int h = 0; h < H; h++) v[h * W + k] = 0;
}

hs_status hs_stability_symmetric_state(int H, int K, const double *y, double *ys, hs_err *err) {
  int W = K + H;
  memcpy(ys, y, sizeof(double) * hs_ode_dim(H, K));
  hs_stability_flow f = {.H = H, .K = K, .symmetric = 1};
  hs_stability_project(&f, ys); /* m and b averaged (V is redone below) */
  /* the head-averaged Q_perp = V V^T: a on the diagonal, c off it */
  double a = 0, c = 0;
  for (int h = 0; h < H; h++)
    for (int j = 0; j < H; j++) {
      double q = 0;
      for (int i = 0; i < H; i++) q += y[h * W + K + i] * y[j * W + K + i];
      *(h == j ? &a : &c) += q;
    }
  a /= H;
  c = H > 1 ? c / ((double)H * (H - 1)) : 0;
  /* eigenvalues on 1 and on its complement; their square roots make
   * V = s0 I + (s1 - s0)/H 1 1^T with V^2 = Q_perp */
  double l1 = a + (H - 1) * c, l0 = a - c;
  if (!(l1 >= -1e-12 && l0 >= -1e-12))
    return hs_err_set(err, HS_ENUM, "the head-averaged Q_perp is not positive semi-definite");
  double s1 = sqrt(fmax(l1, 0)), s0 = sqrt(fmax(l0, 0));
  for (int h = 0; h < H; h++)
    for (int j = 0; j < H; j++) ys[h * W + K + j] = (h == j ? s0 : 0) + (s1 - s0) / H;
  return HS_OK;
}

hs_status hs_stability_jacobian(hs_ode *ode, int H, int K, const double *y, double h,
                                double *J, hs_err *err) {
  size_t n = hs_ode_dim(H, K);
  double *yp = malloc(sizeof(double) * n), *fp = malloc(sizeof(double) * n),
         *fm = malloc(sizeof(double) * n);
  hs_status st = !yp || !fp || !fm ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  if (!st) memcpy(yp, y, sizeof(double) * n);
  for (size_t j = 0; j < n && !st; j++) {
    yp[j] = y[j] + h;
    st = hs_ode_rhs(ode, yp, fp, err);
    yp[j] = y[j] - h;
    if (!st) st = hs_ode_rhs(ode, yp, fm, err);
    yp[j] = y[j];
    for (size_t i = 0; i < n && !st; i++) J[i * n + j] = (fp[i] - fm[i]) / (2 * h);
  }
  free(yp), free(fp), free(fm);
  return st;
}

/* The largest real part and the largest modulus among the eigenvalues of
 * the n x n matrix A (overwritten), symmetrised first when it is symmetric
 * to 1e-6 of its largest entry (then its eigenvalues are real). */
static int extreme_eigenvalues(double *A, size_t n, double *top, double *modulus) {
  double big = 0, gap = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      big = fmax(big, fabs(A[i * n + j]));
      gap = fmax(gap, fabs(A[i * n + j] - A[j * n + i]));
    }
  int symmetric = gap <= 1e-6 * big;
  if (symmetric)
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < i; j++) A[i * n + j] = A[j * n + i] = 0.5 * (A[i * n + j] + A[j * n + i]);
  gsl_set_error_handler_off(); /* a failure is reported, not an abort */
  gsl_matrix_view a = gsl_matrix_view_array(A, n, n);
  *top = -INFINITY, *modulus = 0;
  int bad = 1;
  if (symmetric) {
    gsl_vector *e = gsl_vector_alloc(n);
    gsl_eigen_symm_workspace *ws = gsl_eigen_symm_alloc(n);
    bad = !e || !ws || gsl_eigen_symm(&a.matrix, e, ws);
    for (size_t i = 0; i < n && !bad; i++)
      *top = fmax(*top, gsl_vector_get(e, i)), *modulus = fmax(*modulus, fabs(gsl_vector_get(e, i)));
    if (ws) gsl_eigen_symm_free(ws);
    if (e) gsl_vector_free(e);
  } else {
    gsl_vector_complex *e = gsl_vector_complex_alloc(n);
    gsl_eigen_nonsymm_workspace *ws = gsl_eigen_nonsymm_alloc(n);
    bad = !e || !ws || gsl_eigen_nonsymm(&a.matrix, e, ws);
    for (size_t i = 0; i < n && !bad; i++) {
      gsl_complex z = gsl_vector_complex_get(e, i);
      *top = fmax(*top, GSL_REAL(z)), *modulus = fmax(*modulus, gsl_complex_abs(z));
    }
    if (ws) gsl_eigen_nonsymm_free(ws);
    if (e) gsl_vector_complex_free(e);
  }
  return bad;
}

hs_status hs_stability_m_rates(hs_ode *ode, int H, int K, const double *y, double h,
                               double *top, double *stiffest, hs_err *err) {
  int W = K + H, n = H * K;
  size_t dim = hs_ode_dim(H, K);
  double *yp = malloc(sizeof(double) * dim), *fp = malloc(sizeof(double) * dim),
         *fm = malloc(sizeof(double) * dim), *A = malloc(sizeof(double) * n * n);
  hs_status st = !yp || !fp || !fm || !A ? hs_err_set(err, HS_ENOMEM, "out of memory") : HS_OK;
  if (!st) memcpy(yp, y, sizeof(double) * dim);
  /* column c of the block: d(dm/dt)/d m_c, m_c = m_hk at R[h W + k] */
  for (int c = 0; c < n && !st; c++) {
    size_t at = (size_t)(c / K) * W + c % K;
    yp[at] = y[at] + h;
    st = hs_ode_rhs(ode, yp, fp, err);
    yp[at] = y[at] - h;
    if (!st) st = hs_ode_rhs(ode, yp, fm, err);
    yp[at] = y[at];
    for (int r = 0; r < n && !st; r++)
      A[(size_t)r * n + c] = (fp[(size_t)(r / K) * W + r % K] - fm[(size_t)(r / K) * W + r % K]) / (2 * h);
  }
  double modulus = 0;
  if (!st && extreme_eigenvalues(A, (size_t)n, top, &modulus))
    st = hs_err_set(err, HS_ENUM, "the eigenvalues of the Jacobian's m block failed");
  if (!st && stiffest) *stiffest = modulus;
  free(yp), free(fp), free(fm), free(A);
  return st;
}

/* Classify mode i from the squared moduli w (n) of its eigenvector. */
static void classify(const double *w, int H, int K, hs_stability_mode *mode, double *spike_w,
                     const double *re, const double *im) {
  int W = K + H;
  size_t n = hs_ode_dim(H, K);
  double total = 0, on_m = 0;
  for (size_t i = 0; i < n; i++) total += w[i];
  double best = -1;
  mode->spike = 0;
  for (int k = 0; k < K; k++) {
    double s = 0;
    for (int h = 0; h < H; h++) s += w[h * W + k];
    on_m += s;
    if (spike_w) spike_w[k] = s;
    if (s > best) best = s, mode->spike = k;
  }
  if (spike_w)
    for (int k = 0; k < K; k++) spike_w[k] = on_m > 0 ? spike_w[k] / on_m : 0;
  mode->m_weight = total > 0 ? on_m / total : 0;
  mode->purity = on_m > 0 ? best / on_m : 0;
  double sr = 0, si = 0;
  for (int h = 0; h < H; h++) sr += re[h * W + mode->spike], si += im[h * W + mode->spike];
  mode->together = best > 0 ? (sr * sr + si * si) / (H * best) : 0;
}

static double asymmetry_of(const double *J, size_t n) {
  double big = 0, gap = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      big = fmax(big, fabs(J[i * n + j]));
      gap = fmax(gap, fabs(J[i * n + j] - J[j * n + i]));
    }
  return big > 0 ? gap / big : 0;
}

/* gsl_eigen_symmv on the symmetric part: real modes, sorted. */
static int eigen_symmetric(const double *J, size_t n, double *rate, double *imag,
                           double *vre, double *vim) {
  gsl_matrix *A = gsl_matrix_alloc(n, n), *V = gsl_matrix_alloc(n, n);
  gsl_vector *e = gsl_vector_alloc(n);
  gsl_eigen_symmv_workspace *ws = gsl_eigen_symmv_alloc(n);
  int bad = !A || !V || !e || !ws;
  if (!bad) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        gsl_matrix_set(A, i, j, 0.5 * (J[i * n + j] + J[j * n + i]));
    bad = gsl_eigen_symmv(A, e, V, ws) || gsl_eigen_symmv_sort(e, V, GSL_EIGEN_SORT_VAL_DESC);
  }
  for (size_t m = 0; m < n && !bad; m++) {
    rate[m] = gsl_vector_get(e, m), imag[m] = 0;
    for (size_t i = 0; i < n; i++) vre[m * n + i] = gsl_matrix_get(V, i, m), vim[m * n + i] = 0;
  }
  if (ws) gsl_eigen_symmv_free(ws);
  if (e) gsl_vector_free(e);
  if (V) gsl_matrix_free(V);
  if (A) gsl_matrix_free(A);
  return bad;
}

/* order[] = 0..n-1 by key, largest first (insertion sort: n is small, and
 * qsort would need the key in a global) */
static void sort_desc(const double *key, size_t *order, size_t n) {
  for (size_t i = 0; i < n; i++) {
    size_t j = i, o = i;
    for (; j > 0 && key[order[j - 1]] < key[o]; j--) order[j] = order[j - 1];
    order[j] = o;
  }
}

/* gsl_eigen_nonsymmv: complex modes, sorted by real part. */
static int eigen_general(const double *J, size_t n, double *rate, double *imag, double *vre,
                         double *vim) {
  gsl_matrix *A = gsl_matrix_alloc(n, n);
  gsl_vector_complex *e = gsl_vector_complex_alloc(n);
  gsl_matrix_complex *V = gsl_matrix_complex_alloc(n, n);
  gsl_eigen_nonsymmv_workspace *ws = gsl_eigen_nonsymmv_alloc(n);
  size_t *order = malloc(sizeof(size_t) * n);
  double *re = malloc(sizeof(double) * n);
  int bad = !A || !e || !V || !ws || !order || !re;
  if (!bad) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) gsl_matrix_set(A, i, j, J[i * n + j]);
    bad = gsl_eigen_nonsymmv(A, e, V, ws);
  }
  if (!bad) {
    for (size_t m = 0; m < n; m++) re[m] = GSL_REAL(gsl_vector_complex_get(e, m));
    sort_desc(re, order, n);
    for (size_t m = 0; m < n; m++) {
      gsl_complex z = gsl_vector_complex_get(e, order[m]);
      rate[m] = GSL_REAL(z), imag[m] = GSL_IMAG(z);
      for (size_t i = 0; i < n; i++) {
        gsl_complex v = gsl_matrix_complex_get(V, i, order[m]);
        vre[m * n + i] = GSL_REAL(v), vim[m * n + i] = GSL_IMAG(v);
      }
    }
  }
  free(order), free(re);
  if (ws) gsl_eigen_nonsymmv_free(ws);
  if (V) gsl_matrix_complex_free(V);
  if (e) gsl_vector_complex_free(e);
  if (A) gsl_matrix_free(A);
  return bad;
}

hs_status hs_stability_modes(const double *J, int H, int K, hs_stability_mode *modes,
                             double *spike_w, double *asymmetry, hs_err *err) {
  size_t n = hs_ode_dim(H, K);
  double asym = asymmetry_of(J, n);
  if (asymmetry) *asymmetry = asym;
  double *rate = malloc(sizeof(double) * n), *imag = malloc(sizeof(double) * n);
  double *vre = malloc(sizeof(double) * n * n), *vim = malloc(sizeof(double) * n * n);
  double *w = malloc(sizeof(double) * n);
  hs_status st = !rate || !imag || !vre || !vim || !w
                     ? hs_err_set(err, HS_ENOMEM, "out of memory for the eigenmodes")
                     : HS_OK;
  /* the gradient flow's Jacobian is minus a Hessian: symmetric up to the
   * differences' error (~1e-11); the noise term or kappa != 1 break that */
  if (!st && (asym < 1e-6 ? eigen_symmetric : eigen_general)(J, n, rate, imag, vre, vim))
    st = hs_err_set(err, HS_ENUM, "the eigen-decomposition of the Jacobian failed");
  for (size_t m = 0; m < n && !st; m++) {
    const double *re = vre + m * n, *im = vim + m * n;
    for (size_t i = 0; i < n; i++) w[i] = re[i] * re[i] + im[i] * im[i];
    modes[m].rate = rate[m], modes[m].imag = imag[m];
    classify(w, H, K, &modes[m], spike_w ? spike_w + m * K : NULL, re, im);
  }
  free(rate), free(imag), free(vre), free(vim), free(w);
  return st;
}

double hs_stability_growth(const hs_stability_mode *modes, const double *spike_w, int n, int K,
                           int k, double tol, int *unstable, double *together) {
  double best = NAN;
  *unstable = 0;
  *together = NAN;
  for (int m = 0; m < n; m++) {
    if (modes[m].m_weight <= 0.5 || spike_w[m * K + k] < 0.25) continue;
    if (modes[m].rate > tol) (*unstable)++;
    if (isnan(best) || modes[m].rate > best) best = modes[m].rate, *together = modes[m].together;
  }
  return best;
}

/* ---- the tangent flow ------------------------------------------------------------ */

typedef struct tangent {
  const hs_stability_flow *f;
  size_t n;
  double *F0, *Fp, *Fm, *yp;
  hs_err fault;
} tangent;

/* z = (y_ref, delta): y_ref' = P F(y_ref); delta' = J delta + (1 - P) F(y_ref),
 * J delta by a central difference along delta. */
static int tangent_rhs(double t, const double z[], double dz[], void *params) {
  (void)t;
  tangent *c = params;
  size_t n = c->n;
  const double *y = z, *d = z + n;
  if (hs_ode_rhs(c->f->ode, y, c->F0, &c->fault)) return GSL_EBADFUNC;
  memcpy(dz, c->F0, sizeof(double) * n);
  hs_stability_project(c->f, dz);
  double norm = 0;
  for (size_t i = 0; i < n; i++) dz[n + i] = c->F0[i] - dz[i], norm += d[i] * d[i];
  norm = sqrt(norm);
  if (norm == 0) return GSL_SUCCESS;
  double s = c->f->fd_step > 0 ? c->f->fd_step : 1e-5;
  for (size_t i = 0; i < n; i++) c->yp[i] = y[i] + s * d[i] / norm;
  if (hs_ode_rhs(c->f->ode, c->yp, c->Fp, &c->fault)) return GSL_EBADFUNC;
  for (size_t i = 0; i < n; i++) c->yp[i] = y[i] - s * d[i] / norm;
  if (hs_ode_rhs(c->f->ode, c->yp, c->Fm, &c->fault)) return GSL_EBADFUNC;
  for (size_t i = 0; i < n; i++) dz[n + i] += norm * (c->Fp[i] - c->Fm[i]) / (2 * s);
  return GSL_SUCCESS;
}

/* max_h |m_hk| of y_ref + delta */
static double spike_size(const hs_stability_flow *f, const double *z, size_t n, int k) {
  int W = f->K + f->H;
  double big = 0;
  for (int h = 0; h < f->H; h++) big = fmax(big, fabs(z[h * W + k] + z[n + h * W + k]));
  return big;
}

/* Record the escapes at sample time t (previous sample at tp, sizes prev,
 * reference state ref_p there): time, signs, and the nearer sample's
 * reference state into at_escape (may be NULL). */
static int note_escapes(const hs_stability_flow *f, const double *z, size_t n, double tp,
                        double t, const double *ref_p, double *prev, double *t_escape,
                        double *sign, double *at_escape) {
  int W = f->K + f->H, left = 0;
  double thr = f->threshold;
  for (int k = 0; k < f->K; k++) {
    if (!isnan(t_escape[k])) continue;
    double v = spike_size(f, z, n, k);
    if (v >= thr) {
      /* exponential growth: interpolate log |m| linearly */
      t_escape[k] = isnan(prev[k]) ? t
                    : prev[k] > 0 && v > prev[k]
                        ? tp + (t - tp) * log(thr / prev[k]) / log(v / prev[k])
                        : t;
      for (int h = 0; h < f->H; h++) {
        double m = z[h * W + k] + z[n + h * W + k];
        sign[h * f->K + k] = (m > 0) - (m < 0);
      }
      if (at_escape)
        memcpy(at_escape + (size_t)k * n, t_escape[k] - tp < t - t_escape[k] ? ref_p : z,
               sizeof(double) * n);
    } else {
      left++;
    }
    prev[k] = v;
  }
  return left;
}

hs_status hs_stability_escape(const hs_stability_flow *f, const double *y_ref,
                              const double *delta0, double t0, double t1, int steps,
                              double *t_escape, double *sign, double *at_escape, hs_err *err) {
  int H = f->H, K = f->K;
  size_t n = hs_ode_dim(H, K);
  tangent c = {.f = f, .n = n};
  double *z = malloc(sizeof(double) * 2 * n), *prev = malloc(sizeof(double) * K);
  double *ref_p = malloc(sizeof(double) * n);
  c.F0 = malloc(sizeof(double) * n), c.Fp = malloc(sizeof(double) * n);
  c.Fm = malloc(sizeof(double) * n), c.yp = malloc(sizeof(double) * n);
  gsl_odeiv2_system sys = {tangent_rhs, NULL, 2 * n, &c};
  gsl_set_error_handler_off();
  gsl_odeiv2_driver *drv =
      gsl_odeiv2_driver_alloc_y_new(&sys, gsl_odeiv2_step_rkf45, 1e-3, f->atol, f->rtol);
  hs_status st = !z || !prev || !ref_p || !c.F0 || !c.Fp || !c.Fm || !c.yp || !drv
                     ? hs_err_set(err, HS_ENOMEM, "out of memory for the tangent flow")
                     : HS_OK;
  if (!st) {
    gsl_odeiv2_driver_set_nmax(drv, 1000000);
    memcpy(z, y_ref, sizeof(double) * n);
    memcpy(z + n, delta0, sizeof(double) * n);
    memcpy(ref_p, y_ref, sizeof(double) * n);
    for (int k = 0; k < K; k++) t_escape[k] = NAN, prev[k] = NAN;
    for (int i = 0; i < H * K; i++) sign[i] = 0;
  }
  double t = t0, tp = t0;
  for (int s = 0; s <= steps && !st; s++) {
    double ts = t0 + (t1 - t0) * s / steps;
    int status = s == 0 ? GSL_SUCCESS : gsl_odeiv2_driver_apply(drv, &t, ts, z);
    if (status != GSL_SUCCESS) {
      st = c.fault.code ? hs_err_set(err, c.fault.code, "tangent flow at t = %g: %s", t,
                                     c.fault.msg)
                        : hs_err_set(err, HS_ENUM, "tangent flow failed at t = %g: %s", t,
                                     gsl_strerror(status));
      break;
    }
    if (!note_escapes(f, z, n, tp, ts, ref_p, prev, t_escape, sign, at_escape)) break;
    tp = ts;
    memcpy(ref_p, z, sizeof(double) * n);
  }
  for (int k = 0; k < K && !st && at_escape; k++) /* never escaped: the last state */
    if (isnan(t_escape[k])) memcpy(at_escape + (size_t)k * n, z, sizeof(double) * n);
  if (drv) gsl_odeiv2_driver_free(drv);
  free(z), free(prev), free(ref_p), free(c.F0), free(c.Fp), free(c.Fm), free(c.yp);
  return st;
}

void hs_stability_measured_escape(int T, const double *t, const double *m, int H, int K,
                                  double threshold, double *t_escape) {
  for (int k = 0; k < K; k++) {
    t_escape[k] = NAN;
    double prev = NAN;
    for (int r = 0; r < T; r++) {
      double v = 0;
      for (int h = 0; h < H; h++) v = fmax(v, fabs(m[((size_t)r * H + h) * K + k]));
      if (v >= threshold) {
        t_escape[k] = r == 0 ? t[0]
                      : prev > 0 && v > prev
                          ? t[r - 1] + (t[r] - t[r - 1]) * log(threshold / prev) / log(v / prev)
                          : t[r];
        break;
      }
      prev = v;
    }
  }
}
