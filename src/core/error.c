/* error.c: status texts and message formatting (see error.h). */
#include "headspec/error.h"

#include <stdarg.h>
#include <stdio.h>

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
