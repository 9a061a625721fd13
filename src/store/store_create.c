/* store_create.c: a results file made whole from a plan, by one process
 * (docs/RESULTS.md, "The file"); what it holds is store_schema.c's, and
 * store_check.c checks an existing one against the same plan. Written so
 * that netCDF-4 and xarray read it natively: every dataset has named
 * dimension scales, `units` and `long_name`; strings written at creation
 * are variable-length, those written during the run (which parallel HDF5
 * cannot write as variable-length) are netCDF character arrays. */
#include <hdf5_hl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/version.h"
#include "store_impl.h"

/* netCDF's name for a dimension that has no coordinate variable. */
#define NC_DIM_ONLY "This is a netCDF dimension but not a netCDF variable."

static herr_t write_all(hid_t d, hid_t memtype, const void *data) {
  return d < 0 ? -1 : H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
}

/* A 1-d coordinate that is also the dimension scale `name`. */
static hid_t create_coordinate(hid_t loc, const char *name, hid_t type, hsize_t n,
                               const void *values, const char *long_name, const char *units) {
  hid_t d = hs_h5_create(loc, name, type, 1, &n, NULL);
  if (d < 0) return -1;
  if (write_all(d, type == H5T_STD_I64LE ? H5T_NATIVE_LONG
                   : type == H5T_STD_I32LE ? H5T_NATIVE_INT : H5T_NATIVE_DOUBLE,
                values) < 0 ||
      H5DSset_scale(d, name) < 0 || hs_h5_describe(d, long_name, units, NULL) < 0) {
    H5Dclose(d);
    return -1;
  }
  return d;
}

/* A dimension without values (netCDF's convention), e.g. a string length. */
static hid_t create_bare_dimension(hid_t loc, const char *name, hsize_t n) {
  hid_t d = hs_h5_create(loc, name, H5T_IEEE_F32LE, 1, &n, NULL);
  char scale_name[128];
  snprintf(scale_name, sizeof scale_name, "%s%10llu", NC_DIM_ONLY, (unsigned long long)n);
  if (d >= 0 && H5DSset_scale(d, scale_name) < 0) {
    H5Dclose(d);
    return -1;
  }
  return d;
}

/* Attach scales to the axes of d (scales[i] for axis i) and close d. */
static herr_t finish_dataset(hid_t d, int rank, const hid_t *scales, const char *long_name,
                             const char *units, const char *description) {
  if (d < 0) return -1;
  herr_t bad = hs_h5_describe(d, long_name, units, description) < 0;
  for (int i = 0; i < rank; i++) bad |= H5DSattach_scale(d, scales[i], (unsigned)i) < 0;
  H5Dclose(d);
  return bad ? -1 : 0;
}

static herr_t write_root(const hs_plan *plan, hid_t file) {
  char created[64];
  time_t now = time(NULL);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  return hs_h5_attr_long(file, "format_version", HS_FORMAT) < 0 ||
                 hs_h5_attr_long(file, "layout_revision", HS_LAYOUT_REVISION) < 0 ||
                 hs_h5_attr_text(file, "software_version", HS_VERSION) < 0 ||
                 hs_h5_attr_text(file, "git_commit", HS_GIT_COMMIT) < 0 ||
                 hs_h5_attr_text(file, "software_build", hs_build_info()) < 0 ||
                 hs_h5_attr_text(file, "job_file", hs_plan_job_path(plan)) < 0 ||
                 hs_h5_attr_text(file, "created", created) < 0 ||
                 hs_h5_attr_long(file, "n_points", hs_plan_n_points(plan)) < 0 ||
                 hs_h5_attr_long(file, "job_text_checksum", hs_store_text_sum(hs_plan_job_text(plan))) < 0 ||
                 hs_h5_attr_text(file, "units",
                                 "time t = SGD steps * eta / d; losses |y - f(X)|^2 / d; "
                                 "dimensionless quantities have units 1") < 0 ||
                 hs_h5_write_text(file, "job_text", hs_plan_job_text(plan), "the job file") < 0
             ? -1
             : 0;
}

