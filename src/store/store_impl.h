/* store_impl.h: what the store's source files share (private), listed
 * from the bottom up: each file calls only files listed above it (so no
 * two call each other: scripts/check_c_cycles.py checks it, ctest c_cycles).
 *
 * store_vlen.c    variable-length strings read without libhdf5's reader
 * store_h5.c      small HDF5 helpers (strings, attributes, datasets, rows)
 * store_schema.c  what a file holds: the run columns and their row sizes,
 *                 result field paths, /grid's names, which layout revision
 *                 added which dataset
 * store_sum.c     the per-point checksums: computed, checked, listed
 * store_static.c  the checksums of the datasets written once (coordinates,
 *                 /grid columns, labels)
 * store_create.c  a file created whole from a plan
 * store_check.c   an existing file checked against its plan on open
 * store_objects.c every object of a file opens, every reference leads to one
 * store_converged.c  `info`'s count of points still moving at their end
 * store_replicas.c   `info`'s error bars from the ODE's replicas
 * store_path.c    the output path: checks, directory, lock, moving a file aside
 * store_reuse.c   an existing file: resume it, grow it, or refuse
 * store_info.c    `headspec info` and `headspec verify`
 * store_repair.c  `headspec repair`
 * store.c         the parallel side: open by every rank, write rows, close
 */
#ifndef HEADSPEC_STORE_IMPL_H
#define HEADSPEC_STORE_IMPL_H

#include <hdf5.h>
#include <stdint.h>

#include "headspec/plan.h"
#include "headspec/store.h"
#include "headspec/version.h"

/* format_version of the files this code writes: HS_FORMAT_VERSION */
#define HS_FORMAT HS_FORMAT_VERSION
/* layout_revision of the files this code writes: datasets added to format 2
 * since its first files (store_schema.c lists them); readers of an earlier
 * revision's file find them missing, a run rewrites it. */
#define HS_LAYOUT_REVISION 8

/* ---- store_vlen.c ---- */
/* The n strings of the variable-length string dataset `name` (n = 1 for a
 * scalar), read and checked byte by byte (never through libhdf5's heap
 * reader, which crashes on a damaged heap); free with hs_vlen_free. */
hs_status hs_vlen_read(hid_t file, const char *name, long n, char ***out, const char *path,
                       hs_err *err);
void hs_vlen_free(char **s, long n);
/* Every string heap collection of the file at path (found by its signature)
 * is whole and numbered in order, as written: for `verify`, before libhdf5
 * reads the attributes whose strings and references live there. */
hs_status hs_vlen_scan(const char *path, hs_err *err);

/* ---- store_h5.c ---- */
hid_t hs_h5_vlen_string(void);      /* variable-length UTF-8 string type */
hid_t hs_h5_char(void);             /* one character (netCDF NC_CHAR) */
herr_t hs_h5_attr_text(hid_t loc, const char *name, const char *value);
herr_t hs_h5_attr_long(hid_t loc, const char *name, long value);
/* A string attribute as a malloc'd string (NULL if absent or not text). */
char *hs_h5_read_attr_text(hid_t loc, const char *name);
/* A whole-number attribute; nonzero if absent or not a number. */
int hs_h5_read_attr_long(hid_t loc, const char *name, long *value);
/* Read the whole dataset at path (under loc) into buf as memtype; nonzero
 * if it cannot be opened or read. */
int hs_h5_read_all(hid_t loc, const char *path, hid_t memtype, void *buf);
/* A scalar variable-length string dataset and its reader (malloc'd). */
herr_t hs_h5_write_text(hid_t loc, const char *name, const char *text, const char *long_name);
char *hs_h5_read_text(hid_t loc, const char *name);
/* A contiguous dataset, allocated and filled at creation (so that ranks can
 * later write rows independently); fill may be NULL. */
hid_t hs_h5_create(hid_t loc, const char *path, hid_t type, int rank,
                   const hsize_t *dims, const void *fill);
/* units, long_name and description (any may be NULL). */
herr_t hs_h5_describe(hid_t d, const char *long_name, const char *units,
                      const char *description);
/* Write/read the whole of row `row` (along the first axis) of d. */
herr_t hs_h5_write_row(hid_t d, hid_t memtype, long row, const void *data);
/* Read (write) rows [r0, r0 + k) of d (along the first axis) as memtype. */
herr_t hs_h5_rows(hid_t d, hid_t memtype, long r0, long k, void *buf, int write);
/* The bytes of one row of d in its file type (0 if it cannot tell). */
size_t hs_h5_row_bytes(hid_t d);
/* Whether d (at path, under loc) has this type class, element size, rank
 * and dims; if not, err says what was expected and found. */
hs_status hs_h5_check(hid_t loc, const char *path, H5T_class_t cls, size_t size,
                      int rank, const hsize_t *dims, const char *file, hs_err *err);

/* ---- store_schema.c ---- */
/* The /grid datasets written per point (the run record and its checksum),
 * in this order: one table for creating, checking, writing and copying
 * them. A checksum covers the record's first HS_N_GRID_SUMMED columns. */
