/* ode.h: the order-parameter dynamics (MODEL.md section 6), integrated in
 * the reduced representation with an adaptive stepper with error control
 * (GSL odeiv2's rkf45, or SUNDIALS CVODE's BDF or Adams methods), or, with
 * resample_dt > 0, by explicit Euler on fresh samples at each step.
 *
 * The state y = (R, b, lambda): R = [m | V] (H x (K+H), row-major), then
 * b (H), then lambda; Q = R R^T and Q_perp = V V^T stay symmetric positive
 * semi-definite by construction. The right-hand side is gradient flow on
 * the rows of R, -kappa dLpop/d(b, lambda) for the trained extras, and, when
 * switched on, SGD's finite-learning-rate term dV/dt += (eta/B)/2 N V^{-T}.
 */
#ifndef HEADSPEC_ODE_H
#define HEADSPEC_ODE_H

#include "headspec/error.h"
#include "headspec/population.h"

/* The adaptive steppers. rkf45 (explicit, GSL) is the default and what
 * every earlier result used; bdf (CVODE, variable order 1-5, Newton with a
 * difference-quotient dense Jacobian) takes steps set by accuracy rather
 * than by the fastest stable mode, for stiff flows (softmax1 or bsoftmax
 * with a large kappa) and long slow late phases. Each Jacobian costs
 * hs_ode_dim right-hand sides, so for short non-stiff runs at large H
 * rkf45 stays as fast or faster. */
typedef enum { HS_ODE_RKF45, HS_ODE_BDF } hs_ode_method;

/* The largest state bdf takes (its dense Jacobian is this squared). */
enum { HS_ODE_BDF_MAX_DIM = 20000 };

/* The method named name, or -1; and the names for messages. */
int hs_ode_method_find(const char *name);
const char *hs_ode_method_names(void);

typedef struct hs_ode_config {
  hs_ode_method method;
  double eta_over_B; /* eta / B of the SGD being modelled */
  double kappa;      /* learning-rate ratio of b and lambda */
  int noise_term;    /* include (eta/B) N */
  double rtol, atol; /* error control (GSL's standard one for rkf45;
                        CVODE's weighted RMS norm for bdf and adams) */
  /* Called at every right-hand side with the time (may be NULL); a nonzero
   * return stops the integration with HS_EINTERRUPT, as does the
   * population's progress listener (population.h) saying stop. */
  int (*poll)(void *user, double t);
  void *poll_user;
  /* > 0: the paper's discretised flow instead of the adaptive stepper:
   * explicit Euler steps of resample_dt (the last before each target of
   * hs_ode_advance shortened to land on it), each on a sample set drawn
   * afresh into the ODE's population from dist (stream 2 + step number,
   * independent of sets 0 and 1; antithetic if asked). */
  double resample_dt;
  /* Nonzero: the gated control variate on the m-gradient (needs dist).
   * For each feature k whose P_c is symmetric under c_k -> -c_k
   * (hs_dist_flip_symmetric) the exact dLpop/dm_.k vanishes wherever
   * m_.k = 0, but its Monte Carlo estimate on the fixed samples does not:
   * a source of order 1/sqrt(N) that seeds escapes the theory does not
   * have. The right-hand side subtracts from the m_.k-gradient the same
   * estimate taken at the state with m_.k = 0 (zero in expectation, so
   * the flow stays unbiased), weighted by a gate hs_ode_gate(max_h |m_hk|)
   * that is 1 at 0 and exactly 0 from HS_ODE_GATE_CUT on (past an escape
   * the two estimates decorrelate and the difference would only add
   * noise). All open features share one extra state, with every open
   * column zeroed (each of them is 0 there, which is all unbiasedness
   * needs), computed in the same pass over the samples as the right-hand
   * side itself (hs_population_loss_zeroed: its scores from the first
   * state's, only its m-gradient formed): a right-hand side costs about
   * 1.6 plain ones while a gate is open (L = 8, H = 4, K = 3), 1 once
   * every gate has closed. Only the m columns carry the source: V, b
   * and lambda (and the other columns) are even under the flip, so their
   * errors do not break m_.k = 0. */
  int control_variate;
  const hs_dist *dist;
  uint64_t job_seed, seed;
  int antithetic;
} hs_ode_config;

typedef struct hs_ode hs_ode;

/* The control variate's gate at x = max_h |m_hk|: 1 / (1 + (x / 0.3)^4),
 * shifted and rescaled to reach 0 at HS_ODE_GATE_CUT (continuous). */
#define HS_ODE_GATE_CUT 1.0
double hs_ode_gate(double x);

/* Size of the state vector for H heads and K spikes. */
size_t hs_ode_dim(int H, int K);

hs_status hs_ode_create(hs_population *pop, const hs_ode_config *cfg,
                        hs_ode **out, hs_err *err);
void hs_ode_free(hs_ode *ode);

/* Integrate y from *t to t1 (sets *t = t1 on success). With resample_dt
 * the step count runs on across calls, so each step has its own set. */
hs_status hs_ode_advance(hs_ode *ode, double *y, double *t, double t1,
                         hs_err *err);

/* The right-hand side at y (exposed for tests and benchmarks). */
hs_status hs_ode_rhs(hs_ode *ode, const double *y, double *dydt, hs_err *err);

/* Right-hand sides evaluated so far by hs_ode_rhs and hs_ode_advance
 * (with bdf, those of the Jacobians included): the integration's cost. */
long hs_ode_rhs_calls(const hs_ode *ode);
/* Of those, the ones that carried the control variate's second state. */
long hs_ode_cv_calls(const hs_ode *ode);
/* Per feature k (K entries, may be NULL): 1 where the control variate
 * applies (on, and P_c symmetric under c_k -> -c_k), else 0. */
void hs_ode_cv_features(const hs_ode *ode, double *applied);

#endif
