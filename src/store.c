/* store.c: the HDF5 results file (store.h; schema in README.md). */
#include "headspec/store.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headspec/version.h"

enum { GROUP_NAME_LEN = 64, MAX_FIELDS = 64 };

typedef struct result_group {
  char name[GROUP_NAME_LEN]; /* e.g. "H2_K2_L8" */
  hs_shape shape;
  long n;                    /* points in the group */
  hid_t dsets[MAX_FIELDS];   /* one per hs_result_fields entry */
  hid_t point_dset;
} result_group;

struct hs_store {
  hid_t file;
  const hs_job *job;
  long n_points;
  int *group_of;  /* per point */
  long *row_of;   /* per point: row within its group */
  int n_groups;
  result_group *groups;
  hid_t status, message, rank, host, started, finished; /* /grid, written per point */
  char hostname[HS_HOST_LEN];
};

/* ---- small HDF5 helpers ---------------------------------------------------- */

static hid_t string_type(size_t len) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, len);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  return t;
}

static herr_t attr_string(hid_t loc, const char *name, const char *value) {
  hid_t t = string_type(strlen(value) + 1), sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : H5Awrite(a, t, value);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp), H5Tclose(t);
  return r;
}

static herr_t attr_long(hid_t loc, const char *name, long value) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, H5T_NATIVE_LONG, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LONG, &value);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return r;
}

/* Read a string attribute into a malloc'd buffer (NULL if absent). */
static char *attr_read_string(hid_t loc, const char *name) {
  if (H5Aexists(loc, name) <= 0) return NULL;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t t = H5Aget_type(a);
  size_t n = H5Tget_size(t);
  char *s = calloc(n + 1, 1);
  hid_t mt = string_type(n + 1);
  if (s && H5Aread(a, mt, s) < 0) {
    free(s);
    s = NULL;
  }
  H5Tclose(mt), H5Tclose(t), H5Aclose(a);
  return s;
}

/* A contiguous dataset, allocated and filled at creation (parallel HDF5
 * needs early allocation; the fill marks rows not yet written). */
static hid_t create_dataset(hid_t loc, const char *name, hid_t type, int rank,
                            const hsize_t *dims, const void *fill,
                            const char *doc) {
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
  if (fill) H5Pset_fill_value(dcpl, type, fill);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t d = H5Dcreate2(loc, name, type, sp, lcpl, dcpl, H5P_DEFAULT);
  if (d >= 0 && doc) attr_string(d, "description", doc);
  H5Pclose(lcpl), H5Pclose(dcpl), H5Sclose(sp);
  return d;
}

/* Write count elements of a row-major array into rows [row, row+1) of d. */
static herr_t write_row(hid_t d, hid_t memtype, long row, const void *data) {
  hid_t fs = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(fs);
  hsize_t dims[8], start[8] = {0}, count[8];
  H5Sget_simple_extent_dims(fs, dims, NULL);
  start[0] = (hsize_t)row;
  count[0] = 1;
  for (int i = 1; i < rank; i++) count[i] = dims[i];
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(rank, count, NULL);
  herr_t r = H5Dwrite(d, memtype, ms, fs, H5P_DEFAULT, data);
  H5Sclose(ms), H5Sclose(fs);
  return r;
}

/* ---- layout ------------------------------------------------------------------ */

