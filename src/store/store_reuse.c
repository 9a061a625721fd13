/* store_reuse.c: what to do with an existing results file (store.h):
 * resume it in place, grow it (a new file with the done points' rows copied
 * bit for bit), or refuse with what differs. Serial: rank 0 runs it before
 * the ranks open the file together; `validate` runs it as a dry run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdint.h>

#include "store_impl.h"

#define RESTART_HINT "run with --restart to start anew (the old file is kept as FILE.old-DATE), " \
                   "or set another 'output'"
/* For damage the job can rebuild: keep the points that verify. */
#define REPAIR_HINT "`headspec repair JOB` rebuilds it from the job keeping every point that " \
                    "verifies (or " RESTART_HINT ")"

/* The status of every point; with checksums, a value that is no status is
 * a damaged point (hs_sum_check), else the file is refused. */
static hs_status read_status(hid_t file, long n, signed char *status, const char *path,
                             hs_err *err) {
  hs_status st = hs_h5_read_all(file, "grid/status", H5T_NATIVE_SCHAR, status)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /grid/status", path)
                     : HS_OK;
  long revision = 0;
  if (!hs_h5_read_attr_long(file, "layout_revision", &revision) && revision >= 3) return st;
  for (long i = 0; !st && i < n; i++)
    if (status[i] < HS_POINT_PENDING || status[i] > HS_POINT_FAILED)
      st = hs_err_set(err, HS_EIO, "%s: /grid/status[%ld] = %d is not a status", path, i, status[i]);
  return st;
}

/* The job text, checked against its checksum where the file has one. */
static hs_status read_job_text(hid_t file, const char *path, char **text, hs_err *err) {
  long sum;
  if (!(*text = hs_h5_read_text(file, "job_text")))
    return hs_err_set(err, HS_EIO, "%s: /job_text is missing or damaged; " REPAIR_HINT, path);
  if (!hs_h5_read_attr_long(file, "job_text_checksum", &sum) && sum != hs_store_text_sum(*text))
    return hs_err_set(err, HS_EIO, "%s: /job_text is damaged (it does not match its checksum); "
                      REPAIR_HINT, path);
  return HS_OK;
}

/* A file from a newer headspec: name the version that wrote it, the one to
 * upgrade to (a run with --restart would only move it aside). */
static hs_status newer_format(hid_t file, const char *path, long format, hs_err *err) {
  char *writer = hs_h5_read_attr_text(file, "software_version");
  char upgrade[128] = "a newer headspec";
  if (writer && strcmp(writer, HS_VERSION) != 0)
    snprintf(upgrade, sizeof upgrade, "headspec %.80s or newer", writer);
  hs_status st = hs_err_set(err, HS_EMISMATCH, "%s has results format %ld, written by headspec "
                            "%.80s; this headspec %s reads format %d: upgrade to %s to read it "
                            "or add to it", path, format, writer ? writer : "?", HS_VERSION,
                            HS_FORMAT, upgrade);
  free(writer);
  return st;
}

hs_status hs_existing_read(const char *path, hs_existing *ex, hs_err *err) {
  memset(ex, 0, sizeof *ex);
  hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0)
    return hs_err_set(err, HS_EIO, "%s: cannot open it as an HDF5 file (damaged, or not a "
                      "results file); " RESTART_HINT, path);
  long format = 0;
  char *text = NULL;
  hs_status st = HS_OK;
  if (hs_h5_read_attr_long(file, "format_version", &format))
    st = hs_err_set(err, HS_EIO, "%s: not a headspec results file (no format_version); " RESTART_HINT, path);
  else if (format > HS_FORMAT)
    st = newer_format(file, path, format, err);
  else if (format != HS_FORMAT)
    st = hs_err_set(err, HS_EMISMATCH, "%s has results format %ld; this headspec writes format "
                    "%d and cannot add to it; " RESTART_HINT, path, format, HS_FORMAT);
  else
    st = read_job_text(file, path, &text, err);
  if (!st) {
    char label[4300];
    snprintf(label, sizeof label, "%s (its job_text)", path);
    hs_err perr;
    long revision = 0; /* none: the first files of format 2 */
    hs_h5_read_attr_long(file, "layout_revision", &revision);
    if (hs_plan_from_stored_text(label, text, revision, &ex->plan, &perr))
      st = hs_err_set(err, HS_EMISMATCH, "the job stored in %s is not valid for this "
                      "headspec: %s; " RESTART_HINT, path, perr.msg);
  }
  free(text);
  hs_err serr; /* damage to what the job gives: repairable */
  if (!st && (hs_store_check_file(file, ex->plan, path, &ex->older, &serr) ||
              hs_static_sum_check(file, path, &serr)))
    st = hs_err_set(err, serr.code, "%s; " REPAIR_HINT, serr.msg);
  if (!st) {
    long n = hs_plan_n_points(ex->plan);
    ex->status = malloc((size_t)n);
    st = ex->status ? read_status(file, n, ex->status, path, err)
                    : hs_err_set(err, HS_ENOMEM, "out of memory");
  }
  if (!st) st = hs_sum_check(file, ex->plan, ex->status, &ex->damage, path, err);
  hs_err oerr; /* what libhdf5 trusts, walked as verify does: run, info, verify agree */
  if (!st && hs_store_check_objects(path, 0, &oerr))
    st = hs_err_set(err, HS_EIO, "%s; " REPAIR_HINT, oerr.msg);
  if (H5Fclose(file) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot close it (damaged)", path);
  if (st) hs_existing_free(ex);
  return st;
}

