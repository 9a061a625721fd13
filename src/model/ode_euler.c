/* ode_euler.c: the euler stepper (ode_stepper.h), the paper's discretised
 * flow (resample_dt > 0): y += h f(y), with f on a sample set drawn afresh
 * into the ODE's population at each step. */
#include <stdlib.h>

#include "ode_stepper.h"

typedef struct euler {
  hs_ode_view view;
  double *dydt;   /* the right-hand side */
  uint64_t steps; /* steps taken, over all calls (the next set's stream - 2) */
} euler;

static void euler_free(void *state) {
  euler *s = state;
  if (!s) return;
  free(s->dydt);
  free(s);
}

static hs_status euler_create(const hs_ode_view *view, void **state, hs_err *err) {
  euler *s = calloc(1, sizeof *s);
  if (s) s->dydt = malloc(sizeof(double) * view->n);
  if (!s || !s->dydt) {
    euler_free(s);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the ODE");
  }
  s->view = *view;
  *state = s;
  return HS_OK;
}

/* A remainder within a relative 1e-9 of dt is one step, not a step and a
 * sliver. */
static hs_status euler_advance(void *state, double *y, double *t, double t1, hs_err *err) {
  euler *s = state;
  const hs_ode_config *c = s->view.cfg;
  hs_population *pop = s->view.pop;
  size_t n = s->view.n;
  while (*t < t1) {
    int last = t1 - *t <= c->resample_dt * (1 + 1e-9);
    double h = last ? t1 - *t : c->resample_dt;
    if (c->poll && c->poll(c->poll_user, *t))
      return hs_err_set(err, HS_EINTERRUPT, "ODE at t = %g: interrupted", *t);
    hs_status st = hs_population_draw(pop, c->dist, c->job_seed, c->seed, 2 + s->steps, err);
    if (st) return st;
    if (c->antithetic) hs_population_make_antithetic(pop);
    if ((st = s->view.rhs(s->view.ode, y, s->dydt, err))) return st;
    for (size_t i = 0; i < n; i++) y[i] += h * s->dydt[i];
    s->steps++;
    *t = last ? t1 : *t + h;
  }
  return HS_OK;
}

const hs_ode_stepper hs_ode_euler = {"euler", euler_create, euler_advance, euler_free};
