/* plan.c: lay out a job's grid once (plan.h): points' checks, groups and
 * rows, costs, labels and /grid columns. The expansion of the job's lists
 * into points is in plan_points.c, matching two plans' points in
 * plan_match.c. */
#include "headspec/plan.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/job.h"
#include "headspec/timegrid.h"
#include "plan_impl.h"

/* The line where a key ("section.name") was given; 1 if defaulted or none. */
static int key_line(const hs_plan *plan, const char *key) {
  const char *dot = key ? strchr(key, '.') : NULL;
  char section[32] = "";
  if (!dot || dot - key >= (long)sizeof section) return 1;
  memcpy(section, key, (size_t)(dot - key));
  int k = hs_job_key_index(section, dot + 1);
  int line = k >= 0 ? plan->job.values[k].line : 0;
  return line > 0 ? line : 1;
}

/* Every point must be able to run (hs_point_check), before any does. */
static hs_status check_point(const hs_plan *plan, long i, const hs_point *p,
                             hs_shape *shape, hs_err *err) {
  hs_err why;
  const char *key = NULL;
  if (!hs_point_check(p, &key, &why) && !hs_point_shape(p, shape, &why)) return HS_OK;
  char label[HS_LABEL_LEN];
  hs_plan_label(plan, i, label, sizeof label);
  return hs_err_set(err, HS_EINPUT, "%s:%d: %s: %s", plan->job.path, key_line(plan, key), label,
                    why.msg);
}

static int same_shape(const hs_shape *a, const hs_shape *b) {
  for (int d = 0; d < HS_N_DIMS; d++)
    if (hs_shape_dim(a, (hs_dim)d) != hs_shape_dim(b, (hs_dim)d)) return 0;
  return 1;
}

/* The group of a shape, made if new; -1 when out of memory. */
static int group_for(hs_plan *plan, const hs_shape *shape) {
  for (int g = plan->n_groups - 1; g >= 0; g--)
    if (same_shape(&plan->groups[g].shape, shape)) return g;
  hs_plan_group *more = realloc(plan->groups, sizeof *more * (size_t)(plan->n_groups + 1));
  if (!more) return -1;
  plan->groups = more;
  hs_plan_group *g = &more[plan->n_groups];
  memset(g, 0, sizeof *g);
  g->shape = *shape;
  size_t used = 0;
  for (int d = 0; d < HS_N_DIMS; d++) /* named after every dimension */
    if (d != HS_DIM_REPLICAS || shape->replicas) /* no replicas: the name it always had */
      used += (size_t)snprintf(g->name + used, sizeof g->name - used, "%s%s%d", d ? "_" : "",
                               hs_dim_names[d], hs_shape_dim(shape, (hs_dim)d));
  return plan->n_groups++;
}

/* Check each point, give it a group, a row there and a cost. */
static hs_status place_points(hs_plan *plan, hs_err *err) {
  long n = plan->n_points;
  plan->group_of = malloc(sizeof *plan->group_of * (size_t)n);
  plan->row_of = malloc(sizeof *plan->row_of * (size_t)n);
  plan->cost = malloc(sizeof *plan->cost * (size_t)n);
  if (!plan->group_of || !plan->row_of || !plan->cost)
    return hs_err_set(err, HS_ENOMEM, "out of memory for the grid");
  for (long i = 0; i < n; i++) {
    hs_point p;
    hs_shape shape;
    hs_plan_point(plan, i, &p);
    hs_status st = check_point(plan, i, &p, &shape, err);
    if (st) return st;
    int g = group_for(plan, &shape);
    if (g < 0) return hs_err_set(err, HS_ENOMEM, "out of memory for the grid");
    plan->group_of[i] = g;
    plan->row_of[i] = plan->groups[g].n++;
    plan->cost[i] = hs_point_cost(&p);
  }
  for (int g = 0; g < plan->n_groups; g++) {
    hs_plan_group *grp = &plan->groups[g];
    if (!(grp->points = malloc(sizeof *grp->points * (size_t)grp->n)))
      return hs_err_set(err, HS_ENOMEM, "out of memory for the grid");
  }
  for (long i = 0; i < n; i++) plan->groups[plan->group_of[i]].points[plan->row_of[i]] = i;
  return HS_OK;
}

/* ---- /grid columns and labels ----------------------------------------------- */