void hs_existing_free(hs_existing *ex) {
  hs_plan_free(ex->plan);
  free(ex->status);
  hs_damage_free(&ex->damage);
  memset(ex, 0, sizeof *ex);
}

/* ---- copying the done points into a new file ------------------------------ */

/* Bytes of old rows held at once per dataset; the new file's rows are read
 * and written back over a span of at most SPAN times as many rows. */
#define BLOCK_BYTES (2u << 20)
enum { SPAN = 8 };

/* new[to[k]] = old[from[k]] (from increasing), bit for bit (read with the
 * old file's own type), for dataset `name` of both files: streamed in
 * blocks of rows, so memory stays bounded however large the grid. */
static hs_status copy_rows(hid_t old, hid_t new, const char *name, const long *from,
                           const long *to, long n, const char *path, hs_err *err) {
  if (H5Lexists(old, name, H5P_DEFAULT) <= 0) return HS_OK; /* an older headspec's file */
  hid_t a = H5Dopen2(old, name, H5P_DEFAULT), b = H5Dopen2(new, name, H5P_DEFAULT);
  hid_t type = a >= 0 ? H5Dget_type(a) : -1;
  size_t row = a >= 0 ? hs_h5_row_bytes(a) : 0;
  hs_status st = a < 0 || b < 0 || type < 0 || !row || row != hs_h5_row_bytes(b)
                     ? hs_err_set(err, HS_EIO, "%s: cannot open %s to copy it", path, name)
                     : HS_OK;
  long block = st ? 1 : (long)(BLOCK_BYTES / row) > 0 ? (long)(BLOCK_BYTES / row) : 1;
  char *ba = st ? NULL : malloc(row * (size_t)block), *bb = st ? NULL : malloc(row * (size_t)block * SPAN);
  if (!st && (!ba || !bb)) st = hs_err_set(err, HS_ENOMEM, "out of memory copying %s", name);
  for (long k0 = 0, k1; !st && k0 < n; k0 = k1) {
    long lo = to[k0], hi = to[k0];
    for (k1 = k0; k1 < n && from[k1] - from[k0] < block; k1++) {
      if (to[k1] < lo) lo = to[k1];
      if (to[k1] > hi) hi = to[k1];
    }
    if (hs_h5_rows(a, type, from[k0], from[k1 - 1] - from[k0] + 1, ba, 0) < 0) {
      st = hs_err_set(err, HS_EIO, "%s: cannot read %s to copy it", path, name);
      break;
    }
    herr_t bad = 0;
    if (hi - lo < (long)SPAN * block) { /* the usual case: read, patch, write back */
      bad = hs_h5_rows(b, type, lo, hi - lo + 1, bb, 0) < 0;
      for (long k = k0; !bad && k < k1; k++)
        memcpy(bb + row * (size_t)(to[k] - lo), ba + row * (size_t)(from[k] - from[k0]), row);
      bad = bad || hs_h5_rows(b, type, lo, hi - lo + 1, bb, 1) < 0;
    } else { /* rows scattered over the new file: one at a time */
      for (long k = k0; !bad && k < k1; k++)
        bad = hs_h5_rows(b, type, to[k], 1, ba + row * (size_t)(from[k] - from[k0]), 1) < 0;
    }
    if (bad) st = hs_err_set(err, HS_EIO, "%s: cannot write %s (disk full?)", path, name);
  }
  free(ba), free(bb);
  if (type >= 0) H5Tclose(type);
  if (a >= 0) H5Dclose(a);
  if (b >= 0) H5Dclose(b);
  return st;
}

