/* store_info.c: `headspec info`, a summary of a results file (store.h).
 * The file is read through its own plan (from the job text it stores) and
 * checked against it first, so nothing is sized from an unchecked object. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_impl.h"

typedef struct file_summary {
  const hs_plan *plan;
  long n;
  const signed char *status;
  int *rank;
  double *started, *finished;
  char *message; /* the first 10 failed points' messages, HS_MESSAGE_LEN each */
} file_summary;

/* How many ranks stored points, and the five busiest. */
static void print_ranks(const file_summary *s, FILE *out) {
  int max_rank = -1;
  for (long i = 0; i < s->n; i++)
    if (s->rank[i] > max_rank && s->rank[i] < 1 << 24) max_rank = s->rank[i];
  if (max_rank < 0) return;
  long *count = calloc((size_t)max_rank + 1, sizeof *count);
  if (!count) return;
  for (long i = 0; i < s->n; i++)
    if (s->rank[i] >= 0 && s->rank[i] <= max_rank && s->status[i] != HS_POINT_PENDING)
      count[s->rank[i]]++;
  int used = 0;
  for (int r = 0; r <= max_rank; r++) used += count[r] > 0;
  fprintf(out, "ranks: %d stored points; busiest (rank:points):", used);
  for (int shown = 0; shown < 5 && shown < used; shown++) {
    int best = 0;
    for (int r = 1; r <= max_rank; r++)
      if (count[r] > count[best]) best = r;
    fprintf(out, " %d:%ld", best, count[best]);
    count[best] = -1;
  }
  fprintf(out, "\n");
  free(count);
}

/* Points per second between the first start and the last finish recorded
 * (spans of interrupted runs count too: a lower bound on the live rate). */
static void print_rate(const file_summary *s, long done, long pending, FILE *out) {
  double first = INFINITY, last = -INFINITY;
  for (long i = 0; i < s->n; i++)
    if (s->status[i] == HS_POINT_DONE && isfinite(s->finished[i]) && isfinite(s->started[i])) {
      first = fmin(first, s->started[i]);
      last = fmax(last, s->finished[i]);
    }
  if (done >= 1 && last > first) {
    double rate = done / (last - first);
    fprintf(out, "rate: %.3g points/hour while running", 3600 * rate);
    if (pending) fprintf(out, "; the %ld pending need about %.2g hours at that rate", pending, pending / rate / 3600);
    fprintf(out, "\n");
  }
}

static void print_summary(const file_summary *s, FILE *out) {
  long count[3] = {0};
  for (long i = 0; i < s->n; i++)
    if (s->status[i] >= 0 && s->status[i] < 3) count[s->status[i]]++;
  fprintf(out, "points: %ld total, %ld done, %ld failed, %ld pending\n", s->n,
          count[HS_POINT_DONE], count[HS_POINT_FAILED], count[HS_POINT_PENDING]);
  print_rate(s, count[HS_POINT_DONE], count[HS_POINT_PENDING], out);
  print_ranks(s, out);
  for (long i = 0, shown = 0; i < s->n && shown < 10; i++)
    if (s->status[i] == HS_POINT_FAILED) {
      char label[HS_LABEL_LEN];
      hs_plan_label(s->plan, i, label, sizeof label);
      fprintf(out, "failed point %ld (%s): %.*s\n", i, label, HS_MESSAGE_LEN,
              s->message + shown * HS_MESSAGE_LEN);
      shown++;
    }
  if (count[HS_POINT_FAILED] > 10)
    fprintf(out, "... and %ld more failed points (/grid/message has each reason)\n",
            count[HS_POINT_FAILED] - 10);
  for (long i = 0, shown = 0; i < s->n && shown < 5 && count[HS_POINT_PENDING] <= 5; i++)
    if (s->status[i] == HS_POINT_PENDING) {
      char label[HS_LABEL_LEN];
      hs_plan_label(s->plan, i, label, sizeof label);
      fprintf(out, "pending point %ld (%s)\n", i, label);
      shown++;
    }
  if (count[HS_POINT_PENDING] || count[HS_POINT_FAILED])
    fprintf(out, "to finish: run the same job again; done points are kept\n");
}

static void print_header(hid_t f, const char *path, FILE *out) {
  const char *names[] = {"software_version", "git_commit", "job_file", "created"};
  char *v[4];
  for (int k = 0; k < 4; k++) v[k] = hs_h5_read_attr_text(f, names[k]);
  fprintf(out, "%s: headspec results, format %d, written by headspec %s (commit %s)\n", path,
          HS_FORMAT, v[0] ? v[0] : "?", v[1] ? v[1] : "?");
  fprintf(out, "job file: %s, created %s\n", v[2] ? v[2] : "?", v[3] ? v[3] : "?");
  for (int k = 0; k < 4; k++) free(v[k]);
  /* the libraries of the build that created it (software_build after its first line) */
  char *build = hs_h5_read_attr_text(f, "software_build"), *lines = build ? strchr(build, '\n') : NULL;
  for (char *line = lines ? lines + 1 : NULL; line && *line;) {
    size_t len = strcspn(line, "\n");
    fprintf(out, "  %.*s\n", (int)len, line);
    line += len + (line[len] == '\n');
  }
  free(build);
}

