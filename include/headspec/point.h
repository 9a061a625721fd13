/* point.h: one grid point, its checks and cost, and the runner.
 *
 * hs_point is the contract between the job file (which fills it) and the
 * computation (which reads it); what running it produces is an hs_result
 * (result.h). A point's run is a table of phases (src/point/phase.h): SGD,
 * its final analysis, the ODE, its final analysis, the out-of-sample
 * losses, the Bayes risk; each phase prices itself for the cost model.
 */
#ifndef HEADSPEC_POINT_H
#define HEADSPEC_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/ode.h"
#include "headspec/progress.h"
#include "headspec/result.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"

/* ode.start's names, in this order (hs_point.ode_start). */
typedef enum { HS_START_SGD = 0, HS_START_BAYES = 1, HS_START_GIVEN = 2 } hs_ode_start;
int hs_ode_start_find(const char *name); /* -1 if unknown */
const char *hs_ode_start_names(void);

/* ode.method: a stepper of ode.c's table (hs_ode_method) or auto, a choice
 * made per point (hs_point_ode_method). */
enum { HS_ODE_AUTO = -2 };
int hs_point_ode_method_find(const char *name); /* -1 if unknown */

typedef struct hs_point {
  int index;          /* position in the job's grid */
  uint64_t job_seed;
  /* model */
  int L, H;
  char activation[HS_NAME_LEN];
  hs_dist_params dist;
  double sigma0;
  int seed;
  int orthonormal_spikes;
  /* training */
  int d, B;
  hs_sampler sampler;            /* the name-valued keys are enums once a point
                                    is built (plan.c); their names: sgd.h,
                                    timegrid.h, above */
  double eta, kappa;
  int test_samples;
  int run_sgd;
  /* a fixed training set (sgd.h): n_train sequences, or alpha_train d if
   * n_train is 0; both 0: online SGD, fresh sequences every step */
  int n_train;
  double alpha_train;
  hs_batches batches;
  /* record grid (the same for every point of a job) */
  int records;
  hs_record_grid record_grid;
  double t_min, t_max;
  /* the ODE (MODEL.md section 6) */
  int run_ode, noise_term, ode_samples, antithetic;
  double ode_rtol, ode_atol;
  int ode_method;                /* hs_ode_method or HS_ODE_AUTO */
  hs_ode_start ode_start;
  hs_matrix start_m, start_Q, start_b;
  double start_noise;
  double start_lambda;           /* the ODE's initial lambda (softmax1) */
  double resample_dt;            /* > 0: Euler steps of dt, fresh samples each */
  int ode_stop_converged;        /* stop at the first converged record */
  int ode_control_variate;       /* the gated control variate (ode.h) */
  int ode_replicas;              /* Monte Carlo replicas of the ODE (<= 1: none;
                                    phase_replicas.c) */
  /* analysis (sections 7-8) */
  int bayes_samples, maps, prune;
  int fresh_samples;             /* out-of-sample Lpop of the final states (0: skip) */
  double converged_loss_tol;     /* the convergence rule's tolerances */
  double converged_speed_tol;    /* (docs/RESULTS.md) */
  int attention_samples;         /* sequences of the attention statistics (0: skip) */
  int stability;                 /* the linearised flow's predictions (stability.h) */
  double stability_threshold;    /* max_h |m_hk| that marks an escape */
  /* testing: nonzero makes this point fail on purpose (the job's
   * testing.fail_point names its grid index) */
  int fail_on_purpose;
} hs_point;

/* Shape of a point's results; fails if its distribution is invalid. */
hs_status hs_point_shape(const hs_point *p, hs_shape *shape, hs_err *err);

/* Limits every point must keep (docs/JOBS.md). Steps up to 2^53
 * are exact in the double /sgd/step and in t = step eta / d; a point
 * estimated at more core-hours than HS_MAX_POINT_CORE_HOURS is refused as
 * a probable mistake: raise it here and rebuild to run such a point. */
