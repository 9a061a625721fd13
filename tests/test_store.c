/* test_store.c: the results store's C functions (store.h), on a small plan
 * made from a job text (plan.h), under MPI with one rank. What is written
 * is read back with plain serial HDF5, not through the store: each result
 * row bit for bit at the group and row the plan gives, the NaN fill of rows
 * never written, /grid's status and message. Then: the same job resumes in
 * place, a changed shared setting or a job leaving out done points is
 * refused with the file untouched, a job with more points grows the file
 * (done rows copied bit for bit, the old file kept aside), --fresh starts
 * anew; hs_store_survey predicts each of these without touching anything,
 * and hs_store_info counts the points. */
#define _GNU_SOURCE /* open_memstream, mkdtemp */
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "headspec/plan.h"
#include "headspec/store.h"
#include "../src/store/store_impl.h" /* HS_STORE_MAX_FIELDS */

static char dir[256], out[512];

/* The job: H in {1, 2} (two results groups) times the given seeds. */
static hs_plan *plan_of(const char *seeds, double t_max) {
  char text[1024];
  snprintf(text, sizeof text,
           "output: %s\n"
           "model: {distribution: flipping, b1: 1, b2: 2, activation: softmax, H: [1, 2],"
           " seed: %s}\n"
           "training: {d: 100, eta: 0.5, t_max: %g}\n",
           out, seeds, t_max);
  hs_plan *plan = NULL;
  hs_err err = {0};
  CHECK(hs_plan_from_text("test_store", text, &plan, &err) == HS_OK, "%s", err.msg);
  return plan;
}

/* Entry j of field f of point `tag`: a value of all 64 bits, never NaN. */
static double pattern(long tag, int f, size_t j) {
  uint64_t x = (uint64_t)tag * 0x9E3779B97F4A7C15u ^ (uint64_t)f * 0xBF58476D1CE4E5B9u ^ j;
  x ^= x >> 31, x *= 0x94D049BB133111EBu, x ^= x >> 29;
  return ldexp((double)(x >> 11), -53) * 100 - 50;
}

/* A result of point i's shape filled with pattern(tag, ...). */
static void fill(const hs_plan *plan, long i, long tag, hs_result *r) {
  hs_err err = {0};
  const hs_shape *shape = &hs_plan_groups(plan)[hs_plan_group_of(plan, i)].shape;
  CHECK(hs_result_alloc(r, shape, &err) == HS_OK, "%s", err.msg);
  for (int f = 0; f < hs_n_result_fields; f++) {
    double *x = hs_result_field_data(r, &hs_result_fields[f]);
    for (size_t j = 0; j < hs_result_field_size(&hs_result_fields[f], shape); j++)
      x[j] = pattern(tag, f, j);
  }
}

/* Every result field of point i in the file at path, read with plain HDF5:
 * bit for bit pattern(tag, ...) if tag >= 0, else all NaN (never written). */
static void check_row(const char *path, const hs_plan *plan, long i, long tag,
                      const char *what) {
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CHECK(file >= 0, "%s: cannot open %s", what, path);
  if (file < 0) return;
  const hs_plan_group *g = &hs_plan_groups(plan)[hs_plan_group_of(plan, i)];
  long row = hs_plan_row_of(plan, i);
  int wrong = 0;
  for (int f = 0; f < hs_n_result_fields; f++) {
    size_t n = hs_result_field_size(&hs_result_fields[f], &g->shape);
    char name[256];
    snprintf(name, sizeof name, "results/%s/%s", g->name, hs_result_fields[f].name);
    if (hs_result_fields[f].with_replicas && !g->shape.replicas) { /* a group without replicas */
      CHECK(H5Lexists(file, "results", H5P_DEFAULT) > 0 &&
                H5Lexists(file, name, H5P_DEFAULT) <= 0 && !strchr(g->name, 'r'),
            "%s: %s exists in a group without replicas", what, name);
      continue;
    }
    double *all = malloc(sizeof(double) * n * (size_t)g->n);
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0,
          "%s: cannot read %s", what, name);
    for (size_t j = 0; d >= 0 && j < n; j++) {
      double v = all[(size_t)row * n + j], w = tag >= 0 ? pattern(tag, f, j) : NAN;
      if (tag >= 0 ? memcmp(&v, &w, sizeof v) != 0 : !isnan(v)) {
        if (!wrong++)
          fprintf(stderr, "%s: %s[%ld][%zu] = %.17g, want %.17g\n", what, name, row, j, v, w);
      }
    }
    if (d >= 0) H5Dclose(d);
    free(all);
  }
  CHECK(wrong == 0, "%s: point %ld, %d values differ", what, i, wrong);
  H5Fclose(file);
}

