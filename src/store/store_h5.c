/* store_h5.c: small HDF5 helpers for the store (store_impl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

hid_t hs_h5_vlen_string(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

hid_t hs_h5_char(void) { return H5Tcopy(H5T_C_S1); }

/* Text attributes are fixed-length strings: netCDF reads them as text. */
herr_t hs_h5_attr_text(hid_t loc, const char *name, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
  H5Tset_size(t, strlen(value) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  hid_t a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : H5Awrite(a, t, value);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp), H5Tclose(t);
  return r;
}

herr_t hs_h5_attr_long(hid_t loc, const char *name, long value) {
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_LONG, &value);
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return r;
}

char *hs_h5_read_attr_text(hid_t loc, const char *name) {
  if (H5Aexists(loc, name) <= 0) return NULL;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5Aget_type(a), sp = H5Aget_space(a);
  char *s = NULL;
  if (H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) &&
      H5Sget_simple_extent_npoints(sp) == 1) {
    size_t n = H5Tget_size(t);
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, n + 1);
    if ((s = calloc(n + 1, 1)) && H5Aread(a, mt, s) < 0) {
      free(s);
      s = NULL;
    }
    H5Tclose(mt);
  }
  H5Sclose(sp), H5Tclose(t), H5Aclose(a);
  return s;
}

int hs_h5_read_attr_long(hid_t loc, const char *name, long *value) {
  if (H5Aexists(loc, name) <= 0) return 1;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5Aget_type(a), sp = H5Aget_space(a);
  int bad = H5Tget_class(t) != H5T_INTEGER || H5Sget_simple_extent_npoints(sp) != 1 ||
            H5Aread(a, H5T_NATIVE_LONG, value) < 0;
  H5Sclose(sp), H5Tclose(t), H5Aclose(a);
  return bad;
}

int hs_h5_read_all(hid_t loc, const char *path, hid_t memtype, void *buf) {
  hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
  int bad = d < 0 || H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0;
  if (d >= 0) H5Dclose(d);
  return bad;
}

herr_t hs_h5_write_text(hid_t loc, const char *name, const char *text, const char *long_name) {
  hid_t t = hs_h5_vlen_string(), sp = H5Screate(H5S_SCALAR);
  hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) < 0 ||
                     hs_h5_describe(d, long_name, "1", NULL) < 0
                 ? -1
                 : 0;
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp), H5Tclose(t);
  return r;
}

char *hs_h5_read_text(hid_t loc, const char *name) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return NULL;
  char **text = NULL, *copy = NULL;
  hs_err err;
  if (hs_vlen_read(loc, name, 1, &text, "", &err) == HS_OK) { /* never libhdf5's heap reader */
    copy = text[0];
    text[0] = NULL;
  }
  hs_vlen_free(text, 1);
  return copy;
}

hid_t hs_h5_create(hid_t loc, const char *path, hid_t type, int rank,
                   const hsize_t *dims, const void *fill) {
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  if (fill) {
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    H5Pset_fill_value(dcpl, type, fill);
  }
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t d = H5Dcreate2(loc, path, type, sp, lcpl, dcpl, H5P_DEFAULT);
  H5Pclose(lcpl), H5Pclose(dcpl), H5Sclose(sp);
  return d;
}

herr_t hs_h5_describe(hid_t d, const char *long_name, const char *units,
                      const char *description) {
  herr_t bad = 0;
  if (long_name) bad |= hs_h5_attr_text(d, "long_name", long_name) < 0;
  if (units) bad |= hs_h5_attr_text(d, "units", units) < 0;
  if (description) bad |= hs_h5_attr_text(d, "description", description) < 0;
  return bad ? -1 : 0;
}

