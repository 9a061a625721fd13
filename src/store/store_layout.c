/* store_layout.c: the results file's layout (README "Results file"):
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

#include "headspec/version.h"
#include "store_impl.h"

const char *const hs_grid_run_names[HS_N_GRID_RUN] = {
    "grid/status", "grid/message", "grid/rank", "grid/host", "grid/started", "grid/finished"};

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
                 hs_h5_attr_text(file, "job_file", hs_plan_job_path(plan)) < 0 ||
                 hs_h5_attr_text(file, "created", created) < 0 ||
                 hs_h5_attr_long(file, "n_points", hs_plan_n_points(plan)) < 0 ||
                 hs_h5_attr_text(file, "units",
                                 "time t = SGD steps * eta / d; losses |y - f(X)|^2 / d; "
                                 "dimensionless quantities have units 1") < 0 ||
                 hs_h5_write_text(file, "job_text", hs_plan_job_text(plan), "the job file") < 0
             ? -1
             : 0;
}

/* Column names as a string-array attribute of /grid: "key_order", every
 * column in the key table's order (the order that numbers the points), and
 * "swept_keys", the swept ones: Python reads both instead of keeping a copy
 * of the key table. */
static herr_t write_column_names(const hs_plan *plan, hid_t grid, const char *attr,
                                 int swept_only) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  int n_cols = hs_plan_n_columns(plan);
  const char **names = malloc(sizeof *names * (n_cols + 1));
  if (!names) return -1;
  hsize_t n = 0;
  for (int c = 0; c < n_cols; c++)
    if (!swept_only || cols[c].swept) names[n++] = cols[c].name;
  hid_t t = hs_h5_vlen_string(), sp = n ? H5Screate_simple(1, &n, NULL) : H5Screate(H5S_NULL);
  hid_t a = H5Acreate2(grid, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = a < 0 ? -1 : n ? H5Awrite(a, t, names) : 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp), H5Tclose(t);
  free(names);
  return r;
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

/* The per-point run record: status, message, rank, host, times. */
static herr_t create_run_columns(hid_t file, hid_t grid, hid_t point, long n) {
  hsize_t dim = (hsize_t)n, msg_dims[2] = {dim, HS_MESSAGE_LEN}, host_dims[2] = {dim, HS_HOST_LEN};
  signed char pending = HS_POINT_PENDING;
  int no_rank = -1;
  double never = NAN;
  hid_t ch = hs_h5_char();
  hid_t msg_char = create_bare_dimension(grid, "message_char", HS_MESSAGE_LEN);
  hid_t host_char = create_bare_dimension(grid, "host_char", HS_HOST_LEN);
  hid_t msg_scales[2] = {point, msg_char}, host_scales[2] = {point, host_char};
  herr_t bad = msg_char < 0 || host_char < 0;
  hid_t d = hs_h5_create(file, hs_grid_run_names[HS_GRID_STATUS], H5T_STD_I8LE, 1, &dim, &pending);
  bad |= finish_dataset(d, 1, &point, "0 pending, 1 done, 2 failed", "1", NULL);
  d = hs_h5_create(file, hs_grid_run_names[HS_GRID_MESSAGE], ch, 2, msg_dims, NULL);
  if (d >= 0) bad |= hs_h5_attr_text(d, "_Encoding", "utf-8") < 0;
  bad |= finish_dataset(d, 2, msg_scales, "why a failed point failed", "1", NULL);
  d = hs_h5_create(file, hs_grid_run_names[HS_GRID_RANK], H5T_STD_I32LE, 1, &dim, &no_rank);
  bad |= finish_dataset(d, 1, &point, "MPI rank that computed the point (-1: none yet)", "1", NULL);
  d = hs_h5_create(file, hs_grid_run_names[HS_GRID_HOST], ch, 2, host_dims, NULL);
  if (d >= 0) bad |= hs_h5_attr_text(d, "_Encoding", "utf-8") < 0;
  bad |= finish_dataset(d, 2, host_scales, "host (SLURM node) that computed the point", "1", NULL);
  d = hs_h5_create(file, hs_grid_run_names[HS_GRID_STARTED], H5T_IEEE_F64LE, 1, &dim, &never);
  bad |= finish_dataset(d, 1, &point, "Unix time at which the point's computation began", "s", NULL);
  d = hs_h5_create(file, hs_grid_run_names[HS_GRID_FINISHED], H5T_IEEE_F64LE, 1, &dim, &never);
  bad |= finish_dataset(d, 1, &point, "Unix time at which the point was stored", "s", NULL);
  if (msg_char >= 0) H5Dclose(msg_char);
  if (host_char >= 0) H5Dclose(host_char);
  H5Tclose(ch);
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
    bad |= write_column_names(plan, grid, "swept_keys", 1) < 0;
    bad |= write_column_names(plan, grid, "key_order", 0) < 0;
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
      axes[a] = times ? create_coordinate(grp, ax->name, H5T_IEEE_F64LE, (hsize_t)n, times,
                                          ax->long_name, "1")
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
  for (int f = 0; f < hs_n_result_fields && !bad; f++) { /* each folder once */
    char folder[64], earlier[64];
    field_folder(&hs_result_fields[f], folder, sizeof folder);
    int first = 1;
    for (int e = 0; e < f && first; e++) {
      field_folder(&hs_result_fields[e], earlier, sizeof earlier);
      first = strcmp(folder, earlier) != 0;
    }
    if (first) bad |= create_folder(plan, g, grp, folder);
  }
  H5Gclose(grp);
  return bad ? -1 : 0;
}

