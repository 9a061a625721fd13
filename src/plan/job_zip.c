/* job_zip.c: a job's `zip:` (job_parse.h): groups of keys whose lists
 * move together, each a list of "section.key" names, checked for equal
 * lengths and repeated tuples once every key is read (docs/JOBS.md). */
#include <stdlib.h>
#include <string.h>

#include "job_parse.h"

/* The key a zip entry names ("model.b1"), or -1. */
static int zip_key(const char *name) {
  const char *dot = name ? strchr(name, '.') : NULL;
  char section[32];
  if (!dot || dot - name >= (long)sizeof section) return -1;
  memcpy(section, name, (size_t)(dot - name));
  section[dot - name] = '\0';
  return hs_job_key_index(section, dot + 1);
}

static int by_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* One group of `zip:`, a list of "section.key" names, as job->zips[g]. */
static hs_status parse_zip_group(parser *ps, struct fy_node *n, int g, int line) {
  hs_zip *z = &ps->job->zips[g];
  z->line = line = hs_yaml_start_line(n, line);
  n = hs_yaml_deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return hs_parse_fail(ps, line, "'zip': group %d must be a list of keys ('zip' is a list of groups, "
                "e.g. [[model.b1, model.b2]])", g + 1);
  int count = fy_node_sequence_item_count(n);
  if (count < 2)
    return hs_parse_fail(ps, line, "'zip': group %d has %d key%s: keys move together in twos or more",
                g + 1, count, count == 1 ? "" : "s");
  if (!(z->keys = calloc((size_t)count, sizeof *z->keys)))
    return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  for (struct fy_node *item; (item = fy_node_sequence_iterate(n, &it));) {
    const char *name = hs_yaml_scalar(item);
    int nline = hs_yaml_line(item, line), k = zip_key(name);
    if (!name)
      return hs_parse_fail(ps, nline, "'zip': a key is a name such as model.b1, not a list or mapping");
    if (k < 0)
      return hs_parse_fail(ps, nline, "'zip': unknown key '%s' (name keys as section.key, e.g. model.b1)",
                  name ? name : "?");
    hs_key_values *kv = &ps->job->values[k];
    if (!hs_job_keys[k].sweepable)
      return hs_parse_fail(ps, nline, "'zip': '%s' cannot be swept, so it cannot be zipped", name);
    if (kv->zip)
      return hs_parse_fail(ps, nline, "'zip': '%s' is named twice (in group %d on line %d%s)", name,
                  kv->zip, kv->zip_line, kv->zip == g + 1 ? "" : ": a key moves in one group");
    kv->zip = g + 1;
    kv->zip_line = nline;
    z->keys[z->n_keys++] = k;
  }
  qsort(z->keys, (size_t)z->n_keys, sizeof *z->keys, by_int); /* the grid's order */
  return HS_OK;
}

/* `zip:`, a list of groups; read before the sections, whose lists it
 * lets repeat values. */
hs_status hs_parse_zip(parser *ps, struct fy_node *n, int line) {
  n = hs_yaml_deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return hs_parse_fail(ps, line, "'zip' must be a list of groups of keys, e.g. [[model.b1, model.b2]]");
  int count = fy_node_sequence_item_count(n);
  if (count < 1) return hs_parse_fail(ps, line, "'zip' is an empty list");
  if (!(ps->job->zips = calloc((size_t)count, sizeof *ps->job->zips)))
    return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  hs_status s = HS_OK;
  for (struct fy_node *item; !s && (item = fy_node_sequence_iterate(n, &it));)
    s = parse_zip_group(ps, item, ps->job->n_zips++, line);
  return s;
}

/* Tuple j of a zip group against tuple i: <0, 0, >0. */
static int tuple_cmp(const hs_job *job, const hs_zip *z, int i, int j) {
  for (int e = 0; e < z->n_keys; e++) {
    const hs_key_values *kv = &job->values[z->keys[e]];
    int c = hs_job_keys[z->keys[e]].type == HS_KEY_NAME
                ? strcmp(kv->word[i], kv->word[j])
                : (kv->num[i] > kv->num[j]) - (kv->num[i] < kv->num[j]);
    if (c) return c;
  }
  return 0;
}

typedef struct tuple_ref {
  const hs_job *job;
  const hs_zip *z;
  int j;
} tuple_ref;

static int by_tuple(const void *a, const void *b) {
  const tuple_ref *x = a, *y = b;
  int c = tuple_cmp(x->job, x->z, x->j, y->j);
  return c ? c : (x->j > y->j) - (x->j < y->j);
}

/* A zip group's keys: each given as a list, all of one length, no tuple
 * twice (it would repeat points). Sorted, so long lists cost n log n. */
static hs_status check_zip(parser *ps, hs_zip *z) {
  const hs_job *job = ps->job;
  for (int e = 0; e < z->n_keys; e++) {
    const hs_key *k = &hs_job_keys[z->keys[e]];
    const hs_key_values *kv = &job->values[z->keys[e]], *first = &job->values[z->keys[0]];
    if (!kv->listed)
      return hs_parse_fail(ps, kv->line ? kv->line : kv->zip_line,
                  "'%s.%s' is zipped (line %d) but %s: a zipped key takes a list", k->section,
                  k->name, kv->zip_line, kv->line ? "given one value" : "not given");
    if (e == 0) z->n = kv->n;
    else if (kv->n != z->n)
      return hs_parse_fail(ps, kv->line, "'%s.%s' has %d value%s, but '%s.%s' zipped with it (line %d) "
                  "has %d: zipped lists must be equally long", k->section, k->name, kv->n,
                  kv->n == 1 ? "" : "s", hs_job_keys[z->keys[0]].section,
                  hs_job_keys[z->keys[0]].name, first->line, z->n);
  }
  tuple_ref *t = malloc(sizeof *t * (size_t)z->n);
  if (!t) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  for (int j = 0; j < z->n; j++) t[j] = (tuple_ref){job, z, j};
  qsort(t, (size_t)z->n, sizeof *t, by_tuple);
  int a = -1, b = -1;
  for (int j = 1; j < z->n && a < 0; j++)
    if (tuple_cmp(job, z, t[j - 1].j, t[j].j) == 0) a = t[j - 1].j, b = t[j].j;
  free(t);
  if (a >= 0)
    return hs_parse_fail(ps, z->line, "'zip': tuple %d of group %d repeats tuple %d (the same point "
                "twice)", b + 1, (int)(z - job->zips) + 1, a + 1);
  return HS_OK;
}

hs_status hs_check_zips(parser *ps) {
  hs_status s = HS_OK;
  for (int g = 0; !s && g < ps->job->n_zips; g++) s = check_zip(ps, &ps->job->zips[g]);
  return s;
}
