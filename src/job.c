/* job.c: parse and validate job files (job.h), with libfyaml. */
#include "headspec/job.h"

#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/dist.h"

int hs_job_key_index(const char *section, const char *name) {
  for (int i = 0; i < hs_n_job_keys; i++)
    if (strcmp(hs_job_keys[i].section, section) == 0 &&
        strcmp(hs_job_keys[i].name, name) == 0)
      return i;
  return -1;
}

/* ---- reading YAML nodes ------------------------------------------------ */

typedef struct parser {
  hs_job *job;
  hs_err *err;
} parser;

static int node_line(struct fy_node *n, int fallback) {
  struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
  const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
  return m ? m->line + 1 : fallback;
}

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

static const char *scalar(struct fy_node *n) {
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
  errno = 0;
  double v = strtod(s, &end);
  if (*end || end == s || errno || !isfinite(v))
    return fail(ps, line, "'%s' must be a number, not '%s'", k->name, s);
  if (k->type == HS_KEY_INT && v != floor(v))
    return fail(ps, line, "'%s' must be a whole number, not '%s'", k->name, s);
  if (v < k->min || v > k->max)
    return fail(ps, line, "'%s' = %s is out of range [%g, %g]", k->name, s,
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
    hs_status s = parse_number(ps, &as_real, item, line, &v[i]);
    if (s) return s;
  }
  return HS_OK;
}

/* A MATRIX key: a list of equally long lists of reals. */
static hs_status parse_matrix(parser *ps, const hs_key *k, struct fy_node *n,
                              int line, hs_key_values *kv) {
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(ps, line, "'%s' must be a list of lists, e.g. [[1, 2], [1, -2]]", k->name);
  kv->rows = fy_node_sequence_item_count(n);
  if (kv->rows < 1) return fail(ps, line, "'%s' is an empty list", k->name);
  void *it = NULL;
  struct fy_node *row;
  for (int j = 0; (row = fy_node_sequence_iterate(n, &it)); j++) {
    double *v;
    int len;
    hs_status s = parse_reals(ps, k, row, line, &v, &len);
    if (s) return s;
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

/* One value (scalar) or a list of values (a swept key). */
static hs_status parse_key(parser *ps, int ki, struct fy_node *n, int line) {
  const hs_key *k = &hs_job_keys[ki];
  hs_key_values *kv = &ps->job->values[ki];
  kv->line = line;
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
  kv->n = swept ? fy_node_sequence_item_count(n) : 1;
  if (kv->n < 1)
    return fail(ps, line, "'%s' is an empty list: a swept key needs values",
                k->name);
  kv->num = calloc((size_t)kv->n, sizeof *kv->num);
  kv->word = calloc((size_t)kv->n, sizeof *kv->word);
  if (!kv->num || !kv->word) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
  void *it = NULL;
  for (int i = 0; i < kv->n; i++) {
    struct fy_node *item = swept ? fy_node_sequence_iterate(n, &it) : n;
    if (item && fy_node_get_type(item) != FYNT_SCALAR)
      return fail(ps, line, "'%s': list items must be plain values", k->name);
    hs_status s = k->type == HS_KEY_NAME
                      ? parse_word(ps, k, item, line, kv->word[i])
                      : parse_number(ps, k, item, line, &kv->num[i]);
    if (s) return s;
    for (int j = 0; j < i; j++) /* a repeated value would repeat points */
      if (k->type == HS_KEY_NAME ? strcmp(kv->word[j], kv->word[i]) == 0
                                 : kv->num[j] == kv->num[i])
        return fail(ps, node_line(item, line), "'%s': value %d repeats value %d",
                    k->name, i + 1, j + 1);
  }
  return HS_OK;
}

static hs_status parse_section(parser *ps, const char *section,
                               struct fy_node *map, int line) {
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
      char known[1024] = "";
      for (int i = 0; i < hs_n_job_keys; i++)
        if (strcmp(hs_job_keys[i].section, section) == 0)
          strcat(strcat(known, " "), hs_job_keys[i].name);
      return fail(ps, kline, "unknown key '%s' in '%s' (known:%s)",
                  name ? name : "?", section, known);
    }
    hs_status s = parse_key(ps, ki, fy_node_pair_value(pair), kline);
    if (s) return s;
  }
  return HS_OK;
}

