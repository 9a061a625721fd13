/* job.c: parse and validate job files (job.h), with libfyaml: the
 * document's walk, sections and their keys, defaults and shared checks.
 * A key's values are read in job_values.c, `zip:` in job_zip.c, nodes in
 * job_nodes.c (job_parse.h). (Over 400 lines as one pass over the
 * document: sections, defaults and checks share the parser's state.) */
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
#include "job_parse.h"

/* Job files larger than this are refused before reading (docs/JOBS.md). */
#define MAX_JOB_MIB 16

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
  map = hs_yaml_deref(map);
  if (!map || fy_node_get_type(map) != FYNT_MAPPING)
    return hs_parse_fail(ps, line, "'%s' must be a mapping of keys", section);
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(map, &it))) {
    struct fy_node *key = fy_node_pair_key(pair);
    const char *name = hs_yaml_scalar(key);
    int kline = hs_yaml_line(key, line);
    int ki = name ? hs_job_key_index(section, name) : -1;
    if (ki < 0) {
      char known[1024] = "", hint[128] = "";
      for (int i = 0; i < hs_n_job_keys; i++)
        if (strcmp(hs_job_keys[i].section, section) == 0)
          strcat(strcat(known, " "), hs_job_keys[i].name);
      if (name) other_section(section, name, hint, sizeof hint);
      if (name && !hint[0]) suggest(section, name, NULL, NULL, hint, sizeof hint);
      return hs_parse_fail(ps, kline, "unknown key '%s' in '%s'%s (known:%s)", name ? name : "?",
                  section, hint, known);
    }
    hs_status s = hs_parse_key(ps, ki, fy_node_pair_value(pair), kline);
    if (s) return s;
  }
  return HS_OK;
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
    return hs_parse_fail(ps, 1, "a job file is a mapping with output, model and training");
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(root, &it))) { /* zip first: see parse_zip */
    const char *name = hs_yaml_scalar(fy_node_pair_key(pair));
    if (name && strcmp(name, "zip") == 0) {
      hs_status s = hs_parse_zip(ps, fy_node_pair_value(pair), hs_yaml_line(fy_node_pair_key(pair), 1));
      if (s) return s;
    }
  }
  it = NULL;
  while ((pair = fy_node_mapping_iterate(root, &it))) {
    struct fy_node *key = fy_node_pair_key(pair), *val = hs_yaml_deref(fy_node_pair_value(pair));
    const char *name = hs_yaml_scalar(key);
    int line = hs_yaml_line(key, 1);
    hs_status s = HS_OK;
    if (!name) {
      s = hs_parse_fail(ps, line, "keys must be plain words");
    } else if (strcmp(name, "zip") == 0) {
      /* read above */
    } else if (section_of(name) >= 0) {
      ps->section_line[section_of(name)] = line;
      s = parse_section(ps, name, val, line);
    } else if (strcmp(name, "output") == 0) {
      const char *v = hs_yaml_scalar(val);
      if (!v || !*v) return hs_parse_fail(ps, line, "'output' needs a file name");
      if (!(job->output = strdup(v))) return hs_err_set(ps->err, HS_ENOMEM, "out of memory");
      job->output_line = line;
    } else if (strcmp(name, "job_seed") == 0) {
      hs_key k = {.name = "job_seed", .type = HS_KEY_INT, .min = 0, .max = 4294967295.0};
      double v;
      s = hs_parse_number(ps, &k, val, line, &v);
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
      s = hs_parse_fail(ps, line,
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
    return hs_parse_fail(ps, 1, "missing '%s' (the job has no '%s' section; %s)", k->name, k->section,
                k->doc);
  return hs_parse_fail(ps, line, "missing '%s' in '%s' (%s)", k->name, k->section, k->doc);
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
  if (!job->output) return hs_parse_fail(ps, 1, "missing 'output' (the results file)");
  for (int i = 0; i < hs_n_job_keys; i++) {
    const hs_key *k = &hs_job_keys[i];
    hs_key_values *kv = &job->values[i];
    int given = kv->n > 0 || kv->line > 0;
    if (k->read_when == HS_READ_BY_DIST && job->values[hs_job_key_index("model", "distribution")].n) {
      int used = chosen_dists_use(job, k->name);
      if (given && !used) {
        char hint[160];
        suggest("model", k->name, read_by_chosen, job, hint, sizeof hint);
        return hs_parse_fail(ps, kv->line, "'%s' is not a parameter of the chosen distribution(s)%s",
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
      return t_max->n > 1 ? hs_parse_fail(ps, t_max->line, "a log grid needs t_min < t_max (t_max = %g, "
                                 "t_min = %g)", t_max->num[i], t_min)
                          : hs_parse_fail(ps, grid->line ? grid->line : 1, "a log grid needs t_min < t_max");
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

/* Refuse what the reader would otherwise misread: an alias to no anchor,
 * a merge key, a value with a NUL character ("softmax\0x" is not
 * softmax). Depth is bounded by libfyaml's nesting limit. */
static hs_status check_nodes(parser *ps, struct fy_node *n, int line) {
  if (!n) return HS_OK;
  line = hs_yaml_line(n, line);
  if (fy_node_is_alias(n))
    return fy_node_resolve_alias(n)
               ? HS_OK
               : hs_parse_fail(ps, line, "alias '*%s' names no anchor (or is circular)",
                      fy_node_get_scalar0(n) ? fy_node_get_scalar0(n) : "?");
  void *it = NULL;
  hs_status s = HS_OK;
  switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
      size_t len;
      const char *v = fy_node_get_scalar(n, &len);
      if (v && memchr(v, '\0', len))
        return hs_parse_fail(ps, line, "a value with a NUL character (\\0) in it");
      if (v && len == 2 && memcmp(v, "<<", 2) == 0 && fy_node_get_style(n) == FYNS_PLAIN)
        return hs_parse_fail(ps, line, "merge keys (<<) are not supported: write the keys out");
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
  if (e) return hs_parse_fail(ps, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg); /* 1-based */
  return hs_parse_fail(ps, 1, "not a valid YAML document");
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
  else if (!doc) s = hs_parse_fail(ps, 1, "the job file is empty");
  if (!s && (more = fy_parse_load_document(fyp))) {
    int last = 1;
    for (const char *c = ps->job->text; *c; c++) last += *c == '\n';
    s = hs_parse_fail(ps, hs_yaml_start_line(fy_document_root(more), last),
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
  if (!s) s = hs_check_zips(&ps);
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
  if (!s) s = hs_check_zips(&ps);
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
