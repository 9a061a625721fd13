/* store_reuse.c: what to do with an existing results file (store.h):
 * resume it in place, grow it (a new file with the done points' rows copied
 * bit for bit), or refuse with what differs. Serial: rank 0 runs it before
 * the ranks open the file together; `validate` runs it as a dry run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_impl.h"

#define FRESH_HINT "run with --fresh to start anew (the old file is kept as FILE.old-DATE), " \
                   "or set another 'output'"

static hs_status read_status(hid_t file, long n, signed char *status, const char *path,
                             hs_err *err) {
  hs_status st = hs_h5_read_all(file, "grid/status", H5T_NATIVE_SCHAR, status)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /grid/status", path)
                     : HS_OK;
  for (long i = 0; !st && i < n; i++)
    if (status[i] < HS_POINT_PENDING || status[i] > HS_POINT_FAILED)
      st = hs_err_set(err, HS_EIO, "%s: /grid/status[%ld] = %d is not a status", path, i, status[i]);
  return st;
}

hs_status hs_existing_read(const char *path, hs_existing *ex, hs_err *err) {
  memset(ex, 0, sizeof *ex);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot open it as an HDF5 file (damaged, or not a "
                      "results file); " FRESH_HINT, path);
  long format = 0;
  char *text = NULL;
  hs_status st = HS_OK;
  if (hs_h5_read_attr_long(file, "format_version", &format))
    st = hs_err_set(err, HS_EIO, "%s: not a headspec results file (no format_version); " FRESH_HINT, path);
  else if (format != HS_FORMAT)
    st = hs_err_set(err, HS_EMISMATCH, "%s has results format %ld; this headspec writes format "
                    "%d and cannot add to it; " FRESH_HINT, path, format, HS_FORMAT);
  else if (!(text = hs_h5_read_text(file, "job_text")))
    st = hs_err_set(err, HS_EIO, "%s: /job_text is missing; " FRESH_HINT, path);
  if (!st) {
    char label[4300];
    snprintf(label, sizeof label, "%s (its job_text)", path);
    hs_err perr;
    if (hs_plan_from_text(label, text, &ex->plan, &perr))
      st = hs_err_set(err, HS_EMISMATCH, "the job stored in %s is not valid for this "
                      "headspec: %s; " FRESH_HINT, path, perr.msg);
  }
  free(text);
  if (!st) st = hs_store_check_file(file, ex->plan, path, &ex->older, err);
  if (!st) {
    long n = hs_plan_n_points(ex->plan);
    ex->status = malloc((size_t)n);
    st = ex->status ? read_status(file, n, ex->status, path, err)
                    : hs_err_set(err, HS_ENOMEM, "out of memory");
  }
  H5Fclose(file);
  if (st) hs_existing_free(ex);
  return st;
}

void hs_existing_free(hs_existing *ex) {
  hs_plan_free(ex->plan);
  free(ex->status);
  memset(ex, 0, sizeof *ex);
}

/* ---- copying the done points into a new file ------------------------------ */

/* new[to[k]] = old[from[k]], row by row, bit for bit (read with the file's
 * own type), for dataset `name` of both files. */
