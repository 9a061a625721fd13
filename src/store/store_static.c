/* store_static.c: the checksums of the datasets written once, when the file
 * is created (store_impl.h): the /grid job-key columns, labels, groups,
 * rows and point index, and every results group's coordinates. (A point's
 * own rows have the per-point checksum of store_sum.c; /job_text has its
 * root attribute job_text_checksum.)
 *
 * Each such dataset has an attribute `checksum` (uint32, layout revision
 * 4): zlib's CRC-32 of its values as stored, little-endian, in order; for
 * variable-length strings, each string's bytes followed by one NUL. Readers
 * that do not rebuild these datasets from the job (the Python package) check
 * what they read against it, at any size, without reading anything else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "store_impl.h"

#define BLOCK_BYTES (4u << 20)

/* Whether dataset `name` (from the root, "grid/label") holds per-point rows
 * (covered by /grid/checksum) or is /job_text. */
static int is_per_point(const char *name) {
  if (strcmp(name, "job_text") == 0) return 1;
  for (int c = 0; c < HS_N_GRID_RUN; c++)
    if (strcmp(name, hs_grid_run[c].path) == 0) return 1;
  if (strncmp(name, "results/", 8) != 0) return 0;
  const char *in_group = strchr(name + 8, '/');
  for (int f = 0; in_group && f < hs_n_result_fields; f++)
    if (strcmp(in_group + 1, hs_result_fields[f].name) == 0) return 1;
  return 0;
}

static uint32_t crc(uint32_t c, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n > 0) {
    uInt k = n > (1u << 30) ? 1u << 30 : (uInt)n;
    c = (uint32_t)crc32(c, b, k);
    b += k, n -= k;
  }
  return c;
}

/* The CRC of a variable-length string dataset of n strings, read
 * defensively (hs_vlen_read). */
static hs_status crc_strings(hid_t file, const char *name, long n, uint32_t *out,
                             const char *path, hs_err *err) {
  char **s;
  hs_status st = hs_vlen_read(file, name, n, &s, path, err);
  if (st) return st;
  uint32_t c = 0;
  for (long i = 0; i < n; i++) c = crc(c, s[i], strlen(s[i]) + 1);
  hs_vlen_free(s, n);
  *out = c;
  return HS_OK;
}

/* The CRC of dataset name's values as stored, read in blocks of rows. */
static hs_status crc_dataset(hid_t file, const char *name, uint32_t *out, const char *path,
                             hs_err *err) {
  hid_t d = H5Dopen2(file, name, H5P_DEFAULT), t = d >= 0 ? H5Dget_type(d) : -1,
        sp = d >= 0 ? H5Dget_space(d) : -1;
  int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
  hsize_t dims[8] = {0};
  if (rank >= 1 && rank <= 8) H5Sget_simple_extent_dims(sp, dims, NULL);
  int vlen = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0;
  size_t row = d >= 0 && rank >= 1 ? hs_h5_row_bytes(d) : 0;
  hs_status st = HS_OK;
  if (vlen && rank == 1) {
    st = crc_strings(file, name, (long)dims[0], out, path, err);
  } else if (t < 0 || rank < 1 || rank > 8 || (!row && dims[0] > 0)) {
    st = hs_err_set(err, HS_EIO, "%s: cannot read /%s (damaged)", path, name);
  } else {
    long block = row ? (long)(BLOCK_BYTES / row) : 1;
    if (block < 1) block = 1;
    unsigned char *buf = malloc(row * (size_t)block + 1);
    uint32_t c = 0;
    if (!buf) st = hs_err_set(err, HS_ENOMEM, "out of memory");
    for (long r0 = 0; !st && r0 < (long)dims[0]; r0 += block) {
      long k = (long)dims[0] - r0 < block ? (long)dims[0] - r0 : block;
      if (hs_h5_rows(d, t, r0, k, buf, 0) < 0)
        st = hs_err_set(err, HS_EIO, "%s: cannot read /%s (damaged)", path, name);
      else c = crc(c, buf, row * (size_t)k);
    }
    free(buf);
    *out = c;
  }
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (d >= 0) H5Dclose(d);
  return st;
}

typedef struct static_walk {
  hid_t file;
  int write;            /* 1: store the checksums; 0: check them */
  const char *path;
  hs_err *err;
  hs_status st;
} static_walk;

static herr_t visit(hid_t root, const char *name, const H5O_info_t *info, void *op) {
  static_walk *w = op;
  (void)root; /* names are from the file's root: w->file */
  if (info->type != H5O_TYPE_DATASET || is_per_point(name)) return 0;
  uint32_t c = 0;
  if ((w->st = crc_dataset(w->file, name, &c, w->path, w->err))) return -1;
  hid_t d = H5Dopen2(w->file, name, H5P_DEFAULT);
  if (d < 0) {
    w->st = hs_err_set(w->err, HS_EIO, "%s: cannot open /%s (damaged)", w->path, name);
    return -1;
  }
  if (w->write) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(d, "checksum", H5T_STD_U32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, H5T_NATIVE_UINT32, &c) < 0)
      w->st = hs_err_set(w->err, HS_EIO, "%s: cannot write the checksum of /%s", w->path, name);
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
  } else {
    uint32_t stored = 0;
    hid_t a = H5Aexists(d, "checksum") > 0 ? H5Aopen(d, "checksum", H5P_DEFAULT) : -1;
    hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
    int ok = a >= 0 && t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 4 &&
             H5Sget_simple_extent_npoints(sp) == 1 && H5Aread(a, H5T_NATIVE_UINT32, &stored) >= 0;
    if (!ok)
      w->st = hs_err_set(w->err, HS_EIO, "%s: damaged: /%s has no readable checksum attribute",
                         w->path, name);
    else if (stored != c)
      w->st = hs_err_set(w->err, HS_EIO, "%s: damaged: /%s does not match its checksum", w->path,
                         name);
    if (sp >= 0) H5Sclose(sp);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
  }
  H5Dclose(d);
  return w->st ? -1 : 0;
}

static hs_status walk(hid_t file, int write, const char *path, hs_err *err) {
  static_walk w = {.file = file, .write = write, .path = path, .err = err};
  if (H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, visit, &w, H5O_INFO_BASIC) < 0 && !w.st)
    w.st = hs_err_set(err, HS_EIO, "%s: damaged: cannot visit its objects", path);
  return w.st;
}

hs_status hs_static_sum_write(hid_t file, const char *path, hs_err *err) {
  return walk(file, 1, path, err);
}

hs_status hs_static_sum_check(hid_t file, const char *path, hs_err *err) {
  long revision = 0;
  if (hs_h5_read_attr_long(file, "layout_revision", &revision) || revision < 4)
    return HS_OK; /* written before these checksums */
  return walk(file, 0, path, err);
}
