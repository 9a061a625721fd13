/* plan_impl.h: the plan's insides, shared by plan.c, plan_points.c and
 * plan_match.c. */
#ifndef HEADSPEC_PLAN_IMPL_H
#define HEADSPEC_PLAN_IMPL_H

#include <stdint.h>

#include "headspec/job.h"
#include "headspec/plan.h"

/* A key's value index at a point the key does not touch. */
enum { HS_UNREAD = 0xFFFF };

struct hs_plan {
  hs_job job;          /* owned: the values the indices below point into */
  long n_points;
  uint16_t *value_of;  /* n_points x hs_n_job_keys: value index or HS_UNREAD */
  int *group_of;       /* per point */
  long *row_of;        /* per point: row in its group */
  double *cost;        /* per point: estimated seconds */
  int n_groups;
  hs_plan_group *groups;
  int n_columns;
  hs_plan_column *columns;
  int time_is_index;   /* t_max is swept: the time coordinate is the record index */
  hs_plan_zip *zips;   /* job.n_zips of them */
  int *zip_columns;    /* their columns, one block per group */
  char *zip_names;     /* their names, one string per group */
};

/* Whether a point (with the keys before this one set) reads the key. */
int hs_plan_key_is_read(const hs_key *key, const hs_point *p);
/* The grid's points: plan->n_points and plan->value_of (plan_points.c). */
hs_status hs_plan_expand(hs_plan *plan, hs_err *err);
/* Key k's value index at point i (HS_UNREAD: not read). */
int hs_plan_value_index(const hs_plan *plan, int k, long i);

#endif
