/* error.h: status codes and error messages shared by every module.
 *
 * Functions that can fail return an hs_status and, on failure, fill an
 * hs_err with a message that says what is wrong and where (for job files:
 * FILE:LINE). The codes are one X-macro list so a code and its text never
 * drift apart (the SUNDIALS pattern).
 */
#ifndef HEADSPEC_ERROR_H
#define HEADSPEC_ERROR_H

#define HS_STATUS_LIST(X)                                        \
  X(HS_OK, "success")                                            \
  X(HS_EINPUT, "invalid input")                                  \
  X(HS_ENOMEM, "out of memory")                                  \
  X(HS_EIO, "input/output error")                                \
  X(HS_ENUM, "numerical failure")                                \
  X(HS_EMISMATCH, "results file belongs to a different job")     \
  X(HS_EINTERRUPT, "interrupted")

typedef enum {
#define HS_STATUS_ENUM(code, text) code,
  HS_STATUS_LIST(HS_STATUS_ENUM)
#undef HS_STATUS_ENUM
} hs_status;

enum { HS_ERR_MSG_LEN = 1024 };

typedef struct hs_err {
  hs_status code;
  char msg[HS_ERR_MSG_LEN];
} hs_err;

/* The fixed text of a status code. */
const char *hs_status_text(hs_status code);

/* Set err (if non-NULL) to code and a printf-style message; returns code so
 * callers can write `return hs_err_set(err, HS_EINPUT, "...")`. */
hs_status hs_err_set(hs_err *err, hs_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset err to HS_OK with an empty message. */
void hs_err_clear(hs_err *err);

#endif
