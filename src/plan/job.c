/* job.c: parse and validate job files (job.h), with libfyaml. */
#include "headspec/job.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "headspec/dist.h"

/* Job files larger than this are refused before reading (docs/JOBS.md). */
#define MAX_JOB_MIB 16

int hs_job_key_index(const char *section, const char *name) {
  for (int i = 0; i < hs_n_job_keys; i++)
    if (strcmp(hs_job_keys[i].section, section) == 0 &&
        strcmp(hs_job_keys[i].name, name) == 0)
      return i;
  return -1;
}

/* ---- reading YAML nodes ------------------------------------------------ */

/* The sections of a job file, as hs_key.section names them. */
static const char *const sections[] = {"model", "training", "ode", "analysis", "testing"};
enum { N_SECTIONS = sizeof sections / sizeof *sections };

typedef struct parser {
  hs_job *job;
  hs_err *err;
  long revision; /* the results-file layout revision whose defaults apply (LONG_MAX: today's) */
  int section_line[N_SECTIONS]; /* where each section was given (0: not) */
} parser;

static int node_line(struct fy_node *n, int fallback) {
  struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
  const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
  return m ? m->line + 1 : fallback;
}

static int node_start_line(struct fy_node *n, int fallback);
static hs_status fail(parser *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static hs_status fail(parser *ps, int line, const char *fmt, ...) {
  char what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return hs_err_set(ps->err, HS_EINPUT, "%s:%d: %s", ps->job->path, line, what);
}

/* The node an alias stands for (read as its anchor's value, as PyYAML
 * does); other nodes are themselves. check_nodes has made sure every alias
 * resolves, so this is NULL only for NULL. Aliases are followed where they
 * are read, never copied, so nested aliases cost no memory. */
static struct fy_node *deref(struct fy_node *n) {
  return n && fy_node_is_alias(n) ? fy_node_resolve_alias(n) : n;
}

static const char *scalar(struct fy_node *n) {
  n = deref(n);
  return n && fy_node_get_type(n) == FYNT_SCALAR ? fy_node_get_scalar0(n) : NULL;
}

/* A number of the key's type, within its range. */
static hs_status parse_number(parser *ps, const hs_key *k, struct fy_node *n,
                              int line, double *out) {
  const char *s = scalar(n);
  line = node_line(n, line);
  if (!s || !*s)
    return fail(ps, line, "'%s' needs a value", k->name);
  if (k->type == HS_KEY_BOOL) {
    if (strcmp(s, "true") == 0) return *out = 1, HS_OK;
    if (strcmp(s, "false") == 0) return *out = 0, HS_OK;
    return fail(ps, line, "'%s' must be true or false, not '%s'", k->name, s);
  }
  char *end;
  double v = strtod(s, &end);
  /* strtod's ERANGE is not an error here: an underflow (1e-320) is a
   * number, and an overflow (1e999, +-HUGE_VAL) is out of every range. */
  if (*end || end == s || isnan(v))
    return fail(ps, line, "'%s' must be a number, not '%s'", k->name, s);
  if (k->type == HS_KEY_INT && isfinite(v) && v != floor(v))
    return fail(ps, line, "'%s' must be a whole number, not '%s'", k->name, s);
  if (!(v >= k->min && v <= k->max))
    return fail(ps, line, "'%s' = %s is out of range [%.15g, %.15g]", k->name, s,
                k->min, k->max);
  *out = v;
  return HS_OK;
}

static hs_status parse_word(parser *ps, const hs_key *k, struct fy_node *n,
                            int line, char *out) {
  const char *s = scalar(n);
  line = node_line(n, line);
  if (!s || !*s) return fail(ps, line, "'%s' needs a value", k->name);
  const char *allowed = k->check_name(s);
  if (allowed || strlen(s) >= HS_NAME_LEN)
    return fail(ps, line, "'%s' cannot be '%s' (one of: %s)", k->name, s,
                allowed ? allowed : "");
  strcpy(out, s);
  return HS_OK;
}

/* A list of reals into a fresh array; *count gets its length. */
static hs_status parse_reals(parser *ps, const hs_key *k, struct fy_node *n,
                             int line, double **out, int *count) {
  n = deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(ps, line, "'%s' must be a list of numbers", k->name);
  int len = fy_node_sequence_item_count(n);
  if (len < 1) return fail(ps, line, "'%s' is an empty list", k->name);
  double *v = calloc((size_t)len, sizeof *v);
  if (!v) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  *out = v;
  *count = len;
  void *it = NULL;
  struct fy_node *item;
  hs_key as_real = *k;
  as_real.type = HS_KEY_REAL;
  for (int i = 0; (item = fy_node_sequence_iterate(n, &it)); i++) {
    if (fy_node_get_type(deref(item)) != FYNT_SCALAR)
      return fail(ps, node_start_line(item, line), "'%s' must be a list of numbers%s", k->name,
                  k->type == HS_KEY_MATRIX ? " in each row" : "");
    hs_status s = parse_number(ps, &as_real, item, line, &v[i]);
    if (s) return s;
  }
  return HS_OK;
}

/* A MATRIX key: a list of equally long lists of reals. */
static hs_status parse_matrix(parser *ps, const hs_key *k, struct fy_node *n,
                              int line, hs_key_values *kv) {
  n = deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(ps, line, "'%s' must be a list of lists, e.g. [[1, 2], [1, -2]]", k->name);
  kv->rows = fy_node_sequence_item_count(n);
  if (kv->rows < 1) return fail(ps, line, "'%s' is an empty list", k->name);
  void *it = NULL;
  struct fy_node *row;
  for (int j = 0; (row = fy_node_sequence_iterate(n, &it)); j++) {
    double *v = NULL;
    int len;
    hs_status s = parse_reals(ps, k, row, line, &v, &len);
    if (s) {
      free(v);
      return s;
    }
    if (j == 0) {
      kv->cols = len;
      kv->mat = calloc((size_t)kv->rows * len, sizeof(double));
      if (!kv->mat) {
        free(v);
        return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
      }
    } else if (len != kv->cols) {
      free(v);
      return fail(ps, line, "'%s': row %d has %d entries, row 1 has %d", k->name,
                  j + 1, len, kv->cols);
    }
    memcpy(kv->mat + (size_t)j * len, v, sizeof(double) * len);
    free(v);
  }
  return HS_OK;
}

/* Sorting a list's values (by value, then position) to find repeats. */
typedef struct ranked {
  const hs_key_values *kv;
  int type, i;
} ranked;

static int by_value(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  int c = x->type == HS_KEY_NAME ? strcmp(x->kv->word[x->i], y->kv->word[y->i])
          : x->kv->num[x->i] < y->kv->num[y->i] ? -1
          : x->kv->num[x->i] > y->kv->num[y->i] ? 1 : 0;
  return c ? c : x->i - y->i;
}

/* A repeated value would repeat points: refused, naming the first value
 * that repeats an earlier one (sorted: O(n log n), not O(n^2)). */
static hs_status check_repeats(parser *ps, const hs_key *k, const hs_key_values *kv,
                               struct fy_node *n, int line) {
  if (kv->n < 2) return HS_OK;
  ranked *r = malloc(sizeof *r * (size_t)kv->n);
  if (!r) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  for (int i = 0; i < kv->n; i++) r[i] = (ranked){kv, k->type, i};
  qsort(r, (size_t)kv->n, sizeof *r, by_value);
  int first = -1, of = -1; /* the smallest position equal to an earlier value */
  for (int a = 0, b; a < kv->n; a = b) {
    for (b = a + 1; b < kv->n && (k->type == HS_KEY_NAME
                                      ? strcmp(kv->word[r[a].i], kv->word[r[b].i]) == 0
                                      : kv->num[r[a].i] == kv->num[r[b].i]);
         b++) {}
    if (b - a > 1 && (first < 0 || r[a + 1].i < first)) first = r[a + 1].i, of = r[a].i;
  }
  free(r);
  if (first < 0) return HS_OK;
  void *it = NULL;
  struct fy_node *item = NULL;
  for (int i = 0; i <= first; i++) item = fy_node_sequence_iterate(n, &it);
  return fail(ps, node_line(item, line), "'%s': value %d repeats value %d", k->name, first + 1,
              of + 1);
}

/* One value (scalar) or a list of values (a swept key). */
static hs_status parse_key(parser *ps, int ki, struct fy_node *n, int line) {
  const hs_key *k = &hs_job_keys[ki];
  hs_key_values *kv = &ps->job->values[ki];
  if (kv->line > 0) /* libfyaml refuses duplicate keys, but not an alias of one */
    return fail(ps, line, "'%s' is given twice (first on line %d)", k->name, kv->line);
  kv->line = line;
  struct fy_node *raw = n; /* an alias: its own line in messages */
  n = deref(n);
  if (k->type == HS_KEY_MATRIX) return parse_matrix(ps, k, n, line, kv);
  if (k->type == HS_KEY_VECTOR) {
    kv->rows = 1;
    return parse_reals(ps, k, n, line, &kv->mat, &kv->cols);
  }
  int swept = n && fy_node_get_type(n) == FYNT_SEQUENCE;
  if (n && fy_node_get_type(n) == FYNT_MAPPING)
    return fail(ps, line, "'%s' must be a value or a list of values", k->name);
  if (swept && !k->sweepable)
    return fail(ps, line, "'%s' cannot be swept: give one value", k->name);
  kv->listed = swept;
  kv->n = swept ? fy_node_sequence_item_count(n) : 1;
  if (kv->n < 1)
    return fail(ps, line, "'%s' is an empty list: a swept key needs values",
                k->name);
  if (kv->n > HS_MAX_VALUES) /* before reading them: a huge list is refused at once */
    return fail(ps, line, "'%s' has more than %d values", k->name, HS_MAX_VALUES);
  kv->num = calloc((size_t)kv->n, sizeof *kv->num);
  kv->word = calloc((size_t)kv->n, sizeof *kv->word);
  if (!kv->num || !kv->word) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  for (int i = 0; i < kv->n; i++) {
    struct fy_node *item = swept ? fy_node_sequence_iterate(n, &it) : raw;
    if (item && fy_node_get_type(deref(item)) != FYNT_SCALAR)
      return fail(ps, line, "'%s': list items must be plain values", k->name);
    hs_status s = k->type == HS_KEY_NAME
                      ? parse_word(ps, k, item, line, kv->word[i])
                      : parse_number(ps, k, item, line, &kv->num[i]);
    if (s) return s;
  }
  /* zipped: values may repeat, the tuples may not (checked with the zip) */
  return kv->zip ? HS_OK : check_repeats(ps, k, kv, n, line);
}

/* ---- did you mean ----------------------------------------------------------- */

/* Edit distance (insertions, deletions, substitutions and swaps of
 * neighbours; case ignored) of a and b, stopping above 3. */
static int distance(const char *a, const char *b) {
  enum { MAX = 64 };
  size_t n = strlen(a), m = strlen(b);
  if (n >= MAX || m >= MAX) return 99;
  int d[MAX][MAX];
  for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
      int v = d[i - 1][j - 1] + !same;
      if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  return d[n][m];
}

/* Whether a given name is near enough a known one to suggest it: one edit
 * for short names, two for longer (never all of the name). */
static int near(const char *given, const char *known) {
  size_t len = strlen(given);
  int d = distance(given, known);
  return d <= (len <= 3 ? 1 : 2) && (size_t)d < len;
}

/* " (did you mean 'x'?)" for the nearest of a section's keys that pass
 * also(key index) (NULL: all), or "". */
static void suggest(const char *section, const char *name, int (*also)(const hs_job *, int),
                    const hs_job *job, char *out, size_t len) {
  int best = -1, best_d = 99;
  for (int i = 0; i < hs_n_job_keys; i++) {
    if (strcmp(hs_job_keys[i].section, section) != 0 || strcmp(hs_job_keys[i].name, name) == 0)
      continue;
    if ((also && !also(job, i)) || !near(name, hs_job_keys[i].name)) continue;
    int d = distance(name, hs_job_keys[i].name);
    if (d < best_d) best = i, best_d = d;
  }
  if (best >= 0) snprintf(out, len, " (did you mean '%s'?)", hs_job_keys[best].name);
  else out[0] = '\0';
}

/* " ('d' is a key of 'training')" when name is a key of another section. */
static void other_section(const char *section, const char *name, char *out, size_t len) {
  out[0] = '\0';
  for (int i = 0; i < hs_n_job_keys && !out[0]; i++)
    if (strcmp(hs_job_keys[i].name, name) == 0 && strcmp(hs_job_keys[i].section, section) != 0)
      snprintf(out, len, " ('%s' is a key of '%s')", name, hs_job_keys[i].section);
}

static hs_status parse_section(parser *ps, const char *section,
                               struct fy_node *map, int line) {
  map = deref(map);
  if (!map || fy_node_get_type(map) != FYNT_MAPPING)
    return fail(ps, line, "'%s' must be a mapping of keys", section);
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(map, &it))) {
    struct fy_node *key = fy_node_pair_key(pair);
    const char *name = scalar(key);
    int kline = node_line(key, line);
    int ki = name ? hs_job_key_index(section, name) : -1;
    if (ki < 0) {
      char known[1024] = "", hint[128] = "";
      for (int i = 0; i < hs_n_job_keys; i++)
        if (strcmp(hs_job_keys[i].section, section) == 0)
          strcat(strcat(known, " "), hs_job_keys[i].name);
      if (name) other_section(section, name, hint, sizeof hint);
      if (name && !hint[0]) suggest(section, name, NULL, NULL, hint, sizeof hint);
      return fail(ps, kline, "unknown key '%s' in '%s'%s (known:%s)", name ? name : "?",
                  section, hint, known);
    }
    hs_status s = parse_key(ps, ki, fy_node_pair_value(pair), kline);
    if (s) return s;
  }
  return HS_OK;
}

