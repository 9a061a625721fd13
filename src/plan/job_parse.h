/* job_parse.h: what job.c's parts share (private to src/plan): the
 * parser's state, reading libfyaml's nodes, and errors as FILE:LINE.
 * job.c walks the document; job_values.c reads a key's values, job_zip.c
 * `zip:`, job_nodes.c nodes. The calls run one way: job.c -> job_values.c,
 * job_zip.c -> job_nodes.c. */
#ifndef HEADSPEC_PLAN_JOB_PARSE_H
#define HEADSPEC_PLAN_JOB_PARSE_H

#include <libfyaml.h>

#include "headspec/job.h"

/* The sections of a job file, as hs_key.section names them. */
static const char *const sections[] = {"model", "training", "ode", "analysis", "testing"};
enum { N_SECTIONS = sizeof sections / sizeof *sections };

typedef struct parser {
  hs_job *job;
  hs_err *err;
  long revision; /* the results-file layout revision whose defaults apply (LONG_MAX: today's) */
  int section_line[N_SECTIONS]; /* where each section was given (0: not) */
} parser;

/* The line of a scalar node (1-based), or fallback. */
int hs_yaml_line(struct fy_node *n, int fallback);
/* The line where a node starts (its first scalar), or fallback. */
int hs_yaml_start_line(struct fy_node *n, int fallback);
/* The node an alias stands for; other nodes are themselves. */
struct fy_node *hs_yaml_deref(struct fy_node *n);
/* A scalar's text (through an alias), or NULL. */
const char *hs_yaml_scalar(struct fy_node *n);
/* HS_EINPUT with "FILE:LINE: what" in ps->err. */
hs_status hs_parse_fail(parser *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A number of key k's type within its range (job_values.c). */
hs_status hs_parse_number(parser *ps, const hs_key *k, struct fy_node *n, int line, double *out);
/* Key ki's value (a scalar) or values (a list: a swept key) from node n
 * into ps->job->values[ki] (job_values.c). */
hs_status hs_parse_key(parser *ps, int ki, struct fy_node *n, int line);

/* `zip:` (job_zip.c): its groups into ps->job->zips, then their checks
 * once every key is read. */
hs_status hs_parse_zip(parser *ps, struct fy_node *n, int line);
hs_status hs_check_zips(parser *ps);

#endif
