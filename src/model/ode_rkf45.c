/* ode_rkf45.c: the rkf45 stepper (ode_stepper.h): GSL odeiv2's driver,
 * explicit Runge-Kutta-Fehlberg 4(5) with GSL's standard error control. */
#include <stdlib.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include "ode_stepper.h"

typedef struct rkf45 {
  hs_ode_view view;
  gsl_odeiv2_system sys;
  gsl_odeiv2_driver *driver;
  hs_err fault; /* why the right-hand side failed, if it did */
} rkf45;

static int gsl_rhs(double t, const double y[], double dydt[], void *params) {
  rkf45 *s = params;
  const hs_ode_config *c = s->view.cfg;
  if (c->poll && c->poll(c->poll_user, t)) {
    hs_err_set(&s->fault, HS_EINTERRUPT, "interrupted");
    return GSL_EBADFUNC;
  }
  return s->view.rhs(s->view.ode, y, dydt, &s->fault) ? GSL_EBADFUNC : GSL_SUCCESS;
}

static void rkf45_free(void *state) {
  rkf45 *s = state;
  if (!s) return;
  if (s->driver) gsl_odeiv2_driver_free(s->driver);
  free(s);
}

static hs_status rkf45_create(const hs_ode_view *view, void **state, hs_err *err) {
  const hs_ode_config *c = view->cfg;
  rkf45 *s = calloc(1, sizeof *s);
  if (!s) return hs_err_set(err, HS_ENOMEM, "out of memory for the ODE");
  s->view = *view;
  s->sys = (gsl_odeiv2_system){gsl_rhs, NULL, view->n, s};
  s->driver = gsl_odeiv2_driver_alloc_y_new(&s->sys, gsl_odeiv2_step_rkf45, 1e-3, c->atol,
                                            c->rtol);
  if (!s->driver) {
    rkf45_free(s);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the ODE");
  }
  gsl_odeiv2_driver_set_nmax(s->driver, HS_ODE_MAX_STEPS);
  *state = s;
  return HS_OK;
}

/* The driver keeps its step size across calls and ends a step at t1. */
static hs_status rkf45_advance(void *state, double *y, double *t, double t1, hs_err *err) {
  rkf45 *s = state;
  hs_err_clear(&s->fault);
  int status = gsl_odeiv2_driver_apply(s->driver, t, t1, y);
  if (status == GSL_SUCCESS) return HS_OK;
  if (s->fault.code) return hs_err_set(err, s->fault.code, "ODE at t = %g: %s", *t, s->fault.msg);
  return hs_err_set(err, HS_ENUM, "ODE integration failed at t = %g: %s", *t,
                    gsl_strerror(status));
}

const hs_ode_stepper hs_ode_rkf45 = {"rkf45", rkf45_create, rkf45_advance, rkf45_free};