/* Assign every point to the group of its shape and a row within it. */
static hs_status plan_groups(hs_store *s, hs_err *err) {
  const hs_job *job = s->job;
  s->n_points = job->n_points;
  s->group_of = calloc((size_t)s->n_points, sizeof *s->group_of);
  s->row_of = calloc((size_t)s->n_points, sizeof *s->row_of);
  if (!s->group_of || !s->row_of) return hs_err_set(err, HS_ENOMEM, "out of memory");
  for (long i = 0; i < s->n_points; i++) {
    hs_point p;
    hs_shape sh;
    hs_job_point(job, i, &p);
    hs_status st = hs_point_shape(&p, &sh, err);
    if (st) return st;
    char name[GROUP_NAME_LEN];
    snprintf(name, sizeof name, "H%d_K%d_L%d", sh.H, sh.K, sh.L);
    int g = 0;
    while (g < s->n_groups && strcmp(s->groups[g].name, name) != 0) g++;
    if (g == s->n_groups) {
      result_group *more = realloc(s->groups, sizeof *more * (size_t)(g + 1));
      if (!more) return hs_err_set(err, HS_ENOMEM, "out of memory");
      s->groups = more;
      memset(&more[g], 0, sizeof more[g]);
      strcpy(more[g].name, name);
      more[g].shape = sh;
      s->n_groups++;
    }
    s->group_of[i] = g;
    s->row_of[i] = s->groups[g].n++;
  }
  return HS_OK;
}

static hs_status create_grid(hs_store *s, hid_t file, hs_err *err) {
  const hs_job *job = s->job;
  hsize_t n = (hsize_t)s->n_points;
  hid_t name_t = string_type(HS_NAME_LEN);
  void *col = malloc(n * GROUP_NAME_LEN); /* fits every column type */
  if (!col) return hs_err_set(err, HS_ENOMEM, "out of memory");
  herr_t bad = 0;
  for (int k = 0; k < hs_n_job_keys; k++) {
    const hs_key *key = &hs_job_keys[k];
    if (job->values[k].n < 1 || key->type == HS_KEY_VECTOR || key->type == HS_KEY_MATRIX)
      continue;
    int is_name = key->type == HS_KEY_NAME, is_real = key->type == HS_KEY_REAL;
    hid_t t = is_name ? name_t : is_real ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT;
    for (hsize_t i = 0; i < n; i++) {
      hs_point p;
      hs_job_point(job, (long)i, &p);
      const char *f = (const char *)&p + key->offset;
      if (is_name) memcpy((char *)col + i * HS_NAME_LEN, f, HS_NAME_LEN);
      else if (is_real) ((double *)col)[i] = *(const double *)f;
      else ((int *)col)[i] = *(const int *)f;
    }
    char path[128];
    hs_job_column_name(k, path, sizeof path);
    hid_t d = create_dataset(file, path, t, 1, &n, NULL, key->doc);
    bad |= d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) < 0;
    if (d >= 0) H5Dclose(d);
  }
  /* where each point's results are: group name and row */
  for (hsize_t i = 0; i < n; i++)
    memcpy((char *)col + i * GROUP_NAME_LEN, s->groups[s->group_of[i]].name,
           GROUP_NAME_LEN);
  hid_t gt = string_type(GROUP_NAME_LEN);
  hid_t d = create_dataset(file, "grid/group", gt, 1, &n, NULL,
                           "results group /results/<group> of the point");
  bad |= d < 0 || H5Dwrite(d, gt, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) < 0;
  if (d >= 0) H5Dclose(d);
  H5Tclose(gt);
  for (hsize_t i = 0; i < n; i++) ((long *)col)[i] = s->row_of[i];
  d = create_dataset(file, "grid/row", H5T_NATIVE_LONG, 1, &n, NULL,
                     "row of the point in its results group");
  bad |= d < 0 || H5Dwrite(d, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, col) < 0;
  if (d >= 0) H5Dclose(d);
  free(col);
  H5Tclose(name_t);
  /* written point by point */
  signed char pending = HS_POINT_PENDING;
  int no_rank = -1;
  double never = NAN;
  hid_t mt = string_type(HS_MESSAGE_LEN);
  hid_t ht = string_type(HS_HOST_LEN);
  hid_t ds[6] = {
      create_dataset(file, "grid/status", H5T_NATIVE_SCHAR, 1, &n, &pending,
                     "0 pending, 1 done, 2 failed"),
      create_dataset(file, "grid/message", mt, 1, &n, NULL,
                     "why a failed point failed"),
      create_dataset(file, "grid/rank", H5T_NATIVE_INT, 1, &n, &no_rank,
                     "MPI rank that computed the point"),
      create_dataset(file, "grid/host", ht, 1, &n, NULL,
                     "host name of the rank that computed the point"),
      create_dataset(file, "grid/started", H5T_NATIVE_DOUBLE, 1, &n, &never,
                     "Unix time at which the point's computation began"),
      create_dataset(file, "grid/finished", H5T_NATIVE_DOUBLE, 1, &n, &never,
                     "Unix time at which the point was stored")};
  H5Tclose(mt), H5Tclose(ht);
  for (int i = 0; i < 6; i++) {
    bad |= ds[i] < 0;
    if (ds[i] >= 0) H5Dclose(ds[i]);
  }
  return bad ? hs_err_set(err, HS_EIO, "cannot create the /grid table") : HS_OK;
}

