/* store.h: the HDF5 results file of a job (schema in docs/RESULTS.md).
 *
 * The file's layout comes from the plan alone. Rank 0 makes the file whole
 * under a temporary name and renames it into place, so a file under the real
 * name is always complete; then all ranks open it through the MPI-IO driver
 * and each writes only its points' rows (independent writes), marking a
 * point done only after its data is written: a killed job leaves a valid
 * file, and re-running the job resumes.
 *
 * An existing file is matched to the job by its points, not its text: when
 * the job has the same points, the run resumes in place; when it adds points,
 * a new file is made with the done points' rows copied bit for bit, the old
 * one is kept as FILE.old-DATE, and only the new points are computed. The
 * swap is atomic (the new file is renamed over FILE once the old one is
 * linked to its .old name; a kill in between is completed by the next run).
 * Every reused or copied point is checked against its checksum first: a
 * damaged one is reported by its parameters and computed again. A
 * changed setting that every point shares, or a job that leaves out done
 * points, is refused unless fresh. Every object of an existing file is
 * checked against its plan before anything is read from it.
 *
 * Knows the plan and the result table of point.h, nothing of the model.
 */
#ifndef HEADSPEC_STORE_H
#define HEADSPEC_STORE_H

#include <mpi.h>
#include <stdio.h>

#include "headspec/error.h"
#include "headspec/plan.h"
#include "headspec/point.h"

typedef enum {
  HS_POINT_PENDING = 0,
  HS_POINT_DONE = 1,
  HS_POINT_FAILED = 2
} hs_point_status;

enum {
  HS_MESSAGE_LEN = 256,     /* a failure's message, in /grid/message */
  HS_HOST_LEN = 64          /* /grid/host */
};

/* What opening the output does (or, for a dry run, would do). */
typedef struct hs_store_report {
  int exists;             /* a results file was there */
  int created_dir;        /* its directory is (would be) created */
  int grown;              /* a new file with the old done points copied */
  int upgraded;           /* ... because an older headspec wrote the file */
  long reused;            /* done points kept or copied */
  long to_compute;        /* points not done */
  char moved_to[4200];    /* where the old file went ("" if nowhere) */
  int finished_swap;      /* a grow killed while swapping the files was completed */
  int unverified;         /* the file has no checksums (an older headspec's) */
  double file_bytes;      /* the size of the file to make (0: none to make) */
  long damaged;           /* done points whose data fails its checksum: recomputed */
  char damaged_text[2048]; /* the first of them, "point 3 (seed=2); ..." */
  unsigned char *done;    /* survey only: per point of the plan, 1 if it would be
                             reused as done (NULL: none is); free() it */
} hs_store_report;

typedef struct hs_store hs_store;

/* What `run` would do with the plan's output, without touching anything
 * (serial; for `headspec validate`), which points it would reuse as done
 * among them (rep->done). A grow killed while swapping its files is
 * judged as run will find it: the swap completed (rep->finished_swap). */
hs_status hs_store_survey(const hs_plan *plan, int fresh, hs_store_report *rep,
                          hs_err *err);

/* Open the plan's results file (collective over comm): create, resume or
 * grow it as above; with fresh, move an existing file aside and start anew.
 * Refuses a file another run is writing (a lock, held until close). */
hs_status hs_store_open(const hs_plan *plan, MPI_Comm comm, int fresh,
                        hs_store_report *rep, hs_store **out, hs_err *err);

/* The status of every point (n_points entries). */
hs_status hs_store_read_status(hs_store *s, signed char *status, hs_err *err);

/* Write point i's results, then mark it done (independent, any rank). */
hs_status hs_store_write_point(hs_store *s, long i, const hs_result *r, int rank,
                               hs_err *err);

/* Mark point i failed, with the reason (independent, any rank). */
hs_status hs_store_mark_failed(hs_store *s, long i, const char *reason, int rank,
                               hs_err *err);

/* Close the file (collective) and release the lock. */
hs_status hs_store_close(hs_store *s, hs_err *err);

/* Print a summary of a results file (serial; any process), having checked
 * it whole: every object against the job it stores, every point's data
 * against its checksum. Damaged points are counted (with verify, each is
 * listed by its parameters) and make it fail (HS_EIO); a file that cannot be read safely is refused. */
hs_status hs_store_info(const char *path, int verify, FILE *out, hs_err *err);

/* Delete the FILE.old-DATE copies that growing or a restart left beside
 * out (never out itself, nor a second name of it that a swap under way
 * uses), under the run's lock; each is named on report with its size. */
hs_status hs_store_clean(const char *out, FILE *report, hs_err *err);

/* Close the HDF5 library; call before MPI_Finalize. */
void hs_store_finalize(void);

#endif
