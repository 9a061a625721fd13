/* plan.h: the grid of a job, laid out once.
 *
 * Built from the job on every rank, the plan is the one place that knows the
 * grid: each point's parameters (hs_point), its result shape, its results
 * group and row there, its cost estimate, its label, and the /grid columns.
 * The store and the sweep read the plan, never the job, so the layout cannot
 * be derived twice. Data flows one way:
 *
 *     job -> plan -> {sweep, store};   sweep -> hs_point_run -> result -> store
 *
 * A point is its parameters. The grid is the union, over the chosen
 * distributions, of the products of the values of the keys each point reads
 * (hs_key.read_when): `b1` does not multiply, and has no value at, a onehot
 * point; `ode.rtol` none where the ODE is off. The first key of the table
 * varies slowest. A zip group (job.h) moves as one key at the place of its
 * first key in the table: its n tuples multiply the grid by n, not by the
 * product of its lists; its keys must be read by the same points.
 */
#ifndef HEADSPEC_PLAN_H
#define HEADSPEC_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "headspec/error.h"
#include "headspec/point.h"

enum {
  HS_GROUP_NAME_LEN = 96,   /* "H2_K2_L8_T51_maps4" */
  HS_COLUMN_NAME_LEN = 48,  /* "training_run" */
  HS_LABEL_LEN = 512,       /* "H=4 activation=bsoftmax seed=2" */
  HS_MAX_OUTPUT_NAME = 200, /* characters of the output's file name: room
                               for the suffixes the store adds (.old-DATE) */
  HS_MAX_OUTPUT_PATH = 4000
};
/* Points are numbered by int (the sweep's messages); memory is the real
 * limit: the plan holds 2 bytes per job key and point (about 100 bytes a
 * point), a run's rank 0 about as much again (docs/RESULTS.md, "Limits"). */
#define HS_MAX_POINTS 2147483647L

/* The points of one result shape: one results group of the file. */
typedef struct hs_plan_group {
  char name[HS_GROUP_NAME_LEN]; /* every dimension of the shape */
  hs_shape shape;
  long n;                       /* rows */
  long *points;                 /* the grid index of each row */
} hs_plan_group;

typedef enum { HS_COLUMN_REAL, HS_COLUMN_INT, HS_COLUMN_NAME } hs_column_type;

/* A /grid column: one scalar job key's value at every point. */
typedef struct hs_plan_column {
  char name[HS_COLUMN_NAME_LEN]; /* "H", or "training_run" where two
                                    sections share a name */
  const char *long_name;         /* the key's description */
  hs_column_type type;           /* INT also for booleans (0/1) */
  int key;                       /* index in hs_job_keys */
  int swept;                     /* more than one value over the grid */
} hs_plan_column;

typedef struct hs_plan hs_plan;

/* Read a job file and lay out its grid; on error err->msg is FILE:LINE: ... */
hs_status hs_plan_load(const char *job_path, hs_plan **out, hs_err *err);
/* The same from a job's text (e.g. the one stored in a results file);
 * label names it in messages. */
hs_status hs_plan_from_text(const char *label, const char *text, hs_plan **out,
                            hs_err *err);
/* The same for the job stored in a results file of layout revision
 * `revision` (0: a file without one): keys it leaves out take that
 * revision's defaults (job.h). */
hs_status hs_plan_from_stored_text(const char *label, const char *text, long revision,
                                   hs_plan **out, hs_err *err);
void hs_plan_free(hs_plan *plan);

/* Provenance and the shared settings. */
const char *hs_plan_output(const hs_plan *plan);
const char *hs_plan_job_path(const hs_plan *plan);
const char *hs_plan_job_text(const hs_plan *plan);
long hs_plan_n_points(const hs_plan *plan);
/* The T values of the time coordinate of a results group with T records:
 * the nominal record times when every point shares t_max (t_min and
 * record_grid are never swept); the record index 0 .. T-1 when t_max is
 * swept (each point's own times are its sgd/t and ode/t); NaN when no point
 * trains. */
void hs_plan_times(const hs_plan *plan, int T, double *times);
/* Whether the time coordinate is the record index (t_max is swept). */
int hs_plan_time_is_index(const hs_plan *plan);

/* Point i's parameters (0 <= i < n_points). The point borrows the plan's
 * matrices: keep the plan alive while using it. */
void hs_plan_point(const hs_plan *plan, long i, hs_point *p);
/* Its results group (index into hs_plan_groups) and row there. */
int hs_plan_group_of(const hs_plan *plan, long i);
long hs_plan_row_of(const hs_plan *plan, long i);
/* Estimated single-core seconds. */
double hs_plan_cost(const hs_plan *plan, long i);
/* "H=4 activation=bsoftmax seed=2": the swept parameters ("point 0" if
 * nothing is swept). */
void hs_plan_label(const hs_plan *plan, long i, char *buf, size_t len);

int hs_plan_n_groups(const hs_plan *plan);
const hs_plan_group *hs_plan_groups(const hs_plan *plan);

/* A zip group of the job as /grid columns. */
typedef struct hs_plan_zip {
  int n;                 /* columns */
  const int *columns;    /* indices into hs_plan_columns, in table order */
  const char *names;     /* their names with a space between: "b1 b2" (the
                            /grid attribute zipped_keys has one per group) */
} hs_plan_zip;

int hs_plan_n_zips(const hs_plan *plan);
const hs_plan_zip *hs_plan_zips(const hs_plan *plan);

int hs_plan_n_columns(const hs_plan *plan);
const hs_plan_column *hs_plan_columns(const hs_plan *plan);
/* Column c's value at point i: REAL (NaN where the point does not read the
 * key), INT (-1 there), NAME ("" there). */
double hs_plan_column_number(const hs_plan *plan, int c, long i);
const char *hs_plan_column_word(const hs_plan *plan, int c, long i);

/* How an existing file's plan (old) relates to the job's (cur). */
typedef struct hs_plan_match {
  int same;           /* the same points in the same order: resume in place */
  long common;        /* old points that are also points of cur */
  long *cur_of_old;   /* per old point: its index in cur, or -1 */
} hs_plan_match;

/* Match the points of old to those of cur by their parameters (and job
 * seed), whatever the job texts' comments, order or formatting. Fails with
 * HS_EMISMATCH when a setting every point shares differs (t_max, d, ...);
 * err->msg then lists them: "training.t_max (60 in the file, 80 in the
 * job)". Free cur_of_old with hs_plan_match_free. */
hs_status hs_plan_match_points(const hs_plan *old, const hs_plan *cur,
                               hs_plan_match *m, hs_err *err);
void hs_plan_match_free(hs_plan_match *m);

#endif
