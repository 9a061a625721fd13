/* plan_points.c: a job's grid as points (plan_impl.h): which points read
 * a key, the expansion of the job's lists and zip groups into each point's
 * value indices, and a point's hs_point from them. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/job.h"
#include "headspec/plan.h"
#include "headspec/point.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"
#include "plan_impl.h"

/* ---- which points read a key, and the expansion --------------------------- */

int hs_plan_key_is_read(const hs_key *key, const hs_point *p) {
  switch (key->read_when) {
    case HS_READ_ALWAYS: return 1;
    case HS_READ_TESTING: return 1;
    case HS_READ_BY_DIST: return hs_dist_uses_key(hs_dist_find(p->dist.name), key->name);
    case HS_READ_BY_SGD: return p->run_sgd;
    case HS_READ_BY_ODE: return p->run_ode;
    case HS_READ_WHEN_TRAINING: return 1; /* ode.run is not known yet; see job.h */
    case HS_READ_BY_GIVEN: return p->run_ode && p->ode_start == HS_START_GIVEN;
    case HS_READ_BY_SET: return p->run_sgd && (p->n_train > 0 || p->alpha_train > 0);
  }
  return 1;
}

/* Set key k's field of p to its j-th value. */
/* The name-valued keys hs_point holds as enums, and their names' lookup
 * (the key table checked each name already). */
static const struct {
  size_t offset;
  int (*find)(const char *name);
} choices[] = {
    {offsetof(hs_point, sampler), hs_sgd_sampler_find},
    {offsetof(hs_point, batches), hs_sgd_batches_find},
    {offsetof(hs_point, record_grid), hs_record_grid_find},
    {offsetof(hs_point, ode_start), hs_ode_start_find},
    {offsetof(hs_point, ode_method), hs_point_ode_method_find},
};

static void set_name(const hs_key *key, const char *word, char *field) {
  for (size_t c = 0; c < sizeof choices / sizeof *choices; c++)
    if (choices[c].offset == key->offset) {
      *(int *)field = choices[c].find(word);
      return;
    }
  strcpy(field, word);
}

static void set_field(const hs_job *job, int k, int j, hs_point *p) {
  const hs_key *key = &hs_job_keys[k];
  const hs_key_values *kv = &job->values[k];
  char *field = (char *)p + key->offset;
  switch (key->type) {
    case HS_KEY_INT:
    case HS_KEY_BOOL: *(int *)field = (int)kv->num[j]; break;
    case HS_KEY_REAL: *(double *)field = kv->num[j]; break;
    case HS_KEY_NAME: set_name(key, kv->word[j], field); break;
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX: *(hs_matrix *)field = (hs_matrix){kv->mat, kv->rows, kv->cols}; break;
  }
}

/* How many values key k offers (matrices: one, if given). */
static int n_values(const hs_job *job, int k) {
  const hs_key_values *kv = &job->values[k];
  if (hs_job_keys[k].type == HS_KEY_VECTOR || hs_job_keys[k].type == HS_KEY_MATRIX)
    return kv->mat != NULL;
  return kv->n;
}

typedef struct expander {
  hs_plan *plan;   /* NULL while counting */
  long n;          /* points emitted so far */
  uint16_t *index; /* the point being built: a value per key */
  hs_point p;
  int *zip_at;     /* per zip group: its tuple at this point, -1 not chosen yet */
  int *zip_by;     /* per zip group: the key that chose it */
  int *zip_unread; /* per zip group: 1 + a key of it this point does not read */
  int mixed_read, mixed_unread; /* zipped keys read by different points */
} expander;

enum { EXPAND_OK, EXPAND_TOO_MANY, EXPAND_MIXED };

static int expand_from(expander *e, const hs_job *job, int k);

/* Key k, of zip group z, at a point that reads it: the group's tuple
 * branches the grid at its first key read, and sets its later keys. */
static int expand_zipped(expander *e, const hs_job *job, int k, int z) {
  if (e->zip_unread[z]) /* an earlier key of the group was not read here */
    return e->mixed_read = k, e->mixed_unread = e->zip_unread[z] - 1, EXPAND_MIXED;
  if (e->zip_at[z] >= 0) {
    set_field(job, k, e->zip_at[z], &e->p);
    e->index[k] = (uint16_t)e->zip_at[z];
    return expand_from(e, job, k + 1);
  }
  int r = EXPAND_OK;
  for (int j = 0; j < job->zips[z].n && !r; j++) {
    set_field(job, k, j, &e->p);
    e->index[k] = (uint16_t)j;
    e->zip_at[z] = j, e->zip_by[z] = k;
    r = expand_from(e, job, k + 1);
  }
  e->zip_at[z] = -1;
  return r;
}

