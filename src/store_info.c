/* store_info.c: `headspec info`, a summary of a results file (store.h). */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/store.h"

typedef struct file_summary {
  long n;
  signed char *status;
  int *rank;
  double *started, *finished;
  char *message; /* n x HS_MESSAGE_LEN */
} file_summary;

static char *read_attr(hid_t f, const char *name) {
  if (H5Aexists(f, name) <= 0) return strdup("?");
  hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Aget_type(a);
  char *s = NULL;
  if (H5Tget_class(t) == H5T_STRING) {
    size_t n = H5Tget_size(t);
    s = calloc(n + 1, 1);
    if (s) H5Aread(a, t, s);
  } else {
    long v = 0;
    H5Aread(a, H5T_NATIVE_LONG, &v);
    s = malloc(32);
    if (s) snprintf(s, 32, "%ld", v);
  }
  H5Tclose(t), H5Aclose(a);
  return s;
}

static int read_column(hid_t f, const char *path, hid_t type, void *buf) {
  hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
  int bad = d < 0 || H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0;
  if (d >= 0) H5Dclose(d);
  return bad;
}

/* How many ranks stored points, and the five busiest. */
static void print_ranks(const file_summary *s, FILE *out) {
  int max_rank = -1;
  for (long i = 0; i < s->n; i++)
    if (s->rank[i] > max_rank) max_rank = s->rank[i];
  if (max_rank < 0) return;
  long *count = calloc((size_t)max_rank + 1, sizeof *count);
  if (!count) return;
  for (long i = 0; i < s->n; i++)
    if (s->rank[i] >= 0 && s->status[i] != HS_POINT_PENDING) count[s->rank[i]]++;
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
    if (s->status[i] == HS_POINT_DONE && isfinite(s->finished[i])) {
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

hs_status hs_store_info(const char *path, FILE *out, hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return hs_err_set(err, HS_EIO, "%s: cannot open (missing, or not an HDF5 file)", path);
  char *fmt = read_attr(f, "format_version"), *ver = read_attr(f, "software_version"),
       *commit = read_attr(f, "git_commit"), *job = read_attr(f, "job_file"),
       *created = read_attr(f, "created"), *np = read_attr(f, "n_points");
  fprintf(out, "%s: headspec results, format %s, written by headspec %s (commit %s)\n",
          path, fmt, ver, commit);
  fprintf(out, "job file: %s, created %s\n", job, created);
  file_summary s = {.n = np ? atol(np) : 0};
  free(fmt), free(ver), free(commit), free(job), free(created), free(np);
  s.status = calloc((size_t)s.n + 1, 1);
  s.rank = calloc((size_t)s.n + 1, sizeof *s.rank);
  s.started = calloc((size_t)s.n + 1, sizeof *s.started);
  s.finished = calloc((size_t)s.n + 1, sizeof *s.finished);
  s.message = calloc((size_t)s.n + 1, HS_MESSAGE_LEN);
  hid_t mt = H5Tcopy(H5T_C_S1);
  H5Tset_size(mt, HS_MESSAGE_LEN);
  int bad = !s.status || !s.rank || !s.started || !s.finished || !s.message || s.n < 1 ||
            read_column(f, "grid/status", H5T_NATIVE_SCHAR, s.status) ||
            read_column(f, "grid/rank", H5T_NATIVE_INT, s.rank) ||
            read_column(f, "grid/started", H5T_NATIVE_DOUBLE, s.started) ||
            read_column(f, "grid/finished", H5T_NATIVE_DOUBLE, s.finished) ||
            read_column(f, "grid/message", mt, s.message);
  H5Tclose(mt);
  hs_status st = HS_OK;
  if (bad) {
    st = hs_err_set(err, HS_EIO, "%s: no readable /grid table (not a headspec results file?)", path);
  } else {
    long count[3] = {0};
    for (long i = 0; i < s.n; i++) count[s.status[i] >= 0 && s.status[i] < 3 ? s.status[i] : 0]++;
    fprintf(out, "points: %ld total, %ld done, %ld failed, %ld pending\n", s.n,
            count[HS_POINT_DONE], count[HS_POINT_FAILED], count[HS_POINT_PENDING]);
    print_rate(&s, count[HS_POINT_DONE], count[HS_POINT_PENDING], out);
    print_ranks(&s, out);
    for (long i = 0, shown = 0; i < s.n && shown < 10; i++)
      if (s.status[i] == HS_POINT_FAILED) {
        fprintf(out, "failed point %ld: %s\n", i, s.message + i * HS_MESSAGE_LEN);
        shown++;
      }
    if (count[HS_POINT_PENDING])
      fprintf(out, "to finish: run the same job again; done points are kept\n");
  }
  free(s.status), free(s.rank), free(s.started), free(s.finished), free(s.message);
  H5Fclose(f);
  return st;
}
