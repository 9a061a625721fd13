/* store_repair.c: `headspec repair JOB` (store.h): a damaged results file
 * rebuilt from its job, keeping every point whose checksum holds.
 *
 * Everything but the points' own rows is a function of the job: the /grid
 * job-key columns, labels, groups, rows, the coordinates, the attributes,
 * /job_text. So a new file is created whole from the job, and each point's
 * rows are taken from the damaged file at the place the job gives them
 * (never from its /grid, which may be the damaged part), kept only when
 * their CRC-32 is the one the file stored for the point. The rest is
 * pending: `headspec run JOB` computes it. The damaged file is kept as
 * FILE.old-DATE, and only fixed-size rows are read from it (no string heap),
 * each through libhdf5's checksummed metadata.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "store_impl.h"

/* Whether the damaged file was made by this job: its /job_text (if it
 * still matches its checksum) gives the same points, or the stored
 * checksum of the job text is the one of the job's text (the same file)
 * and the file is of today's layout (an older one read the same text with
 * other defaults, job.h's hs_job_key_changes). */
static hs_status same_job(hid_t old, const hs_plan *plan, const char *path, hs_err *err) {
  long stored = -1, revision = 0;
  int have_sum = !hs_h5_read_attr_long(old, "job_text_checksum", &stored);
  hs_h5_read_attr_long(old, "layout_revision", &revision);
  if (have_sum && stored == hs_store_text_sum(hs_plan_job_text(plan)) &&
      revision >= HS_LAYOUT_REVISION)
    return HS_OK;
  char *text = hs_h5_read_text(old, "job_text");
  hs_plan *was = NULL;
  hs_err perr;
  int ok = text && have_sum && stored == hs_store_text_sum(text) &&
           !hs_plan_from_stored_text(path, text, revision, &was, &perr);
  free(text);
  hs_plan_match m = {0};
  ok = ok && !hs_plan_match_points(was, plan, &m, &perr) && m.same &&
       m.common == hs_plan_n_points(plan);
  hs_plan_match_free(&m);
  if (was) hs_plan_free(was);
  return ok ? HS_OK
            : hs_err_set(err, HS_EMISMATCH, "%s: cannot tell that it was made by this job (its "
                         "job text is damaged or gives other points): repair it with the job "
                         "that made it, or run with --restart", path);
}

/* One point's rows in the damaged file (row r of its group's fields if
 * done, then its /grid run record), read as stored into buf; the CRC. */
typedef struct point_rows {
  hid_t field[HS_STORE_MAX_FIELDS], run[HS_N_GRID_RUN]; /* the damaged file's datasets, or -1 */
  hid_t to_field[HS_STORE_MAX_FIELDS], to_run[HS_N_GRID_RUN];
  unsigned char *buf;
  size_t cap;
} point_rows;

static int read_row(hid_t d, long r, point_rows *p, size_t *at) {
  size_t w = d >= 0 ? hs_h5_row_bytes(d) : 0;
  if (!w) return -1;
  if (*at + w > p->cap) {
    size_t cap = 2 * (*at + w);
    unsigned char *grown = realloc(p->buf, cap);
    if (!grown) return -1;
    p->buf = grown, p->cap = cap;
  }
  hid_t t = H5Dget_type(d);
  int bad = t < 0 || hs_h5_rows(d, t, r, 1, p->buf + *at, 0) < 0;
  if (t >= 0) H5Tclose(t);
  *at += w;
  return bad ? -1 : 0;
}

static int write_row(hid_t d, long r, const unsigned char *bytes) {
  hid_t t = H5Dget_type(d);
  int bad = t < 0 || hs_h5_rows(d, t, r, 1, (void *)bytes, 1) < 0;
  if (t >= 0) H5Tclose(t);
  return bad ? -1 : 0;
}

/* Keep point i (row r): its rows verify against its stored checksum; then
 * written into the new file. Returns 1 kept, 0 not, -1 a write failed. */
static int keep_point(point_rows *p, int nf, long i, long r) {
  signed char status = 0;
  uint32_t sum = 0;
  hid_t t8 = H5T_NATIVE_SCHAR, t32 = H5T_NATIVE_UINT32;
  if (p->run[HS_GRID_STATUS] < 0 || p->run[HS_GRID_CHECKSUM] < 0 ||
      hs_h5_rows(p->run[HS_GRID_STATUS], t8, i, 1, &status, 0) < 0 ||
      hs_h5_rows(p->run[HS_GRID_CHECKSUM], t32, i, 1, &sum, 0) < 0 ||
      (status != HS_POINT_DONE && status != HS_POINT_FAILED))
    return 0;
  size_t at = 0;
  int done = status == HS_POINT_DONE;
  for (int f = 0; done && f < nf; f++) /* to_field -1: the group has no such field */
    if (p->to_field[f] >= 0 && read_row(p->field[f], r, p, &at)) return 0;
  size_t results = at;
  for (int c = 0; c < HS_N_GRID_SUMMED; c++)
    if (read_row(p->run[c], i, p, &at)) return 0;
  if ((uint32_t)crc32(0, p->buf, (uInt)at) != sum) return 0;
  size_t w = 0;
  for (int f = 0; done && f < nf; f++) {
    if (p->to_field[f] < 0) continue;
    if (write_row(p->to_field[f], r, p->buf + w)) return -1;
    w += hs_h5_row_bytes(p->to_field[f]);
  }
  if (w != results) return -1;
  for (int c = 0; c < HS_N_GRID_SUMMED; c++) {
    if (write_row(p->to_run[c], i, p->buf + w)) return -1;
    w += hs_h5_row_bytes(p->to_run[c]);
  }
  return hs_h5_rows(p->to_run[HS_GRID_CHECKSUM], t32, i, 1, &sum, 1) < 0 ? -1 : 1;
}