/* The checksums of the copied points, for a file copied from one that had
 * none or whose layout lacked fields (an older headspec's): computed from
 * the rows as copied. */
static hs_status sum_copied(hid_t new, const hs_plan *plan, const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  signed char *status = malloc((size_t)n);
  uint32_t *sums = malloc(sizeof *sums * (size_t)n);
  hs_status st = !status || !sums ? hs_err_set(err, HS_ENOMEM, "out of memory")
                 : hs_h5_read_all(new, "grid/status", H5T_NATIVE_SCHAR, status)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /grid/status", path)
                     : HS_OK;
  if (!st) st = hs_sum_file(new, plan, status, sums, path, err);
  hid_t d = st ? -1 : H5Dopen2(new, hs_grid_run[HS_GRID_CHECKSUM].path, H5P_DEFAULT);
  if (!st && (d < 0 || H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, sums) < 0))
    st = hs_err_set(err, HS_EIO, "%s: cannot write /grid/checksum", path);
  if (d >= 0) H5Dclose(d);
  free(status), free(sums);
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
      if (!hs_store_has_field(grp, f)) continue;
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
    st = copy_rows(old, new, hs_grid_run[c].path, from, to, n, new_path, err);
  /* checksums anew where the file had none, or lacked fields the new rows
   * now carry (NaN); the copied rows were checked against the old ones */
  if (!st && (ex->damage.unverified || ex->older)) st = sum_copied(new, plan, new_path, err);
  if (old >= 0) H5Fclose(old);
  if (new >= 0 && H5Fclose(new) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot write the file (disk full?)", new_path);
  free(from), free(to);
  return st;
}

/* ---- deciding ---------------------------------------------------------------- */

/* Create the plan's file whole under a temporary name (with the old file's
 * done points if grow), mark it complete by its name (FILE.created), then
 * swap it in place of out (hs_store_swap_in: out always names a complete
 * file; hs_store_finish_swap completes a swap a kill interrupted). */
static hs_status create_whole(const char *out, const hs_plan *plan, const hs_existing *ex,
                              const hs_plan_match *m, hs_store_report *rep, hs_err *err) {
  char tmp[4300], ready[4300];
  snprintf(tmp, sizeof tmp, "%s.creating", out);
  snprintf(ready, sizeof ready, "%s.created", out);
  hs_status st = hs_store_check_space(out, hs_store_file_bytes(plan), err);
  if (st) return st;
  st = hs_store_create_file(plan, tmp, err);
  if (!st && ex) st = copy_done_points(out, tmp, ex, m, plan, err);
  if (!st && rename(tmp, ready) != 0)
    st = hs_err_set(err, HS_EIO, "cannot rename %s to %s: %s", tmp, ready, strerror(errno));
  if (st) {
    remove(tmp); /* never leave a half-made file */
    return st;
  }
  st = hs_store_swap_in(ready, out, rep->exists, rep->moved_to, sizeof rep->moved_to, err);
  if (st) remove(ready); /* out is still the old file */
  return st;
}

/* Match the existing file to the plan: resume, grow, or refuse. */
static hs_status judge_existing(const hs_plan *plan, const hs_existing *ex, hs_plan_match *m,
                                hs_store_report *rep, hs_err *err) {
  const char *out = hs_plan_output(plan);
  hs_err merr;
  if (hs_plan_match_points(ex->plan, plan, m, &merr))
    return hs_err_set(err, merr.code, "%s: the job changes settings that every point "
                      "shares: %s; " RESTART_HINT, out, merr.msg);
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
                      "add them back to the job, or " RESTART_HINT, dropped,
                      dropped == 1 ? "" : "s", out, label);
  }
  rep->grown = !m->same || ex->older;
  rep->upgraded = ex->older > 0;
  rep->to_compute = hs_plan_n_points(plan) - rep->reused;
  return HS_OK;
}

/* The damaged points in the report: how many, and the first few. */
static void report_damage(const hs_existing *ex, hs_store_report *rep) {
  rep->unverified = ex->damage.unverified;
  rep->damaged = ex->damage.n;
  size_t used = 0;
  for (long k = 0; k < ex->damage.n && k < 5 && used < sizeof rep->damaged_text; k++) {
    char label[HS_LABEL_LEN];
    hs_plan_label(ex->plan, ex->damage.point[k], label, sizeof label);
    used += (size_t)snprintf(rep->damaged_text + used, sizeof rep->damaged_text - used,
                             "%spoint %ld (%s)", k ? "; " : "", ex->damage.point[k], label);
  }
}

/* Resuming in place: the damaged points become pending in the file (status
 * and checksum 0), so that they are computed again. */