enum { HS_GRID_STATUS, HS_GRID_MESSAGE, HS_GRID_RANK, HS_GRID_HOST,
       HS_GRID_STARTED, HS_GRID_FINISHED, HS_GRID_CHECKSUM, HS_N_GRID_RUN };
enum { HS_N_GRID_SUMMED = HS_GRID_CHECKSUM };
typedef enum { HS_RUN_I8, HS_RUN_I32, HS_RUN_U32, HS_RUN_F64, HS_RUN_CHAR } hs_run_kind;
typedef struct hs_run_column {
  const char *path;      /* "grid/status" */
  hs_run_kind kind;
  int width;             /* characters of a HS_RUN_CHAR column, else 1 */
  const char *long_name, *units;
} hs_run_column;
extern const hs_run_column hs_grid_run[HS_N_GRID_RUN];
/* A column's file type (close it) and its bytes per point. */
hid_t hs_run_file_type(const hs_run_column *c);
size_t hs_run_row_bytes(const hs_run_column *c);
/* The path of a result field of a group: "results/<group>/<field>". */
void hs_store_field_path(const hs_plan_group *g, int field, char *buf, size_t len);
/* Whether group g holds a dataset of field f, and a coordinate of axis a:
 * a group without replicas (shape.replicas 0) has no replicas/ folder and
 * no replica axis, exactly as before they existed. */
int hs_store_has_field(const hs_plan_group *g, int field);
int hs_store_has_axis(const hs_plan_group *g, int axis);
/* Fields a results group may hold, at most (the stores' per-group arrays). */
enum { HS_STORE_MAX_FIELDS = 128 };
/* Whether dataset `name` (a path or its tail, e.g. "grid/method") was added
 * after layout revision `revision`: a file of that revision lacks it. */
int hs_store_added_after(long revision, const char *name);
/* The CRC-32 of the job text (root attribute job_text_checksum). */
long hs_store_text_sum(const char *text);
/* The folder (subgroup) of result field f ("sgd" of "sgd/m", "" of
 * "bayes_risk") into folder, and whether f is its first field (each folder
 * is made and checked once); whether field f lives in folder. */
int hs_first_of_folder(int f, char *folder, size_t len);
int hs_field_in_folder(int f, const char *folder);
/* The attributes of /grid naming keys: "key_order", every column in the key
 * table's order (the order that numbers the points); "swept_keys", the
 * swept ones; "zipped_keys", per zip group its columns with a space between
 * ("b1 b2"), only in jobs with a zip. Python reads them instead of keeping
 * a copy of the key table. */
enum { HS_N_GRID_NAME_ATTRIBUTES = 3 };
extern const char *const hs_grid_name_attributes[HS_N_GRID_NAME_ATTRIBUTES];
/* The names attribute attr holds for plan: *n of them, a malloc'd array of
 * borrowed names (NULL: out of memory). */
const char **hs_grid_names(const hs_plan *plan, const char *attr, hsize_t *n);
/* Point i's text in a string column of /grid (buf: HS_LABEL_LEN bytes it
 * may use): its word in the key column *(int *)arg, its group's name, its
 * label. */
typedef const char *(*hs_point_text)(const hs_plan *plan, long i, void *arg, char *buf);
const char *hs_grid_column_word(const hs_plan *plan, long i, void *arg, char *buf);
const char *hs_grid_group_name(const hs_plan *plan, long i, void *arg, char *buf);
const char *hs_grid_label(const hs_plan *plan, long i, void *arg, char *buf);

/* ---- store_sum.c ---- */
/* A point's run record as written to its /grid row. */
typedef struct hs_run_record {
  signed char status;
  char message[HS_MESSAGE_LEN];
  int rank;
  char host[HS_HOST_LEN];
  double started, finished;
} hs_run_record;
/* The checksum of a point as it will be stored: its results r (NULL for a
 * failed point) in its group g, and its run record. */
uint32_t hs_sum_point(const hs_result *r, const hs_plan_group *g, const hs_run_record *rec);
/* The checksum column's description and its "checksum_of" attribute. */
herr_t hs_sum_describe(hid_t d);
const char *hs_sum_order(void);
/* The checksum of every point from the file's rows (0 for pending points). */
hs_status hs_sum_file(hid_t file, const hs_plan *plan, const signed char *status, uint32_t *sums,
                      const char *path, hs_err *err);
/* The points whose rows do not match their checksum (or whose status is no
 * status, or that are pending with a checksum): listed, and set pending in
 * status. A file without checksums (layout revision < 3) is unverified. */
typedef struct hs_damage {
  long *point, n, cap;
  int unverified;
} hs_damage;
hs_status hs_sum_check(hid_t file, const hs_plan *plan, signed char *status, hs_damage *dmg,
                       const char *path, hs_err *err);
void hs_damage_free(hs_damage *dmg);

/* ---- store_static.c ---- */
/* Give every dataset written once at creation (all but the per-point rows
 * and /job_text) its attribute `checksum`: the CRC-32 of its values as
 * stored (variable-length strings: each string's bytes and a NUL). */
