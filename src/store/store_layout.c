/* store_layout.c: the results file's layout (docs/RESULTS.md, "The file"):
 * created whole from a plan by one process, and checked object by object
 * when an existing file is opened. Written so that netCDF-4 and xarray read
 * it natively: every dataset has named dimension scales, `units` and
 * `long_name`; strings written at creation are variable-length, those
 * written during the run (which parallel HDF5 cannot write as variable-
 * length) are netCDF character arrays. */
#include <hdf5_hl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "headspec/version.h"
#include "store_impl.h"

const hs_run_column hs_grid_run[HS_N_GRID_RUN] = {
    {"grid/status", HS_RUN_I8, 1, "0 pending, 1 done, 2 failed", "1"},
    {"grid/message", HS_RUN_CHAR, HS_MESSAGE_LEN, "why a failed point failed", "1"},
    {"grid/rank", HS_RUN_I32, 1, "MPI rank that computed the point (-1: none yet)", "1"},
    {"grid/host", HS_RUN_CHAR, HS_HOST_LEN, "host (SLURM node) that computed the point", "1"},
    {"grid/started", HS_RUN_F64, 1, "Unix time at which the point's computation began", "s"},
    {"grid/finished", HS_RUN_F64, 1, "Unix time at which the point was stored", "s"},
    {"grid/checksum", HS_RUN_U32, 1, "CRC-32 of the point's stored data (0: pending)", "1"}};

hid_t hs_run_file_type(const hs_run_column *c) {
  switch (c->kind) {
    case HS_RUN_I8: return H5Tcopy(H5T_STD_I8LE);
    case HS_RUN_I32: return H5Tcopy(H5T_STD_I32LE);
    case HS_RUN_U32: return H5Tcopy(H5T_STD_U32LE);
    case HS_RUN_F64: return H5Tcopy(H5T_IEEE_F64LE);
    default: return hs_h5_char();
  }
}

size_t hs_run_row_bytes(const hs_run_column *c) {
  return c->kind == HS_RUN_I8 || c->kind == HS_RUN_CHAR ? (size_t)c->width
         : c->kind == HS_RUN_F64                        ? 8
                                                        : 4;
}

/* netCDF's name for a dimension that has no coordinate variable. */
#define NC_DIM_ONLY "This is a netCDF dimension but not a netCDF variable."

void hs_store_field_path(const hs_plan_group *g, int field, char *buf, size_t len) {
  snprintf(buf, len, "results/%s/%s", g->name, hs_result_fields[field].name);
}

/* ---- creation ------------------------------------------------------------ */

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

/* The names of /grid's attributes (which_names): "key_order", every column
 * in the key table's order (the order that numbers the points);
 * "swept_keys", the swept ones; "zipped_keys", per zip group its columns
 * with a space between ("b1 b2"). Python reads them instead of keeping a
 * copy of the key table. *n = how many; malloc'd array of borrowed names. */
static const char **which_names(const hs_plan *plan, const char *attr, hsize_t *n) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  int n_cols = hs_plan_n_columns(plan), n_zips = hs_plan_n_zips(plan);
  const char **names = malloc(sizeof *names * (n_cols + n_zips + 1));
  *n = 0;
  if (!names) return NULL;
  if (strcmp(attr, "zipped_keys") == 0)
    for (int z = 0; z < n_zips; z++) names[(*n)++] = hs_plan_zips(plan)[z].names;
  else
    for (int c = 0; c < n_cols; c++)
      if (strcmp(attr, "key_order") == 0 || cols[c].swept) names[(*n)++] = cols[c].name;
  return names;
}

static const char *const name_attributes[] = {"key_order", "swept_keys", "zipped_keys"};

static herr_t write_name_attributes(const hs_plan *plan, hid_t grid) {
  herr_t bad = 0;
  for (int k = 0; k < 3 && !bad; k++) {
    hsize_t n;
    const char **names = which_names(plan, name_attributes[k], &n);
    /* zipped_keys: only jobs with a zip have it */
    bad = !names ? -1 : (k == 2 && n == 0) ? 0 : write_names(grid, name_attributes[k], names, n);
    free(names);
  }
  return bad;
}

