/* store_objects.c: every object of a results file opens, every attribute
 * reads and every reference leads to an object (store_impl.h,
 * hs_store_check_objects): what libhdf5 trusts and readers such as h5py and
 * netCDF go through beyond the data, checked before anything else reads the
 * file (run's resume and grow, `info`, `verify`). */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

typedef struct walk {
  hid_t file;
  const char *path;
  int back_references; /* follow the scales' REFERENCE_LIST too (verify) */
  char bad[512]; /* what failed first */
} walk;

/* An object reference must lead to an object that opens. */
static int check_reference(hid_t loc, const hobj_ref_t *ref) {
  hid_t o = H5Rdereference2(loc, H5P_DEFAULT, H5R_OBJECT, ref);
  if (o < 0) return -1;
  H5Oclose(o);
  return 0;
}

/* The group part of an object's name ("/results/G/sgd" of ".../sgd/m"). */
static void parent_of(hid_t o, char *buf, size_t len) {
  if (H5Iget_name(o, buf, len) <= 0) buf[0] = '\0';
  char *slash = strrchr(buf, '/');
  if (slash) *slash = '\0';
}

/* Axis k of dataset loc has scale `ref`: a dataset of the same group, as
 * long as the axis, and named "point" for the first axis. */
static int check_scale(hid_t loc, hid_t file, int k, const hobj_ref_t *ref) {
  hid_t o = H5Rdereference2(file, H5P_DEFAULT, H5R_OBJECT, ref);
  if (o < 0) return -1;
  char mine[1024], its[1024], name[1024];
  parent_of(loc, mine, sizeof mine);
  parent_of(o, its, sizeof its);
  if (H5Iget_name(o, name, sizeof name) <= 0) name[0] = '\0';
  hid_t s1 = H5Dget_space(loc), s2 = H5Dget_space(o);
  hsize_t d1[8] = {0}, d2[8] = {0};
  int r1 = s1 >= 0 ? H5Sget_simple_extent_ndims(s1) : -1, r2 = s2 >= 0 ? H5Sget_simple_extent_ndims(s2) : -1;
  if (r1 >= 1 && r1 <= 8) H5Sget_simple_extent_dims(s1, d1, NULL);
  if (r2 == 1) H5Sget_simple_extent_dims(s2, d2, NULL);
  const char *base = strrchr(name, '/');
  int bad = strcmp(mine, its) != 0 || r2 != 1 || k >= r1 || d1[k] != d2[0] ||
            (k == 0 && (!base || strcmp(base, "/point") != 0));
  if (s1 >= 0) H5Sclose(s1);
  if (s2 >= 0) H5Sclose(s2);
  H5Oclose(o);
  return bad ? -1 : 0;
}

/* Read attribute `name` of loc whole; follow the references it holds (the
 * dimension scales' DIMENSION_LIST and REFERENCE_LIST). */
static herr_t check_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *op) {
  (void)info;
  walk *w = op;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1,
        sp = a >= 0 ? H5Aget_space(a) : -1;
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  size_t size = t >= 0 ? H5Tget_size(t) : 0;
  H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  void *buf = n >= 0 && size && n < (1 << 24) ? calloc((size_t)(n ? n : 1), size) : NULL;
  int bad = !buf || H5Aread(a, t, buf) < 0;
  for (hssize_t i = 0; !bad && i < n; i++) {
    if (cls == H5T_REFERENCE) bad = check_reference(w->file, (hobj_ref_t *)buf + i);
    else if (cls == H5T_COMPOUND && H5Tget_member_class(t, 0) == H5T_REFERENCE)
      bad = w->back_references &&
            check_reference(w->file, (const hobj_ref_t *)((char *)buf + (size_t)i * size));
    else if (cls == H5T_VLEN) {
      hid_t base = H5Tget_super(t);
      const hvl_t *v = (const hvl_t *)buf + i;
      if (H5Tget_class(base) == H5T_REFERENCE && strcmp(name, "DIMENSION_LIST") == 0)
        bad = v->len != 1 || check_scale(loc, w->file, (int)i, (hobj_ref_t *)v->p);
      else if (H5Tget_class(base) == H5T_REFERENCE)
        for (size_t k = 0; !bad && k < v->len; k++) bad = check_reference(w->file, (hobj_ref_t *)v->p + k);
      H5Tclose(base);
    }
  }
  if (buf && !bad && (cls == H5T_VLEN || (cls == H5T_STRING && H5Tis_variable_str(t) > 0)))
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
  free(buf);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  if (bad) snprintf(w->bad, sizeof w->bad, "attribute %s", name);
  return bad ? -1 : 0;
}

static herr_t check_object(hid_t root, const char *name, const H5O_info_t *info, void *op) {
  walk *w = op;
  hid_t o = H5Oopen(root, name, H5P_DEFAULT);
  hsize_t at = 0;
  int bad = o < 0 || H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &at, check_attribute, w) < 0;
  if (o >= 0) H5Oclose(o);
  (void)info;
  if (bad) {
    char what[512];
    snprintf(what, sizeof what, "%s", w->bad);
    snprintf(w->bad, sizeof w->bad, "/%.200s%s%.200s", strcmp(name, ".") ? name : "",
             what[0] ? ": " : "", what);
  }
  return bad ? -1 : 0;
}

/* Every object of the file opens and every attribute reads (the metadata's
 * own checksums are checked as they load), every reference leads to an
 * object: what readers such as netCDF and h5py go through beyond the data. */
hs_status hs_store_check_objects(const char *path, int back_references, hs_err *err) {
  hs_status st = hs_vlen_scan(path, err);
  if (st) return st;
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  walk w = {.file = f, .path = path, .back_references = back_references};
  int bad = f < 0 || H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, check_object, &w, H5O_INFO_ALL) < 0;
  if (f >= 0 && H5Fclose(f) < 0) bad = 1;
  return bad ? hs_err_set(err, HS_EIO, "%s: damaged: cannot read %s", path, w.bad[0] ? w.bad : "all of its objects")
             : HS_OK;
}
