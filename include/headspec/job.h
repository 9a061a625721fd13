/* job.h: the YAML job file, read and validated.
 *
 * A job names its output file and gives the model and training keys; any
 * key marked sweepable may be given a list of distinct values. Keys named
 * together in a group of the job's `zip:` move together instead: each is a
 * list (values may repeat), all of one length, and their j-th values form
 * one tuple (the tuples distinct). The grid those lists span is laid out by
 * the plan (plan.h), not here. Every error names
 * FILE:LINE. The key table (hs_job_keys, in job_keys.c) also says which
 * points read a key (read_when) and is what the plan writes as /grid columns.
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

/* Which points read a key: one that a point does not read does not multiply
 * the grid there and has no value in its /grid column. Each depends only on
 * keys earlier in the table. */
typedef enum {
  HS_READ_ALWAYS = 0,
  HS_READ_BY_DIST = 1,     /* the point's distribution reads it (dist.h) */
  HS_READ_BY_SGD = 2,      /* the point runs SGD */
  HS_READ_BY_ODE = 3,      /* the point runs the ODE */
  HS_READ_BY_GIVEN = 4,    /* the point's ODE starts from a given m, Q, b */
  HS_READ_TESTING = 5,     /* a testing knob: every point sees it, but it is
                              not one of its parameters (not in its identity) */
  HS_READ_WHEN_TRAINING = 6, /* needed by points that run SGD or the ODE: required
                              unless every point only computes the Bayes risk;
                              if given, every point carries it (the grid reads
                              it as always, as ode.run comes later) */
  HS_READ_BY_SET = 7       /* the point runs SGD on a fixed training set
                              (training.n_train or training.alpha > 0) */
} hs_key_reader;

typedef struct hs_key {
  const char *section; /* "model" or "training" */
  const char *name;
  hs_key_type type;
  int sweepable;
  hs_key_reader read_when; /* which points read it */
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

/* A default that changed: results files of a layout revision before
 * `revision` were written with `old` (as YAML text), so a job stored in one
 * is read with it (hs_job_parse_stored). */
typedef struct hs_key_change {
  const char *section, *name;
  long revision;
  const char *old;
} hs_key_change;

extern const hs_key_change hs_job_key_changes[];
extern const int hs_n_job_key_changes;

/* The values one key takes in a job. */
/* Values a swept key may list (the plan numbers them in 16 bits). */
enum { HS_MAX_VALUES = 65534 };

typedef struct hs_key_values {
  int n;                       /* 1 unless swept */
  int line;                    /* where it was given (0: default) */
  double *num;                 /* n numbers (INT, REAL, BOOL) */
  char (*word)[HS_NAME_LEN];   /* n words (NAME) */
  double *mat;                 /* VECTOR, MATRIX: rows x cols numbers */
  int rows, cols;
  int listed;                  /* given as a YAML list */
  int zip;                     /* 1 + its group in hs_job.zips; 0: not zipped */
  int zip_line;                /* where the zip names it */
} hs_key_values;

/* A group of keys that move together (one of the job's `zip:` groups). */
typedef struct hs_zip {
  int n_keys;
  int *keys;                   /* indices in hs_job_keys, in table order */
  int n;                       /* values of each key (tuples) */
  int line;                    /* where the group was given */
} hs_zip;

typedef struct hs_job {
  char *path;
  char *text;                  /* the job file as read (provenance) */
  char *output;                /* results file */
  int output_line;
  uint64_t job_seed;
  hs_key_values *values;       /* hs_n_job_keys entries, one per key */
  int n_zips;
  hs_zip *zips;                /* the zip groups, in the order given */
} hs_job;

/* Read and validate a job file; on error, err->msg is "FILE:LINE: what is
 * wrong". */
hs_status hs_job_load(const char *path, hs_job *job, hs_err *err);
/* The same from text; label stands for the file name in messages. */
/* As hs_job_parse, for a job stored in a results file of layout revision
 * `revision`: keys it does not give take the defaults of that revision. */
hs_status hs_job_parse_stored(const char *label, const char *text, long revision, hs_job *job,
                              hs_err *err);
hs_status hs_job_parse(const char *label, const char *text, hs_job *job,
                       hs_err *err);
void hs_job_free(hs_job *job);

/* The index of a key in hs_job_keys, or -1. */
int hs_job_key_index(const char *section, const char *name);

#endif
