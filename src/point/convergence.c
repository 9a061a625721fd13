/* convergence.c: whether a trajectory had stopped moving at its end (the
 * rule of docs/RESULTS.md), from its records and, for the ODE, from the
 * velocity its right-hand side gives and the linearised flow at its state
 * (a plateau is slow, but not converged). */
#include <math.h>
#include <string.h>

#include "headspec/stability.h"
#include "phase.h"

/* A saddle: the m block's largest growth rate above this share of its
 * largest |eigenvalue| (the relative tolerance the stability phase counts
 * unstable modes with; the numerical zero modes of a flat direction sit
 * near 1e-8 of it, a plateau's escape direction at 0.1-1). */
#define SADDLE_TOL 1e-3
/* central-difference step of the m block (as the stability phase's) */
#define SADDLE_FD_STEP 1e-5

/* The record that starts the last stretch before record J: the last one at
 * or before t_J / 2 with t > 0 (the log-time secant needs t > 0); -1 if
 * there is none. */
static int stretch_start(const double *t, int J) {
  int a = -1;
  for (int j = 0; j < J; j++)
    if (t[j] > 0 && t[j] <= 0.5 * t[J]) a = j;
  return a;
}

/* theta = (m, Q, b, lambda) at record j, as one vector: its distance to
 * record a (a = -1: its norm). */
static double distance(const hs_trajectory *tr, int H, int K, int j, int a) {
  double s = 0;
  const struct { const double *x; int n; } parts[] = {
      {tr->m, H * K}, {tr->Q, H * H}, {tr->b, H}, {tr->lambda, 1}};
  for (size_t p = 0; p < sizeof parts / sizeof *parts; p++)
    for (int i = 0; i < parts[p].n; i++) {
      double d = parts[p].x[(size_t)j * parts[p].n + i] -
                 (a < 0 ? 0 : parts[p].x[(size_t)a * parts[p].n + i]);
      s += d * d;
    }
  return sqrt(s);
}

void hs_convergence_of(const hs_trajectory *tr, int H, int K, int J, const hs_point *p,
                       double velocity, double *loss_rate, double *speed, double *converged) {
  *loss_rate = *speed = *converged = NAN;
  int a = J >= 1 ? stretch_start(tr->t, J) : -1;
  if (a < 0) return;
  double log_span = log(tr->t[J] / tr->t[a]);
  /* relative to |theta| (at least 1, so that a state near 0 is not fast) */
  double scale = fmax(distance(tr, H, K, J, -1), 1);
  *loss_rate = fabs(tr->loss[J] - tr->loss[a]) / (fabs(tr->loss[J]) * log_span);
  *speed = (isnan(velocity) ? distance(tr, H, K, J, a) / log_span : tr->t[J] * velocity) / scale;
  if (isfinite(*loss_rate) && isfinite(*speed))
    *converged = *loss_rate < p->converged_loss_tol && *speed < p->converged_speed_tol;
}

double hs_order_velocity(int H, int K, const double *y, const double *dydt) {
  int width = K + H;
  const double *R = y, *dR = dydt;
  double s = 0;
  for (int h = 0; h < H; h++) /* dm = dR[:, :K] */
    for (int k = 0; k < K; k++) s += dR[h * width + k] * dR[h * width + k];
  for (int h = 0; h < H; h++) /* dQ = dR R^T + R dR^T */
    for (int g = 0; g < H; g++) {
      double dq = 0;
      for (int i = 0; i < width; i++)
        dq += dR[h * width + i] * R[g * width + i] + R[h * width + i] * dR[g * width + i];
      s += dq * dq;
    }
  for (int i = 0; i < H + 1; i++) s += dydt[H * width + i] * dydt[H * width + i]; /* b, lambda */
  return sqrt(s);
}

hs_status hs_convergence_check_saddle(hs_ode *ode, int H, int K, const double *y,
                                      double *converged, hs_err *err) {
  if (*converged != 1 || H * K > HS_SADDLE_MAX_BLOCK) return HS_OK;
  double top, stiffest;
  hs_status st = hs_stability_m_rates(ode, H, K, y, SADDLE_FD_STEP, &top, &stiffest, err);
  if (!st && top > SADDLE_TOL * stiffest) *converged = 0;
  return st;
}
