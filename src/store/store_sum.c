/* store_sum.c: the checksum of every point's stored data (store_impl.h).
 *
 * /grid/checksum[i] is the CRC-32 (zlib's crc32, as Python's zlib.crc32)
 * of the bytes of point i's rows as stored (little-endian), in this order:
 * if the point is done, its row of every result dataset of its group in the
 * order of hs_result_fields (each row whole, e.g. sgd/m as time x H x L),
 * then, done or failed, its row of grid/status, grid/message (256 bytes),
 * grid/rank, grid/host (64 bytes), grid/started, grid/finished. A pending
 * point has 0. The writer computes it from the data in memory, so a byte
 * that changes on disk afterwards is found by whoever reads the rows back.
 *
 * Chosen over HDF5's Fletcher32 filter (bench/bench_store.c measures both):
 * the filter needs chunked datasets, which parallel HDF5 1.10 writes only
 * collectively, while every rank here writes its own points independently;
 * and a filter error names a chunk, not a point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store_impl.h"

/* Bytes of a block of rows read at once (per dataset). */
#define BLOCK_BYTES (4u << 20)

enum { RECORD_BYTES = 1 + HS_MESSAGE_LEN + 4 + HS_HOST_LEN + 8 + 8 };

static uint32_t crc(uint32_t c, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n > 0) { /* zlib takes lengths as uInt */
    uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
    c = (uint32_t)crc32(c, b, k);
    b += k, n -= k;
  }
  return c;
}

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const unsigned char *)&one == 1;
}

/* Copy n values of `size` bytes to little-endian order. */
static void to_le(unsigned char *dst, const void *src, size_t n, size_t size) {
  memcpy(dst, src, n * size);
  if (little_endian()) return;
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0, b = size - 1; a < b; a++, b--) {
      unsigned char t = dst[i * size + a];
      dst[i * size + a] = dst[i * size + b];
      dst[i * size + b] = t;
    }
}

static uint32_t crc_doubles(uint32_t c, const double *x, size_t n) {
  if (little_endian()) return crc(c, x, n * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    unsigned char b[8];
    to_le(b, x + i, 1, 8);
    c = crc(c, b, 8);
  }
  return c;
}

uint32_t hs_sum_point(const hs_result *r, const hs_plan_group *g, const hs_run_record *rec) {
  uint32_t c = 0;
  for (int f = 0; r && f < hs_n_result_fields; f++)
    c = crc_doubles(c, hs_result_field_data(r, &hs_result_fields[f]),
                    hs_result_field_size(&hs_result_fields[f], &g->shape));
  unsigned char b[RECORD_BYTES], *p = b;
  int32_t rank = rec->rank;
  *p++ = (unsigned char)rec->status;
  memcpy(p, rec->message, HS_MESSAGE_LEN), p += HS_MESSAGE_LEN;
  to_le(p, &rank, 1, 4), p += 4;
  memcpy(p, rec->host, HS_HOST_LEN), p += HS_HOST_LEN;
  to_le(p, &rec->started, 1, 8), p += 8;
  to_le(p, &rec->finished, 1, 8);
  return crc(c, b, RECORD_BYTES);
}

herr_t hs_sum_describe(hid_t d) {
  return hs_h5_attr_text(
      d, "description",
      "CRC-32 (zlib.crc32) of the point's rows as stored, little-endian, concatenated: if "
      "status is 1 (done), its row of every dataset named in attribute checksum_of under "
      "results/<group of the point>/ in that order, then (done or failed) its row of each "
      "grid/ dataset there; 0 for a pending point") < 0 ||
                 hs_h5_attr_text(d, "checksum_of", hs_sum_order()) < 0
             ? -1
             : 0;
}

