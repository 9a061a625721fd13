/* store.c: the results file during a run (store.h): every rank opens it
 * through MPI-IO and writes its own points' rows. Making the file ready
 * (create, resume, grow) is rank 0's, in store_reuse.c. */
#include "headspec/store.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_impl.h"

struct hs_store {
  const hs_plan *plan;
  hid_t file;
  hid_t *fields;              /* n_groups x hs_n_result_fields */
  hid_t run[HS_N_GRID_RUN];   /* /grid datasets written per point */
  char host[HS_HOST_LEN];     /* the SLURM node (or host) of this rank */
  int lock;                   /* rank 0: the run's lock */
  char out[4096];             /* rank 0: the file the output names (its lock's) */
};

static hid_t parallel_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  return fapl;
}

/* Open every dataset this store writes (collectively, once). */
static hs_status open_datasets(hs_store *s, hs_err *err) {
  const hs_plan *plan = s->plan;
  int bad = 0;
  for (int c = 0; c < HS_N_GRID_RUN; c++)
    bad |= (s->run[c] = H5Dopen2(s->file, hs_grid_run[c].path, H5P_DEFAULT)) < 0;
  for (int g = 0; g < hs_plan_n_groups(plan); g++)
    for (int f = 0; f < hs_n_result_fields; f++) {
      char path[256];
      if (!hs_store_has_field(&hs_plan_groups(plan)[g], f)) continue; /* stays -1 */
      hs_store_field_path(&hs_plan_groups(plan)[g], f, path, sizeof path);
      bad |= (s->fields[g * hs_n_result_fields + f] = H5Dopen2(s->file, path, H5P_DEFAULT)) < 0;
    }
  return bad ? hs_err_set(err, HS_EIO, "%s: cannot open its datasets", hs_plan_output(plan))
             : HS_OK;
}

static void set_host(hs_store *s) {
  const char *node = getenv("SLURMD_NODENAME"); /* tells nodes apart on one host */
  if (node && *node) snprintf(s->host, sizeof s->host, "%s", node);
  else if (gethostname(s->host, sizeof s->host - 1) != 0) snprintf(s->host, sizeof s->host, "?");
}

/* Rank 0 makes the file ready; every rank learns the outcome. */
static hs_status prepare_everywhere(hs_store *s, MPI_Comm comm, int fresh, hs_store_report *rep,
                                    hs_err *err) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  hs_status st = HS_OK;
  if (rank == 0) st = hs_store_prepare(s->plan, fresh, &s->lock, s->out, sizeof s->out, rep, err);
  int code = st;
  MPI_Bcast(&code, 1, MPI_INT, 0, comm);
  MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, 0, comm);
  MPI_Bcast(rep, sizeof *rep, MPI_BYTE, 0, comm);
  err->code = (hs_status)code;
  return (hs_status)code;
}

