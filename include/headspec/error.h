/* error.h: status codes and error messages shared by every module.
 *
 * Functions that can fail return an hs_status and, on failure, fill an
 * hs_err with a message that says what is wrong and where (for job files:
 * FILE:LINE). The message carries the detail; the code says what kind of
 * failure it was (the CLI maps kinds to exit statuses).
 */
#ifndef HEADSPEC_ERROR_H
#define HEADSPEC_ERROR_H

typedef enum {
  HS_OK = 0,     /* success */
  HS_EINPUT,     /* invalid input (job file, parameters) */
  HS_ENOMEM,     /* out of memory */
  HS_EIO,        /* input/output error */
  HS_ENUM,       /* numerical failure (non-finite loss, singular matrix) */
  HS_EMISMATCH,  /* results file belongs to a different job */
  HS_EINTERRUPT  /* stopped by a signal */
} hs_status;

enum { HS_ERR_MSG_LEN = 1024 };

typedef struct hs_err {
  hs_status code;
  char msg[HS_ERR_MSG_LEN];
} hs_err;

/* Set err (if non-NULL) to code and a printf-style message; returns code so
 * callers can write `return hs_err_set(err, HS_EINPUT, "...")`. */
hs_status hs_err_set(hs_err *err, hs_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset err to HS_OK with an empty message. */
void hs_err_clear(hs_err *err);

#endif