/* Names as a string-array attribute of grid, fixed-length (NUL-padded to
 * the longest): a damaged byte then changes a name, which the check below
 * finds, where a variable-length heap could crash the reader. */
static herr_t write_names(hid_t grid, const char *attr, const char *const *names, hsize_t n) {
  size_t width = 1;
  for (hsize_t i = 0; i < n; i++)
    if (strlen(names[i]) + 1 > width) width = strlen(names[i]) + 1;
  char *buf = calloc(n ? n : 1, width);
  if (!buf) return -1;
  for (hsize_t i = 0; i < n; i++) memcpy(buf + i * width, names[i], strlen(names[i]));
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, width);
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  H5Tset_cset(t, H5T_CSET_UTF8);
  hid_t sp = n ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_NULL);
  hid_t a = H5Acreate2(grid, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : n ? H5Awrite(a, t, buf) : 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp), H5Tclose(t);
  free(buf);
  return r;
}

static herr_t write_name_attributes(const hs_plan *plan, hid_t grid) {
  herr_t bad = 0;
  for (int k = 0; k < HS_N_GRID_NAME_ATTRIBUTES && !bad; k++) {
    hsize_t n;
    const char **names = hs_grid_names(plan, hs_grid_name_attributes[k], &n);
    /* zipped_keys: only jobs with a zip have it */
    bad = !names                ? -1
          : (k == 2 && n == 0) ? 0
                               : write_names(grid, hs_grid_name_attributes[k], names, n);
    free(names);
  }
  return bad;
}

/* A variable-length string column from a per-point text function. */
static herr_t create_text_column(hid_t grid, hid_t point, const hs_plan *plan, const char *name,
                                 hs_point_text text, void *arg, const char *long_name) {
  long n = hs_plan_n_points(plan);
  hsize_t dim = (hsize_t)n;
  char **values = calloc((size_t)n, sizeof *values);
  herr_t bad = !values;
  for (long i = 0; i < n && !bad; i++) {
    char buf[HS_LABEL_LEN];
    bad |= !(values[i] = strdup(text(plan, i, arg, buf)));
  }
  hid_t t = hs_h5_vlen_string(), d = bad ? -1 : hs_h5_create(grid, name, t, 1, &dim, NULL);
  bad |= write_all(d, t, values) < 0;
  bad |= finish_dataset(d, 1, &point, long_name, "1", NULL) < 0;
  H5Tclose(t);
  for (long i = 0; values && i < n; i++) free(values[i]);
  free(values);
  return bad ? -1 : 0;
}

/* A numeric column of a key: reals with NaN, whole numbers with -1 (and
 * then _FillValue -1, so netCDF readers show them as missing) where the
 * point does not read the key. */