/* /grid/status of the file at path (n entries), read with plain HDF5. */
static void read_statuses(const char *path, long n, signed char *status) {
  memset(status, -1, (size_t)n);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = file >= 0 ? H5Dopen2(file, "grid/status", H5P_DEFAULT) : -1;
  CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) >= 0,
        "cannot read %s's /grid/status", path);
  if (d >= 0) H5Dclose(d);
  if (file >= 0) H5Fclose(file);
}

/* /grid/message of point i (HS_MESSAGE_LEN characters, NUL padded; msg
 * has room for one more, the terminator). */
static void read_message(const char *path, long n, long i, char *msg) {
  char *all = calloc((size_t)n, HS_MESSAGE_LEN);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = file >= 0 ? H5Dopen2(file, "grid/message", H5P_DEFAULT) : -1;
  hid_t type = d >= 0 ? H5Dget_type(d) : -1; /* one character, as netCDF's NC_CHAR */
  CHECK(type >= 0 && H5Tget_size(type) == 1 &&
            H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0,
        "cannot read %s's /grid/message", path);
  if (type >= 0) H5Tclose(type);
  memcpy(msg, all + (size_t)i * HS_MESSAGE_LEN, HS_MESSAGE_LEN);
  msg[HS_MESSAGE_LEN] = '\0';
  if (d >= 0) H5Dclose(d);
  if (file >= 0) H5Fclose(file);
  free(all);
}

/* Files in the test's directory other than the lock. */
static int files_in_dir(void) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.' && !strstr(e->d_name, ".lock")) n++;
  if (d) closedir(d);
  return n;
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* The point of plan with the same label (the swept H and seed) as point i
 * of other, or -1. */
static long same_point(const hs_plan *plan, const hs_plan *other, long i) {
  char want[HS_LABEL_LEN], label[HS_LABEL_LEN];
  hs_plan_label(other, i, want, sizeof want);
  for (long j = 0; j < hs_plan_n_points(plan); j++) {
    hs_plan_label(plan, j, label, sizeof label);
    if (strcmp(label, want) == 0) return j;
  }
  return -1;
}

/* The points of the first file: 0 stays pending, 1 and 2 done (one in each
 * group, at different rows), 3 failed. */
enum { N0 = 4, FAILED = 3 };
static const signed char written[N0] = {HS_POINT_PENDING, HS_POINT_DONE, HS_POINT_DONE,
                                        HS_POINT_FAILED};
static const char *reason = "testing: failed on purpose";

