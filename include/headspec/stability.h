/* stability.h: the linearised flow (issue 20; paper Lemmas III.1-III.2,
 * A.1): which features the heads learn next, and when.
 *
 * The reference is a trajectory on an invariant linear subspace of the ODE's
 * state y = (R, b, lambda) (ode.h): the head-symmetric one (every head the
 * same m_h and b_h, V = a I + c 1 1^T, so Q_perp is permutation-symmetric:
 * the unspecialised heads) or the one with some spikes' columns of m zero
 * (a plateau with those features not yet learned). Along it the deviation
 * delta = y - y_ref obeys the tangent flow
 *
 *     d delta/dt = J(y_ref(t)) delta + (1 - P) F(y_ref(t)),
 *
 * J the Jacobian of the right-hand side F (hs_ode_rhs: gradient flow or
 * with the noise term), P the projection on the subspace. The source
 * (1 - P) F is what the fixed Monte Carlo samples break (their means are
 * not zero): the real ODE feels it, so the prediction includes it. A spike
 * direction k escapes when max_h |m_hk| of y_ref + delta reaches the
 * threshold (the end of the linear regime).
 */
#ifndef HEADSPEC_STABILITY_H
#define HEADSPEC_STABILITY_H

#include <stddef.h>

#include "headspec/error.h"
#include "headspec/ode.h"

/* The reference subspace and the tangent flow's settings. */
typedef struct hs_stability_flow {
  hs_ode *ode;           /* its hs_ode_rhs is F (fixed samples) */
  int H, K;
  int symmetric;         /* the head-symmetric subspace */
  const int *zero_spike; /* K flags (may be NULL): m_.k = 0 on the subspace */
  double threshold;      /* max_h |m_hk| that marks an escape */
  double fd_step;        /* central-difference step of J delta (0: 1e-5) */
  double rtol, atol;     /* GSL error control of the tangent flow */
} hs_stability_flow;

/* Project a tangent vector (or a state: the subspaces are linear) on the
 * flow's subspace in place: the head average of m, b and of V's diagonal
 * and off-diagonal (symmetric), zero columns (zero_spike). */
void hs_stability_project(const hs_stability_flow *f, double *v);

/* The head-symmetric state nearest y: m and b averaged over heads, V the
 * symmetric square root of the head-averaged Q_perp = V V^T (so it is of
 * the form a I + c 1 1^T), lambda kept. */
hs_status hs_stability_symmetric_state(int H, int K, const double *y, double *ys, hs_err *err);

/* J_ij = dF_i/dy_j at y (n x n row-major, n = hs_ode_dim) by central
 * differences of step h on the ODE's fixed samples. */
hs_status hs_stability_jacobian(hs_ode *ode, int H, int K, const double *y, double h,
                                double *J, hs_err *err);

/* The block of J on the m entries (the H K columns of R on the spikes:
 * how d m/dt answers a change of m), by central differences of step h
 * (2 H K right-hand sides): *top the largest real part of its eigenvalues,
 * the growth rate of the fastest m-direction (> 0: a saddle the heads can
 * leave along the spikes, as at a plateau before an escape); *stiffest
 * (may be NULL) a bound on its largest |eigenvalue|, a scale for *top.
 * For the gradient flow J is minus a Hessian, symmetric, and the block's
 * largest eigenvalue is at most J's (interlacing): a positive *top always
 * means an unstable direction of the whole flow. */
hs_status hs_stability_m_rates(hs_ode *ode, int H, int K, const double *y, double h,
                               double *top, double *stiffest, hs_err *err);

/* One eigenmode of J, classified by where its eigenvector lives. */
typedef struct hs_stability_mode {
  double rate, imag;  /* eigenvalue: growth rate (real part), imaginary part */
  double m_weight;    /* share of |v|^2 on the m entries */
  int spike;          /* the spike carrying most of the m part */
  double purity;      /* share of the m part on that spike */
  double together;    /* |sum_h v_hk|^2 / (H sum_h |v_hk|^2) on that spike:
                         1 all heads together, 0 a sum-zero split */
} hs_stability_mode;

/* The eigenmodes of J (n of them, sorted by rate, largest first), with
 * gsl_eigen_symmv when J is symmetric to 1e-8 of its largest entry (the
 * gradient flow) and gsl_eigen_nonsymmv otherwise; spike_w (n x K, may be
 * NULL) gets each mode's m part per spike (shares summing to 1).
 * *asymmetry (may be NULL) = max |J - J^T| / max |J|. */
hs_status hs_stability_modes(const double *J, int H, int K, hs_stability_mode *modes,
                             double *spike_w, double *asymmetry, hs_err *err);

/* Growth rate of spike k: the largest rate among the m-modes (m_weight >
 * 1/2) with at least a quarter of their m part on k (degenerate spikes mix
 * inside their eigenspace); *unstable counts those above tol, *together is
 * the head pattern of the top one. NAN if there is no such mode. */
double hs_stability_growth(const hs_stability_mode *modes, const double *spike_w, int n, int K,
                           int k, double tol, int *unstable, double *together);

/* Integrate the reference and the tangent flow from t0 (y_ref on the
 * subspace, delta0 = y(t0) - y_ref) to t1, sampled at `steps` equal
 * intervals; t_escape[k] (K) is the first time max_h |m_hk| of y_ref +
 * delta reaches the threshold (log-linear between samples; t0 if already
 * there; NAN if never before t1) and sign[h*K + k] the sign of m_hk there
 * (0 if never). at_escape (K x n, may be NULL) gets y_ref at the sample
 * nearest each escape (at t1 for a direction that never escapes). The flow
 * stops once every direction escaped. */
hs_status hs_stability_escape(const hs_stability_flow *f, const double *y_ref,
                              const double *delta0, double t0, double t1, int steps,
                              double *t_escape, double *sign, double *at_escape, hs_err *err);

/* When max_h |m_hk| of a recorded trajectory (m: T x H x K at times t)
 * first reaches the threshold, log-linear between records (NAN: never). */
void hs_stability_measured_escape(int T, const double *t, const double *m, int H, int K,
                                  double threshold, double *t_escape);

#endif
