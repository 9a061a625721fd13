/* check.h: minimal assertions for the unit tests; each failure prints where
 * and what, and the test's exit status is the number of failures. */
#ifndef HEADSPEC_TEST_CHECK_H
#define HEADSPEC_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_failures = 0;

#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      check_failures++;                                         \
      fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                             \
      fprintf(stderr, "\n");                                    \
    }                                                           \
  } while (0)

/* |a - b| <= tol, printing both values on failure. */
#define CHECK_CLOSE(a, b, tol, what)                                          \
  CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s: %.10g vs %.10g (tol %.3g)", what, \
        (double)(a), (double)(b), (double)(tol))

static inline int check_report(const char *name) {
  printf("%s: %s (%d failure%s)\n", name, check_failures ? "FAILED" : "ok",
         check_failures, check_failures == 1 ? "" : "s");
  return check_failures != 0;
}

#endif