/* ---- zip: keys that move together ---------------------------------------- */

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
  z->line = line = node_start_line(n, line);
  n = deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(ps, line, "'zip': group %d must be a list of keys ('zip' is a list of groups, "
                "e.g. [[model.b1, model.b2]])", g + 1);
  int count = fy_node_sequence_item_count(n);
  if (count < 2)
    return fail(ps, line, "'zip': group %d has %d key%s: keys move together in twos or more",
                g + 1, count, count == 1 ? "" : "s");
  if (!(z->keys = calloc((size_t)count, sizeof *z->keys)))
    return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  for (struct fy_node *item; (item = fy_node_sequence_iterate(n, &it));) {
    const char *name = scalar(item);
    int nline = node_line(item, line), k = zip_key(name);
    if (!name)
      return fail(ps, nline, "'zip': a key is a name such as model.b1, not a list or mapping");
    if (k < 0)
      return fail(ps, nline, "'zip': unknown key '%s' (name keys as section.key, e.g. model.b1)",
                  name ? name : "?");
    hs_key_values *kv = &ps->job->values[k];
    if (!hs_job_keys[k].sweepable)
      return fail(ps, nline, "'zip': '%s' cannot be swept, so it cannot be zipped", name);
    if (kv->zip)
      return fail(ps, nline, "'zip': '%s' is named twice (in group %d on line %d%s)", name,
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
static hs_status parse_zip(parser *ps, struct fy_node *n, int line) {
  n = deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(ps, line, "'zip' must be a list of groups of keys, e.g. [[model.b1, model.b2]]");
  int count = fy_node_sequence_item_count(n);
  if (count < 1) return fail(ps, line, "'zip' is an empty list");
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
      return fail(ps, kv->line ? kv->line : kv->zip_line,
                  "'%s.%s' is zipped (line %d) but %s: a zipped key takes a list", k->section,
                  k->name, kv->zip_line, kv->line ? "given one value" : "not given");
    if (e == 0) z->n = kv->n;
    else if (kv->n != z->n)
      return fail(ps, kv->line, "'%s.%s' has %d value%s, but '%s.%s' zipped with it (line %d) "
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
    return fail(ps, z->line, "'zip': tuple %d of group %d repeats tuple %d (the same point "
                "twice)", b + 1, (int)(z - job->zips) + 1, a + 1);
  return HS_OK;
}

static hs_status check_zips(parser *ps) {
  hs_status s = HS_OK;
  for (int g = 0; !s && g < ps->job->n_zips; g++) s = check_zip(ps, &ps->job->zips[g]);
  return s;
}

/* The index of a section name in sections[], or -1. */
static int section_of(const char *name) {
  for (int i = 0; i < N_SECTIONS; i++)
    if (strcmp(sections[i], name) == 0) return i;
  return -1;
}

static hs_status parse_root(parser *ps, struct fy_node *root) {
  hs_job *job = ps->job;
  if (!root || fy_node_get_type(root) != FYNT_MAPPING)
    return fail(ps, 1, "a job file is a mapping with output, model and training");
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(root, &it))) { /* zip first: see parse_zip */
    const char *name = scalar(fy_node_pair_key(pair));
    if (name && strcmp(name, "zip") == 0) {
      hs_status s = parse_zip(ps, fy_node_pair_value(pair), node_line(fy_node_pair_key(pair), 1));
      if (s) return s;
    }
  }
  it = NULL;
  while ((pair = fy_node_mapping_iterate(root, &it))) {
    struct fy_node *key = fy_node_pair_key(pair), *val = deref(fy_node_pair_value(pair));
    const char *name = scalar(key);
    int line = node_line(key, 1);
    hs_status s = HS_OK;
    if (!name) {
      s = fail(ps, line, "keys must be plain words");
    } else if (strcmp(name, "zip") == 0) {
      /* read above */
    } else if (section_of(name) >= 0) {
      ps->section_line[section_of(name)] = line;
      s = parse_section(ps, name, val, line);
    } else if (strcmp(name, "output") == 0) {
      const char *v = scalar(val);
      if (!v || !*v) return fail(ps, line, "'output' needs a file name");
      if (!(job->output = strdup(v))) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
      job->output_line = line;
    } else if (strcmp(name, "job_seed") == 0) {
      hs_key k = {.name = "job_seed", .type = HS_KEY_INT, .min = 0, .max = 4294967295.0};
      double v;
      s = parse_number(ps, &k, val, line, &v);
      job->job_seed = (uint64_t)v;
    } else {
      static const char *const roots[] = {"output", "job_seed", "zip", "model", "training",
                                          "ode", "analysis", "testing"};
      char hint[128] = "";
      for (size_t r = 0; r < sizeof roots / sizeof *roots && !hint[0]; r++)
        if (near(name, roots[r])) snprintf(hint, sizeof hint, " (did you mean '%s'?)", roots[r]);
      if (!hint[0] && hs_job_key_index("model", name) >= 0) /* a section's key at the top */
        snprintf(hint, sizeof hint, " ('%s' is a key of 'model')", name);
      for (int i = 0; i < hs_n_job_keys && !hint[0]; i++)
        if (strcmp(hs_job_keys[i].name, name) == 0)
          snprintf(hint, sizeof hint, " ('%s' is a key of '%s')", name, hs_job_keys[i].section);
      s = fail(ps, line,
               "unknown key '%s'%s (known: output, job_seed, zip, model, training, ode, "
               "analysis, testing)",
               name, hint);
    }
    if (s) return s;
  }
  return HS_OK;
}

/* ---- defaults, cross-checks, expansion ---------------------------------- */

static int chosen_dists_use(const hs_job *job, const char *key) {
  const hs_key_values *kv = &job->values[hs_job_key_index("model", "distribution")];
  for (int i = 0; i < kv->n; i++)
    if (hs_dist_uses_key(hs_dist_find(kv->word[i]), key)) return 1;
  return 0;
}

/* Whether some point runs SGD or the ODE (each run key true by default). */
static int some_model_runs(const hs_job *job) {
  const hs_key_values *kv[2] = {&job->values[hs_job_key_index("training", "run")],
                                &job->values[hs_job_key_index("ode", "run")]};
  for (int r = 0; r < 2; r++) {
    if (kv[r]->n == 0) return 1;
    for (int i = 0; i < kv[r]->n; i++)
      if (kv[r]->num[i] != 0) return 1;
  }
  return 0;
}

/* Whether key i is a model key that a chosen distribution reads. */
static int read_by_chosen(const hs_job *job, int i) {
  return hs_job_keys[i].read_when == HS_READ_BY_DIST && chosen_dists_use(job, hs_job_keys[i].name);
}

/* A required key not given: at the line of its section (line 1 if the
 * section is missing too). */
static hs_status missing(parser *ps, const hs_key *k) {
  int line = ps->section_line[section_of(k->section)];
  if (!line)
    return fail(ps, 1, "missing '%s' (the job has no '%s' section; %s)", k->name, k->section,
                k->doc);
  return fail(ps, line, "missing '%s' in '%s' (%s)", k->name, k->section, k->doc);
}

/* The default of key k for a job of the parser's revision. */
static const char *default_of(const parser *ps, const hs_key *k) {
  for (int i = 0; i < hs_n_job_key_changes; i++) {
    const hs_key_change *c = &hs_job_key_changes[i];
    if (ps->revision < c->revision && strcmp(c->section, k->section) == 0 &&
        strcmp(c->name, k->name) == 0)
      return c->old;
  }
  return k->fallback;
}

static hs_status apply_defaults(parser *ps) {
  hs_job *job = ps->job;
  if (!job->output) return fail(ps, 1, "missing 'output' (the results file)");
  for (int i = 0; i < hs_n_job_keys; i++) {
    const hs_key *k = &hs_job_keys[i];
    hs_key_values *kv = &job->values[i];
    int given = kv->n > 0 || kv->line > 0;
    if (k->read_when == HS_READ_BY_DIST && job->values[hs_job_key_index("model", "distribution")].n) {
      int used = chosen_dists_use(job, k->name);
      if (given && !used) {
        char hint[160];
        suggest("model", k->name, read_by_chosen, job, hint, sizeof hint);
        return fail(ps, kv->line, "'%s' is not a parameter of the chosen distribution(s)%s",
                    k->name, hint);
      }
      if (!used) continue;
    }
    if (k->read_when == HS_READ_WHEN_TRAINING && !given && !some_model_runs(job))
      continue; /* only the Bayes risk: not needed */
    if (given || ((k->type == HS_KEY_VECTOR || k->type == HS_KEY_MATRIX) &&
                  !(k->fallback && !*k->fallback))) {
      if (!given) return missing(ps, k);
      continue;
    }
    const char *fallback = default_of(ps, k);
    if (fallback && !*fallback) continue; /* optional, no default */
    if (!fallback) return missing(ps, k);
    kv->n = 1;
    kv->num = calloc(1, sizeof *kv->num);
    kv->word = calloc(1, sizeof *kv->word);
    if (!kv->num || !kv->word) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
    if (k->type == HS_KEY_NAME)
      strcpy(kv->word[0], fallback);
    else
      kv->num[0] = strcmp(fallback, "true") == 0    ? 1
                   : strcmp(fallback, "false") == 0 ? 0
                                                    : atof(fallback);
  }
  return HS_OK;
}

/* Checks of settings every point shares. (Each point is checked when the
 * plan lays out the grid.) */
static hs_status check_shared(parser *ps) {
  const hs_job *job = ps->job;
  const hs_key_values *grid = &job->values[hs_job_key_index("training", "record_grid")];
  double t_min = job->values[hs_job_key_index("training", "t_min")].num[0];
  const hs_key_values *t_max = &job->values[hs_job_key_index("training", "t_max")];
  for (int i = 0; i < t_max->n && strcmp(grid->word[0], "log") == 0; i++)
    if (!(t_min < t_max->num[i])) /* a swept t_max: the line of its list */
      return t_max->n > 1 ? fail(ps, t_max->line, "a log grid needs t_min < t_max (t_max = %g, "
                                 "t_min = %g)", t_max->num[i], t_min)
                          : fail(ps, grid->line ? grid->line : 1, "a log grid needs t_min < t_max");
  return HS_OK;
}

/* ---- loading ------------------------------------------------------------- */

/* The file's bytes, NUL-terminated, in job->text (*len of them). Only a
 * regular file of at most MAX_JOB_MIB is read: /dev/zero or a FIFO would
 * never end, and a directory is not a job file. */
static hs_status read_text(const char *path, hs_job *job, size_t *len, hs_err *err) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not block */
  if (fd < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot read the job file: %s", path, strerror(errno));
  struct stat st;
  hs_status s = HS_OK;
  if (fstat(fd, &st) != 0)
    s = hs_err_set(err, HS_EIO, "%s: cannot read the job file: %s", path, strerror(errno));
  else if (S_ISDIR(st.st_mode))
    s = hs_err_set(err, HS_EINPUT, "%s: is a directory, not a job file", path);
  else if (!S_ISREG(st.st_mode))
    s = hs_err_set(err, HS_EINPUT, "%s: not a regular file (a job file is a YAML file)", path);
  else if (st.st_size > (off_t)MAX_JOB_MIB << 20)
    s = hs_err_set(err, HS_EINPUT, "%s: %lld bytes; a job file may have at most %d MiB",
                   path, (long long)st.st_size, MAX_JOB_MIB);
  else if (!(job->text = malloc((size_t)st.st_size + 1)))
    s = hs_err_set(err, HS_ENOMEM, "out of memory reading %s", path);
  *len = 0;
  for (ssize_t got = 1; !s && got > 0 && *len < (size_t)st.st_size; *len += (size_t)got)
    if ((got = read(fd, job->text + *len, (size_t)st.st_size - *len)) < 0)
      s = hs_err_set(err, HS_EIO, "%s: cannot read the job file: %s", path, strerror(errno));
  close(fd);
  if (s) return s;
  job->text[*len] = '\0';
  /* libfyaml would stop at a NUL byte and silently drop the rest. */
  const char *nul = memchr(job->text, '\0', *len);
  if (nul) {
    int line = 1;
    for (const char *c = job->text; c < nul; c++) line += *c == '\n';
    return hs_err_set(err, HS_EINPUT, "%s:%d: a NUL byte: a job file is text", path, line);
  }
  return HS_OK;
}

/* The line where a node starts (its first scalar), or fallback. */
static int node_start_line(struct fy_node *n, int fallback) {
  void *it = NULL;
  if (n && fy_node_get_type(n) == FYNT_SEQUENCE)
    return node_start_line(fy_node_sequence_iterate(n, &it), fallback);
  if (n && fy_node_get_type(n) == FYNT_MAPPING) {
    struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
    return node_start_line(pair ? fy_node_pair_key(pair) : NULL, fallback);
  }
  return node_line(n, fallback);
}

/* Refuse what the reader would otherwise misread: an alias to no anchor,
 * a merge key, a value with a NUL character ("softmax\0x" is not
 * softmax). Depth is bounded by libfyaml's nesting limit. */
static hs_status check_nodes(parser *ps, struct fy_node *n, int line) {
  if (!n) return HS_OK;
  line = node_line(n, line);
  if (fy_node_is_alias(n))
    return fy_node_resolve_alias(n)
               ? HS_OK
               : fail(ps, line, "alias '*%s' names no anchor (or is circular)",
                      fy_node_get_scalar0(n) ? fy_node_get_scalar0(n) : "?");
  void *it = NULL;
  hs_status s = HS_OK;
  switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
      size_t len;
      const char *v = fy_node_get_scalar(n, &len);
      if (v && memchr(v, '\0', len))
        return fail(ps, line, "a value with a NUL character (\\0) in it");
      if (v && len == 2 && memcmp(v, "<<", 2) == 0 && fy_node_get_style(n) == FYNS_PLAIN)
        return fail(ps, line, "merge keys (<<) are not supported: write the keys out");
      return HS_OK;
    }
    case FYNT_SEQUENCE:
      for (struct fy_node *item; !s && (item = fy_node_sequence_iterate(n, &it));)
        s = check_nodes(ps, item, line);
      return s;
    case FYNT_MAPPING:
      for (struct fy_node_pair *pair; !s && (pair = fy_node_mapping_iterate(n, &it));) {
        s = check_nodes(ps, fy_node_pair_key(pair), line);
        if (!s) s = check_nodes(ps, fy_node_pair_value(pair), line);
      }
      return s;
  }
  return HS_OK;
}

