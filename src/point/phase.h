/* phase.h: a point's run as a table of phases (private to src/point).
 *
 * Each phase is one entry: its name, whether a point needs it, its
 * estimated cost (next to the code it prices) and its run function. point.c
 * runs the table in order; a new phase (e.g. a stability analysis) is one
 * entry in hs_point_phases and one file. The context below is what the
 * phases share; it knows nothing of any phase.
 */
#ifndef HEADSPEC_POINT_PHASE_H
#define HEADSPEC_POINT_PHASE_H

#include "headspec/attention.h"
#include "headspec/dist.h"
#include "headspec/ode.h"
#include "headspec/point.h"
#include "headspec/population.h"
#include "headspec/progress.h"
#include "headspec/sgd.h"

typedef struct hs_point_context {
  const hs_point *p;
  hs_result *res;
  const hs_activation *act;
  hs_dist dist;
  double *xi;          /* K x d spikes */
  double *times;       /* T record times */
  hs_population pop;   /* Monte Carlo samples shared by Lpop, ODE, pruning */
  hs_sgd sgd;          /* the SGD model, once SGD ran (has_sgd) */
  int has_sgd;
  double *ode_y;       /* the ODE's final state (R, b, lambda), once it ran */
  double *replica_y;   /* the final states of replicas 1 .. R - 1, once they ran */
  hs_progress progress;
  double total_cost;   /* estimated seconds of the point's phases */
  double cost_before;  /* of the phases before the current one */
  long rhs_calls;      /* ODE right-hand sides the current phase computed (the
                          phases that integrate set it; HEADSPEC_REPORT_WORK) */
} hs_point_context;

typedef struct hs_phase {
  const char *name; /* in messages and HEADSPEC_TESTING_SIGNAL_IN (docs/TESTS.md) */
  /* whether the point runs this phase */
  int (*runs)(const hs_point *p);
  /* estimated single-core seconds (the cost model: point.c) */
  double (*cost)(const hs_point *p, const hs_dist *dist);
  hs_status (*run)(hs_point_context *ctx, hs_err *err);
} hs_phase;

/* The phases, each defined in its own file. */
extern const hs_phase hs_phase_population, hs_phase_sgd, hs_phase_sgd_final, hs_phase_ode,
    hs_phase_ode_final, hs_phase_stability, hs_phase_replicas, hs_phase_out_of_sample,
    hs_phase_bayes;

/* Estimated ODE right-hand sides of the phases that integrate (the ODE's
 * and the stability analysis'; each costs hs_cost_rhs), and of a phase by
 * its entry (-1 for one that integrates nothing). */
double hs_ode_phase_rhs(const hs_point *p, const hs_dist *dist);
double hs_stability_phase_rhs(const hs_point *p, const hs_dist *dist);
double hs_replicas_phase_rhs(const hs_point *p, const hs_dist *dist);
/* The stability phase's head-symmetric prediction (phase_stability.c,
 * stability/predicted_t) with the point's ODE right-hand side on the
 * samples pop instead of set 0: the same start (ODE record 0), reference,
 * threshold and tangent-flow samples; t_escape (K) the escape times (NaN:
 * not before t_max), its right-hand sides added to *calls. The replicas'
 * error bar on it (phase_replicas.c); the estimate of its right-hand sides
 * (a share of hs_stability_phase_rhs). */
hs_status hs_stability_predict_on(hs_point_context *ctx, hs_population *pop, double *t_escape,
                                  long *calls, hs_err *err);
double hs_stability_prediction_rhs(const hs_point *p, const hs_dist *dist);
double hs_point_phase_rhs(const hs_point *p, const hs_dist *dist, const struct hs_phase *phase);
/* Estimated seconds of one right-hand side of the ODE on the point's
 * samples: Lpop with gradients in the lane kernel (~4 ns per sample, token
 * and head, AVX2), and an O(H^3) solve (~3 ns H^3) with the noise term;
 * 1.6 times that where the control variate applies (its second state
 * while a gate is open, in the same pass: docs/BENCHMARKS.md; a
 * never-learned feature's gate stays open). */
double hs_cost_rhs(const hs_point *p, const hs_dist *dist);
/* Whether the ODE's gated control variate applies to the point: switched
 * on, and some feature of its P_c is flip-symmetric (ode.h). */
int hs_point_control_variate(const hs_point *p, const hs_dist *dist);

/* The ODE phase's integration (phase_ode.c), shared by its replicas
 * (phase_replicas.c): the point's start into y (hs_ode_dim), and the
 * point's ODE (its method, tolerances, control variate) on the samples pop
 * from y through ctx's record times 0 .. n - 1, rec called at each (a
 * nonzero *stop ends the run there); y ends as the last state reached,
 * *calls the right-hand sides. */