/* Key k at a point that does not read it. */
static int expand_unread(expander *e, const hs_job *job, int k, int z) {
  e->index[k] = HS_UNREAD;
  if (z < 0) return expand_from(e, job, k + 1);
  if (e->zip_at[z] >= 0) /* an earlier key of the group was read here */
    return e->mixed_read = e->zip_by[z], e->mixed_unread = k, EXPAND_MIXED;
  int was = e->zip_unread[z];
  if (!was) e->zip_unread[z] = k + 1;
  int r = expand_from(e, job, k + 1);
  e->zip_unread[z] = was;
  return r;
}

/* Depth-first over the keys in table order: a key the point (as set by the
 * keys before it) reads multiplies it by its values; one it does not read
 * leaves it as it is; a zip group multiplies it once, by its tuples.
 * Returns an EXPAND_ code. */
static int expand_from(expander *e, const hs_job *job, int k) {
  if (k == hs_n_job_keys) {
    if (e->n >= HS_MAX_POINTS) return EXPAND_TOO_MANY;
    if (e->plan)
      memcpy(e->plan->value_of + (size_t)e->n * hs_n_job_keys, e->index,
             sizeof *e->index * (size_t)hs_n_job_keys);
    e->n++;
    return EXPAND_OK;
  }
  int n = n_values(job, k), z = job->values[k].zip - 1;
  if (n < 1 || !hs_plan_key_is_read(&hs_job_keys[k], &e->p))
    return expand_unread(e, job, k, z);
  if (z >= 0) return expand_zipped(e, job, k, z);
  int r = EXPAND_OK;
  for (int j = 0; j < n && !r; j++) {
    set_field(job, k, j, &e->p);
    e->index[k] = (uint16_t)j;
    r = expand_from(e, job, k + 1);
  }
  return r;
}

/* Run the expansion (counting when e->plan is NULL). */
static int expand_all(expander *e, const hs_job *job) {
  for (int z = 0; z < job->n_zips; z++) e->zip_at[z] = -1, e->zip_unread[z] = 0;
  return expand_from(e, job, 0);
}

static hs_status mixed_error(const hs_job *job, const expander *e, hs_err *err) {
  const hs_key *a = &hs_job_keys[e->mixed_read], *b = &hs_job_keys[e->mixed_unread];
  return hs_err_set(err, HS_EINPUT, "%s:%d: 'zip': some points read '%s.%s' but not '%s.%s': "
                    "keys that move together must be read by the same points", job->path,
                    job->values[e->mixed_unread].zip_line, a->section, a->name, b->section,
                    b->name);
}

hs_status hs_plan_expand(hs_plan *plan, hs_err *err) {
  const hs_job *job = &plan->job;
  for (int k = 0; k < hs_n_job_keys; k++)
    if (n_values(job, k) >= HS_UNREAD)
      return hs_err_set(err, HS_EINPUT, "%s:%d: '%s' has more than %d values", job->path,
                        job->values[k].line, hs_job_keys[k].name, HS_UNREAD - 1);
  uint16_t *index = calloc((size_t)hs_n_job_keys, sizeof *index);
  int *zip = calloc((size_t)job->n_zips * 3 + 1, sizeof *zip);
  if (!index || !zip) {
    free(index), free(zip);
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  }
  expander e = {.index = index, .zip_at = zip, .zip_by = zip + job->n_zips,
                .zip_unread = zip + 2 * job->n_zips};
  int r = expand_all(&e, job), too_many = r == EXPAND_TOO_MANY;
  if (r == EXPAND_MIXED) {
    hs_status st = mixed_error(job, &e, err);
    free(index), free(zip);
    return st;
  }
  if (!too_many) {
    plan->n_points = e.n;
    plan->value_of = malloc(sizeof *plan->value_of * (size_t)e.n * hs_n_job_keys);
    if (plan->value_of) {
      e.plan = plan, e.n = 0;
      memset(&e.p, 0, sizeof e.p); /* as the counting pass began */
      expand_all(&e, job);
    }
  }
  free(index), free(zip);
  if (too_many) { /* blame the longest list */
    int longest = 0;
    for (int k = 1; k < hs_n_job_keys; k++)
      if (n_values(job, k) > n_values(job, longest)) longest = k;
    int line = job->values[longest].line;
    return hs_err_set(err, HS_EINPUT, "%s:%d: the grid has more than %ld points (split the job)",
                      job->path, line > 0 ? line : 1, HS_MAX_POINTS);
  }
  return plan->value_of ? HS_OK : hs_err_set(err, HS_ENOMEM, "out of memory for the grid");
}

/* ---- points ------------------------------------------------------------------ */

void hs_plan_point(const hs_plan *plan, long i, hs_point *p) {
  memset(p, 0, sizeof *p);
  p->index = (int)i;
  p->job_seed = plan->job.job_seed;
  const uint16_t *index = plan->value_of + (size_t)i * hs_n_job_keys;
  for (int k = 0; k < hs_n_job_keys; k++)
    if (index[k] != HS_UNREAD) set_field(&plan->job, k, index[k], p);
  /* testing.fail_point names a grid index: is it this point? */
  p->fail_on_purpose = p->fail_on_purpose == i;
}
