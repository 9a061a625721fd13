/* job_values.c: one key's value or list of values in a job file
 * (job_parse.h): numbers within their range, names the key accepts, lists
 * and matrices of reals, and no value twice in a swept list. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "job_parse.h"

/* A number of the key's type, within its range. */
hs_status hs_parse_number(parser *ps, const hs_key *k, struct fy_node *n,
                          int line, double *out) {
  const char *s = hs_yaml_scalar(n);
  line = hs_yaml_line(n, line);
  if (!s || !*s)
    return hs_parse_fail(ps, line, "'%s' needs a value", k->name);
  if (k->type == HS_KEY_BOOL) {
    if (strcmp(s, "true") == 0) return *out = 1, HS_OK;
    if (strcmp(s, "false") == 0) return *out = 0, HS_OK;
    return hs_parse_fail(ps, line, "'%s' must be true or false, not '%s'", k->name, s);
  }
  char *end;
  double v = strtod(s, &end);
  /* strtod's ERANGE is not an error here: an underflow (1e-320) is a
   * number, and an overflow (1e999, +-HUGE_VAL) is out of every range. */
  if (*end || end == s || isnan(v))
    return hs_parse_fail(ps, line, "'%s' must be a number, not '%s'", k->name, s);
  if (k->type == HS_KEY_INT && isfinite(v) && v != floor(v))
    return hs_parse_fail(ps, line, "'%s' must be a whole number, not '%s'", k->name, s);
  if (!(v >= k->min && v <= k->max))
    return hs_parse_fail(ps, line, "'%s' = %s is out of range [%.15g, %.15g]", k->name, s,
                k->min, k->max);
  *out = v;
  return HS_OK;
}

static hs_status parse_word(parser *ps, const hs_key *k, struct fy_node *n,
                            int line, char *out) {
  const char *s = hs_yaml_scalar(n);
  line = hs_yaml_line(n, line);
  if (!s || !*s) return hs_parse_fail(ps, line, "'%s' needs a value", k->name);
  const char *allowed = k->check_name(s);
  if (allowed || strlen(s) >= HS_NAME_LEN)
    return hs_parse_fail(ps, line, "'%s' cannot be '%s' (one of: %s)", k->name, s,
                allowed ? allowed : "");
  strcpy(out, s);
  return HS_OK;
}

/* A list of reals into a fresh array; *count gets its length. */
static hs_status parse_reals(parser *ps, const hs_key *k, struct fy_node *n,
                             int line, double **out, int *count) {
  n = hs_yaml_deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return hs_parse_fail(ps, line, "'%s' must be a list of numbers", k->name);
  int len = fy_node_sequence_item_count(n);
  if (len < 1) return hs_parse_fail(ps, line, "'%s' is an empty list", k->name);
  double *v = calloc((size_t)len, sizeof *v);
  if (!v) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  *out = v;
  *count = len;
  void *it = NULL;
  struct fy_node *item;
  hs_key as_real = *k;
  as_real.type = HS_KEY_REAL;
  for (int i = 0; (item = fy_node_sequence_iterate(n, &it)); i++) {
    if (fy_node_get_type(hs_yaml_deref(item)) != FYNT_SCALAR)
      return hs_parse_fail(ps, hs_yaml_start_line(item, line), "'%s' must be a list of numbers%s", k->name,
                  k->type == HS_KEY_MATRIX ? " in each row" : "");
    hs_status s = hs_parse_number(ps, &as_real, item, line, &v[i]);
    if (s) return s;
  }
  return HS_OK;
}

/* A MATRIX key: a list of equally long lists of reals. */
static hs_status parse_matrix(parser *ps, const hs_key *k, struct fy_node *n,
                              int line, hs_key_values *kv) {
  n = hs_yaml_deref(n);
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return hs_parse_fail(ps, line, "'%s' must be a list of lists, e.g. [[1, 2], [1, -2]]", k->name);
  kv->rows = fy_node_sequence_item_count(n);
  if (kv->rows < 1) return hs_parse_fail(ps, line, "'%s' is an empty list", k->name);
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
      return hs_parse_fail(ps, line, "'%s': row %d has %d entries, row 1 has %d", k->name,
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
  return hs_parse_fail(ps, hs_yaml_line(item, line), "'%s': value %d repeats value %d", k->name, first + 1,
              of + 1);
}

/* One value (scalar) or a list of values (a swept key). */
hs_status hs_parse_key(parser *ps, int ki, struct fy_node *n, int line) {
  const hs_key *k = &hs_job_keys[ki];
  hs_key_values *kv = &ps->job->values[ki];
  if (kv->line > 0) /* libfyaml refuses duplicate keys, but not an alias of one */
    return hs_parse_fail(ps, line, "'%s' is given twice (first on line %d)", k->name, kv->line);
  kv->line = line;
  struct fy_node *raw = n; /* an alias: its own line in messages */
  n = hs_yaml_deref(n);
  if (k->type == HS_KEY_MATRIX) return parse_matrix(ps, k, n, line, kv);
  if (k->type == HS_KEY_VECTOR) {
    kv->rows = 1;
    return parse_reals(ps, k, n, line, &kv->mat, &kv->cols);
  }
  int swept = n && fy_node_get_type(n) == FYNT_SEQUENCE;
  if (n && fy_node_get_type(n) == FYNT_MAPPING)
    return hs_parse_fail(ps, line, "'%s' must be a value or a list of values", k->name);
  if (swept && !k->sweepable)
    return hs_parse_fail(ps, line, "'%s' cannot be swept: give one value", k->name);
  kv->listed = swept;
  kv->n = swept ? fy_node_sequence_item_count(n) : 1;
  if (kv->n < 1)
    return hs_parse_fail(ps, line, "'%s' is an empty list: a swept key needs values",
                k->name);
  if (kv->n > HS_MAX_VALUES) /* before reading them: a huge list is refused at once */
    return hs_parse_fail(ps, line, "'%s' has more than %d values", k->name, HS_MAX_VALUES);
  kv->num = calloc((size_t)kv->n, sizeof *kv->num);
  kv->word = calloc((size_t)kv->n, sizeof *kv->word);
  if (!kv->num || !kv->word) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  for (int i = 0; i < kv->n; i++) {
    struct fy_node *item = swept ? fy_node_sequence_iterate(n, &it) : raw;
    if (item && fy_node_get_type(hs_yaml_deref(item)) != FYNT_SCALAR)
      return hs_parse_fail(ps, line, "'%s': list items must be plain values", k->name);
    hs_status s = k->type == HS_KEY_NAME
                      ? parse_word(ps, k, item, line, kv->word[i])
                      : hs_parse_number(ps, k, item, line, &kv->num[i]);
    if (s) return s;
  }
  /* zipped: values may repeat, the tuples may not (checked with the zip) */
  return kv->zip ? HS_OK : check_repeats(ps, k, kv, n, line);
}

/* ---- did you mean ----------------------------------------------------------- */
