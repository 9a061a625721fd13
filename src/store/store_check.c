/* store_check.c: an existing results file checked object by object against
 * the plan of the job it stores, before anything is read from it (names,
 * shapes, types, every /grid column's values, the rows and coordinates of
 * every results group): the same layout store_create.c makes, from the
 * same store_schema.c. A dataset that an earlier layout revision lacked is
 * counted as older, not refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

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
                               hs_point_text text, void *arg, const char *path, hs_err *err) {
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
    return check_strings(file, plan, name, hs_grid_column_word, &c, path, err);
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
  for (int k = 0; k < HS_N_GRID_NAME_ATTRIBUTES && !st && grid >= 0; k++) {
    hsize_t n, older_n;
    const char *attr = hs_grid_name_attributes[k];
    const char **names = hs_grid_names(plan, attr, &n);
    const char **older = hs_grid_names(plan, attr, &older_n);
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
  if (!st) st = check_strings(file, plan, "grid/group", hs_grid_group_name, NULL, path, err);
  if (!st) st = check_strings(file, plan, "grid/label", hs_grid_label, NULL, path, err);
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
    if (!hs_store_has_axis(g, a)) continue;
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
      if (!hs_store_has_field(grp, f)) continue;
      for (int r = 0; r < fld->rank; r++)
        dims[r + 1] = (hsize_t)hs_shape_dim(&grp->shape, hs_axes[fld->axes[r]].dim);
      hs_store_field_path(grp, f, name, sizeof name);
      if (missing_from_older(file, name, older)) continue;
      st = hs_h5_check(file, name, H5T_FLOAT, 8, fld->rank + 1, dims, path, err);
    }
    for (int f = 0; !st && f < hs_n_result_fields; f++) {
      char folder[64];
      if (hs_first_of_folder(f, folder, sizeof folder) && hs_store_has_field(grp, f))
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
