/* ode.c: the order-parameter dynamics (ode.h): the right-hand side, with
 * the control variate, and hs_ode_advance dispatching to the stepper the
 * config picks from the table of ode_stepper.h. */
#include "headspec/ode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

#include "ode_stepper.h"

/* The steppers by hs_ode_method. ode.method names the adaptive ones, those
 * before HS_ODE_EULER; resample_dt > 0 picks euler. */
static const hs_ode_stepper *const steppers[] = {
    [HS_ODE_RKF45] = &hs_ode_rkf45, [HS_ODE_BDF] = &hs_ode_bdf, [HS_ODE_EULER] = &hs_ode_euler};
enum { N_NAMED = HS_ODE_EULER };

struct hs_ode {
  hs_population *pop;
  hs_ode_config cfg;
  int H, K, width;
  const hs_ode_stepper *stepper;
  void *state; /* the stepper's */
  double *gR, *gb, *N;
  gsl_matrix *V, *X;
  gsl_permutation *perm;
  long calls; /* right-hand sides evaluated */
  /* the control variate: per feature, whether it applies, its gate, whether
   * its column is zeroed now; the m-gradient at the zeroed state */
  unsigned char *cv_on, *zero;
  long cv_calls;
  double *gate, *gmz;
};

int hs_ode_method_find(const char *name) {
  for (int m = 0; m < N_NAMED; m++)
    if (strcmp(name, steppers[m]->name) == 0) return m;
  return -1;
}

const char *hs_ode_method_names(void) {
  static char names[N_NAMED * HS_NAME_LEN];
  if (!names[0])
    for (int m = 0; m < N_NAMED; m++) {
      if (m) strcat(names, " ");
      strcat(names, steppers[m]->name);
    }
  return names;
}


long hs_ode_rhs_calls(const hs_ode *ode) { return ode->calls; }
long hs_ode_cv_calls(const hs_ode *ode) { return ode->cv_calls; }

void hs_ode_cv_features(const hs_ode *ode, double *applied) {
  for (int k = 0; k < ode->K && applied; k++) applied[k] = ode->cv_on ? ode->cv_on[k] : 0;
}

double hs_ode_gate(double x) {
  double cut = 1 / (1 + pow(HS_ODE_GATE_CUT / 0.3, 4));
  double g = 1 / (1 + pow(x / 0.3, 4));
  return g > cut ? (g - cut) / (1 - cut) : 0;
}

/* The gated control variate (ode.h): dm_.k/dt += gate_k dLpop/dm_.k at
 * the state with every open column of m zeroed, one extra state for all of
 * them. (One state per open column, each with only its own column zeroed,
 * gave the same escapes to 1 % at N = 4096 for up to K extra states;
 * switching between the two as columns grow made the right-hand side jump
 * and cost rkf45 1.6x the steps.) The noise term's N and the V, b, lambda
 * gradients are left as they are: they are even under the flips. Here the
 * gates and which columns are zeroed; 0 if none is open. */
static int open_gates(hs_ode *ode, const double *y) {
  int H = ode->H, K = ode->K, width = ode->width, open = 0;
  for (int k = 0; k < K; k++) {
    double x = 0;
    for (int h = 0; h < H; h++) x = fmax(x, fabs(y[h * width + k]));
    ode->gate[k] = ode->cv_on[k] ? hs_ode_gate(x) : 0;
    ode->zero[k] = ode->gate[k] > 0;
    open += ode->zero[k];
  }
  return open;
}

/* The correction from the zeroed state's m-gradient gmz (H x K). */
static void add_control_variate(const hs_ode *ode, double *dydt) {
  for (int k = 0; k < ode->K; k++)
    for (int h = 0; h < ode->H && ode->zero[k]; h++)
      dydt[h * ode->width + k] += ode->gate[k] * ode->gmz[h * ode->K + k];
}

size_t hs_ode_dim(int H, int K) { return (size_t)H * (K + H) + H + 1; }

/* dV/dt += (eta/B)/2 N V^{-T}: solve V Y = N, add Y^T (N is symmetric). */
static int add_noise_term(hs_ode *ode, const double *R, double *dR) {
  int H = ode->H, K = ode->K, width = ode->width, sign;
  for (int h = 0; h < H; h++)
    for (int j = 0; j < H; j++) gsl_matrix_set(ode->V, h, j, R[h * width + K + j]);
  gsl_linalg_LU_decomp(ode->V, ode->perm, &sign);
  double det = gsl_linalg_LU_lndet(ode->V);
  if (!isfinite(det) || det < -700) return GSL_EDOM; /* V singular */
  for (int j = 0; j < H; j++) {
    gsl_vector_view col = gsl_matrix_column(ode->X, j);
    for (int h = 0; h < H; h++) gsl_vector_set(&col.vector, h, ode->N[h * H + j]);
    gsl_linalg_LU_svx(ode->V, ode->perm, &col.vector);
  }
  double c = 0.5 * ode->cfg.eta_over_B;
  for (int h = 0; h < H; h++)
    for (int j = 0; j < H; j++) dR[h * width + K + j] += c * gsl_matrix_get(ode->X, j, h);
  return GSL_SUCCESS;
}

