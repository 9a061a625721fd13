/* ode.c: order-parameter dynamics with GSL odeiv2 or SUNDIALS CVODE (ode.h). */
#include "headspec/ode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_odeiv2.h>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

/* Steps one integration between two records may take before giving up. */
#define MAX_STEPS 1000000

struct hs_ode {
  hs_population *pop;
  hs_ode_config cfg;
  int H, K, width;
  gsl_odeiv2_system sys;
  gsl_odeiv2_driver *driver;
  double *gR, *gb, *N;
  gsl_matrix *V, *X;
  gsl_permutation *perm;
  hs_err fault; /* why the right-hand side failed, if it did */
  double *dydt;   /* resampled Euler: the right-hand side */
  uint64_t steps; /* resampled Euler: steps taken (the next set's stream - 2) */
  long calls;     /* right-hand sides evaluated */
  /* the control variate: per feature, whether it applies, its gate, whether
   * its column is zeroed now; the m-gradient at the zeroed state */
  unsigned char *cv_on, *zero;
  long cv_calls;
  double *gate, *gmz;
  /* bdf: CVODE's state, kept across hs_ode_advance calls (its history is
   * what makes a step cheap); cy is the last state it returned */
  SUNContext sun;
  void *cvode;
  N_Vector cy;
  SUNMatrix jac;
  SUNLinearSolver solver;
  int cvode_started;
};

int hs_ode_method_find(const char *name) {
  if (strcmp(name, "rkf45") == 0) return HS_ODE_RKF45;
  if (strcmp(name, "bdf") == 0) return HS_ODE_BDF;
  return -1;
}

const char *hs_ode_method_names(void) { return "rkf45 bdf"; }

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

static int gsl_rhs(double t, const double y[], double dydt[], void *params) {
  hs_ode *ode = params;
  if (ode->cfg.poll && ode->cfg.poll(ode->cfg.poll_user, t)) {
    hs_err_set(&ode->fault, HS_EINTERRUPT, "interrupted");
    return GSL_EBADFUNC;
  }
  return hs_ode_rhs(ode, y, dydt, &ode->fault) ? GSL_EBADFUNC : GSL_SUCCESS;
}

/* CVODE's right-hand side: 0, or > 0 (recoverable: CVODE retries with a
 * smaller step) when the state left the domain, < 0 when interrupted. */
static int cvode_rhs(sunrealtype t, N_Vector y, N_Vector dydt, void *user) {
  hs_ode *ode = user;
  if (ode->cfg.poll && ode->cfg.poll(ode->cfg.poll_user, t)) {
    hs_err_set(&ode->fault, HS_EINTERRUPT, "interrupted");
    return -1;
  }
  hs_status st = hs_ode_rhs(ode, N_VGetArrayPointer(y), N_VGetArrayPointer(dydt), &ode->fault);
  return st == HS_OK ? 0 : st == HS_EINTERRUPT ? -1 : 1;
}

/* CVODE's messages go into the fault (unless the right-hand side set one),
 * not to stderr. */
static void cvode_message(int code, const char *module, const char *function, char *msg,
                          void *user) {
  (void)code, (void)module, (void)function;
  hs_ode *ode = user;
  if (!ode->fault.code) hs_err_set(&ode->fault, HS_ENUM, "%s", msg);
}

/* BDF (CVODE), Newton iterations on a dense difference-quotient Jacobian:
 * dim right-hand sides per Jacobian, which CVODE reuses over many steps. */