/* The first collected libfyaml error as FILE:LINE, or a generic one. */
static hs_status syntax_error(parser *ps, struct fy_diag *diag) {
  void *it = NULL;
  struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
  if (e) return fail(ps, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg); /* 1-based */
  return fail(ps, 1, "not a valid YAML document");
}

/* Parse the text (errors collected, not printed, so they carry FILE:LINE)
 * into the job: exactly one YAML document, checked, then read. */
static hs_status read_document(parser *ps, size_t len) {
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (diag) fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET, .diag = diag};
  struct fy_parser *fyp = fy_parser_create(&cfg);
  if (!fyp || fy_parser_set_string(fyp, ps->job->text, len)) {
    if (fyp) fy_parser_destroy(fyp);
    if (diag) fy_diag_destroy(diag);
    return hs_err_set(ps->err, HS_ENOMEM, "out of memory parsing %s", ps->job->path);
  }
  hs_status s = HS_OK;
  struct fy_document *doc = fy_parse_load_document(fyp), *more = NULL;
  if (!doc && fy_parser_get_stream_error(fyp)) s = syntax_error(ps, diag);
  else if (!doc) s = fail(ps, 1, "the job file is empty");
  if (!s && (more = fy_parse_load_document(fyp))) {
    int last = 1;
    for (const char *c = ps->job->text; *c; c++) last += *c == '\n';
    s = fail(ps, node_start_line(fy_document_root(more), last),
             "a second YAML document: a job file is one document");
  }
  if (!s && fy_parser_get_stream_error(fyp)) s = syntax_error(ps, diag);
  if (!s) s = check_nodes(ps, fy_document_root(doc), 1);
  if (!s) s = parse_root(ps, fy_document_root(doc));
  if (more) fy_parse_document_destroy(fyp, more);
  if (doc) fy_parse_document_destroy(fyp, doc);
  fy_parser_destroy(fyp);
  if (diag) fy_diag_destroy(diag);
  return s;
}