hs_status hs_ode_rhs(hs_ode *ode, const double *y, double *dydt, hs_err *err) {
  int H = ode->H, width = ode->width;
  const double *R = y, *b = y + H * width;
  double lambda = y[H * width + H], glambda;
  const hs_activation *act = ode->pop->act;
  ode->calls++;
  int cv = ode->cv_on && open_gates(ode, y);
  ode->cv_calls += cv;
  double loss = cv ? hs_population_loss_zeroed(ode->pop, H, R, b, lambda, ode->gR, ode->gb,
                                               &glambda, ode->N, ode->zero, ode->gmz)
                   : hs_population_loss(ode->pop, H, R, NULL, b, lambda, ode->gR, ode->gb,
                                        &glambda, ode->N, NULL);
  if (hs_progress_stopped(ode->pop->progress))
    return hs_err_set(err, HS_EINTERRUPT, "interrupted");
  if (!isfinite(loss)) return hs_err_set(err, HS_ENUM, "population loss is not finite");
  for (int i = 0; i < H * width; i++) dydt[i] = -ode->gR[i];
  for (int h = 0; h < H; h++) dydt[H * width + h] = act->trains_b ? -ode->cfg.kappa * ode->gb[h] : 0;
  dydt[H * width + H] = act->trains_lambda ? -ode->cfg.kappa * glambda : 0;
  if (cv) add_control_variate(ode, dydt);
  if (ode->cfg.noise_term && ode->cfg.eta_over_B > 0 &&
      add_noise_term(ode, R, dydt) != GSL_SUCCESS)
    return hs_err_set(err, HS_ENUM,
                      "the noise term needs Q_perp positive definite (V is singular); "
                      "start with ode start_noise > 0 or set noise_term: false");
  return HS_OK;
}

/* Which features the control variate applies to; none: it stays off. */
static hs_status setup_control_variate(hs_ode *ode, const hs_dist *dist, hs_err *err) {
  int H = ode->H, K = ode->K, any = 0;
  unsigned char *on = calloc((size_t)K, 1);
  if (!on) return hs_err_set(err, HS_ENOMEM, "out of memory");
  for (int k = 0; k < K; k++) any |= on[k] = (unsigned char)hs_dist_flip_symmetric(dist, k);
  if (!any) {
    free(on);
    return HS_OK;
  }
  ode->cv_on = on;
  ode->zero = calloc((size_t)K, 1);
  ode->gmz = malloc(sizeof(double) * H * K);
  ode->gate = malloc(sizeof(double) * K);
  if (!ode->zero || !ode->gmz || !ode->gate) return hs_err_set(err, HS_ENOMEM, "out of memory");
  return HS_OK;
}

/* The stepper the config picks (the resampled flow: euler, whatever the
 * method), or NULL. */
static const hs_ode_stepper *stepper_for(const hs_ode_config *cfg) {
  if (cfg->resample_dt > 0) return &hs_ode_euler;
  return cfg->method >= 0 && (int)cfg->method < N_NAMED ? steppers[cfg->method] : NULL;
}

static hs_status alloc_rhs(hs_ode *ode, hs_err *err) {
  int H = ode->H, K = ode->K;
  ode->gR = malloc(sizeof(double) * H * (K + H));
  ode->gb = malloc(sizeof(double) * H);
  ode->N = malloc(sizeof(double) * H * H);
  ode->V = gsl_matrix_alloc((size_t)H, (size_t)H);
  ode->X = gsl_matrix_alloc((size_t)H, (size_t)H);
  ode->perm = gsl_permutation_alloc((size_t)H);
  if (!ode->gR || !ode->gb || !ode->N || !ode->V || !ode->X || !ode->perm)
    return hs_err_set(err, HS_ENOMEM, "out of memory for the ODE");
  return HS_OK;
}

hs_status hs_ode_create(hs_population *pop, const hs_ode_config *cfg,
                        hs_ode **out, hs_err *err) {
  hs_ode *ode = calloc(1, sizeof *ode);
  if (!ode) return hs_err_set(err, HS_ENOMEM, "out of memory");
  *ode = (hs_ode){.pop = pop, .cfg = *cfg, .H = pop->H, .K = pop->K, .width = pop->K + pop->H};
  gsl_set_error_handler_off();
  hs_status st = alloc_rhs(ode, err);
  if (!st && cfg->control_variate && cfg->dist) st = setup_control_variate(ode, cfg->dist, err);
  if (!st && !(ode->stepper = stepper_for(cfg)))
    st = hs_err_set(err, HS_EINPUT, "no adaptive ODE stepper %d (%s)", (int)cfg->method,
                    hs_ode_method_names());
  hs_ode_view view = {ode, &ode->cfg, ode->pop, hs_ode_dim(ode->H, ode->K), hs_ode_rhs};
  if (!st) st = ode->stepper->create(&view, &ode->state, err);
  if (st) {
    hs_ode_free(ode);
    return st;
  }
  *out = ode;
  return HS_OK;
}

void hs_ode_free(hs_ode *ode) {
  if (!ode) return;
  if (ode->state) ode->stepper->free(ode->state);
  free(ode->gR), free(ode->gb), free(ode->N);
  free(ode->cv_on), free(ode->zero), free(ode->gmz), free(ode->gate);
  if (ode->V) gsl_matrix_free(ode->V);
  if (ode->X) gsl_matrix_free(ode->X);
  if (ode->perm) gsl_permutation_free(ode->perm);
  free(ode);
}

hs_status hs_ode_advance(hs_ode *ode, double *y, double *t, double t1,
                         hs_err *err) {
  if (t1 <= *t) return HS_OK;
  return ode->stepper->advance(ode->state, y, t, t1, err);
}