static herr_t create_number_column(hid_t grid, hid_t point, const hs_plan *plan, int c) {
  const hs_plan_column *col = &hs_plan_columns(plan)[c];
  long n = hs_plan_n_points(plan);
  hsize_t dim = (hsize_t)n;
  int is_real = col->type == HS_COLUMN_REAL;
  void *values = malloc((size_t)n * (is_real ? sizeof(double) : sizeof(int)));
  if (!values) return -1;
  for (long i = 0; i < n; i++) {
    double v = hs_plan_column_number(plan, c, i);
    if (is_real) ((double *)values)[i] = v;
    else ((int *)values)[i] = (int)v;
  }
  int missing = -1, any_missing = 0;
  for (long i = 0; !is_real && i < n; i++) any_missing |= ((int *)values)[i] == missing;
  hid_t d = hs_h5_create(grid, col->name, is_real ? H5T_IEEE_F64LE : H5T_STD_I32LE, 1, &dim, NULL);
  herr_t bad = write_all(d, is_real ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT, values) < 0;
  if (any_missing && d >= 0) { /* only then: xarray makes such columns float */
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(d, "_FillValue", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    bad |= a < 0 || H5Awrite(a, H5T_NATIVE_INT, &missing) < 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
  }
  free(values);
  return (finish_dataset(d, 1, &point, col->long_name, "1", NULL) < 0) | bad ? -1 : 0;
}

/* What a column of the run record holds for a pending point. */
static const void *run_fill(hs_run_kind kind) {
  static const signed char pending = HS_POINT_PENDING;
  static const int no_rank = -1;
  static const unsigned none = 0;
  static double never; /* NaN: set below (NAN is not a constant everywhere) */
  never = NAN;
  switch (kind) {
    case HS_RUN_I8: return &pending;
    case HS_RUN_I32: return &no_rank;
    case HS_RUN_U32: return &none;
    case HS_RUN_F64: return &never;
    default: return NULL;
  }
}

/* The per-point run record (hs_grid_run): status, message, rank, host,
 * times, checksum. The checksum's description says exactly what it covers
 * (store_sum.c), for readers in other languages. */
static herr_t create_run_columns(hid_t file, hid_t grid, hid_t point, long n) {
  herr_t bad = 0;
  for (int c = 0; c < HS_N_GRID_RUN && !bad; c++) {
    const hs_run_column *col = &hs_grid_run[c];
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)col->width};
    int rank = col->kind == HS_RUN_CHAR ? 2 : 1;
    hid_t scales[2] = {point, -1}, type = hs_run_file_type(col);
    if (rank == 2) { /* "grid/message" -> dimension "message_char" */
      char dim[64];
      snprintf(dim, sizeof dim, "%s_char", col->path + strlen("grid/"));
      bad |= (scales[1] = create_bare_dimension(grid, dim, (hsize_t)col->width)) < 0;
    }
    hid_t d = bad ? -1 : hs_h5_create(file, col->path, type, rank, dims, run_fill(col->kind));
    if (d >= 0 && rank == 2) bad |= hs_h5_attr_text(d, "_Encoding", "utf-8") < 0;
    if (d >= 0 && c == HS_GRID_CHECKSUM) bad |= hs_sum_describe(d) < 0;
    bad |= finish_dataset(d, rank, scales, col->long_name, col->units, NULL) < 0;
    if (scales[1] >= 0) H5Dclose(scales[1]);
    H5Tclose(type);
  }
  return bad ? -1 : 0;
}