hs_status hs_job_parse(const char *label, const char *text, hs_job *job,
                       hs_err *err) {
  return hs_job_parse_stored(label, text, LONG_MAX, job, err);
}

hs_status hs_job_parse_stored(const char *label, const char *text, long revision, hs_job *job,
                              hs_err *err) {
  memset(job, 0, sizeof *job);
  parser ps = {.job = job, .err = err, .revision = revision};
  job->values = calloc((size_t)hs_n_job_keys, sizeof *job->values);
  if (!(job->path = strdup(label)) || !(job->text = strdup(text)) || !job->values)
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status s = read_document(&ps, strlen(text));
  if (!s) s = check_zips(&ps);
  if (!s) s = apply_defaults(&ps);
  if (!s) s = check_shared(&ps);
  return s;
}

hs_status hs_job_load(const char *path, hs_job *job, hs_err *err) {
  memset(job, 0, sizeof *job);
  parser ps = {.job = job, .err = err, .revision = LONG_MAX};
  size_t len = 0;
  job->values = calloc((size_t)hs_n_job_keys, sizeof *job->values);
  if (!(job->path = strdup(path)) || !job->values)
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status s = read_text(path, job, &len, err);
  if (!s) s = read_document(&ps, len);
  if (!s) s = check_zips(&ps);
  if (!s) s = apply_defaults(&ps);
  if (!s) s = check_shared(&ps);
  return s;
}

void hs_job_free(hs_job *job) {
  for (int i = 0; job->values && i < hs_n_job_keys; i++) {
    free(job->values[i].num);
    free(job->values[i].word);
    free(job->values[i].mat);
  }
  for (int g = 0; job->zips && g < job->n_zips; g++) free(job->zips[g].keys);
  free(job->zips);
  free(job->values), free(job->path), free(job->text), free(job->output);
  memset(job, 0, sizeof *job);
}