static hs_status make_columns(hs_plan *plan, hs_err *err) {
  plan->columns = calloc((size_t)hs_n_job_keys, sizeof *plan->columns);
  if (!plan->columns) return hs_err_set(err, HS_ENOMEM, "out of memory");
  for (int k = 0; k < hs_n_job_keys; k++) {
    const hs_key *key = &hs_job_keys[k];
    if (key->type == HS_KEY_VECTOR || key->type == HS_KEY_MATRIX) continue;
    hs_plan_column *c = &plan->columns[plan->n_columns];
    int shared = 0; /* a name two sections use gets its section in front */
    for (int i = 0; i < hs_n_job_keys; i++)
      shared |= i != k && strcmp(hs_job_keys[i].name, key->name) == 0;
    if (shared) snprintf(c->name, sizeof c->name, "%s_%s", key->section, key->name);
    else snprintf(c->name, sizeof c->name, "%s", key->name);
    c->long_name = key->doc;
    c->type = key->type == HS_KEY_REAL   ? HS_COLUMN_REAL
              : key->type == HS_KEY_NAME ? HS_COLUMN_NAME
                                         : HS_COLUMN_INT;
    c->key = k;
    int first = HS_UNREAD; /* swept: two read values differ somewhere */
    for (long i = 0; i < plan->n_points && !c->swept; i++) {
      int v = plan->value_of[(size_t)i * hs_n_job_keys + k];
      if (v == HS_UNREAD) continue;
      if (first == HS_UNREAD) first = v;
      c->swept = v != first;
    }
    plan->n_columns++;
    if (k == hs_job_key_index("training", "t_max")) plan->time_is_index = c->swept;
  }
  return HS_OK;
}

/* The zip groups as columns and names (every zipped key is scalar: a column). */
static hs_status make_zips(hs_plan *plan, hs_err *err) {
  const hs_job *job = &plan->job;
  if (job->n_zips <= 0) return HS_OK;
  size_t total = 0;
  for (int z = 0; z < job->n_zips; z++) total += (size_t)job->zips[z].n_keys;
  plan->zips = calloc((size_t)job->n_zips, sizeof *plan->zips);
  plan->zip_columns = calloc(total, sizeof *plan->zip_columns);
  plan->zip_names = calloc(total, HS_COLUMN_NAME_LEN);
  if (!plan->zips || !plan->zip_columns || !plan->zip_names)
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  int *cols = plan->zip_columns;
  char *names = plan->zip_names;
  for (int z = 0; z < job->n_zips; z++) {
    hs_plan_zip *pz = &plan->zips[z];
    pz->columns = cols, pz->names = names;
    for (int e = 0; e < job->zips[z].n_keys; e++)
      for (int c = 0; c < plan->n_columns; c++)
        if (plan->columns[c].key == job->zips[z].keys[e]) {
          cols[pz->n++] = c;
          names += sprintf(names, "%s%s", e ? " " : "", plan->columns[c].name);
        }
    cols += pz->n;
    names++; /* past the NUL */
  }
  return HS_OK;
}

int hs_plan_value_index(const hs_plan *plan, int k, long i) {
  return plan->value_of[(size_t)i * hs_n_job_keys + k];
}

double hs_plan_column_number(const hs_plan *plan, int c, long i) {
  const hs_plan_column *col = &plan->columns[c];
  int v = hs_plan_value_index(plan, col->key, i);
  if (v == HS_UNREAD) return col->type == HS_COLUMN_REAL ? NAN : -1;
  return plan->job.values[col->key].num[v];
}

const char *hs_plan_column_word(const hs_plan *plan, int c, long i) {
  const hs_plan_column *col = &plan->columns[c];
  int v = hs_plan_value_index(plan, col->key, i);
  return v == HS_UNREAD ? "" : plan->job.values[col->key].word[v];
}

/* A column's value as text: "softmax", "0.5", "4". */
static void column_text(const hs_plan *plan, int c, long i, char *buf, size_t len) {
  if (plan->columns[c].type == HS_COLUMN_NAME)
    snprintf(buf, len, "%s", hs_plan_column_word(plan, c, i));
  else
    snprintf(buf, len, "%.10g", hs_plan_column_number(plan, c, i));
}

void hs_plan_label(const hs_plan *plan, long i, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int c = 0; c < plan->n_columns && used < len; c++) {
    if (!plan->columns[c].swept ||
        hs_plan_value_index(plan, plan->columns[c].key, i) == HS_UNREAD)
      continue;
    char value[64];
    column_text(plan, c, i, value, sizeof value);
    used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "",
                             plan->columns[c].name, value);
  }
  if (!buf[0]) snprintf(buf, len, "point %ld", i);
}

/* ---- building and the accessors ---------------------------------------------- */

