/* point.h: one grid point, what running it produces, and the runner.
 *
 * hs_point is the contract between the job file (which fills it) and the
 * computation (which reads it); hs_result is the contract between the
 * computation and the results store. hs_result_fields describes every result
 * array (name, shape, meaning), so the store creates and writes datasets
 * from this one table: adding a result is one line here and the code that
 * fills it.
 */
#ifndef HEADSPEC_POINT_H
#define HEADSPEC_POINT_H

#include <stddef.h>
#include <stdint.h>

#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/progress.h"

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
  char sampler[HS_NAME_LEN];     /* "reduced" or "full" (sgd.h); "" is full */
  double eta, kappa;
  int test_samples;
  int run_sgd;
  /* record grid (the same for every point of a job) */
  int records;
  char record_grid[HS_NAME_LEN]; /* "linear" or "log" */
  double t_min, t_max;
  /* the ODE (MODEL.md section 6) */
  int run_ode, noise_term, ode_samples, antithetic;
  double ode_rtol, ode_atol;
  char ode_method[HS_NAME_LEN];  /* adaptive stepper: "rkf45" or "bdf" (ode.h) */
  char ode_start[HS_NAME_LEN];   /* "sgd", "bayes" or "given" */
  hs_matrix start_m, start_Q, start_b;
  double start_noise;
  double start_lambda;           /* the ODE's initial lambda (softmax1) */
  double resample_dt;            /* > 0: Euler steps of dt, fresh samples each */
  /* analysis (sections 7-8) */
  int bayes_samples, maps, prune;
  int fresh_samples;             /* out-of-sample Lpop of the final states (0: skip) */
  /* testing: nonzero makes this point fail on purpose (the job's
   * testing.fail_point names its grid index) */
  int fail_on_purpose;
} hs_point;

/* The sizes every result array is made of. A results group holds the points
 * of one shape and is named after every one of these (plan.h), so a new
 * dimension goes here, in hs_shape, hs_shape_dim and hs_dim_names. */
typedef enum { HS_DIM_H, HS_DIM_K, HS_DIM_L, HS_DIM_T, HS_DIM_MAPS, HS_N_DIMS } hs_dim;
enum { HS_MAX_RANK = 3 };

typedef struct hs_shape {
  int T, H, K, L, maps;
} hs_shape;

extern const char *const hs_dim_names[HS_N_DIMS]; /* "H", "K", "L", "T", "maps" */

/* The named axes of the result arrays (the netCDF dimensions of a results
 * group). Two axes of one array never share a name unless they are the same
 * quantity: Q is (time, head, head2). */
typedef enum {
  HS_AXIS_TIME, HS_AXIS_HEAD, HS_AXIS_HEAD2, HS_AXIS_SPIKE, HS_AXIS_SPIKE2,
  HS_AXIS_TOKEN, HS_AXIS_MAP, HS_AXIS_KEPT, HS_AXIS_REMOVAL, HS_N_AXES
} hs_axis;

typedef struct hs_axis_info {
  const char *name;      /* e.g. "head2" */
  hs_dim dim;            /* its size */
  int first;             /* coordinate values first, first+1, ... (the time
                            axis holds the nominal record times instead) */
  const char *long_name;
} hs_axis_info;

extern const hs_axis_info hs_axes[HS_N_AXES];

typedef struct hs_result {
  hs_shape shape;
  double *t;         /* T: time t = s eta / d of each record */
  double *step;      /* T: SGD step of each record */
  double *m;         /* T x H x K */
  double *Q;         /* T x H x H */
  double *Qperp;     /* T x H x H */
  double *b;         /* T x H */
  double *lambda;    /* T */
  double *test_loss; /* T */
  double *train_loss;/* T: running mean of batch losses since last record */
  double *M;         /* K x K spike Gram */
  double *lpop;      /* T: Lpop at the SGD's measured order parameters */
  double *lpop_fresh, *lpop_fresh_se; /* 1 each: final lpop on the fresh set */
  double *sgd_prune_loss, *sgd_prune_order; /* H each */
  double *sgd_maps;  /* maps x H x L */
  double *sgd_maps_eps; /* maps: relevant token of each map */
  double *ode_t, *ode_m, *ode_Q, *ode_Qperp, *ode_b, *ode_lambda, *ode_loss;
  double *ode_prune_loss, *ode_prune_order, *ode_maps;
  double *ode_loss_fresh, *ode_loss_fresh_se; /* 1 each: final loss, fresh set */
  double *bayes_risk, *bayes_risk_se; /* 1 each */
  double *seconds;   /* 1: wall time of the point */
  double *mean_c;    /* K: E[c] of the point's distribution */
} hs_result;

typedef struct hs_result_field {
  const char *name;      /* dataset path relative to the point's group */
  const char *long_name; /* a few words, for plot labels */
  const char *units;     /* "1" for dimensionless */
  const char *doc;       /* one sentence, stored as the dataset's description */
  int rank;
  hs_axis axes[HS_MAX_RANK];
  size_t offset;         /* of the double * in hs_result */
} hs_result_field;

extern const hs_result_field hs_result_fields[];
extern const int hs_n_result_fields;

/* The size of one dimension. */
int hs_shape_dim(const hs_shape *s, hs_dim d);

/* Number of doubles of a field for one point of this shape. */
size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s);
/* The array of a field in a result. */
double *hs_result_field_data(const hs_result *r, const hs_result_field *f);

/* Shape of a point's results; fails if its distribution is invalid. */
hs_status hs_point_shape(const hs_point *p, hs_shape *shape, hs_err *err);

/* Limits every point must keep (README, "Job files"). Steps up to 2^53
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

/* Estimated single-core seconds for one point: the sum of its phases'
 * estimates (point.c), which also weigh its progress fraction; behind
 * `headspec validate`, the ETA and the queue's order. */
double hs_point_cost(const hs_point *p);

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

hs_status hs_result_alloc(hs_result *r, const hs_shape *shape, hs_err *err);
void hs_result_free(hs_result *r);

/* Run one point: everything its job asks for, into res (allocated by the
 * caller with the point's shape). progress (may be NULL) hears from every
 * phase every ~0.1 s (progress.h) with the fraction of the point done; a
 * nonzero return abandons the run (HS_EINTERRUPT). */
hs_status hs_point_run(const hs_point *p, hs_result *res,
                       hs_progress_fn progress, void *user, hs_err *err);

#endif