const char *hs_sum_order(void) {
  static char order[4096];
  if (order[0]) return order;
  size_t used = 0;
  for (int f = 0; f < hs_n_result_fields; f++)
    used += (size_t)snprintf(order + used, sizeof order - used, "%s ", hs_result_fields[f].name);
  for (int c = 0; c < HS_N_GRID_SUMMED; c++)
    used += (size_t)snprintf(order + used, sizeof order - used, "%s%s", hs_grid_run[c].path,
                             c + 1 < HS_N_GRID_SUMMED ? " " : "");
  return order;
}

/* Rows [r0, r0 + k) of d, read as stored (its own little-endian type). */
static int read_rows(hid_t d, long r0, long k, void *buf) {
  hid_t t = H5Dget_type(d);
  int bad = t < 0 || hs_h5_rows(d, t, r0, k, buf, 0) < 0;
  if (t >= 0) H5Tclose(t);
  return bad;
}

/* c[p] = the CRC of the result rows of every done point p, streamed group
 * by group in blocks of rows. */
static hs_status sum_results(hid_t file, const hs_plan *plan, const signed char *status,
                             uint32_t *c, const char *path, hs_err *err) {
  hs_status st = HS_OK;
  unsigned char *buf = NULL;
  size_t cap = 0;
  long revision = 0;
  hs_h5_read_attr_long(file, "layout_revision", &revision);
  for (int g = 0; !st && g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    hid_t d[HS_STORE_MAX_FIELDS];
    int nf = hs_n_result_fields; /* at most HS_STORE_MAX_FIELDS (test_store checks) */
    size_t widest = 1;
    for (int f = 0; f < nf; f++) {
      char name[256];
      hs_store_field_path(grp, f, name, sizeof name);
      d[f] = -1; /* a field newer than the file, or one the group has not: not summed */
      if (!hs_store_has_field(grp, f)) continue;
      if (H5Lexists(file, name, H5P_DEFAULT) <= 0 && hs_store_added_after(revision, name)) continue;
      d[f] = H5Dopen2(file, name, H5P_DEFAULT);
      size_t w = d[f] >= 0 ? hs_h5_row_bytes(d[f]) : 0;
      if (!w && !st) st = hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name);
      if (w > widest) widest = w;
    }
    long block = (long)(BLOCK_BYTES / widest) > 0 ? (long)(BLOCK_BYTES / widest) : 1;
    if (!st && cap < widest * (size_t)block) {
      free(buf);
      cap = widest * (size_t)block;
      if (!(buf = malloc(cap))) st = hs_err_set(err, HS_ENOMEM, "out of memory");
    }
    for (long r0 = 0; !st && r0 < grp->n; r0 += block) {
      long k = grp->n - r0 < block ? grp->n - r0 : block;
      for (int f = 0; !st && f < nf; f++) {
        if (d[f] < 0) continue; /* newer than the file */
        size_t w = hs_h5_row_bytes(d[f]);
        if (read_rows(d[f], r0, k, buf)) {
          st = hs_err_set(err, HS_EIO, "%s: cannot read %s of group %s (damaged)", path,
                          hs_result_fields[f].name, grp->name);
          break;
        }
        for (long r = 0; r < k; r++) {
          long p = grp->points[r0 + r];
          if (status[p] == HS_POINT_DONE) c[p] = crc(c[p], buf + (size_t)r * w, w);
        }
      }
    }
    for (int f = 0; f < nf; f++)
      if (d[f] >= 0) H5Dclose(d[f]);
  }
  free(buf);
  return st;
}