static hs_status create_results(hs_store *s, hid_t file, hs_err *err) {
  double nan = NAN;
  long none = -1;
  for (int g = 0; g < s->n_groups; g++) {
    result_group *grp = &s->groups[g];
    char path[256];
    hsize_t n = (hsize_t)grp->n;
    long *points = malloc(sizeof(long) * grp->n);
    if (!points) return hs_err_set(err, HS_ENOMEM, "out of memory");
    for (long i = 0; i < s->n_points; i++)
      if (s->group_of[i] == g) points[s->row_of[i]] = i;
    snprintf(path, sizeof path, "results/%s/point", grp->name);
    hid_t d = create_dataset(file, path, H5T_NATIVE_LONG, 1, &n, &none,
                             "grid index of each row");
    herr_t bad = d < 0 || H5Dwrite(d, H5T_NATIVE_LONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, points) < 0;
    free(points);
    if (d >= 0) H5Dclose(d);
    for (int f = 0; f < hs_n_result_fields && !bad; f++) {
      const hs_result_field *fld = &hs_result_fields[f];
      hsize_t dims[HS_MAX_RANK + 1] = {n};
      for (int r = 0; r < fld->rank; r++) dims[r + 1] = (hsize_t)hs_shape_dim(&grp->shape, fld->dims[r]);
      snprintf(path, sizeof path, "results/%s/%s", grp->name, fld->name);
      d = create_dataset(file, path, H5T_NATIVE_DOUBLE, fld->rank + 1, dims, &nan, fld->doc);
      bad |= d < 0;
      if (d >= 0) H5Dclose(d);
    }
    snprintf(path, sizeof path, "results/%s", grp->name);
    hid_t gid = H5Gopen2(file, path, H5P_DEFAULT);
    bad |= gid < 0 || attr_long(gid, "H", grp->shape.H) < 0 ||
           attr_long(gid, "K", grp->shape.K) < 0 ||
           attr_long(gid, "L", grp->shape.L) < 0 ||
           attr_long(gid, "T", grp->shape.T) < 0;
    if (gid >= 0) H5Gclose(gid);
    if (bad) return hs_err_set(err, HS_EIO, "cannot create results group %s", grp->name);
  }
  return HS_OK;
}

static hid_t parallel_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  return fapl;
}

/* Create the whole file under a temporary name, then rename it. */
static hs_status create_file(hs_store *s, MPI_Comm comm, hs_err *err) {
  const hs_job *job = s->job;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.creating", job->output);
  hid_t fapl = parallel_fapl(comm);
  hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot create the results file (is the directory writable?)", tmp);
  char created[64];
  time_t now = time(NULL);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm); /* same on all ranks */
  herr_t bad = attr_long(file, "format_version", HS_FORMAT_VERSION) < 0 ||
               attr_string(file, "software_version", HS_VERSION) < 0 ||
               attr_string(file, "git_commit", HS_GIT_COMMIT) < 0 ||
               attr_string(file, "job_text", job->text) < 0 ||
               attr_string(file, "job_file", job->path) < 0 ||
               attr_string(file, "created", created) < 0 ||
               attr_long(file, "n_points", job->n_points) < 0 ||
               attr_string(file, "units", "time t = SGD steps * eta / d; losses per |y|^2/d") < 0;
  hs_status st = bad ? hs_err_set(err, HS_EIO, "%s: cannot write attributes", tmp) : HS_OK;
  if (!st) st = create_grid(s, file, err);
  if (!st) st = create_results(s, file, err);
  if (H5Fclose(file) < 0 && !st) st = hs_err_set(err, HS_EIO, "%s: cannot close", tmp);
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (!st && rank == 0 && rename(tmp, job->output) != 0)
    st = hs_err_set(err, HS_EIO, "cannot rename %s to %s: %s", tmp, job->output, strerror(errno));
  if (st && rank == 0) remove(tmp); /* never leave a half-made file */
  MPI_Allreduce(MPI_IN_PLACE, &st, 1, MPI_INT, MPI_MAX, comm);
  if (st && !err->msg[0]) hs_err_set(err, st, "%s: creating the results file failed on another rank", job->output);
  return st;
}