/* Create the file, write points, mark one failed, read back. */
static void test_create_write_read(const hs_plan *plan) {
  hs_store_report rep;
  hs_store *s;
  hs_err err = {0};
  CHECK(hs_plan_n_points(plan) == N0, "%ld points", hs_plan_n_points(plan));
  CHECK(hs_plan_n_groups(plan) == 2, "%d groups", hs_plan_n_groups(plan));
  CHECK(hs_plan_group_of(plan, 1) != hs_plan_group_of(plan, 2) &&
            hs_plan_row_of(plan, 1) != hs_plan_row_of(plan, 2),
        "points 1 and 2 share a group or a row");
  CHECK(hs_store_survey(plan, 0, &rep, &err) == HS_OK, "survey: %s", err.msg);
  CHECK(!rep.exists && rep.to_compute == N0 && !exists(out), "survey of a new file: exists %d, "
        "to compute %ld, file made %d", rep.exists, rep.to_compute, exists(out));
  hs_status st = hs_store_open(plan, MPI_COMM_WORLD, 0, &rep, &s, &err);
  CHECK(st == HS_OK, "open: %s", err.msg);
  if (st) return;
  CHECK(!rep.exists && !rep.grown && rep.reused == 0 && rep.to_compute == N0, "new file's report");
  CHECK(exists(out), "the file is in place once open");
  signed char status[N0];
  CHECK(hs_store_read_status(s, status, &err) == HS_OK, "%s", err.msg);
  for (long i = 0; i < N0; i++) CHECK(status[i] == HS_POINT_PENDING, "new point %ld: %d", i, status[i]);
  hs_result r[N0];
  for (long i = 0; i < N0; i++) {
    fill(plan, i, i, &r[i]);
    if (written[i] == HS_POINT_DONE)
      CHECK(hs_store_write_point(s, i, &r[i], 0, &err) == HS_OK, "write %ld: %s", i, err.msg);
  }
  CHECK(hs_store_mark_failed(s, FAILED, reason, 0, &err) == HS_OK, "%s", err.msg);
  /* a result of the other group's shape is refused, and writes nothing */
  CHECK(hs_store_write_point(s, 0, &r[2], 0, &err) == HS_EIO && strstr(err.msg, "do not fit"),
        "a result of another shape: %s", err.msg);
  CHECK(hs_store_read_status(s, status, &err) == HS_OK, "%s", err.msg);
  CHECK(memcmp(status, written, N0) == 0, "statuses while open: %d %d %d %d", status[0],
        status[1], status[2], status[3]);
  CHECK(hs_store_close(s, &err) == HS_OK, "close: %s", err.msg);
  for (long i = 0; i < N0; i++) hs_result_free(&r[i]);
  char lock[600];
  snprintf(lock, sizeof lock, "%s.lock", out);
  CHECK(!exists(lock), "the lock is gone after close");

  read_statuses(out, N0, status);
  CHECK(memcmp(status, written, N0) == 0, "statuses read back: %d %d %d %d", status[0],
        status[1], status[2], status[3]);
  for (long i = 0; i < N0; i++)
    check_row(out, plan, i, written[i] == HS_POINT_DONE ? i : -1, "read back");
  char msg[HS_MESSAGE_LEN + 1];
  read_message(out, N0, FAILED, msg);
  CHECK(strcmp(msg, reason) == 0, "failed point's message: '%s'", msg);
  read_message(out, N0, 1, msg);
  CHECK(msg[0] == '\0', "done point's message: '%s'", msg);

  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  CHECK(hs_store_info(out, 0, f, &err) == HS_OK, "info: %s", err.msg);
  fclose(f);
  CHECK(text && strstr(text, "points: 4 total, 2 done, 1 failed, 1 pending"), "info says:\n%s",
        text ? text : "");
  free(text);
}

/* The same job: survey and open resume in place, nothing rewritten. */
/* Points a survey marks as reused done (validate prices the rest). */
static long count_done(const hs_store_report *rep, long n) {
  long k = 0;
  for (long i = 0; rep->done && i < n; i++) k += rep->done[i];
  return k;
}

