/* ode_stepper.h: the ODE's steppers as a table (private to src/model).
 *
 * ode.c keeps the right-hand side (hs_ode_rhs, with the control variate)
 * and dispatches hs_ode_advance to one stepper, each in its own file:
 * rkf45 (ode_rkf45.c, GSL's odeiv2 driver), bdf (ode_bdf.c, SUNDIALS CVODE)
 * and euler (ode_euler.c, the resampled flow of resample_dt > 0). A stepper
 * sees the ODE only through hs_ode_rhs and the accessors below; its state
 * is its own, made by create for one hs_ode and kept across advance calls.
 */
#ifndef HEADSPEC_MODEL_ODE_STEPPER_H
#define HEADSPEC_MODEL_ODE_STEPPER_H

#include "headspec/ode.h"

typedef struct hs_ode_stepper {
  const char *name; /* ode.method's name (hs_ode_method_find) */
  /* The stepper's state for ode (its config and size fixed by then). */
  hs_status (*create)(hs_ode *ode, void **state, hs_err *err);
  /* Integrate y from *t to t1 > *t and set *t = t1. */
  hs_status (*advance)(void *state, double *y, double *t, double t1, hs_err *err);
  void (*free)(void *state);
} hs_ode_stepper;

/* Each defined in its own file. */
extern const hs_ode_stepper hs_ode_rkf45, hs_ode_bdf, hs_ode_euler;

/* What a stepper may read of the ODE it steps. */
const hs_ode_config *hs_ode_config_of(const hs_ode *ode);
hs_population *hs_ode_population(hs_ode *ode);
size_t hs_ode_size(const hs_ode *ode); /* hs_ode_dim(H, K) */

/* Steps one integration between two records may take before giving up. */
#define HS_ODE_MAX_STEPS 1000000

#endif