herr_t hs_h5_write_row(hid_t d, hid_t memtype, long row, const void *data) {
  hid_t fs = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(fs);
  if (rank < 1 || rank > 8) {
    H5Sclose(fs);
    return -1;
  }
  hsize_t dims[8], start[8] = {0}, count[8];
  H5Sget_simple_extent_dims(fs, dims, NULL);
  if ((hsize_t)row >= dims[0]) {
    H5Sclose(fs);
    return -1;
  }
  start[0] = (hsize_t)row;
  count[0] = 1;
  for (int i = 1; i < rank; i++) count[i] = dims[i];
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
  hid_t ms = H5Screate_simple(rank, count, NULL);
  herr_t r = H5Dwrite(d, memtype, ms, fs, H5P_DEFAULT, data);
  H5Sclose(ms), H5Sclose(fs);
  return r;
}

herr_t hs_h5_rows(hid_t d, hid_t memtype, long r0, long k, void *buf, int write) {
  hid_t fs = H5Dget_space(d);
  int rank = H5Sget_simple_extent_ndims(fs);
  hsize_t dims[8], start[8] = {0};
  herr_t r = -1;
  if (rank >= 1 && rank <= 8) {
    H5Sget_simple_extent_dims(fs, dims, NULL);
    if (r0 >= 0 && k >= 1 && (hsize_t)(r0 + k) <= dims[0]) {
      start[0] = (hsize_t)r0;
      dims[0] = (hsize_t)k;
      hid_t ms = H5Screate_simple(rank, dims, NULL);
      r = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, dims, NULL) < 0 ? -1
          : write ? H5Dwrite(d, memtype, ms, fs, H5P_DEFAULT, buf)
                  : H5Dread(d, memtype, ms, fs, H5P_DEFAULT, buf);
      H5Sclose(ms);
    }
  }
  H5Sclose(fs);
  return r;
}

size_t hs_h5_row_bytes(hid_t d) {
  hid_t fs = H5Dget_space(d), t = H5Dget_type(d);
  hsize_t dims[8];
  int rank = H5Sget_simple_extent_ndims(fs);
  size_t n = rank >= 1 && rank <= 8 && t >= 0 ? H5Tget_size(t) : 0;
  if (n) H5Sget_simple_extent_dims(fs, dims, NULL);
  for (int i = 1; n && i < rank; i++) n *= (size_t)dims[i];
  if (t >= 0) H5Tclose(t);
  H5Sclose(fs);
  return n;
}

static const char *class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    default: return "other";
  }
}

static void dims_text(int rank, const hsize_t *dims, char *buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "(");
  for (int i = 0; i < rank && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                             (unsigned long long)dims[i]);
  if (used < len) snprintf(buf + used, len - used, ")");
}

hs_status hs_h5_check(hid_t loc, const char *path, H5T_class_t cls, size_t size,
                      int rank, const hsize_t *dims, const char *file, hs_err *err) {
  char want[128], got[128];
  dims_text(rank, dims, want, sizeof want);
  if (H5Lexists(loc, path, H5P_DEFAULT) <= 0)
    return hs_err_set(err, HS_EIO, "%s: /%s is missing", file, path);
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, path, &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
    return hs_err_set(err, HS_EIO, "%s: /%s is not a dataset", file, path);
  hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
  H5T_class_t c = H5Tget_class(t);
  size_t sz = H5Tget_size(t);
  int r = H5Sget_simple_extent_ndims(sp), same = r == rank && c == cls && (!size || sz == size);
  hsize_t have[8] = {0};
  if (r >= 0 && r <= 8) H5Sget_simple_extent_dims(sp, have, NULL);
  for (int i = 0; same && i < rank; i++) same = have[i] == dims[i];
  H5Sclose(sp), H5Tclose(t), H5Dclose(d);
  if (same) return HS_OK;
  dims_text(r >= 0 && r <= 8 ? r : 0, have, got, sizeof got);
  return hs_err_set(err, HS_EIO, "%s: /%s should be %s of %s, but is %s of %s", file, path,
                    class_name(cls), want, class_name(c), got);
}