hs_status hs_static_sum_write(hid_t file, const char *path, hs_err *err);
/* Check them (files of layout revision >= 4): a dataset that does not match
 * is named. */
hs_status hs_static_sum_check(hid_t file, const char *path, hs_err *err);

/* ---- store_create.c ---- */
/* About how many bytes the plan's results file takes. */
double hs_store_file_bytes(const hs_plan *plan);
/* Create the whole results file of plan at path (serially). */
hs_status hs_store_create_file(const hs_plan *plan, const char *path, hs_err *err);

/* ---- store_check.c ---- */
/* Check every object of an open file against plan: names, shapes, types,
 * and the /grid group and row of every point. With older non-NULL, datasets
 * the file lacks (an older headspec did not write them: new job keys' /grid
 * columns, new result fields) are counted in *older instead of refused. */
hs_status hs_store_check_file(hid_t file, const hs_plan *plan, const char *path,
                              int *older, hs_err *err);

/* ---- store_objects.c ---- */
/* Every string heap is whole (hs_vlen_scan), every object opens, every
 * attribute reads and every reference leads to an object (the dimension
 * scales': to a scale of the same group and length): what libhdf5 trusts
 * and readers such as h5py and netCDF go through. back_references: also
 * each scale's list of the datasets using it (REFERENCE_LIST; a dataset
 * deleted from the file leaves a reference there that libhdf5 refuses
 * cleanly: verify names it, run and info need not). */
hs_status hs_store_check_objects(const char *path, int back_references, hs_err *err);

/* ---- store_converged.c ---- */
/* For `info`: how many done points were still moving at their end (their
 * sgd/converged or ode/converged is 0), and up to ten of them by label. */
void hs_store_print_moving(hid_t f, const hs_plan *plan, const signed char *status,
                           FILE *out);

/* ---- store_replicas.c ---- */
/* For `info`: per done point with replicas its final ODE loss and escape
 * times as mean ± se over the replicas and its convergence in N (up to ten
 * listed), and how many ODE points have no error bar (ode.replicas = 1). */
void hs_store_print_error_bars(hid_t f, const hs_plan *plan, const signed char *status,
                               FILE *out);

/* ---- store_path.c ---- */
/* Refuse an output that exists and is not a regular file, or an unwritable
 * place; create the directory if missing (unless dry_run), saying so in
 * *created_dir. (The plan has checked the path's length.) */
hs_status hs_store_check_output(const char *out, int dry_run, int *created_dir, hs_err *err);
/* Refuse to start a file of this many bytes where the disk has less free:
 * HDF5 1.10 cannot recover from a full disk while creating a file (its
 * failed close leaves a file id that crashes at exit). */
hs_status hs_store_check_space(const char *out, double bytes, hs_err *err);
/* Give path's file the name path.old-DATE[-N] (never replacing an existing
 * file): with keep_name, as a second name (a hard link: path stays until a
 * new file is renamed over it; an existing .old link to the same file is
 * reused); else path is moved there. */
hs_status hs_store_keep_aside(const char *path, int keep_name, char *moved_to, size_t len,
                              hs_err *err);
/* Put the complete file `ready` in place of out: out's file (if it exists)
 * linked aside first, then ready renamed over out, so out is always a
 * complete results file, the old or the new one. */
hs_status hs_store_swap_in(const char *ready, const char *out, int exists, char *moved_to,
                           size_t len, hs_err *err);
/* Under the lock, before anything else: remove a FILE.creating left by a
 * killed run, and complete a swap that a kill interrupted (FILE.created
 * is complete; it goes in place of FILE). */
hs_status hs_store_finish_swap(const char *out, int dry_run, hs_store_report *rep, hs_err *err);
/* The file out names, into buf: symbolic links followed (to the end of a
 * chain), so that the lock, the swap and the old copies are the target's
 * and a link is kept, never replaced by a regular file. A path that is no
 * link is itself. */
void hs_store_resolve(const char *out, char *buf, size_t len);
/* Take / release the run's lock on out (FILE.lock; out resolved). */
hs_status hs_store_lock(const char *out, int *fd, hs_err *err);
void hs_store_unlock(const char *out, int fd);

/* ---- store_reuse.c ---- */
/* Read an existing results file made by this format: its plan (from the
 * job text it stores), checked against the file, and every point's status.
 * Fails with a message saying what to do. */
typedef struct hs_existing {
  hs_plan *plan;
  signed char *status; /* damaged points are pending here */
  int older;           /* datasets this headspec writes that the file lacks */
  hs_damage damage;    /* points whose data does not match its checksum */
} hs_existing;
hs_status hs_existing_read(const char *path, hs_existing *ex, hs_err *err);
void hs_existing_free(hs_existing *ex);
/* Make the output ready for the ranks to open (store.h's rules): check its
 * path, take the lock (*lock: release with hs_store_unlock on the file the
 * output names, put in resolved: hs_store_resolve), then create, resume,
 * grow or refuse. */
hs_status hs_store_prepare(const hs_plan *plan, int fresh, int *lock, char *resolved, size_t len,
                           hs_store_report *rep, hs_err *err);

#endif