static hs_status parse_root(parser *ps, struct fy_node *root) {
  hs_job *job = ps->job;
  if (!root || fy_node_get_type(root) != FYNT_MAPPING)
    return fail(ps, 1, "a job file is a mapping with output, model and training");
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(root, &it))) {
    struct fy_node *key = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
    const char *name = scalar(key);
    int line = node_line(key, 1);
    hs_status s = HS_OK;
    if (!name) {
      s = fail(ps, line, "keys must be plain words");
    } else if (strcmp(name, "model") == 0 || strcmp(name, "training") == 0 ||
               strcmp(name, "ode") == 0 || strcmp(name, "analysis") == 0 ||
               strcmp(name, "testing") == 0) {
      s = parse_section(ps, name, val, line);
    } else if (strcmp(name, "output") == 0) {
      const char *v = scalar(val);
      if (!v || !*v) return fail(ps, line, "'output' needs a file name");
      if (!(job->output = strdup(v))) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
    } else if (strcmp(name, "job_seed") == 0) {
      hs_key k = {.name = "job_seed", .type = HS_KEY_INT, .min = 0, .max = 4294967295.0};
      double v;
      s = parse_number(ps, &k, val, line, &v);
      job->job_seed = (uint64_t)v;
    } else {
      s = fail(ps, line,
               "unknown key '%s' (known: output, job_seed, model, training, ode, analysis, testing)",
               name);
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

static hs_status apply_defaults(parser *ps) {
  hs_job *job = ps->job;
  if (!job->output) return fail(ps, 1, "missing 'output' (the results file)");
  for (int i = 0; i < hs_n_job_keys; i++) {
    const hs_key *k = &hs_job_keys[i];
    hs_key_values *kv = &job->values[i];
    int given = kv->n > 0 || kv->line > 0;
    if (k->read_when == HS_READ_BY_DIST && job->values[hs_job_key_index("model", "distribution")].n) {
      int used = chosen_dists_use(job, k->name);
      if (given && !used)
        return fail(ps, kv->line, "'%s' is not a parameter of the chosen distribution(s)",
                    k->name);
      if (!used) continue;
    }
    if (given || ((k->type == HS_KEY_VECTOR || k->type == HS_KEY_MATRIX) &&
                  !(k->fallback && !*k->fallback))) {
      if (!given)
        return fail(ps, 1, "missing '%s' in '%s' (%s)", k->name, k->section, k->doc);
      continue;
    }
    if (k->fallback && !*k->fallback) continue; /* optional, no default */
    if (!k->fallback)
      return fail(ps, 1, "missing '%s' in '%s' (%s)", k->name, k->section, k->doc);
    kv->n = 1;
    kv->num = calloc(1, sizeof *kv->num);
    kv->word = calloc(1, sizeof *kv->word);
    if (!kv->num || !kv->word) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
    if (k->type == HS_KEY_NAME)
      strcpy(kv->word[0], k->fallback);
    else
      kv->num[0] = strcmp(k->fallback, "true") == 0    ? 1
                   : strcmp(k->fallback, "false") == 0 ? 0
                                                       : atof(k->fallback);
  }
  return HS_OK;
}

/* Checks of settings every point shares. (Each point is checked when the
 * plan lays out the grid.) */
static hs_status check_shared(parser *ps) {
  const hs_job *job = ps->job;
  const hs_key_values *grid = &job->values[hs_job_key_index("training", "record_grid")];
  double t_min = job->values[hs_job_key_index("training", "t_min")].num[0];
  double t_max = job->values[hs_job_key_index("training", "t_max")].num[0];
  if (strcmp(grid->word[0], "log") == 0 && !(t_min < t_max))
    return fail(ps, grid->line ? grid->line : 1, "a log grid needs t_min < t_max");
  return HS_OK;
}

/* ---- loading ------------------------------------------------------------- */

static char *read_text(const char *path, hs_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    hs_err_set(err, HS_EIO, "%s: cannot read the job file: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *text = malloc(cap);
  for (size_t got; text && (got = fread(text + len, 1, cap - len - 1, f)) > 0;) {
    len += got;
    if (len + 1 == cap) {
      char *bigger = realloc(text, cap *= 2);
      if (!bigger) free(text);
      text = bigger;
    }
  }
  fclose(f);
  if (!text) hs_err_set(err, HS_ENOMEM, "out of memory reading %s", path);
  else text[len] = '\0';
  return text;
}

/* Parse text with errors collected, not printed, so they carry FILE:LINE. */
static struct fy_document *parse_yaml(parser *ps) {
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (diag) fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET, .diag = diag};
  struct fy_document *doc = fy_document_build_from_string(&cfg, ps->job->text, FY_NT);
  if (!doc) {
    void *it = NULL;
    struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
    if (e)
      fail(ps, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg); /* 1-based */
    else
      fail(ps, 1, "not a valid YAML document");
  }
  if (diag) fy_diag_destroy(diag);
  return doc;
}

hs_status hs_job_parse(const char *label, const char *text, hs_job *job,
                       hs_err *err) {
  memset(job, 0, sizeof *job);
  parser ps = {job, err};
  job->values = calloc((size_t)hs_n_job_keys, sizeof *job->values);
  if (!(job->path = strdup(label)) || !(job->text = strdup(text)) || !job->values)
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  struct fy_document *doc = parse_yaml(&ps);
  if (!doc) return HS_EINPUT;
  hs_status s = parse_root(&ps, fy_document_root(doc));
  fy_document_destroy(doc);
  if (!s) s = apply_defaults(&ps);
  if (!s) s = check_shared(&ps);
  return s;
}

hs_status hs_job_load(const char *path, hs_job *job, hs_err *err) {
  memset(job, 0, sizeof *job);
  char *text = read_text(path, err);
  if (!text) return err->code;
  hs_status s = hs_job_parse(path, text, job, err);
  free(text);
  return s;
}

void hs_job_free(hs_job *job) {
  for (int i = 0; job->values && i < hs_n_job_keys; i++) {
    free(job->values[i].num);
    free(job->values[i].word);
    free(job->values[i].mat);
  }
  free(job->values), free(job->path), free(job->text), free(job->output);
  memset(job, 0, sizeof *job);
}