/* Open every dataset this store writes (collectively, once). */
static hs_status open_datasets(hs_store *s, hs_err *err) {
  char path[256];
  s->status = H5Dopen2(s->file, "grid/status", H5P_DEFAULT);
  s->message = H5Dopen2(s->file, "grid/message", H5P_DEFAULT);
  s->rank = H5Dopen2(s->file, "grid/rank", H5P_DEFAULT);
  s->host = H5Dopen2(s->file, "grid/host", H5P_DEFAULT);
  s->started = H5Dopen2(s->file, "grid/started", H5P_DEFAULT);
  s->finished = H5Dopen2(s->file, "grid/finished", H5P_DEFAULT);
  int bad = s->status < 0 || s->message < 0 || s->rank < 0 || s->host < 0 || s->started < 0 ||
            s->finished < 0;
  for (int g = 0; g < s->n_groups; g++) {
    result_group *grp = &s->groups[g];
    for (int f = 0; f < hs_n_result_fields; f++) {
      snprintf(path, sizeof path, "results/%s/%s", grp->name, hs_result_fields[f].name);
      bad |= (grp->dsets[f] = H5Dopen2(s->file, path, H5P_DEFAULT)) < 0;
    }
  }
  return bad ? hs_err_set(err, HS_EIO, "%s: datasets are missing (not a results file of this job?)",
                          s->job->output)
             : HS_OK;
}

static hs_status open_existing(hs_store *s, MPI_Comm comm, hs_err *err) {
  hid_t fapl = parallel_fapl(comm);
  s->file = H5Fopen(s->job->output, H5F_ACC_RDWR, fapl);
  H5Pclose(fapl);
  if (s->file < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot open for writing (not an HDF5 file, or read-only?)",
                      s->job->output);
  char *text = attr_read_string(s->file, "job_text");
  int same = text && strcmp(text, s->job->text) == 0;
  free(text);
  if (!same)
    return hs_err_set(err, HS_EMISMATCH,
                      "%s was made by a different job file; run with --fresh to move it "
                      "aside and start anew, or set another 'output'", s->job->output);
  return open_datasets(s, err);
}

static void move_aside(const char *path, char *moved_to, size_t len) {
  char stamp[32], dest[4096];
  time_t now = time(NULL);
  strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
  snprintf(dest, sizeof dest, "%s.old-%s", path, stamp);
  if (rename(path, dest) == 0 && moved_to) snprintf(moved_to, len, "%s", dest);
}