static hs_status copy_rows(hid_t old, hid_t new, const char *name, const long *from,
                           const long *to, long n, const char *path, hs_err *err) {
  if (H5Lexists(old, name, H5P_DEFAULT) <= 0) return HS_OK; /* an older headspec's file */
  hid_t a = H5Dopen2(old, name, H5P_DEFAULT), b = H5Dopen2(new, name, H5P_DEFAULT);
  hid_t type = a >= 0 ? H5Dget_type(a) : -1, sa = a >= 0 ? H5Dget_space(a) : -1,
        sb = b >= 0 ? H5Dget_space(b) : -1;
  hs_status st = HS_OK;
  char *ba = NULL, *bb = NULL;
  if (a < 0 || b < 0 || type < 0) {
    st = hs_err_set(err, HS_EIO, "%s: cannot open %s to copy it", path, name);
    goto out;
  }
  size_t row = H5Tget_size(type);
  hsize_t da[8], db[8];
  int rank = H5Sget_simple_extent_dims(sa, da, NULL);
  H5Sget_simple_extent_dims(sb, db, NULL);
  for (int i = 1; i < rank; i++) row *= (size_t)da[i];
  ba = malloc(row * (size_t)da[0] + 1);
  bb = malloc(row * (size_t)db[0] + 1);
  if (!ba || !bb) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory copying %s", name);
    goto out;
  }
  if (H5Dread(a, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ba) < 0 ||
      H5Dread(b, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bb) < 0) {
    st = hs_err_set(err, HS_EIO, "%s: cannot read %s to copy it", path, name);
    goto out;
  }
  for (long k = 0; k < n; k++) memcpy(bb + row * (size_t)to[k], ba + row * (size_t)from[k], row);
  if (H5Dwrite(b, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bb) < 0)
    st = hs_err_set(err, HS_EIO, "%s: cannot write %s (disk full?)", path, name);
out:
  free(ba), free(bb);
  if (sa >= 0) H5Sclose(sa);
  if (sb >= 0) H5Sclose(sb);
  if (type >= 0) H5Tclose(type);
  if (a >= 0) H5Dclose(a);
  if (b >= 0) H5Dclose(b);
  return st;
}

/* The old group with the same shape (and so the same name), or -1. */
static int old_group(const hs_plan *old, const hs_plan_group *g) {
  for (int k = 0; k < hs_plan_n_groups(old); k++)
    if (strcmp(hs_plan_groups(old)[k].name, g->name) == 0) return k;
  return -1;
}

/* Copy every result row of the old file's done points that the job keeps. */
static hs_status copy_results(hid_t old, hid_t new, const hs_existing *ex, const hs_plan_match *m,
                              const hs_plan *plan, long *from, long *to, const char *path,
                              hs_err *err) {
  hs_status st = HS_OK;
  for (int g = 0; !st && g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    int og = old_group(ex->plan, grp);
    if (og < 0) continue;
    const hs_plan_group *ogrp = &hs_plan_groups(ex->plan)[og];
    long n = 0;
    for (long r = 0; r < ogrp->n; r++) {
      long i = ogrp->points[r], j = m->cur_of_old[i];
      if (ex->status[i] != HS_POINT_DONE || j < 0) continue;
      from[n] = r;
      to[n++] = hs_plan_row_of(plan, j);
    }
    for (int f = 0; !st && n && f < hs_n_result_fields; f++) {
      char name[256];
      hs_store_field_path(grp, f, name, sizeof name);
      st = copy_rows(old, new, name, from, to, n, path, err);
    }
  }
  return st;
}

