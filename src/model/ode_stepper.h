/* ode_stepper.h: the ODE's steppers as a table (private to src/model).
 *
 * ode.c keeps the right-hand side (hs_ode_rhs, with the control variate)
 * and dispatches hs_ode_advance to one stepper, each in its own file:
 * rkf45 (ode_rkf45.c, GSL's odeiv2 driver), bdf (ode_bdf.c, SUNDIALS CVODE)
 * and euler (ode_euler.c, the resampled flow of resample_dt > 0). A stepper
 * sees the ODE only through the view create gets (its size, config,
 * population and right-hand side), so the calls run one way, ode.c to the
 * steppers; its state is its own, made by create for one hs_ode and kept
 * across advance calls.
 */
#ifndef HEADSPEC_MODEL_ODE_STEPPER_H
#define HEADSPEC_MODEL_ODE_STEPPER_H

#include "headspec/ode.h"

/* What a stepper may read of the ODE it steps. */
typedef struct hs_ode_view {
  hs_ode *ode;               /* for rhs only: opaque here */
  const hs_ode_config *cfg;
  hs_population *pop;
  size_t n;                  /* hs_ode_dim(H, K) */
  hs_status (*rhs)(hs_ode *ode, const double *y, double *dydt, hs_err *err);
} hs_ode_view;

typedef struct hs_ode_stepper {
  const char *name; /* ode.method's name (hs_ode_method_find) */
  /* The stepper's state for the ODE seen through view (copied). */
  hs_status (*create)(const hs_ode_view *view, void **state, hs_err *err);
  /* Integrate y from *t to t1 > *t and set *t = t1. */
  hs_status (*advance)(void *state, double *y, double *t, double t1, hs_err *err);
  void (*free)(void *state);
} hs_ode_stepper;

/* Each defined in its own file. */
extern const hs_ode_stepper hs_ode_rkf45, hs_ode_bdf, hs_ode_euler;

/* Steps one integration between two records may take before giving up. */
#define HS_ODE_MAX_STEPS 1000000

#endif