double hs_store_file_bytes(const hs_plan *plan) {
  /* data (filled at creation), plus object headers and the /grid table */
  double bytes = 1 << 20, n = (double)hs_plan_n_points(plan);
  bytes += n * (8.0 * hs_plan_n_columns(plan) + HS_MESSAGE_LEN + HS_HOST_LEN + 128);
  for (int g = 0; g < hs_plan_n_groups(plan); g++) {
    const hs_plan_group *grp = &hs_plan_groups(plan)[g];
    for (int f = 0; f < hs_n_result_fields; f++)
      bytes += 8.0 * grp->n * hs_result_field_size(&hs_result_fields[f], &grp->shape) + 2048;
  }
  return bytes;
}

hs_status hs_store_create_file(const hs_plan *plan, const char *path, hs_err *err) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
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
    {3, "/sgd/passes"},       {3, "/sgd/train_set_loss"}};

static int added_after(long revision, const char *name) {
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
  if (!added_after(revision, name)) return 0;
  (*older)++;
  return 1;
}

/* Every point's value in a key's /grid column must be the one the plan
 * (from the file's own job text) gives it: the rows are read by position,
 * so a file whose points are in another order must be refused, not read. */
static hs_status check_column_values(hid_t file, const hs_plan *plan, int c, const char *name,
                                     const char *path, hs_err *err) {
  long n = hs_plan_n_points(plan);
  int is_name = hs_plan_columns(plan)[c].type == HS_COLUMN_NAME;
  void *values = calloc((size_t)n, is_name ? sizeof(char *) : sizeof(double));
  hid_t t = is_name ? hs_h5_vlen_string() : H5Tcopy(H5T_NATIVE_DOUBLE);
  int unread = !values || hs_h5_read_all(file, name, t, values);
  hs_status st = unread ? hs_err_set(err, HS_EIO, "%s: cannot read /%s", path, name) : HS_OK;
  for (long i = 0; !st && i < n; i++) {
    char have[64], want[64];
    if (is_name) {
      const char *v = ((char **)values)[i], *w = hs_plan_column_word(plan, c, i);
      if (v && strcmp(v, w) == 0) continue;
      snprintf(have, sizeof have, "%s", v ? v : "(none)"), snprintf(want, sizeof want, "%s", w);
    } else {
      double v = ((double *)values)[i], w = hs_plan_column_number(plan, c, i);
      if (v == w || (isnan(v) && isnan(w))) continue;
      snprintf(have, sizeof have, "%.10g", v), snprintf(want, sizeof want, "%.10g", w);
    }
    st = hs_err_set(err, HS_EIO, "%s: /%s[%ld] is %s, but the job stored in the file gives "
                    "point %ld %s (damaged, or its points are in another order)",
                    path, name, i, have, i, want);
  }
  if (is_name && !unread) { /* the strings HDF5 allocated */
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL);
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, values);
    H5Sclose(sp);
  }
  H5Tclose(t);
  free(values);
  return st;
}

static hs_status check_grid(hid_t file, const hs_plan *plan, const char *path, int *older,
                            hs_err *err) {
  long n = hs_plan_n_points(plan);
  hsize_t dims[2] = {(hsize_t)n, HS_MESSAGE_LEN}, host[2] = {(hsize_t)n, HS_HOST_LEN};
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
  if (!st) st = hs_h5_check(file, "grid/status", H5T_INTEGER, 1, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/message", H5T_STRING, 1, 2, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/rank", H5T_INTEGER, 4, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/host", H5T_STRING, 1, 2, host, path, err);
  if (!st) st = hs_h5_check(file, "grid/started", H5T_FLOAT, 8, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/finished", H5T_FLOAT, 8, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/group", H5T_STRING, 0, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/label", H5T_STRING, 0, 1, dims, path, err);
  if (!st) st = hs_h5_check(file, "grid/row", H5T_INTEGER, 8, 1, dims, path, err);
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