static hs_status create_cvode(hs_ode *ode, hs_err *err) {
  sunindextype n = (sunindextype)hs_ode_dim(ode->H, ode->K);
  if (n > HS_ODE_BDF_MAX_DIM)
    return hs_err_set(err, HS_EINPUT,
                      "ode method bdf keeps a dense %ld x %ld Jacobian: too large for "
                      "H = %d, K = %d; use rkf45", (long)n, (long)n, ode->H, ode->K);
  if (SUNContext_Create(NULL, &ode->sun)) return hs_err_set(err, HS_ENOMEM, "out of memory");
  ode->cy = N_VNew_Serial(n, ode->sun);
  ode->jac = SUNDenseMatrix(n, n, ode->sun);
  ode->cvode = CVodeCreate(CV_BDF, ode->sun);
  if (!ode->cy || !ode->jac || !ode->cvode)
    return hs_err_set(err, HS_ENOMEM, "out of memory for the BDF integrator");
  N_VConst(0, ode->cy);
  ode->solver = SUNLinSol_Dense(ode->cy, ode->jac, ode->sun);
  if (!ode->solver || CVodeInit(ode->cvode, cvode_rhs, 0, ode->cy) ||
      CVodeSStolerances(ode->cvode, ode->cfg.rtol, ode->cfg.atol) ||
      CVodeSetUserData(ode->cvode, ode) ||
      CVodeSetErrHandlerFn(ode->cvode, cvode_message, ode) ||
      CVodeSetLinearSolver(ode->cvode, ode->solver, ode->jac) ||
      CVodeSetMaxNumSteps(ode->cvode, MAX_STEPS))
    return hs_err_set(err, HS_ENOMEM, "cannot set up the BDF integrator");
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

hs_status hs_ode_create(hs_population *pop, const hs_ode_config *cfg,
                        hs_ode **out, hs_err *err) {
  hs_ode *ode = calloc(1, sizeof *ode);
  if (!ode) return hs_err_set(err, HS_ENOMEM, "out of memory");
  int H = pop->H, K = pop->K;
  *ode = (hs_ode){.pop = pop, .cfg = *cfg, .H = H, .K = K, .width = K + H};
  ode->sys = (gsl_odeiv2_system){gsl_rhs, NULL, hs_ode_dim(H, K), ode};
  gsl_set_error_handler_off();
  ode->driver = gsl_odeiv2_driver_alloc_y_new(&ode->sys, gsl_odeiv2_step_rkf45,
                                              1e-3, cfg->atol, cfg->rtol);
  ode->gR = malloc(sizeof(double) * H * (K + H));
  ode->gb = malloc(sizeof(double) * H);
  ode->N = malloc(sizeof(double) * H * H);
  ode->V = gsl_matrix_alloc((size_t)H, (size_t)H);
  ode->X = gsl_matrix_alloc((size_t)H, (size_t)H);
  ode->perm = gsl_permutation_alloc((size_t)H);
  ode->dydt = malloc(sizeof(double) * hs_ode_dim(H, K));
  if (!ode->driver || !ode->gR || !ode->gb || !ode->N || !ode->V || !ode->X || !ode->perm ||
      !ode->dydt) {
    hs_ode_free(ode);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the ODE");
  }
  gsl_odeiv2_driver_set_nmax(ode->driver, MAX_STEPS);
  if (cfg->control_variate && cfg->dist) {
    hs_status cv = setup_control_variate(ode, cfg->dist, err);
    if (cv) {
      hs_ode_free(ode);
      return cv;
    }
  }
  /* (the resampled Euler flow uses neither stepper) */
  hs_status st = cfg->method == HS_ODE_BDF && !(cfg->resample_dt > 0) ? create_cvode(ode, err)
                                                                       : HS_OK;
  if (st) {
    hs_ode_free(ode);
    return st;
  }
  *out = ode;
  return HS_OK;
}

void hs_ode_free(hs_ode *ode) {
  if (!ode) return;
  if (ode->cvode) CVodeFree(&ode->cvode);
  if (ode->solver) SUNLinSolFree(ode->solver);
  if (ode->jac) SUNMatDestroy(ode->jac);
  if (ode->cy) N_VDestroy(ode->cy);
  if (ode->sun) SUNContext_Free(&ode->sun);
  if (ode->driver) gsl_odeiv2_driver_free(ode->driver);
  free(ode->gR), free(ode->gb), free(ode->N), free(ode->dydt);
  free(ode->cv_on), free(ode->zero), free(ode->gmz), free(ode->gate);
  if (ode->V) gsl_matrix_free(ode->V);
  if (ode->X) gsl_matrix_free(ode->X);
  if (ode->perm) gsl_permutation_free(ode->perm);
  free(ode);
}

/* The discretised flow: y += h f(y), with f on a fresh sample set per step.
 * A remainder within a relative 1e-9 of dt is one step, not a step and a
 * sliver. */
static hs_status advance_resampled(hs_ode *ode, double *y, double *t, double t1,
                                   hs_err *err) {
  const hs_ode_config *c = &ode->cfg;
  size_t n = hs_ode_dim(ode->H, ode->K);
  while (*t < t1) {
    int last = t1 - *t <= c->resample_dt * (1 + 1e-9);
    double h = last ? t1 - *t : c->resample_dt;
    if (c->poll && c->poll(c->poll_user, *t))
      return hs_err_set(err, HS_EINTERRUPT, "ODE at t = %g: interrupted", *t);
    hs_status st = hs_population_draw(ode->pop, c->dist, c->job_seed, c->seed, 2 + ode->steps,
                                      err);
    if (st) return st;
    if (c->antithetic) hs_population_make_antithetic(ode->pop);
    if ((st = hs_ode_rhs(ode, y, ode->dydt, err))) return st;
    for (size_t i = 0; i < n; i++) y[i] += h * ode->dydt[i];
    ode->steps++;
    *t = last ? t1 : *t + h;
  }
  return HS_OK;
}

/* CVODE continues from where it stopped (its history and step size) when y
 * and *t are what it returned last; otherwise it restarts from them. It may
 * step past t1 and interpolates back (the flow is autonomous). */
static hs_status advance_cvode(hs_ode *ode, double *y, double *t, double t1, hs_err *err) {
  size_t n = hs_ode_dim(ode->H, ode->K);
  double *cy = N_VGetArrayPointer(ode->cy), tret = *t;
  hs_err_clear(&ode->fault);
  sunrealtype tcur = 0;
  int same = ode->cvode_started && memcmp(cy, y, sizeof(double) * n) == 0 &&
             CVodeGetCurrentTime(ode->cvode, &tcur) == CV_SUCCESS && tcur >= *t;
  if (!same) {
    memcpy(cy, y, sizeof(double) * n);
    if (CVodeReInit(ode->cvode, *t, ode->cy))
      return hs_err_set(err, HS_ENUM, "ODE at t = %g: cannot restart the BDF integrator", *t);
    ode->cvode_started = 1;
  }
  int flag = CVode(ode->cvode, t1, ode->cy, &tret, CV_NORMAL);
  if (flag >= 0) {
    memcpy(y, cy, sizeof(double) * n);
    *t = t1;
    return HS_OK;
  }
  ode->cvode_started = 0; /* restart next time */
  CVodeGetCurrentTime(ode->cvode, &tcur);
  if (ode->fault.code)
    return hs_err_set(err, ode->fault.code, "ODE at t = %g: %s", (double)tcur, ode->fault.msg);
  return hs_err_set(err, HS_ENUM, "ODE integration (bdf) failed at t = %g: CVODE flag %d",
                    (double)tcur, flag);
}

hs_status hs_ode_advance(hs_ode *ode, double *y, double *t, double t1,
                         hs_err *err) {
  if (t1 <= *t) return HS_OK;
  if (ode->cfg.resample_dt > 0) return advance_resampled(ode, y, t, t1, err);
  if (ode->cfg.method == HS_ODE_BDF) return advance_cvode(ode, y, t, t1, err);
  hs_err_clear(&ode->fault);
  int status = gsl_odeiv2_driver_apply(ode->driver, t, t1, y);
  if (status == GSL_SUCCESS) return HS_OK;
  if (ode->fault.code) return hs_err_set(err, ode->fault.code, "ODE at t = %g: %s", *t, ode->fault.msg);
  return hs_err_set(err, HS_ENUM, "ODE integration failed at t = %g: %s", *t,
                    gsl_strerror(status));
}