static void test_resume(const hs_plan *plan) {
  hs_store_report rep;
  hs_store *s;
  hs_err err = {0};
  CHECK(hs_store_survey(plan, 0, &rep, &err) == HS_OK, "survey: %s", err.msg);
  CHECK(rep.exists && !rep.grown && rep.reused == 2 && rep.to_compute == 2,
        "survey of the same job: exists %d grown %d reused %ld to compute %ld", rep.exists,
        rep.grown, rep.reused, rep.to_compute);
  CHECK(count_done(&rep, hs_plan_n_points(plan)) == 2, "survey marks the 2 done points (%ld)",
        count_done(&rep, hs_plan_n_points(plan)));
  free(rep.done);
  hs_status st = hs_store_open(plan, MPI_COMM_WORLD, 0, &rep, &s, &err);
  CHECK(st == HS_OK, "reopen: %s", err.msg);
  if (st) return;
  CHECK(rep.exists && !rep.grown && rep.reused == 2 && rep.to_compute == 2 && !rep.moved_to[0],
        "resume in place: grown %d reused %ld moved to '%s'", rep.grown, rep.reused, rep.moved_to);
  signed char status[N0];
  CHECK(hs_store_read_status(s, status, &err) == HS_OK, "%s", err.msg);
  CHECK(memcmp(status, written, N0) == 0, "statuses on resume: %d %d %d %d", status[0],
        status[1], status[2], status[3]);
  CHECK(hs_store_close(s, &err) == HS_OK, "close: %s", err.msg);
  CHECK(files_in_dir() == 1, "resuming makes no other file (%d files)", files_in_dir());
  for (long i = 0; i < N0; i++)
    check_row(out, plan, i, written[i] == HS_POINT_DONE ? i : -1, "after resume");
}

/* A job that changes a shared setting, or leaves out done points: refused
 * by survey and open, the file as it was. */
static void test_refusals(const hs_plan *plan) {
  struct {
    const char *seeds;
    double t_max;
    const char *says;
  } bad[] = {{"[1, 2]", 2, "t_max"}, {"[3]", 1, "leaves out"}};
  for (int k = 0; k < 2; k++) {
    hs_plan *other = plan_of(bad[k].seeds, bad[k].t_max);
    if (!other) continue;
    hs_store_report rep;
    hs_store *s = NULL;
    hs_err err = {0};
    CHECK(hs_store_survey(other, 0, &rep, &err) == HS_EMISMATCH && strstr(err.msg, bad[k].says),
          "survey of a mismatch (%s): %s", bad[k].says, err.msg);
    CHECK(hs_store_open(other, MPI_COMM_WORLD, 0, &rep, &s, &err) == HS_EMISMATCH &&
              strstr(err.msg, bad[k].says),
          "open with a mismatch (%s): %s", bad[k].says, err.msg);
    printf("refused (%s): %s\n", bad[k].says, err.msg);
    CHECK(files_in_dir() == 1, "a refusal makes or moves no file (%d files)", files_in_dir());
    signed char status[N0];
    read_statuses(out, N0, status);
    CHECK(memcmp(status, written, N0) == 0, "statuses after a refusal");
    for (long i = 0; i < N0; i++)
      check_row(out, plan, i, written[i] == HS_POINT_DONE ? i : -1, "after a refusal");
    hs_plan_free(other);
  }
}

/* One more seed, put first: a new file with the done points' rows copied
 * bit for bit to their new rows (each moves), the old file kept under
 * moved_to unchanged. */