/* A variable-length string column from a per-point text function. */
typedef const char *(*text_of_point)(const hs_plan *plan, long i, void *arg, char *buf);

static herr_t create_text_column(hid_t grid, hid_t point, const hs_plan *plan, const char *name,
                                 text_of_point text, void *arg, const char *long_name) {
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

static const char *column_word(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)buf;
  return hs_plan_column_word(plan, *(int *)arg, i);
}
static const char *group_name(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)arg, (void)buf;
  return hs_plan_groups(plan)[hs_plan_group_of(plan, i)].name;
}
static const char *label(const hs_plan *plan, long i, void *arg, char *buf) {
  (void)arg;
  hs_plan_label(plan, i, buf, HS_LABEL_LEN);
  return buf;
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
               ? create_text_column(grid, point, plan, col->name, column_word, &c, col->long_name)
               : create_number_column(grid, point, plan, c);
  }
  if (!bad) {
    bad |= create_text_column(grid, point, plan, "group", group_name, NULL,
                              "results group /results/<group> of the point");
    bad |= create_text_column(grid, point, plan, "label", label, NULL,
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

/* The (sub)group a field lives in: "sgd" of "sgd/m", "" of "bayes_risk". */
static void field_folder(const hs_result_field *fld, char *buf, size_t len) {
  const char *slash = strrchr(fld->name, '/');
  snprintf(buf, len, "%.*s", slash ? (int)(slash - fld->name) : 0, fld->name);
}

/* Whether field f is the first of its folder (each folder is made and
 * checked once), and that folder. */
static int first_of_folder(int f, char *folder, size_t len) {
  char earlier[64];
  field_folder(&hs_result_fields[f], folder, len);
  for (int e = 0; e < f; e++) {
    field_folder(&hs_result_fields[e], earlier, sizeof earlier);
    if (strcmp(folder, earlier) == 0) return 0;
  }
  return 1;
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
    char in[64];
    field_folder(fld, in, sizeof in);
    if (strcmp(in, folder) != 0) continue;
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
    bad |= hs_h5_attr_long(grp, hs_dim_names[d], hs_shape_dim(&g->shape, (hs_dim)d)) < 0;
  for (int f = 0; f < hs_n_result_fields && !bad; f++) {
    char folder[64];
    if (first_of_folder(f, folder, sizeof folder)) bad |= create_folder(plan, g, grp, folder);
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

long hs_store_text_sum(const char *text) {
  return (long)crc32(0, (const unsigned char *)text, (uInt)strlen(text));
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

/* ---- checks of an existing file -------------------------------------------------- */

/* Datasets added to format 2 after its first files were written: the
 * /grid columns of newer job keys and newer result fields, each with the
 * layout revision that added it (files of revision 0 have no
 * layout_revision attribute). A file of an earlier revision lacks them. */
static const struct {
  long revision;
  const char *name;
} added_datasets[] = {
    {1, "grid/start_lambda"}, {1, "grid/fresh_samples"}, {1, "grid/resample_dt"},
    {1, "/ode/loss_fresh"},   {1, "/ode/loss_fresh_se"}, {1, "/sgd/lpop_fresh"},
    {1, "/sgd/lpop_fresh_se"}, {2, "/mean_c"},
    {3, "grid/n_train"},      {3, "grid/alpha"},         {3, "grid/batches"},
    {3, "/sgd/passes"},       {3, "/sgd/train_set_loss"},
    /* convergence and attention statistics (issue 19) */
    {3, "grid/stop_when_converged"}, {3, "grid/converged_loss_tol"},
    {3, "grid/converged_speed_tol"}, {3, "grid/attention_samples"},
    {3, "/sgd/loss_rate"}, {3, "/sgd/speed"}, {3, "/sgd/converged"}, {3, "/ode/loss_rate"},
    {3, "/ode/speed"}, {3, "/ode/converged"}, {3, "/ode/t_stop"}, {3, "/sgd/attn_total"},
    {3, "/sgd/attn_relevant"}, {3, "/sgd/attn_sink"}, {3, "/sgd/quiet_heads"},
    {3, "/ode/attn_total"}, {3, "/ode/attn_relevant"}, {3, "/ode/attn_sink"},
    {3, "/ode/quiet_heads"}, {3, "grid/checksum"}, {3, "grid/method"},
    /* the linearised flow (issue 20) */
    {3, "grid/stability"}, {3, "grid/stability_threshold"}, {3, "/stability/growth_rate"},
    {3, "/stability/predicted_t"}, {3, "/stability/measured_t"},
    {3, "/stability/unstable_modes"}, {3, "/stability/together"}, {3, "/stability/split"},
    {3, "/stability/saddle_t"}, {3, "/stability/saddle_from"},
    {3, "/stability/saddle_first_t"}, {3, "/stability/asymmetry"},
    /* the control variate and the stepper used (issues 26, 25; job.h's
     * hs_job_key_changes gives older files their defaults) */
    {5, "grid/control_variate"}, {5, "/ode/method"},
    /* pruning on the independent set (issue 29) */
    {6, "/sgd/prune_loss_fresh"}, {6, "/sgd/prune_loss_fresh_se"},
    {6, "/ode/prune_loss_fresh"}, {6, "/ode/prune_loss_fresh_se"}};


int hs_store_added_after(long revision, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof added_datasets / sizeof *added_datasets; i++) {
    size_t k = strlen(added_datasets[i].name);
    if (added_datasets[i].revision > revision && n >= k &&
        strcmp(name + n - k, added_datasets[i].name) == 0)
      return 1;
  }
  return 0;
}

/* A dataset that a file of an earlier layout revision may lack: with older
 * non-NULL, missing is counted there, not an error (a run rewrites the file
 * in the current layout). Anything else missing is refused. */
static int missing_from_older(hid_t file, const char *name, int *older) {
  long revision = 0;
  if (!older || H5Lexists(file, name, H5P_DEFAULT) > 0) return 0;
  if (hs_h5_read_attr_long(file, "layout_revision", &revision)) revision = 0;
  if (!hs_store_added_after(revision, name)) return 0;
  (*older)++;
  return 1;
}

/* The message of a value that is not the one the plan gives. */
static hs_status wrong_value(const char *path, const char *name, long i, const char *have,
                             const char *want, hs_err *err) {
  return hs_err_set(err, HS_EIO, "%s: /%s[%ld] is %s, but the job stored in the file gives "
                    "point %ld %s (damaged, or its points are in another order)", path, name, i,
                    have, i, want);
}

/* A string column: each point's text must be text(i) (the strings are read
 * byte by byte, store_vlen.c: a damaged heap is refused, never crashed on). */
static hs_status check_strings(hid_t file, const hs_plan *plan, const char *name,
                               text_of_point text, void *arg, const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  char **values;
  hs_status st = hs_vlen_read(file, name, n, &values, path, err);
  for (long i = 0; !st && i < n; i++) {
    char buf[HS_LABEL_LEN];
    const char *want = text(plan, i, arg, buf);
    if (strcmp(values[i], want) != 0) {
      char have[256], should[256];
      snprintf(have, sizeof have, "%.200s", values[i]);
      snprintf(should, sizeof should, "%.200s", want);
      st = wrong_value(path, name, i, have, should, err);
    }
  }
  if (!st) hs_vlen_free(values, n);
  return st;
}

/* Every point's value in a key's /grid column must be the one the plan
 * (from the file's own job text) gives it: the rows are read by position,
 * so a file whose points are in another order must be refused, not read. */
static hs_status check_column_values(hid_t file, const hs_plan *plan, int c, const char *name,
                                     const char *path, hs_err *err) {
  if (hs_plan_columns(plan)[c].type == HS_COLUMN_NAME)
    return check_strings(file, plan, name, column_word, &c, path, err);
  long n = hs_plan_n_points(plan);
  double *values = malloc(sizeof *values * (size_t)n);
  hs_status st = !values || hs_h5_read_all(file, name, H5T_NATIVE_DOUBLE, values)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name)
                     : HS_OK;
  for (long i = 0; !st && i < n; i++) {
    double v = values[i], w = hs_plan_column_number(plan, c, i);
    if (memcmp(&v, &w, sizeof v) == 0) continue; /* bits: a NaN with a flipped bit is damage */
    char have[64], want[64];
    snprintf(have, sizeof have, "%.17g", v), snprintf(want, sizeof want, "%.17g", w);
    st = wrong_value(path, name, i, have, want, err);
  }
  free(values);
  return st;
}

/* A whole-number coordinate must hold want[i] (or i, with want NULL). */
static hs_status check_index(hid_t file, const char *name, long n, const long *want,
                             const char *path, hs_err *err) {
  long *v = malloc(sizeof *v * (size_t)(n ? n : 1));
  hs_status st = !v || hs_h5_read_all(file, name, H5T_NATIVE_LONG, v)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name)
                     : HS_OK;
  for (long i = 0; !st && i < n; i++)
    if (v[i] != (want ? want[i] : i)) {
      char have[32], should[32];
      snprintf(have, sizeof have, "%ld", v[i]), snprintf(should, sizeof should, "%ld", want ? want[i] : i);
      st = wrong_value(path, name, i, have, should, err);
    }
  free(v);
  return st;
}

/* A dimension without values (grid/message_char) holds zeros, as created. */
static hs_status check_bare_dimension(hid_t file, const hs_run_column *col, const char *path,
                                      hs_err *err) {
  char name[64];
  snprintf(name, sizeof name, "%s_char", col->path);
  hsize_t dim = (hsize_t)col->width;
  float *v = calloc(dim, sizeof *v);
  hs_status st = v ? hs_h5_check(file, name, H5T_FLOAT, 4, 1, &dim, path, err)
                   : hs_err_set(err, HS_ENOMEM, "out of memory");
  if (!st && hs_h5_read_all(file, name, H5T_NATIVE_FLOAT, v))
    st = hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name);
  for (hsize_t i = 0; !st && i < dim; i++)
    if (v[i] != 0 || signbit(v[i])) st = hs_err_set(err, HS_EIO, "%s: /%s[%llu] is %g, not 0 (damaged)",
                                                     path, name, (unsigned long long)i, v[i]);
  free(v);
  return st;
}

/* Drop the names of columns a file of an earlier layout revision was
 * written without (added_datasets, and absent); returns how many are left. */
static hsize_t without_newer_columns(hid_t file, const char **names, hsize_t n) {
  long revision = 0;
  if (hs_h5_read_attr_long(file, "layout_revision", &revision)) revision = 0;
  hsize_t kept = 0;
  for (hsize_t i = 0; i < n; i++) {
    char column[128];
    snprintf(column, sizeof column, "grid/%s", names[i]);
    if (H5Lexists(file, column, H5P_DEFAULT) > 0 || !hs_store_added_after(revision, column))
      names[kept++] = names[i];
  }
  return kept;
}

/* /grid's name attributes must hold the plan's names (a reader orders and
 * groups the keys by them). Files written before they were fixed-length
 * (variable-length, this session's first revision-3 files) are not read
 * here: libhdf5's variable-length reader trusts the heap. */
/* Whether /grid's attribute attr holds exactly names[0..n) (fixed-length;
 * a variable-length one is not read, see above). */
static int attribute_holds(hid_t grid, const char *attr, const char **names, hsize_t n) {
  hsize_t have = 0;
  hid_t a = H5Aopen(grid, attr, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
  hid_t sp = a >= 0 ? H5Aget_space(a) : -1;
  int fixed = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0;
  int vlen = t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0;
  if (sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SIMPLE) H5Sget_simple_extent_dims(sp, &have, NULL);
  size_t width = fixed ? H5Tget_size(t) : 0;
  char *buf = fixed && have == n && width > 0 && width < 4096 ? calloc(n ? n : 1, width) : NULL;
  int ok = vlen || (buf && (n == 0 || H5Aread(a, t, buf) >= 0));
  for (hsize_t i = 0; ok && buf && i < n; i++)
    ok = strlen(names[i]) < width && strncmp(buf + i * width, names[i], width) == 0;
  free(buf);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  return ok;
}

static hs_status check_name_attributes(hid_t file, const hs_plan *plan, const char *path,
                                       hs_err *err) {
  hs_status st = HS_OK;
  hid_t grid = H5Gopen2(file, "grid", H5P_DEFAULT);
  for (int k = 0; k < 3 && !st && grid >= 0; k++) {
    hsize_t n, older_n;
    const char *attr = name_attributes[k];
    const char **names = which_names(plan, attr, &n);
    const char **older = which_names(plan, attr, &older_n);
    if (!names || !older) {
      free(names), free(older);
      return H5Gclose(grid), hs_err_set(err, HS_ENOMEM, "out of memory");
    }
    /* an older file's names may leave out the columns it lacks */
    older_n = without_newer_columns(file, older, older_n);
    if (H5Aexists(grid, attr) <= 0) {
      if (n && k < 2 && H5Aexists(grid, "swept_keys") > 0) /* key_order: since revision 2 */
        st = hs_err_set(err, HS_EIO, "%s: the /grid attribute %s is missing (damaged)", path, attr);
    } else if (!attribute_holds(grid, attr, names, n) &&
               !(older_n < n && attribute_holds(grid, attr, older, older_n))) {
      st = hs_err_set(err, HS_EIO, "%s: the /grid attribute %s is not the job's names "
                      "(damaged)", path, attr);
    }
    free(names), free(older);
  }
  if (grid >= 0) H5Gclose(grid);
  return st;
}

static hs_status check_grid(hid_t file, const hs_plan *plan, const char *path, int *older,
                            hs_err *err) {
  long n = hs_plan_n_points(plan);
  hsize_t dims[1] = {(hsize_t)n};
  hs_status st = hs_h5_check(file, "grid/point", H5T_INTEGER, 8, 1, dims, path, err);
  for (int c = 0; !st && c < hs_plan_n_columns(plan); c++) {
    const hs_plan_column *col = &hs_plan_columns(plan)[c];
    char name[128];
    snprintf(name, sizeof name, "grid/%s", col->name);
    if (missing_from_older(file, name, older)) continue;
    st = col->type == HS_COLUMN_REAL ? hs_h5_check(file, name, H5T_FLOAT, 8, 1, dims, path, err)
         : col->type == HS_COLUMN_INT ? hs_h5_check(file, name, H5T_INTEGER, 4, 1, dims, path, err)
                                      : hs_h5_check(file, name, H5T_STRING, 0, 1, dims, path, err);
    if (!st) st = check_column_values(file, plan, c, name, path, err);
  }
  for (int c = 0; !st && c < HS_N_GRID_RUN; c++) {
    const hs_run_column *col = &hs_grid_run[c];
    hsize_t rdims[2] = {(hsize_t)n, (hsize_t)col->width};
    if (missing_from_older(file, col->path, older)) continue;
    st = hs_h5_check(file, col->path,
                     col->kind == HS_RUN_CHAR ? H5T_STRING
                     : col->kind == HS_RUN_F64 ? H5T_FLOAT : H5T_INTEGER,
                     col->kind == HS_RUN_CHAR ? 1 : hs_run_row_bytes(col),
                     col->kind == HS_RUN_CHAR ? 2 : 1, rdims, path, err);
  }
  if (!st) st = hs_h5_check(file, "grid/group", H5T_STRING, 0, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/label", H5T_STRING, 0, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/row", H5T_INTEGER, 8, 1, dims, path, err);
  if (!st) st = check_strings(file, plan, "grid/group", group_name, NULL, path, err);
  if (!st) st = check_strings(file, plan, "grid/label", label, NULL, path, err);
  if (!st) st = check_index(file, "grid/point", n, NULL, path, err);
  for (int c = 0; !st && c < HS_N_GRID_RUN; c++)
    if (hs_grid_run[c].kind == HS_RUN_CHAR) st = check_bare_dimension(file, &hs_grid_run[c], path, err);
  if (!st) st = check_name_attributes(file, plan, path, err);
  return st;
}

/* The file's /grid/row must be the plan's (readers follow it). */
static hs_status check_rows(hid_t file, const hs_plan *plan, const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  long *row = malloc(sizeof *row * (size_t)n);
  if (!row) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_h5_read_all(file, "grid/row", H5T_NATIVE_LONG, row)
                     ? hs_err_set(err, HS_EIO, "%s: cannot read /grid/row", path)
                     : HS_OK;
  for (long i = 0; !st && i < n; i++)
    if (row[i] != hs_plan_row_of(plan, i))
      st = hs_err_set(err, HS_EIO, "%s: /grid/row[%ld] is %ld, should be %ld", path, i, row[i],
                      hs_plan_row_of(plan, i));
  free(row);
  return st;
}

/* The coordinates of a folder of a results group: its points and axes. */
static hs_status check_coordinates(hid_t file, const hs_plan *plan, const hs_plan_group *g,
                                   const char *folder, const char *path, hs_err *err) {
  char name[256];
  snprintf(name, sizeof name, "results/%s%s%s/point", g->name, folder[0] ? "/" : "", folder);
  hs_status st = check_index(file, name, g->n, g->points, path, err);
  for (int a = 0; !st && a < HS_N_AXES; a++) {
    const hs_axis_info *ax = &hs_axes[a];
    long n = hs_shape_dim(&g->shape, ax->dim);
    double *want = malloc(sizeof *want * (size_t)(n ? n : 1)), *have = malloc(sizeof *have * (size_t)(n ? n : 1));
    snprintf(name, sizeof name, "results/%s%s%s/%s", g->name, folder[0] ? "/" : "", folder, ax->name);
    if (want && a == HS_AXIS_TIME) hs_plan_times(plan, (int)n, want);
    for (long i = 0; want && a != HS_AXIS_TIME && i < n; i++) want[i] = ax->first + i;
    hsize_t dim = (hsize_t)n;
    st = !want || !have ? hs_err_set(err, HS_ENOMEM, "out of memory")
                        : hs_h5_check(file, name, a == HS_AXIS_TIME ? H5T_FLOAT : H5T_INTEGER,
                                      a == HS_AXIS_TIME ? 8 : 4, 1, &dim, path, err);
    if (!st && hs_h5_read_all(file, name, H5T_NATIVE_DOUBLE, have))
      st = hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name);
    for (long i = 0; !st && i < n; i++)
      if (memcmp(&have[i], &want[i], sizeof *have) != 0) {
        char h[32], w[32];
        snprintf(h, sizeof h, "%.17g", have[i]), snprintf(w, sizeof w, "%.17g", want[i]);
        st = wrong_value(path, name, i, h, w, err);
      }
    free(want), free(have);
  }
  return st;
}

static hs_status check_groups(hid_t file, const hs_plan *plan, const char *path, int *older,
                              hs_err *err) {
  hs_status st = HS_OK;
  for (int g = 0; !st && g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    char name[256];
    hsize_t dims[HS_MAX_RANK + 1] = {(hsize_t)grp->n};
    snprintf(name, sizeof name, "results/%s/point", grp->name);
    st = hs_h5_check(file, name, H5T_INTEGER, 8, 1, dims, path, err);
    for (int f = 0; !st && f < hs_n_result_fields; f++) {
      const hs_result_field *fld = &hs_result_fields[f];
      for (int r = 0; r < fld->rank; r++)
        dims[r + 1] = (hsize_t)hs_shape_dim(&grp->shape, hs_axes[fld->axes[r]].dim);
      hs_store_field_path(grp, f, name, sizeof name);
      if (missing_from_older(file, name, older)) continue;
      st = hs_h5_check(file, name, H5T_FLOAT, 8, fld->rank + 1, dims, path, err);
    }
    for (int f = 0; !st && f < hs_n_result_fields; f++) {
      char folder[64];
      if (first_of_folder(f, folder, sizeof folder))
        st = check_coordinates(file, plan, grp, folder, path, err);
    }
  }
  return st;
}

hs_status hs_store_check_file(hid_t file, const hs_plan *plan, const char *path,
                              int *older, hs_err *err) {
  if (older) *older = 0;
  long n;
  if (hs_h5_read_attr_long(file, "n_points", &n) || n != hs_plan_n_points(plan))
    return hs_err_set(err, HS_EIO, "%s: attribute n_points is not the %ld points of its job",
                      path, hs_plan_n_points(plan));
  hs_status st = check_grid(file, plan, path, older, err);
  if (!st) st = check_rows(file, plan, path, err);
  if (!st) st = check_groups(file, plan, path, older, err);
  return st;
}