static hs_status copy_done_points(const char *old_path, const char *new_path,
                                  const hs_existing *ex, const hs_plan_match *m,
                                  const hs_plan *plan, hs_err *err) {
  long n_old = hs_plan_n_points(ex->plan);
  long *from = malloc(sizeof *from * (size_t)n_old), *to = malloc(sizeof *to * (size_t)n_old);
  hid_t old = H5Fopen(old_path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t new = H5Fopen(new_path, H5F_ACC_RDWR, H5P_DEFAULT);
  hs_status st = !from || !to ? hs_err_set(err, HS_ENOMEM, "out of memory")
                 : old < 0 || new < 0 ? hs_err_set(err, HS_EIO, "cannot open %s and %s to copy",
                                                   old_path, new_path)
                                      : HS_OK;
  if (!st) st = copy_results(old, new, ex, m, plan, from, to, new_path, err);
  long n = 0; /* the run record of each copied point: status, rank, times... */
  for (long i = 0; !st && i < n_old; i++)
    if (ex->status[i] == HS_POINT_DONE && m->cur_of_old[i] >= 0) {
      from[n] = i;
      to[n++] = m->cur_of_old[i];
    }
  for (int c = 0; !st && c < HS_N_GRID_RUN; c++)
    st = copy_rows(old, new, hs_grid_run_names[c], from, to, n, new_path, err);
  if (old >= 0) H5Fclose(old);
  if (new >= 0 && H5Fclose(new) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot write the file (disk full?)", new_path);
  free(from), free(to);
  return st;
}

/* ---- deciding ---------------------------------------------------------------- */

/* Create the plan's file whole under a temporary name (with the old file's
 * done points if grow), then put it in place of out. */
static hs_status create_whole(const hs_plan *plan, const hs_existing *ex, const hs_plan_match *m,
                              hs_store_report *rep, hs_err *err) {
  const char *out = hs_plan_output(plan);
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.creating", out);
  hs_status st = hs_store_check_space(out, hs_store_file_bytes(plan), err);
  if (st) return st;
  st = hs_store_create_file(plan, tmp, err);
  if (!st && ex) st = copy_done_points(out, tmp, ex, m, plan, err);
  if (!st && rep->exists) st = hs_store_move_aside(out, rep->moved_to, sizeof rep->moved_to, err);
  if (!st && rename(tmp, out) != 0)
    st = hs_err_set(err, HS_EIO, "cannot rename %s to %s: %s", tmp, out, strerror(errno));
  if (st) remove(tmp); /* never leave a half-made file */
  return st;
}

/* Match the existing file to the plan: resume, grow, or refuse. */
static hs_status judge_existing(const hs_plan *plan, const hs_existing *ex, hs_plan_match *m,
                                hs_store_report *rep, hs_err *err) {
  const char *out = hs_plan_output(plan);
  hs_err merr;
  if (hs_plan_match_points(ex->plan, plan, m, &merr))
    return hs_err_set(err, merr.code, "%s: the job changes settings that every point "
                      "shares: %s; " FRESH_HINT, out, merr.msg);
  long n_old = hs_plan_n_points(ex->plan), dropped = 0, first = -1;
  for (long i = 0; i < n_old; i++) {
    if (ex->status[i] != HS_POINT_DONE) continue;
    if (m->cur_of_old[i] >= 0) rep->reused++;
    else if (dropped++ == 0) first = i;
  }
  if (dropped) {
    char label[HS_LABEL_LEN];
    hs_plan_label(ex->plan, first, label, sizeof label);
    return hs_err_set(err, HS_EMISMATCH, "the job leaves out %ld done point%s of %s (e.g. %s): "
                      "add them back to the job, or " FRESH_HINT, dropped,
                      dropped == 1 ? "" : "s", out, label);
  }
  rep->grown = !m->same || ex->older;
  rep->upgraded = ex->older > 0;
  rep->to_compute = hs_plan_n_points(plan) - rep->reused;
  return HS_OK;
}

static hs_status prepare(const hs_plan *plan, int fresh, int *lock, hs_store_report *rep,
                         hs_err *err) {
  memset(rep, 0, sizeof *rep);
  const char *out = hs_plan_output(plan);
  int dry_run = !lock;
  hs_status st = hs_store_check_output(out, dry_run, &rep->created_dir, err);
  if (!st && lock) st = hs_store_lock(out, lock, err);
  if (st) return st;
  struct stat sb;
  rep->exists = stat(out, &sb) == 0;
  rep->to_compute = hs_plan_n_points(plan);
  if (!rep->exists || fresh) {
    if (dry_run) return HS_OK;
    return create_whole(plan, NULL, NULL, rep, err);
  }
  hs_existing ex;
  hs_plan_match m = {0};
  st = hs_existing_read(out, &ex, err);
  if (!st) st = judge_existing(plan, &ex, &m, rep, err);
  if (!st && rep->grown && !dry_run) st = create_whole(plan, &ex, &m, rep, err);
  hs_plan_match_free(&m);
  if (ex.plan) hs_existing_free(&ex);
  return st;
}

hs_status hs_store_survey(const hs_plan *plan, int fresh, hs_store_report *rep, hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  return prepare(plan, fresh, NULL, rep, err);
}

hs_status hs_store_prepare(const hs_plan *plan, int fresh, int *lock, hs_store_report *rep,
                           hs_err *err) {
  return prepare(plan, fresh, lock, rep, err);
}