/* The messages of the first failed points, read row by row (the whole
 * column would be 256 bytes a point). */
static void read_messages(hid_t f, file_summary *s) {
  hid_t d = H5Dopen2(f, "grid/message", H5P_DEFAULT), ch = hs_h5_char();
  for (long i = 0, shown = 0; d >= 0 && i < s->n && shown < 10; i++)
    if (s->status[i] == HS_POINT_FAILED) {
      char *m = s->message + shown++ * HS_MESSAGE_LEN;
      if (hs_h5_rows(d, ch, i, 1, m, 0) < 0) snprintf(m, HS_MESSAGE_LEN, "(unreadable)");
    }
  H5Tclose(ch);
  if (d >= 0) H5Dclose(d);
}

static hs_status summarise(hid_t f, const hs_existing *ex, const char *path, FILE *out,
                           hs_err *err) {
  file_summary s = {.plan = ex->plan, .n = hs_plan_n_points(ex->plan), .status = ex->status};
  size_t n = (size_t)s.n;
  s.rank = malloc(n * sizeof *s.rank);
  s.started = malloc(n * sizeof *s.started);
  s.finished = malloc(n * sizeof *s.finished);
  s.message = calloc(10, HS_MESSAGE_LEN);
  int bad = !s.rank || !s.started || !s.finished || !s.message ||
            hs_h5_read_all(f, "grid/rank", H5T_NATIVE_INT, s.rank) ||
            hs_h5_read_all(f, "grid/started", H5T_NATIVE_DOUBLE, s.started) ||
            hs_h5_read_all(f, "grid/finished", H5T_NATIVE_DOUBLE, s.finished);
  hs_status st = bad ? hs_err_set(err, HS_EIO, "%s: cannot read the /grid table", path) : HS_OK;
  if (!st) {
    read_messages(f, &s);
    print_header(f, path, out);
    print_summary(&s, out);
    hs_store_print_moving(f, ex->plan, s.status, out);
    hs_store_print_error_bars(f, ex->plan, s.status, out);
  }
  free(s.rank), free(s.started), free(s.finished), free(s.message);
  return st;
}

/* What the checksums found: with verify, every damaged point by name. */
static hs_status print_damage(const hs_existing *ex, const char *path, int verify, FILE *out,
                              hs_err *err) {
  const hs_damage *d = &ex->damage;
  if (d->unverified) {
    fprintf(out, "checksums: none (written by an older headspec): its points cannot be "
            "verified; `headspec run` rewrites it with checksums\n");
    return HS_OK;
  }
  if (!d->n) {
    if (verify)
      fprintf(out, "verified: every object matches the job the file stores, and every stored "
              "point matches its checksum\n");
    return HS_OK;
  }
  long shown = verify ? d->n : 5;
  for (long k = 0; k < d->n && k < shown; k++) {
    char label[HS_LABEL_LEN];
    hs_plan_label(ex->plan, d->point[k], label, sizeof label);
    fprintf(out, "damaged point %ld (%s): its stored data does not match its checksum\n",
            d->point[k], label);
  }
  if (shown < d->n) fprintf(out, "... and %ld more damaged points (headspec verify lists them)\n",
                            d->n - shown);
  return hs_err_set(err, HS_EIO, "%s: %ld damaged point%s (counted as pending above); `headspec "
                    "run` with the same job computes them again", path, d->n,
                    d->n == 1 ? "" : "s");
}

hs_status hs_store_info(const char *path, int verify, FILE *out, hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  struct stat sb;
  if (stat(path, &sb) != 0)
    return hs_err_set(err, HS_EIO, "%s: %s", path, strerror(errno));
  hs_existing ex;
  hs_status st = hs_existing_read(path, &ex, err); /* checked whole against its plan */
  if (st) return st;
  if (verify && (st = hs_store_check_objects(path, 1, err))) { /* and every back reference */
    hs_existing_free(&ex);
    return st;
  }
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  st = f < 0 ? hs_err_set(err, HS_EIO, "%s: cannot open", path)
             : summarise(f, &ex, path, out, err);
  if (!st && ex.older)
    fprintf(out, "written by an older headspec: %d datasets of this version's layout are "
            "missing; `headspec run` rewrites the file in it (fields it lacks stay NaN)\n",
            ex.older);
  if (!st) st = print_damage(&ex, path, verify, out, err);
  if (f >= 0) H5Fclose(f);
  hs_existing_free(&ex);
  return st;
}