static void close_all(hid_t *d, int n) {
  for (int k = 0; k < n; k++)
    if (d[k] >= 0) H5Dclose(d[k]), d[k] = -1;
}

/* Copy every point that verifies from old to new; count them. */
static hs_status keep_points(hid_t old, hid_t new, const hs_plan *plan, long *kept,
                             const char *path, hs_err *err) {
  point_rows p = {0};
  hs_status st = HS_OK;
  int nf = hs_n_result_fields; /* at most HS_STORE_MAX_FIELDS (test_store checks) */
  for (int c = 0; c < HS_N_GRID_RUN; c++) {
    p.run[c] = H5Dopen2(old, hs_grid_run[c].path, H5P_DEFAULT);
    p.to_run[c] = H5Dopen2(new, hs_grid_run[c].path, H5P_DEFAULT);
    if (p.to_run[c] < 0) st = hs_err_set(err, HS_EIO, "%s: cannot open its new /grid", path);
  }
  for (int g = 0; !st && g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    for (int f = 0; f < nf; f++) {
      char name[256];
      p.field[f] = p.to_field[f] = -1;
      if (!hs_store_has_field(grp, f)) continue;
      hs_store_field_path(grp, f, name, sizeof name);
      p.field[f] = H5Lexists(old, name, H5P_DEFAULT) > 0 ? H5Dopen2(old, name, H5P_DEFAULT) : -1;
      p.to_field[f] = H5Dopen2(new, name, H5P_DEFAULT);
      if (p.to_field[f] < 0) st = hs_err_set(err, HS_EIO, "%s: cannot open its new %s", path, name);
    }
    for (long r = 0; !st && r < grp->n; r++) {
      int k = keep_point(&p, nf, grp->points[r], r);
      if (k < 0) st = hs_err_set(err, HS_EIO, "%s: cannot write the repaired file (disk full?)", path);
      *kept += k > 0;
    }
    close_all(p.field, nf);
    close_all(p.to_field, nf);
  }
  close_all(p.run, HS_N_GRID_RUN);
  close_all(p.to_run, HS_N_GRID_RUN);
  free(p.buf);
  return st;
}

hs_status hs_store_repair(const hs_plan *plan, long *kept, char *moved_to, size_t len,
                          hs_err *err) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  char out[4096], tmp[4300], ready[4300];
  hs_store_resolve(hs_plan_output(plan), out, sizeof out);
  snprintf(tmp, sizeof tmp, "%s.creating", out);
  snprintf(ready, sizeof ready, "%s.created", out);
  *kept = 0;
  int lock = -1, created = 0;
  hs_store_report rep = {0};
  hs_status st = hs_store_check_output(out, 0, &created, err);
  if (!st) st = hs_store_lock(out, &lock, err);
  if (!st) st = hs_store_finish_swap(out, 0, &rep, err);
  struct stat sb;
  if (!st && stat(out, &sb) != 0)
    st = hs_err_set(err, HS_EINPUT, "%s does not exist: nothing to repair", out);
  hid_t old = st ? -1 : H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (!st && old < 0)
    st = hs_err_set(err, HS_EIO, "%s: libhdf5 cannot open it at all (its superblock or root "
                    "is damaged): run with --restart", out);
  if (!st) st = same_job(old, plan, out, err);
  if (!st) st = hs_store_check_space(out, hs_store_file_bytes(plan), err);
  if (!st) st = hs_store_create_file(plan, tmp, err);
  hid_t new = st ? -1 : H5Fopen(tmp, H5F_ACC_RDWR, H5P_DEFAULT);
  if (!st && new < 0) st = hs_err_set(err, HS_EIO, "%s: cannot open it", tmp);
  if (!st) st = keep_points(old, new, plan, kept, out, err);
  if (new >= 0 && H5Fclose(new) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot write the file (disk full?)", tmp);
  if (old >= 0) H5Fclose(old);
  if (!st && rename(tmp, ready) != 0)
    st = hs_err_set(err, HS_EIO, "cannot rename %s to %s", tmp, ready);
  if (!st) st = hs_store_swap_in(ready, out, 1, moved_to, len, err);
  if (st) remove(tmp);
  if (lock >= 0) hs_store_unlock(out, lock);
  return st;
}