hs_status hs_store_open(const hs_plan *plan, MPI_Comm comm, int fresh,
                        hs_store_report *rep, hs_store **out, hs_err *err) {
  if (!getenv("HS_H5_ERRORS")) H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* we report errors ourselves */
  hs_store *s = calloc(1, sizeof *s);
  if (s) s->fields = malloc(sizeof *s->fields * (size_t)hs_plan_n_groups(plan) * hs_n_result_fields);
  if (!s || !s->fields) {
    if (s) free(s);
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  }
  s->plan = plan;
  s->file = -1;
  s->lock = -1;
  for (int c = 0; c < HS_N_GRID_RUN; c++) s->run[c] = -1;
  for (long k = 0; k < (long)hs_plan_n_groups(plan) * hs_n_result_fields; k++) s->fields[k] = -1;
  set_host(s);
  hs_status st = prepare_everywhere(s, comm, fresh, rep, err);
  if (!st) {
    hid_t fapl = parallel_fapl(comm);
    s->file = H5Fopen(hs_plan_output(plan), H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    int ok = s->file >= 0, all;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm);
    st = all ? open_datasets(s, err)
             : hs_err_set(err, HS_EIO, "%s: cannot open it on every rank", hs_plan_output(plan));
  }
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
  if (H5Dread(s->run[HS_GRID_STATUS], H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot read /grid/status", hs_plan_output(s->plan));
  return HS_OK;
}

/* Point i's run record and checksum (of r's data, NULL for a failed
 * point); status last: a point is done only once everything else is
 * written, so a point killed while being stored is pending (and, if its
 * checksum was written, reported as such by verify). */
static hs_status write_run_record(hs_store *s, long i, const hs_result *r, signed char status,
                                  const char *message, int rank, double seconds, hs_err *err) {
  hs_run_record rec = {.status = status, .rank = rank};
  snprintf(rec.message, sizeof rec.message, "%s", message ? message : "");
  memcpy(rec.host, s->host, sizeof rec.host);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rec.finished = ts.tv_sec + 1e-9 * ts.tv_nsec;
  rec.started = rec.finished - seconds;
  const hs_plan_group *g = &hs_plan_groups(s->plan)[hs_plan_group_of(s->plan, i)];
  uint32_t sum = hs_sum_point(r, g, &rec);
  const void *value[HS_N_GRID_RUN] = {&rec.status, rec.message, &rec.rank, rec.host,
                                      &rec.started, &rec.finished, &sum};
  herr_t bad = 0;
  for (int c = 1; c <= HS_N_GRID_RUN && !bad; c++) {
    int k = c % HS_N_GRID_RUN; /* 1, 2, ..., then the status (0) */
    const hs_run_column *col = &hs_grid_run[k];
    hid_t mem = col->kind == HS_RUN_CHAR ? hs_h5_char()
                : col->kind == HS_RUN_I8 ? H5Tcopy(H5T_NATIVE_SCHAR)
                : col->kind == HS_RUN_I32 ? H5Tcopy(H5T_NATIVE_INT)
                : col->kind == HS_RUN_U32 ? H5Tcopy(H5T_NATIVE_UINT32)
                                          : H5Tcopy(H5T_NATIVE_DOUBLE);
    bad |= hs_h5_write_row(s->run[k], mem, i, value[k]) < 0;
    H5Tclose(mem);
  }
  if (!bad) return HS_OK;
  char label[HS_LABEL_LEN];
  hs_plan_label(s->plan, i, label, sizeof label);
  return hs_err_set(err, HS_EIO, "%s: cannot store point %ld (%s) (disk full?); the points "
                    "stored before it are kept: free space, then run the same job again to "
                    "resume", hs_plan_output(s->plan), i, label);
}

hs_status hs_store_write_point(hs_store *s, long i, const hs_result *r, int rank,
                               hs_err *err) {
  int g = hs_plan_group_of(s->plan, i);
  const hs_plan_group *grp = &hs_plan_groups(s->plan)[g];
  for (int d = 0; d < HS_N_DIMS; d++) /* never write a buffer of another shape */
    if (hs_shape_dim(&r->shape, (hs_dim)d) != hs_shape_dim(&grp->shape, (hs_dim)d))
      return hs_err_set(err, HS_EIO, "point %ld: results of %s %d do not fit group %s", i,
                        hs_dim_names[d], hs_shape_dim(&r->shape, (hs_dim)d), grp->name);
  long row = hs_plan_row_of(s->plan, i);
  for (int f = 0; f < hs_n_result_fields; f++)
    if (hs_store_has_field(grp, f) &&
        hs_h5_write_row(s->fields[g * hs_n_result_fields + f], H5T_NATIVE_DOUBLE, row,
                        hs_result_field_data(r, &hs_result_fields[f])) < 0)
      return hs_err_set(err, HS_EIO, "%s: cannot write %s of point %ld (disk full?); the "
                        "points stored before it are kept: free space, then run the same job "
                        "again to resume", hs_plan_output(s->plan), hs_result_fields[f].name, i);
  return write_run_record(s, i, r, HS_POINT_DONE, NULL, rank, r->seconds[0], err);
}

hs_status hs_store_mark_failed(hs_store *s, long i, const char *reason, int rank,
                               hs_err *err) {
  return write_run_record(s, i, NULL, HS_POINT_FAILED, reason, rank, 0, err);
}

hs_status hs_store_close(hs_store *s, hs_err *err) {
  herr_t bad = 0;
  long n = (long)hs_plan_n_groups(s->plan) * hs_n_result_fields;
  for (long k = 0; k < n; k++)
    if (s->fields[k] >= 0) bad |= H5Dclose(s->fields[k]) < 0;
  for (int c = 0; c < HS_N_GRID_RUN; c++)
    if (s->run[c] >= 0) bad |= H5Dclose(s->run[c]) < 0;
  if (s->file >= 0) bad |= H5Fclose(s->file) < 0;
  hs_store_unlock(s->out, s->lock);
  free(s->fields);
  free(s);
  return bad ? hs_err_set(err, HS_EIO, "closing the results file failed") : HS_OK;
}

void hs_store_finalize(void) { H5close(); }
