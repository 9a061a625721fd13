/* job.h: the YAML job file, validated and expanded into grid points.
 *
 * A job names its output file and gives the model and training keys; any
 * key marked sweepable may be given a list, and the grid is the Cartesian
 * product of all lists (the last key of the table varies fastest). Every
 * error names FILE:LINE. The key table (hs_job_keys, in job_keys.c) is also
 * what the store writes as the /grid columns.
 */
#ifndef HEADSPEC_JOB_H
#define HEADSPEC_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "headspec/error.h"
#include "headspec/point.h"

typedef enum {
  HS_KEY_INT,
  HS_KEY_REAL,
  HS_KEY_BOOL,
  HS_KEY_NAME,   /* a word from a fixed set */
  HS_KEY_VECTOR, /* list of reals (never swept) */
  HS_KEY_MATRIX  /* list of lists of reals (never swept) */
} hs_key_type;

typedef struct hs_key {
  const char *section; /* "model" or "training" */
  const char *name;
  hs_key_type type;
  int sweepable;
  int dist_param;      /* read only by some distributions (dist.h) */
  size_t offset;       /* of the field in hs_point (an hs_matrix for
                          VECTOR and MATRIX keys) */
  double min, max;     /* inclusive range of numbers */
  const char *fallback;/* default value as YAML text; NULL: required */
  const char *(*check_name)(const char *value); /* NAME: NULL if allowed,
                                                   else the allowed list */
  const char *doc;
} hs_key;

extern const hs_key hs_job_keys[];
extern const int hs_n_job_keys;

/* The values one key takes in a job. */
typedef struct hs_key_values {
  int n;                       /* 1 unless swept */
  int line;                    /* where it was given (0: default) */
  double *num;                 /* n numbers (INT, REAL, BOOL) */
  char (*word)[HS_NAME_LEN];   /* n words (NAME) */
  double *mat;                 /* VECTOR, MATRIX: rows x cols numbers */
  int rows, cols;
} hs_key_values;

typedef struct hs_job {
  char *path;
  char *text;                  /* the job file as read (provenance) */
  char *output;                /* results file */
  uint64_t job_seed;
  hs_key_values values[64];    /* per key of hs_job_keys */
  long n_points;
} hs_job;

/* Read, validate and expand a job file; on error, err->msg is
 * "FILE:LINE: what is wrong". */
hs_status hs_job_load(const char *path, hs_job *job, hs_err *err);
void hs_job_free(hs_job *job);

/* The i-th grid point (0 <= i < n_points). */
void hs_job_point(const hs_job *job, long i, hs_point *p);

/* The /grid dataset path of key k: "grid/<name>", or "grid/<section>_<name>"
 * where two sections share a name (training run, ode run). */
void hs_job_column_name(int k, char *buf, size_t len);

/* Estimated single-core seconds for one point. */
double hs_job_point_cost(const hs_point *p);

#endif