/* Then the run record of every point, in blocks of points. */
static hs_status sum_records(hid_t file, const hs_plan *plan, const signed char *status,
                             uint32_t *c, const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan), block = BLOCK_BYTES / RECORD_BYTES;
  hid_t d[HS_N_GRID_SUMMED];
  unsigned char *col[HS_N_GRID_SUMMED];
  hs_status st = HS_OK;
  for (int k = 0; k < HS_N_GRID_SUMMED; k++) {
    d[k] = H5Dopen2(file, hs_grid_run[k].path, H5P_DEFAULT);
    col[k] = malloc(hs_run_row_bytes(&hs_grid_run[k]) * (size_t)block);
    if ((d[k] < 0 || !col[k]) && !st)
      st = hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, hs_grid_run[k].path);
  }
  for (long p0 = 0; !st && p0 < n; p0 += block) {
    long m = n - p0 < block ? n - p0 : block;
    for (int k = 0; !st && k < HS_N_GRID_SUMMED; k++)
      if (read_rows(d[k], p0, m, col[k]))
        st = hs_err_set(err, HS_EIO, "%s: cannot read /%s (damaged)", path, hs_grid_run[k].path);
    for (long i = 0; !st && i < m; i++) {
      long p = p0 + i;
      if (status[p] != HS_POINT_DONE && status[p] != HS_POINT_FAILED) continue;
      if (status[p] == HS_POINT_FAILED) c[p] = 0; /* its result rows are not its data */
      for (int k = 0; k < HS_N_GRID_SUMMED; k++) {
        size_t w = hs_run_row_bytes(&hs_grid_run[k]);
        c[p] = crc(c[p], col[k] + (size_t)i * w, w);
      }
    }
  }
  for (int k = 0; k < HS_N_GRID_SUMMED; k++) {
    if (d[k] >= 0) H5Dclose(d[k]);
    free(col[k]);
  }
  return st;
}

hs_status hs_sum_file(hid_t file, const hs_plan *plan, const signed char *status, uint32_t *sums,
                      const char *path, hs_err *err) {
  memset(sums, 0, sizeof *sums * (size_t)hs_plan_n_points(plan));
  hs_status st = sum_results(file, plan, status, sums, path, err);
  return st ? st : sum_records(file, plan, status, sums, path, err);
}

hs_status hs_sum_check(hid_t file, const hs_plan *plan, signed char *status, hs_damage *dmg,
                       const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  memset(dmg, 0, sizeof *dmg);
  long revision = 0;
  if (hs_h5_read_attr_long(file, "layout_revision", &revision) || revision < 3 ||
      H5Lexists(file, hs_grid_run[HS_GRID_CHECKSUM].path, H5P_DEFAULT) <= 0) {
    dmg->unverified = 1; /* an older headspec's file: nothing to check against */
    return HS_OK;
  }
  uint32_t *have = malloc(sizeof *have * (size_t)n), *want = malloc(sizeof *want * (size_t)n);
  hs_status st = have && want ? HS_OK : hs_err_set(err, HS_ENOMEM, "out of memory");
  /* a status that is none of the three is damage to that point */
  for (long i = 0; !st && i < n; i++)
    if (status[i] < HS_POINT_PENDING || status[i] > HS_POINT_FAILED) status[i] = -1;
  if (!st && hs_h5_read_all(file, hs_grid_run[HS_GRID_CHECKSUM].path, H5T_NATIVE_UINT32, have))
    st = hs_err_set(err, HS_EIO, "%s: cannot read /grid/checksum", path);
  if (!st) st = hs_sum_file(file, plan, status, want, path, err);
  for (long i = 0; !st && i < n; i++) {
    int bad = status[i] < 0 ||
              (status[i] == HS_POINT_PENDING ? have[i] != 0 : have[i] != want[i]);
    if (!bad) continue;
    if (dmg->n == dmg->cap) {
      long cap = dmg->cap ? 2 * dmg->cap : 64;
      long *grown = realloc(dmg->point, sizeof *grown * (size_t)cap);
      if (!grown) {
        st = hs_err_set(err, HS_ENOMEM, "out of memory");
        break;
      }
      dmg->point = grown, dmg->cap = cap;
    }
    dmg->point[dmg->n++] = i;
    status[i] = HS_POINT_PENDING; /* to be computed again, never copied */
  }
  free(have), free(want);
  if (st) hs_damage_free(dmg);
  return st;
}

void hs_damage_free(hs_damage *dmg) {
  free(dmg->point);
  memset(dmg, 0, sizeof *dmg);
}