#define HS_MAX_STEPS 9007199254740992.0 /* 2^53 */
#define HS_MAX_POINT_CORE_HOURS 1e6
/* A point needing more memory than this would be killed by the kernel
 * (left pending, killed again on every resume): refused. */
#define HS_MAX_POINT_GIB 64

/* SGD steps to reach t_max, t_max d / eta rounded, or -1 if that exceeds
 * HS_MAX_STEPS (hs_point_check refuses such a point). */
int64_t hs_point_steps(const hs_point *p);

/* Sequences in the point's training set: n_train, else alpha_train d
 * rounded (at least 1), else 0 (online SGD). */
long hs_point_n_train(const hs_point *p);

/* The ODE's stepper for p (K teacher features): its ode_method, or for
 * "auto" the one of the two the cost model predicts to need fewer
 * right-hand sides (bdf's dense Jacobian costs dim of them: rkf45 wins at
 * many heads and short horizons, bdf at long horizons or a stiff kappa). */
hs_ode_method hs_point_ode_method(const hs_point *p, int K);

/* Estimated single-core seconds for one point: the sum of its phases'
 * estimates (point.c), which also weigh its progress fraction, and the
 * overhead every point pays; behind `headspec validate`, the ETA and the
 * queue's order. */
double hs_point_cost(const hs_point *p);

/* The phases of a point's run, in the order they run (their names are
 * those of progress lines and HEADSPEC_TESTING_SIGNAL_IN), and one more
 * entry, "overhead": what every point costs besides its phases (its
 * buffers, storing its rows, the master handing it out), measured at
 * HS_POINT_OVERHEAD_S (docs/BENCHMARKS.md, the cost model). */
enum { HS_N_COST_PARTS = 10 };
#define HS_POINT_OVERHEAD_S 1e-3
const char *hs_point_cost_part_name(int part);
/* Each part's estimated seconds for p (0 where p does not run it) into
 * cost[HS_N_COST_PARTS]; returns their sum, hs_point_cost(p). */
double hs_point_cost_parts(const hs_point *p, double *cost);

/* The sample size below which the ODE's Monte Carlo source term, of order
 * 1/sqrt(N) on each feature's m-gradient, competes with the start's own
 * components s0 that seed the escapes (docs/MODEL.md#monte-carlo-error):
 * HS_SOURCE_MARGIN^2 / s0^2, keeping 1/sqrt(N) a factor HS_SOURCE_MARGIN
 * below s0. s0 is sigma0 / sqrt(d) for the SGD start, the smallest
 * max_h |m_hk| of a given start (start_noise if larger); only features
 * that leave a saddle (E[c_k] = 0) and the control variate does not cover
 * count (it removes the source where P_c is flip-symmetric; a feature with
 * E[c_k] != 0 is driven from the start). 0: no such feature, or no ODE,
 * or the Bayes start. */
#define HS_SOURCE_MARGIN 4.0
double hs_point_samples_needed(const hs_point *p, const hs_dist *dist);

/* Estimated peak bytes of one point's run (its arrays: spikes, SGD batch,
 * Monte Carlo samples, ODE state, results). */
double hs_point_memory(const hs_point *p);

/* Whether a point can run at all, checked before any point does: a valid
 * distribution, something to compute, orthonormal spikes that fit in d,
 * a step count and cost within the limits above, and an ODE start that
 * fits the point (the Bayes point's atoms, given m/Q/b shapes, a start
 * where the noise term is defined). On failure *key (if key is non-NULL)
 * names the job key to blame as "section.name", for the caller's
 * FILE:LINE. */
hs_status hs_point_check(const hs_point *p, const char **key, hs_err *err);

/* Run one point: everything its job asks for, into res (allocated by the
 * caller with the point's shape). progress (may be NULL) hears from every
 * phase every ~0.1 s (progress.h) with the fraction of the point done; a
 * nonzero return abandons the run (HS_EINTERRUPT). */
hs_status hs_point_run(const hs_point *p, hs_result *res,
                       hs_progress_fn progress, void *user, hs_err *err);

#endif