hs_status hs_store_open(const hs_job *job, MPI_Comm comm, int fresh,
                        char *moved_to, size_t moved_len, hs_store **out,
                        hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* we report errors ourselves */
  if (moved_to && moved_len) moved_to[0] = '\0';
  hs_store *s = calloc(1, sizeof *s);
  if (!s) return hs_err_set(err, HS_ENOMEM, "out of memory");
  s->job = job;
  s->file = -1;
  const char *node = getenv("SLURMD_NODENAME"); /* SLURM's node name, else the host's */
  if (node && *node) snprintf(s->hostname, sizeof s->hostname, "%s", node);
  else if (gethostname(s->hostname, sizeof s->hostname) != 0) strcpy(s->hostname, "?");
  s->hostname[sizeof s->hostname - 1] = '\0';
  hs_status st = plan_groups(s, err);
  int rank;
  MPI_Comm_rank(comm, &rank);
  struct stat sb;
  int exists = stat(job->output, &sb) == 0;
  MPI_Bcast(&exists, 1, MPI_INT, 0, comm);
  if (!st && exists && fresh) {
    if (rank == 0) move_aside(job->output, moved_to, moved_len);
    MPI_Barrier(comm);
    exists = 0;
  }
  if (!st && !exists) st = create_file(s, comm, err);
  if (!st) st = open_existing(s, comm, err);
  if (st) {
    hs_err keep = *err;
    hs_store_close(s, NULL);
    *err = keep;
    return st;
  }
  *out = s;
  return HS_OK;
}

hs_status hs_store_read_status(hs_store *s, signed char *status, hs_err *err) {
  if (H5Dread(s->status, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot read /grid/status", s->job->output);
  return HS_OK;
}

static hs_status write_status(hs_store *s, long i, signed char status,
                              const char *message, int rank, double seconds,
                              hs_err *err) {
  char msg[HS_MESSAGE_LEN] = "";
  snprintf(msg, sizeof msg, "%s", message ? message : "");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double t = ts.tv_sec + 1e-9 * ts.tv_nsec, t0 = t - seconds;
  hid_t mt = string_type(HS_MESSAGE_LEN), ht = string_type(HS_HOST_LEN);
  /* status last: a point is done only once everything else is written */
  herr_t bad = write_row(s->message, mt, i, msg) < 0 ||
               write_row(s->rank, H5T_NATIVE_INT, i, &rank) < 0 ||
               write_row(s->host, ht, i, s->hostname) < 0 ||
               write_row(s->started, H5T_NATIVE_DOUBLE, i, &t0) < 0 ||
               write_row(s->finished, H5T_NATIVE_DOUBLE, i, &t) < 0 ||
               write_row(s->status, H5T_NATIVE_SCHAR, i, &status) < 0;
  H5Tclose(mt), H5Tclose(ht);
  return bad ? hs_err_set(err, HS_EIO, "%s: cannot write the status of point %ld",
                          s->job->output, i)
             : HS_OK;
}

hs_status hs_store_write_point(hs_store *s, const hs_point *p,
                               const hs_result *r, int rank, hs_err *err) {
  long i = p->index;
  result_group *grp = &s->groups[s->group_of[i]];
  for (int f = 0; f < hs_n_result_fields; f++)
    if (write_row(grp->dsets[f], H5T_NATIVE_DOUBLE, s->row_of[i],
                  hs_result_field_data(r, &hs_result_fields[f])) < 0)
      return hs_err_set(err, HS_EIO, "%s: cannot write %s of point %ld",
                        s->job->output, hs_result_fields[f].name, i);
  return write_status(s, i, HS_POINT_DONE, NULL, rank, r->seconds[0], err);
}

hs_status hs_store_mark_failed(hs_store *s, const hs_point *p,
                               const char *reason, int rank, hs_err *err) {
  return write_status(s, p->index, HS_POINT_FAILED, reason, rank, 0, err);
}

hs_status hs_store_close(hs_store *s, hs_err *err) {
  herr_t bad = 0;
  for (int g = 0; g < s->n_groups; g++)
    for (int f = 0; f < hs_n_result_fields; f++)
      if (s->groups[g].dsets[f] > 0) bad |= H5Dclose(s->groups[g].dsets[f]) < 0;
  hid_t grid[6] = {s->status, s->message, s->rank, s->host, s->started, s->finished};
  for (int i = 0; i < 6; i++)
    if (grid[i] > 0) bad |= H5Dclose(grid[i]) < 0;
  if (s->file >= 0) bad |= H5Fclose(s->file) < 0;
  free(s->groups), free(s->group_of), free(s->row_of), free(s);
  return bad ? hs_err_set(err, HS_EIO, "closing the results file failed") : HS_OK;
}