static hs_status reset_damaged(const char *out, const hs_existing *ex, hs_err *err) {
  hid_t f = H5Fopen(out, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t ds = f < 0 ? -1 : H5Dopen2(f, hs_grid_run[HS_GRID_STATUS].path, H5P_DEFAULT);
  hid_t dc = f < 0 ? -1 : H5Dopen2(f, hs_grid_run[HS_GRID_CHECKSUM].path, H5P_DEFAULT);
  signed char pending = HS_POINT_PENDING;
  uint32_t none = 0;
  herr_t bad = ds < 0 || dc < 0;
  for (long k = 0; !bad && k < ex->damage.n; k++)
    bad = hs_h5_write_row(ds, H5T_NATIVE_SCHAR, ex->damage.point[k], &pending) < 0 ||
          hs_h5_write_row(dc, H5T_NATIVE_UINT32, ex->damage.point[k], &none) < 0;
  if (ds >= 0) H5Dclose(ds);
  if (dc >= 0) H5Dclose(dc);
  if (f >= 0 && H5Fclose(f) < 0) bad = 1;
  return bad ? hs_err_set(err, HS_EIO, "%s: cannot mark its damaged points pending", out) : HS_OK;
}

/* Which of the plan's points the existing file has done (for validate's
 * estimate of what is left). */
static hs_status mark_done(const hs_plan *plan, const hs_existing *ex, const hs_plan_match *m,
                           hs_store_report *rep, hs_err *err) {
  if (!(rep->done = calloc((size_t)hs_plan_n_points(plan), 1)))
    return hs_err_set(err, HS_ENOMEM, "out of memory");
  for (long i = 0; i < hs_plan_n_points(ex->plan); i++)
    if (ex->status[i] == HS_POINT_DONE && m->cur_of_old[i] >= 0) rep->done[m->cur_of_old[i]] = 1;
  return HS_OK;
}

/* out: the file the job's output names (hs_store_resolve). */
static hs_status prepare(const hs_plan *plan, const char *out, int fresh, int *lock,
                         hs_store_report *rep, hs_err *err) {
  memset(rep, 0, sizeof *rep);
  int dry_run = !lock;
  hs_status st = hs_store_check_output(out, dry_run, &rep->created_dir, err);
  if (!st && lock) st = hs_store_lock(out, lock, err);
  if (!st) st = hs_store_finish_swap(out, dry_run, rep, err);
  if (st) return st;
  struct stat sb;
  rep->exists = stat(out, &sb) == 0 || (dry_run && rep->finished_swap);
  rep->to_compute = hs_plan_n_points(plan);
  if (!rep->exists || fresh) rep->file_bytes = hs_store_file_bytes(plan);
  if (!rep->exists || fresh) {
    if (dry_run) return hs_store_check_space(out, hs_store_file_bytes(plan), err);
    return create_whole(out, plan, NULL, NULL, rep, err);
  }
  hs_existing ex;
  hs_plan_match m = {0};
  /* a dry run with a swap to complete judges the file run will find:
   * the grown one, not the old one still under the name */
  char ready[4300];
  snprintf(ready, sizeof ready, "%s.created", out);
  st = hs_existing_read(dry_run && rep->finished_swap ? ready : out, &ex, err);
  if (!st) report_damage(&ex, rep);
  if (!st) st = judge_existing(plan, &ex, &m, rep, err);
  if (!st && dry_run) st = mark_done(plan, &ex, &m, rep, err);
  if (!st && rep->grown) rep->file_bytes = hs_store_file_bytes(plan);
  if (!st && rep->grown && dry_run) st = hs_store_check_space(out, hs_store_file_bytes(plan), err);
  if (!st && rep->grown && !dry_run) st = create_whole(out, plan, &ex, &m, rep, err);
  if (!st && !rep->grown && ex.damage.n && !dry_run) st = reset_damaged(out, &ex, err);
  hs_plan_match_free(&m);
  if (ex.plan) hs_existing_free(&ex);
  return st;
}

hs_status hs_store_survey(const hs_plan *plan, int fresh, hs_store_report *rep, hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  char out[4096];
  hs_store_resolve(hs_plan_output(plan), out, sizeof out);
  return prepare(plan, out, fresh, NULL, rep, err);
}

hs_status hs_store_prepare(const hs_plan *plan, int fresh, int *lock, char *resolved, size_t len,
                           hs_store_report *rep, hs_err *err) {
  hs_store_resolve(hs_plan_output(plan), resolved, len);
  return prepare(plan, resolved, fresh, lock, rep, err);
}