static void test_grow(const hs_plan *plan) {
  hs_plan *grown = plan_of("[3, 1, 2]", 1);
  if (!grown) return;
  long n = hs_plan_n_points(grown);
  hs_store_report rep;
  hs_store *s;
  hs_err err = {0};
  CHECK(n == 6, "%ld points", n);
  CHECK(hs_store_survey(grown, 0, &rep, &err) == HS_OK, "survey: %s", err.msg);
  CHECK(rep.exists && rep.grown && rep.reused == 2 && rep.to_compute == n - 2 &&
            files_in_dir() == 1,
        "survey of a grown job: grown %d reused %ld to compute %ld, %d files", rep.grown,
        rep.reused, rep.to_compute, files_in_dir());
  CHECK(count_done(&rep, n) == 2, "survey marks the 2 reused points of the grown job (%ld)",
        count_done(&rep, n));
  free(rep.done);
  hs_status st = hs_store_open(grown, MPI_COMM_WORLD, 0, &rep, &s, &err);
  CHECK(st == HS_OK, "grow: %s", err.msg);
  if (st) {
    hs_plan_free(grown);
    return;
  }
  CHECK(rep.grown && rep.reused == 2 && rep.to_compute == n - 2 && rep.moved_to[0] &&
            exists(rep.moved_to),
        "grown: %d reused %ld moved to '%s'", rep.grown, rep.reused, rep.moved_to);
  CHECK(hs_store_close(s, &err) == HS_OK, "close: %s", err.msg);
  signed char status[6];
  read_statuses(out, n, status);
  for (long i = 0; i < N0; i++) {
    long j = same_point(grown, plan, i);
    CHECK(j >= 0, "old point %ld is in the grown job", i);
    if (j < 0) continue;
    int done = written[i] == HS_POINT_DONE;
    CHECK(hs_plan_row_of(grown, j) != hs_plan_row_of(plan, i), "old point %ld keeps its row", i);
    CHECK(status[j] == (done ? HS_POINT_DONE : HS_POINT_PENDING),
          "old point %ld (new %ld): status %d", i, j, status[j]);
    check_row(out, grown, j, done ? i : -1, "copied into the grown file");
  }
  for (long j = 0, new_points = 0; j < n; j++)
    if (same_point(plan, grown, j) < 0) {
      CHECK(status[j] == HS_POINT_PENDING, "new point %ld: status %d", j, status[j]);
      check_row(out, grown, j, -1, "a new point of the grown file");
      CHECK(++new_points <= 2, "more new points than seed 3's two");
    }
  /* the old file, kept aside, is the file as it was */
  read_statuses(rep.moved_to, N0, status);
  CHECK(memcmp(status, written, N0) == 0, "the old file's statuses");
  for (long i = 0; i < N0; i++)
    check_row(rep.moved_to, plan, i, written[i] == HS_POINT_DONE ? i : -1, "the old file");
  hs_plan_free(grown);
}

/* fresh: the file moved aside, a new one with every point pending. */
static void test_fresh(const hs_plan *plan) {
  hs_store_report rep;
  hs_store *s;
  hs_err err = {0};
  int before = files_in_dir();
  CHECK(hs_store_survey(plan, 1, &rep, &err) == HS_OK && rep.to_compute == N0 &&
            files_in_dir() == before,
        "survey with fresh: to compute %ld, %d files", rep.to_compute, files_in_dir());
  hs_status st = hs_store_open(plan, MPI_COMM_WORLD, 1, &rep, &s, &err);
  CHECK(st == HS_OK, "fresh: %s", err.msg);
  if (st) return;
  CHECK(rep.moved_to[0] && exists(rep.moved_to) && files_in_dir() == before + 1,
        "fresh keeps the old file: moved to '%s', %d files", rep.moved_to, files_in_dir());
  signed char status[N0];
  CHECK(hs_store_read_status(s, status, &err) == HS_OK, "%s", err.msg);
  for (long i = 0; i < N0; i++) CHECK(status[i] == HS_POINT_PENDING, "fresh point %ld: %d", i, status[i]);
  CHECK(hs_store_close(s, &err) == HS_OK, "close: %s", err.msg);
  for (long i = 0; i < N0; i++) check_row(out, plan, i, -1, "fresh file");
}

static void remove_dir(void) {
  DIR *d = opendir(dir);
  char path[1024];
  for (struct dirent *e; d && (e = readdir(d));)
    if (e->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      remove(path);
    }
  if (d) closedir(d);
  rmdir(dir);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/test_store_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) return fprintf(stderr, "cannot make %s\n", dir), 1;
  snprintf(out, sizeof out, "%s/results.h5", dir);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the failed opens are reported by CHECK */
  CHECK(hs_n_result_fields <= HS_STORE_MAX_FIELDS, "%d result fields: raise HS_STORE_MAX_FIELDS",
        hs_n_result_fields);
  hs_plan *plan = plan_of("[1, 2]", 1);
  if (plan) {
    test_create_write_read(plan);
    test_resume(plan);
    test_refusals(plan);
    test_grow(plan);
    test_fresh(plan);
    hs_plan_free(plan);
  }
  if (!check_failures) remove_dir();
  else fprintf(stderr, "files kept in %s\n", dir);
  hs_store_finalize();
  MPI_Finalize();
  return check_report("test_store");
}
