/* ode_bdf.c: the bdf stepper (ode_stepper.h): SUNDIALS CVODE's BDF,
 * variable order 1-5, Newton iterations on a dense difference-quotient
 * Jacobian (dim right-hand sides each, which CVODE reuses over many
 * steps), error control in CVODE's weighted RMS norm. */
#include <stdlib.h>
#include <string.h>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#include "ode_stepper.h"

/* CVODE's state, kept across advance calls (its history is what makes a
 * step cheap); cy is the last state it returned. */
typedef struct bdf {
  hs_ode_view view;
  SUNContext sun;
  void *cvode;
  N_Vector cy;
  SUNMatrix jac;
  SUNLinearSolver solver;
  int started;
  hs_err fault; /* why the right-hand side or CVODE failed, if one did */
} bdf;

/* CVODE's right-hand side: 0, or > 0 (recoverable: CVODE retries with a
 * smaller step) when the state left the domain, < 0 when interrupted. */
static int cvode_rhs(sunrealtype t, N_Vector y, N_Vector dydt, void *user) {
  bdf *s = user;
  const hs_ode_config *c = s->view.cfg;
  if (c->poll && c->poll(c->poll_user, t)) {
    hs_err_set(&s->fault, HS_EINTERRUPT, "interrupted");
    return -1;
  }
  hs_status st = s->view.rhs(s->view.ode, N_VGetArrayPointer(y), N_VGetArrayPointer(dydt), &s->fault);
  return st == HS_OK ? 0 : st == HS_EINTERRUPT ? -1 : 1;
}

/* CVODE's messages go into the fault (unless the right-hand side set one),
 * not to stderr. */
static void cvode_message(int code, const char *module, const char *function, char *msg,
                          void *user) {
  (void)code, (void)module, (void)function;
  bdf *s = user;
  if (!s->fault.code) hs_err_set(&s->fault, HS_ENUM, "%s", msg);
}

static void bdf_free(void *state) {
  bdf *s = state;
  if (!s) return;
  if (s->cvode) CVodeFree(&s->cvode);
  if (s->solver) SUNLinSolFree(s->solver);
  if (s->jac) SUNMatDestroy(s->jac);
  if (s->cy) N_VDestroy(s->cy);
  if (s->sun) SUNContext_Free(&s->sun);
  free(s);
}

static hs_status setup_cvode(bdf *s, sunindextype n, hs_err *err) {
  const hs_ode_config *c = s->view.cfg;
  if (SUNContext_Create(NULL, &s->sun)) return hs_err_set(err, HS_ENOMEM, "out of memory");
  s->cy = N_VNew_Serial(n, s->sun);
  s->jac = SUNDenseMatrix(n, n, s->sun);
  s->cvode = CVodeCreate(CV_BDF, s->sun);
  if (!s->cy || !s->jac || !s->cvode)
    return hs_err_set(err, HS_ENOMEM, "out of memory for the BDF integrator");
  N_VConst(0, s->cy);
  s->solver = SUNLinSol_Dense(s->cy, s->jac, s->sun);
  if (!s->solver || CVodeInit(s->cvode, cvode_rhs, 0, s->cy) ||
      CVodeSStolerances(s->cvode, c->rtol, c->atol) || CVodeSetUserData(s->cvode, s) ||
      CVodeSetErrHandlerFn(s->cvode, cvode_message, s) ||
      CVodeSetLinearSolver(s->cvode, s->solver, s->jac) ||
      CVodeSetMaxNumSteps(s->cvode, HS_ODE_MAX_STEPS))
    return hs_err_set(err, HS_ENOMEM, "cannot set up the BDF integrator");
  return HS_OK;
}

static hs_status bdf_create(const hs_ode_view *view, void **state, hs_err *err) {
  sunindextype n = (sunindextype)view->n;
  const hs_population *pop = view->pop;
  if (n > HS_ODE_BDF_MAX_DIM)
    return hs_err_set(err, HS_EINPUT,
                      "ode method bdf keeps a dense %ld x %ld Jacobian: too large for "
                      "H = %d, K = %d; use rkf45", (long)n, (long)n, pop->H, pop->K);
  bdf *s = calloc(1, sizeof *s);
  if (!s) return hs_err_set(err, HS_ENOMEM, "out of memory");
  s->view = *view;
  hs_status st = setup_cvode(s, n, err);
  if (st) {
    bdf_free(s);
    return st;
  }
  *state = s;
  return HS_OK;
}

/* CVODE continues from where it stopped (its history and step size) when y
 * and *t are what it returned last; otherwise it restarts from them. It may
 * step past t1 and interpolates back (the flow is autonomous). */
static hs_status bdf_advance(void *state, double *y, double *t, double t1, hs_err *err) {
  bdf *s = state;
  size_t n = s->view.n;
  double *cy = N_VGetArrayPointer(s->cy), tret = *t;
  hs_err_clear(&s->fault);
  sunrealtype tcur = 0;
  int same = s->started && memcmp(cy, y, sizeof(double) * n) == 0 &&
             CVodeGetCurrentTime(s->cvode, &tcur) == CV_SUCCESS && tcur >= *t;
  if (!same) {
    memcpy(cy, y, sizeof(double) * n);
    if (CVodeReInit(s->cvode, *t, s->cy))
      return hs_err_set(err, HS_ENUM, "ODE at t = %g: cannot restart the BDF integrator", *t);
    s->started = 1;
  }
  int flag = CVode(s->cvode, t1, s->cy, &tret, CV_NORMAL);
  if (flag >= 0) {
    memcpy(y, cy, sizeof(double) * n);
    *t = t1;
    return HS_OK;
  }
  s->started = 0; /* restart next time */
  CVodeGetCurrentTime(s->cvode, &tcur);
  if (s->fault.code)
    return hs_err_set(err, s->fault.code, "ODE at t = %g: %s", (double)tcur, s->fault.msg);
  return hs_err_set(err, HS_ENUM, "ODE integration (bdf) failed at t = %g: CVODE flag %d",
                    (double)tcur, flag);
}

const hs_ode_stepper hs_ode_bdf = {"bdf", bdf_create, bdf_advance, bdf_free};
