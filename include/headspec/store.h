/* store.h: the HDF5 results file of a job (schema in README.md).
 *
 * All ranks open one file through the MPI-IO driver. Every object is created
 * collectively up front (into FILE.creating, renamed when complete, so a file
 * under the real name is always whole), sized from the expanded grid with
 * early allocation. After that a rank writes only its points' rows with
 * independent writes, and marks a point done only after its data is written:
 * a killed job leaves a valid file, and re-running the same job resumes.
 * Knows the result table of point.h and the key table of job.h, nothing of
 * the model beyond them.
 */
#ifndef HEADSPEC_STORE_H
#define HEADSPEC_STORE_H

#include <mpi.h>
#include <stdio.h>

#include "headspec/error.h"
#include "headspec/job.h"
#include "headspec/point.h"

typedef enum {
  HS_POINT_PENDING = 0,
  HS_POINT_DONE = 1,
  HS_POINT_FAILED = 2
} hs_point_status;

enum { HS_MESSAGE_LEN = 256, HS_HOST_LEN = 64 };

typedef struct hs_store hs_store;

/* Open the job's results file, creating it if absent (collective over
 * comm). An existing file made by another job text is refused (HS_EMISMATCH)
 * unless fresh is set, in which case it is moved aside to FILE.old-<time>
 * (its new name goes to moved_to, if non-NULL) and a new file is made. */
hs_status hs_store_open(const hs_job *job, MPI_Comm comm, int fresh,
                        char *moved_to, size_t moved_len, hs_store **out,
                        hs_err *err);

/* The status of every point (job->n_points entries). */
hs_status hs_store_read_status(hs_store *s, signed char *status, hs_err *err);

/* Write a point's results, then mark it done (independent, any rank). */
hs_status hs_store_write_point(hs_store *s, const hs_point *p,
                               const hs_result *r, int rank, hs_err *err);

/* Mark a point failed, with the reason (independent, any rank). */
hs_status hs_store_mark_failed(hs_store *s, const hs_point *p,
                               const char *reason, int rank, hs_err *err);

/* Close the file (collective). */
hs_status hs_store_close(hs_store *s, hs_err *err);

/* Print a summary of a results file (serial; any process). */
hs_status hs_store_info(const char *path, FILE *out, hs_err *err);

#endif
