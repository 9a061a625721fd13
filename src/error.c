/* error.c: status texts and message formatting (see error.h). */
#include "headspec/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *hs_status_text(hs_status code) {
  switch (code) {
#define HS_STATUS_CASE(c, text) \
  case c:                       \
    return text;
    HS_STATUS_LIST(HS_STATUS_CASE)
#undef HS_STATUS_CASE
  }
  return "unknown status";
}

hs_status hs_err_set(hs_err *err, hs_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void hs_err_clear(hs_err *err) {
  if (err) {
    err->code = HS_OK;
    err->msg[0] = '\0';
  }
}