static hs_status create_grid(const hs_plan *plan, hid_t file, const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  hid_t grid = H5Gcreate2(file, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  long *index = malloc(sizeof *index * (size_t)n);
  herr_t bad = grid < 0 || !index;
  for (long i = 0; index && i < n; i++) index[i] = i;
  hid_t point = bad ? -1 : create_coordinate(grid, "point", H5T_STD_I64LE, (hsize_t)n, index,
                                            "grid point", "1");
  bad |= point < 0;
  for (int c = 0; !bad && c < hs_plan_n_columns(plan); c++) {
    const hs_plan_column *col = &hs_plan_columns(plan)[c];
    bad |= col->type == HS_COLUMN_NAME
               ? create_text_column(grid, point, plan, col->name, hs_grid_column_word, &c,
                                    col->long_name)
               : create_number_column(grid, point, plan, c);
  }
  if (!bad) {
    bad |= create_text_column(grid, point, plan, "group", hs_grid_group_name, NULL,
                              "results group /results/<group> of the point");
    bad |= create_text_column(grid, point, plan, "label", hs_grid_label, NULL,
                              "the point's swept parameters");
    for (long i = 0; i < n; i++) index[i] = hs_plan_row_of(plan, i);
    hsize_t dim = (hsize_t)n;
    hid_t d = hs_h5_create(grid, "row", H5T_STD_I64LE, 1, &dim, NULL);
    bad |= write_all(d, H5T_NATIVE_LONG, index) < 0;
    bad |= finish_dataset(d, 1, &point, "row of the point in its results group", "1", NULL);
    bad |= create_run_columns(file, grid, point, n);
    bad |= write_name_attributes(plan, grid) < 0;
  }
  free(index);
  if (point >= 0) H5Dclose(point);
  if (grid >= 0) H5Gclose(grid);
  return bad ? hs_err_set(err, HS_EIO, "%s: cannot create the /grid table", path) : HS_OK;
}

/* The coordinates of a results group: its points and every axis. */
static herr_t create_axes(const hs_plan *plan, const hs_plan_group *g, hid_t grp,
                          hid_t *point, hid_t axes[HS_N_AXES]) {
  *point = create_coordinate(grp, "point", H5T_STD_I64LE, (hsize_t)g->n, g->points,
                             "grid point of each row", "1");
  herr_t bad = *point < 0;
  for (int a = 0; a < HS_N_AXES; a++) {
    const hs_axis_info *ax = &hs_axes[a];
    int n = hs_shape_dim(&g->shape, ax->dim);
    axes[a] = -1;
    if (!hs_store_has_axis(g, a)) continue;
    if (a == HS_AXIS_TIME) {
      double *times = malloc(sizeof *times * (size_t)n);
      if (times) hs_plan_times(plan, n, times);
      const char *meaning = hs_plan_time_is_index(plan)
                                ? "record index (t_max is swept: each point's times are "
                                  "its sgd/t and ode/t)"
                                : ax->long_name;
      axes[a] = times ? create_coordinate(grp, ax->name, H5T_IEEE_F64LE, (hsize_t)n, times,
                                          meaning, "1")
                      : -1;
      free(times);
    } else {
      int *values = malloc(sizeof *values * (size_t)n);
      for (int i = 0; values && i < n; i++) values[i] = ax->first + i;
      axes[a] = values ? create_coordinate(grp, ax->name, H5T_STD_I32LE, (hsize_t)n, values,
                                           ax->long_name, "1")
                       : -1;
      free(values);
    }
    bad |= axes[a] < 0;
  }
  return bad ? -1 : 0;
}

/* The fields of one folder of a results group, with their own coordinates
 * (so that xarray, which opens one group at a time, sees them there too). */
static herr_t create_folder(const hs_plan *plan, const hs_plan_group *g, hid_t grp,
                            const char *folder) {
  hid_t loc = folder[0] ? H5Gcreate2(grp, folder, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) : grp;
  if (loc < 0) return -1;
  hid_t point = -1, axes[HS_N_AXES];
  for (int a = 0; a < HS_N_AXES; a++) axes[a] = -1;
  herr_t bad = create_axes(plan, g, loc, &point, axes) < 0;
  double nan = NAN;
  for (int f = 0; f < hs_n_result_fields && !bad; f++) {
    const hs_result_field *fld = &hs_result_fields[f];
    if (!hs_field_in_folder(f, folder) || !hs_store_has_field(g, f)) continue;
    hsize_t dims[HS_MAX_RANK + 1] = {(hsize_t)g->n};
    hid_t scales[HS_MAX_RANK + 1] = {point};
    for (int r = 0; r < fld->rank; r++) {
      dims[r + 1] = (hsize_t)hs_shape_dim(&g->shape, hs_axes[fld->axes[r]].dim);
      scales[r + 1] = axes[fld->axes[r]];
    }
    hid_t d = hs_h5_create(grp, fld->name, H5T_IEEE_F64LE, fld->rank + 1, dims, &nan);
    bad |= finish_dataset(d, fld->rank + 1, scales, fld->long_name, fld->units, fld->doc);
  }
  for (int a = 0; a < HS_N_AXES; a++)
    if (axes[a] >= 0) H5Dclose(axes[a]);
  if (point >= 0) H5Dclose(point);
  if (loc != grp) H5Gclose(loc);
  return bad ? -1 : 0;
}

static herr_t create_group(const hs_plan *plan, const hs_plan_group *g, hid_t file) {
  char path[256];
  snprintf(path, sizeof path, "results/%s", g->name);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t grp = H5Gcreate2(file, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  if (grp < 0) return -1;
  herr_t bad = 0;
  for (int d = 0; d < HS_N_DIMS; d++)
    if (d != HS_DIM_REPLICAS || g->shape.replicas) /* as the group's name (plan.c) */
      bad |= hs_h5_attr_long(grp, hs_dim_names[d], hs_shape_dim(&g->shape, (hs_dim)d)) < 0;
  for (int f = 0; f < hs_n_result_fields && !bad; f++) {
    char folder[64]; /* a folder's fields are all stored or none (replicas/) */
    if (hs_first_of_folder(f, folder, sizeof folder) && hs_store_has_field(g, f))
      bad |= create_folder(plan, g, grp, folder);
  }
  H5Gclose(grp);
  return bad ? -1 : 0;
}

double hs_store_file_bytes(const hs_plan *plan) {
  /* The data (allocated at creation) and the /grid table: numbers, strings
   * (a 16-byte heap ID and a heap object of 16 bytes plus the text rounded
   * up to 8), the run record; plus object headers. Within a few per cent
   * of the files made (bench/bench_scale.sh): the free-space check must
   * neither refuse a file that fits nor pass one that does not. */
  enum { STRING = 16 + 16 + 16 };
  double n = (double)hs_plan_n_points(plan), per = 8 + 8 + 2 * STRING + 32; /* point, row, group, label */
  for (int c = 0; c < hs_plan_n_columns(plan); c++)
    per += hs_plan_columns(plan)[c].type == HS_COLUMN_REAL ? 8
           : hs_plan_columns(plan)[c].type == HS_COLUMN_INT ? 4 : STRING;
  for (int c = 0; c < HS_N_GRID_RUN; c++) per += (double)hs_run_row_bytes(&hs_grid_run[c]);
  double bytes = (1 << 20) + n * per;
  for (int g = 0; g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    for (int f = 0; f < hs_n_result_fields; f++)
      bytes += 8.0 * grp->n * hs_result_field_size(&hs_result_fields[f], &grp->shape) + 4096;
  }
  return bytes;
}

hs_status hs_store_create_file(const hs_plan *plan, const char *path, hs_err *err) {
  /* The 1.8 file format: every object header, B-tree and heap of links
   * carries a checksum that libhdf5 checks on reading, so damaged metadata
   * is refused with an error instead of being read (1.8 and later read it;
   * not the 1.10 format, whose superblock marks files open for writing and
   * refuses them after a kill). */
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file < 0) return hs_err_set(err, HS_EIO, "%s: cannot create the results file", path);
  hs_status st = write_root(plan, file) < 0
                     ? hs_err_set(err, HS_EIO, "%s: cannot write the file's attributes", path)
                     : HS_OK;
  if (!st) st = create_grid(plan, file, path, err);
  for (int g = 0; !st && g < hs_plan_n_groups(plan); g++)
    if (create_group(plan, &hs_plan_groups(plan)[g], file) < 0)
      st = hs_err_set(err, HS_EIO, "%s: cannot create results group %s", path,
                      hs_plan_groups(plan)[g].name);
  if (H5Fclose(file) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot write the results file (disk full?)", path);
  if (st) return st;
  /* the datasets written once get their checksums from the bytes on disk */
  file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  st = file < 0 ? hs_err_set(err, HS_EIO, "%s: cannot open the results file", path)
                : hs_static_sum_write(file, path, err);
  if (file >= 0 && H5Fclose(file) < 0 && !st)
    st = hs_err_set(err, HS_EIO, "%s: cannot write the results file (disk full?)", path);
  return st;
}
