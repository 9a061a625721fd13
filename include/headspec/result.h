/* result.h: what running a point produces, and the schema the store
 * writes it in.
 *
 * hs_result is the contract between the computation and the results store.
 * hs_result_fields describes every result array (name, shape, meaning), so
 * the store creates and writes datasets from this one table: adding a result
 * is one line in result.c and the code that fills it.
 */
#ifndef HEADSPEC_RESULT_H
#define HEADSPEC_RESULT_H

#include <stddef.h>

#include "headspec/error.h"

/* The sizes every result array is made of. A results group holds the points
 * of one shape and is named after every one of these (plan.h), so a new
 * dimension goes here, in hs_shape, hs_shape_dim and hs_dim_names. */
typedef enum {
  HS_DIM_H, HS_DIM_K, HS_DIM_L, HS_DIM_T, HS_DIM_MAPS, HS_DIM_REPLICAS, HS_N_DIMS
} hs_dim;
enum { HS_MAX_RANK = 4 };

/* replicas: the ODE's Monte Carlo replicas stored (ode.replicas where it is
 * 2 or more, else 0: a point without replicas stores no replicas/ fields,
 * and its group's name and attributes leave the dimension out, as before
 * it existed). */
typedef struct hs_shape {
  int T, H, K, L, maps, replicas;
} hs_shape;

/* "H", "K", "L", "T", "maps", "replicas" */
extern const char *const hs_dim_names[HS_N_DIMS];

/* The named axes of the result arrays (the netCDF dimensions of a results
 * group). Two axes of one array never share a name unless they are the same
 * quantity: Q is (time, head, head2). */
typedef enum {
  HS_AXIS_TIME, HS_AXIS_HEAD, HS_AXIS_HEAD2, HS_AXIS_SPIKE, HS_AXIS_SPIKE2,
  HS_AXIS_TOKEN, HS_AXIS_MAP, HS_AXIS_KEPT, HS_AXIS_REMOVAL, HS_AXIS_REPLICA, HS_N_AXES
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
  double *passes;    /* T: passes over the training set, steps B / n (NaN online) */
  double *train_set_loss; /* T: mean loss on the whole training set (NaN online) */
  /* 1 each: how fast each trajectory still moved at its end, and the rule's
   * verdict (1 converged, 0 not, NaN undetermined: docs/RESULTS.md) */
  double *sgd_loss_rate, *sgd_speed, *sgd_converged;
  double *ode_loss_rate, *ode_speed, *ode_converged;
  double *ode_t_stop; /* 1: time of the ODE's final state */
  double *ode_method; /* 1: the stepper that ran (ode.method, auto resolved) */
  /* at each record: per head (T x H) the attention it gives out, on the
   * relevant token, the softmax1 sink weight q0; quiet heads (T) */
  double *sgd_attn_total, *sgd_attn_relevant, *sgd_attn_sink, *sgd_quiet_heads;
  double *ode_attn_total, *ode_attn_relevant, *ode_attn_sink, *ode_quiet_heads;
  /* the linearised flow (stability.h), K each unless said */
  double *stab_growth, *stab_predicted_t, *stab_measured_t, *stab_unstable, *stab_together;
  double *stab_split;  /* H x K */
  double *stab_saddle_t, *stab_saddle_from, *stab_saddle_first_t;
  double *stab_asymmetry; /* 1 */
  /* the ODE's Monte Carlo replicas (ode.replicas >= 2; replica 0 is the
   * ode/ run): per replica R x T (x H x K, x H x H, x H) records, its final
   * loss on the fresh set, escape times and (analysis.stability) the
   * head-symmetric prediction of stability/predicted_t (R x K each); the run
   * on a quarter of the samples and the convergence in N it implies
   * (MODEL.md) */
  double *rep_m, *rep_Q, *rep_b, *rep_lambda, *rep_loss, *rep_loss_fresh, *rep_escape_t;
  double *rep_predicted_t;
  double *quarter_loss, *quarter_escape_t;
  double *loss_move, *loss_move_se, *escape_move, *escape_move_se, *n_converged;
  /* pruning evaluated on the independent set (issue 29): the removal order
   * chosen on the fit set (sgd/ode prune_order), Lpop on the out-of-sample
   * set of sgd/lpop_fresh and ode/loss_fresh, H each (k heads kept) */
  double *sgd_prune_loss_fresh, *sgd_prune_loss_fresh_se;
  double *ode_prune_loss_fresh, *ode_prune_loss_fresh_se;
} hs_result;

typedef struct hs_result_field {
  const char *name;      /* dataset path relative to the point's group */
  const char *long_name; /* a few words, for plot labels */
  const char *units;     /* "1" for dimensionless */
  const char *doc;       /* one sentence, stored as the dataset's description */
  int rank;
  hs_axis axes[HS_MAX_RANK];
  size_t offset;         /* of the double * in hs_result */
  int with_replicas;     /* stored only by points with replicas (hs_shape) */
} hs_result_field;

extern const hs_result_field hs_result_fields[];
extern const int hs_n_result_fields;

/* The size of one dimension. */
int hs_shape_dim(const hs_shape *s, hs_dim d);

/* Number of doubles of a field for one point of this shape; 0 for a
 * field the shape does not store (with_replicas, and no replicas): no
 * dataset of a group of that shape holds it. */
size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s);
/* The array of a field in a result. */
double *hs_result_field_data(const hs_result *r, const hs_result_field *f);

hs_status hs_result_alloc(hs_result *r, const hs_shape *shape, hs_err *err);
void hs_result_free(hs_result *r);

#endif