/* The output's name must leave room for the suffixes the store adds. */
static hs_status check_output_name(const hs_plan *plan, hs_err *err) {
  const char *out = plan->job.output, *slash = strrchr(out, '/');
  size_t name = strlen(slash ? slash + 1 : out);
  if (strlen(out) > HS_MAX_OUTPUT_PATH || name > HS_MAX_OUTPUT_NAME)
    return hs_err_set(err, HS_EINPUT, "%s:%d: the output %s is %zu characters long; at most "
                      "%d (the store adds suffixes such as .old-DATE to it), and the whole "
                      "path at most %d", plan->job.path, plan->job.output_line,
                      strlen(out) > HS_MAX_OUTPUT_PATH ? "path" : "file name",
                      strlen(out) > HS_MAX_OUTPUT_PATH ? strlen(out) : name,
                      HS_MAX_OUTPUT_NAME, HS_MAX_OUTPUT_PATH);
  return HS_OK;
}

static hs_status build(hs_plan *plan, hs_err *err) {
  hs_status st = check_output_name(plan, err);
  if (!st) st = hs_plan_expand(plan, err);
  if (!st) st = place_points(plan, err);
  if (!st) st = make_columns(plan, err);
  if (!st) st = make_zips(plan, err);
  return st;
}

void hs_plan_times(const hs_plan *plan, int T, double *times) {
  if (plan->time_is_index) { /* each point's times differ: its sgd/t, ode/t */
    for (int j = 0; j < T; j++) times[j] = j;
    return;
  }
  hs_point p; /* the time grid's keys are common to the points that read them */
  for (long i = 0; i < plan->n_points; i++) {
    hs_plan_point(plan, i, &p);
    if (p.run_sgd || p.run_ode) {
      hs_timegrid(p.record_grid, p.t_min, p.t_max, T, times);
      return;
    }
  }
  for (int j = 0; j < T; j++) times[j] = NAN; /* Bayes-only points: no time axis */
}

static hs_status finish(hs_status st, hs_plan *plan, hs_plan **out) {
  if (st) {
    hs_plan_free(plan);
    return st;
  }
  *out = plan;
  return HS_OK;
}

hs_status hs_plan_load(const char *job_path, hs_plan **out, hs_err *err) {
  hs_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_job_load(job_path, &plan->job, err);
  if (!st) st = build(plan, err);
  return finish(st, plan, out);
}

hs_status hs_plan_from_text(const char *label, const char *text, hs_plan **out,
                            hs_err *err) {
  return hs_plan_from_stored_text(label, text, LONG_MAX, out, err);
}

hs_status hs_plan_from_stored_text(const char *label, const char *text, long revision,
                                   hs_plan **out, hs_err *err) {
  hs_plan *plan = calloc(1, sizeof *plan);
  if (!plan) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_job_parse_stored(label, text, revision, &plan->job, err);
  if (!st) st = build(plan, err);
  return finish(st, plan, out);
}

void hs_plan_free(hs_plan *plan) {
  if (!plan) return;
  for (int g = 0; g < plan->n_groups; g++) free(plan->groups[g].points);
  free(plan->groups), free(plan->columns), free(plan->value_of);
  free(plan->zips), free(plan->zip_columns), free(plan->zip_names);
  free(plan->group_of), free(plan->row_of), free(plan->cost);
  hs_job_free(&plan->job);
  free(plan);
}

const char *hs_plan_output(const hs_plan *plan) { return plan->job.output; }
const char *hs_plan_job_path(const hs_plan *plan) { return plan->job.path; }
const char *hs_plan_job_text(const hs_plan *plan) { return plan->job.text; }
long hs_plan_n_points(const hs_plan *plan) { return plan->n_points; }
int hs_plan_group_of(const hs_plan *plan, long i) { return plan->group_of[i]; }
long hs_plan_row_of(const hs_plan *plan, long i) { return plan->row_of[i]; }
double hs_plan_cost(const hs_plan *plan, long i) { return plan->cost[i]; }
int hs_plan_n_groups(const hs_plan *plan) { return plan->n_groups; }
const hs_plan_group *hs_plan_groups(const hs_plan *plan) { return plan->groups; }
int hs_plan_n_columns(const hs_plan *plan) { return plan->n_columns; }
const hs_plan_column *hs_plan_columns(const hs_plan *plan) { return plan->columns; }
int hs_plan_time_is_index(const hs_plan *plan) { return plan->time_is_index; }
int hs_plan_n_zips(const hs_plan *plan) { return plan->job.n_zips; }
const hs_plan_zip *hs_plan_zips(const hs_plan *plan) { return plan->zips; }
