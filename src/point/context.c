/* context.c: what the phases of a point share (phase.h): the measured
 * model of a finite-d state, the training set's size and the cost terms
 * several phases pay. Below the phases: it calls none of them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/overlap.h"
#include "phase.h"

int hs_point_trains(const hs_point *p) { return p->run_sgd || p->run_ode; }

long hs_point_n_train(const hs_point *p) {
  if (p->n_train > 0) return p->n_train;
  if (!(p->alpha_train > 0)) return 0;
  double n = round(p->alpha_train * p->d);
  return n < 1 ? 1 : n > 2147483647.0 ? 2147483647 : (long)n;
}

double hs_cost_lpop_head(const hs_point *p) { return (double)p->ode_samples * p->L * 12e-9; }

int hs_point_control_variate(const hs_point *p, const hs_dist *dist) {
  if (!p->ode_control_variate) return 0;
  for (int k = 0; k < dist->K; k++)
    if (hs_dist_flip_symmetric(dist, k)) return 1;
  return 0;
}

double hs_cost_rhs(const hs_point *p, const hs_dist *dist) {
  double H = p->H;
  double rhs = (double)p->ode_samples * p->L * H * 4e-9 + (p->noise_term ? 3e-9 * H * H * H : 0);
  return hs_point_control_variate(p, dist) ? 1.6 * rhs : rhs;
}

double hs_cost_prune(const hs_point *p) {
  double H = p->H;
  return p->prune ? H * H * H / 3 * hs_cost_lpop_head(p) : 0;
}

double hs_cost_attention(const hs_point *p, int K) {
  return (double)p->attention_samples * p->L * p->H * (K + p->H) * 2e-9;
}

double hs_cost_maps(const hs_point *p) { return (double)p->maps * p->L * (p->d + p->H) * 8e-9; }

hs_status hs_point_represent_given(int H, int K, const double *m, const double *Q, double *R,
                                   hs_err *err) {
  double scale = 0;
  for (int h = 0; h < H; h++) scale = fmax(scale, fabs(Q[h * H + h]));
  return hs_population_represent_scaled(H, K, m, Q, scale, R, err);
}

/* MODEL.md section 5: measured (m, Q) as a reduced model that gives the
 * scores' exact law a_.1 ~ N(m c, Q), a_.l ~ N(0, Q). R = [m | chol(Q - m m^T)]
 * where that is PSD (as the ODE's start, so both use the samples the same
 * way); else (finite d) R = [0 | chol Q] with the shift m (*shift = m). */
hs_status hs_point_measured_model(int H, int K, const double *m, const double *Q,
                                  double *R, const double **shift, hs_err *err) {
  hs_err ignore;
  *shift = NULL;
  if (hs_population_represent(H, K, m, Q, R, &ignore) == HS_OK) return HS_OK;
  int width = K + H;
  double *Lc = calloc((size_t)H * H, sizeof(double));
  if (!Lc) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_cholesky_psd(H, Q, Lc, err);
  if (!st) {
    memset(R, 0, sizeof(double) * H * width);
    for (int h = 0; h < H; h++)
      for (int j = 0; j < H; j++) R[h * width + K + j] = Lc[h * H + j];
    *shift = m;
  }
  free(Lc);
  return st;
}