typedef hs_status (*hs_ode_recorder)(hs_point_context *ctx, hs_ode *ode, const double *y,
                                     double t, int j, void *user, int *stop, hs_err *err);
hs_status hs_ode_phase_start(hs_point_context *ctx, double *y, hs_err *err);
hs_status hs_ode_phase_follow(hs_point_context *ctx, hs_population *pop, double *y, int n,
                              hs_ode_recorder rec, void *user, int (*poll)(void *, double),
                              void *poll_user, long *calls, hs_err *err);
/* Estimated right-hand sides and seconds of the ODE phase's integration
 * alone (no saddle test, no records), which each replica repeats. */
double hs_ode_phase_integration_rhs(const hs_point *p, const hs_dist *dist);
double hs_ode_phase_integration_cost(const hs_point *p, const hs_dist *dist);

/* Whether the point trains a model (SGD or the ODE); else it computes only
 * the Bayes risk, and has no d and no time axis. */
int hs_point_trains(const hs_point *p);

/* Estimated seconds of Lpop on the point's Monte Carlo samples, per head
 * with gradients (half without): ~12 ns per sample, token and head. */
double hs_cost_lpop_head(const hs_point *p);
/* Of greedy pruning (~H^3/3 head evaluations of Lpop) and of the attention
 * maps of one final model. */
double hs_cost_prune(const hs_point *p);
double hs_cost_maps(const hs_point *p);
/* Of the attention statistics at one record (~2 ns per sequence, token,
 * head and row of the reduced representation). */
double hs_cost_attention(const hs_point *p, int K);

/* A recorded trajectory: time, order parameters (m H x K, Q H x H, b H,
 * lambda per record) and the loss the convergence rule follows. */
typedef struct hs_trajectory {
  const double *t, *m, *Q, *b, *lambda, *loss;
} hs_trajectory;

/* The convergence rule at record J (convergence.c, docs/RESULTS.md): over
 * the last stretch (the record nearest t_J / 2 to J), the loss's relative
 * change per unit log-time, and the order parameters' speed per unit
 * log-time relative to max(|theta|, 1): t_J velocity when velocity
 * (|d theta/dt| at J) is given, else their secant over the stretch;
 * converged when both are below the point's tolerances. NaN where the
 * records do not reach back to a stretch. */
void hs_convergence_of(const hs_trajectory *tr, int H, int K, int J, const hs_point *p,
                       double velocity, double *loss_rate, double *speed, double *converged);
/* The m block is H K square: above this size its eigenvalues (~10 (H K)^3
 * flops) would outweigh most integrations, and the rule keeps loss and
 * speed alone (docs/RESULTS.md). */
#define HS_SADDLE_MAX_BLOCK 512
/* The rule's guard against plateaus (docs/RESULTS.md#convergence): where
 * the rule holds (*converged == 1) at the ODE's state y, the block of the
 * linearised flow on m (stability.h) must have no growing direction
 * (largest real part of its eigenvalues at most 1e-3 of its largest
 * |eigenvalue|); else the state is a saddle the heads will leave along the
 * spikes, and *converged becomes 0. Costs 2 H K right-hand sides, and only
 * where the rule holds; skipped when H K > HS_SADDLE_MAX_BLOCK. */
hs_status hs_convergence_check_saddle(hs_ode *ode, int H, int K, const double *y,
                                      double *converged, hs_err *err);
/* |d theta / dt| for theta = (m, Q = R R^T, b, lambda) from the ODE's state
 * y = (R, b, lambda) and its derivative. */
double hs_order_velocity(int H, int K, const double *y, const double *dydt);

/* The attention statistics of a model (R, shift, b, lambda) as record j of
 * the ODE's (ode nonzero) or SGD's fields, over analysis.attention_samples
 * sequences drawn in law (attention_stats.c). */
hs_status hs_attention_stats(hs_point_context *ctx, const double *R, const double *shift,
                             const double *b, double lambda, int j, int ode, hs_err *err);

/* R = [m | V] with V V^T = Q - m m^T for a start given in a job file, with
 * the tolerances relative to Q's scale (start_Q = start_m start_m^T written
 * to 10 decimals is accepted); HS_ENUM if it is not PSD. */
hs_status hs_point_represent_given(int H, int K, const double *m, const double *Q, double *R,
                                   hs_err *err);

/* Measured (m, Q) as a reduced model R (H x (K+H)) giving the scores'
 * exact law; *shift is NULL or m (context.c, MODEL.md section 5). */
hs_status hs_point_measured_model(int H, int K, const double *m, const double *Q,
                                  double *R, const double **shift, hs_err *err);

#endif
