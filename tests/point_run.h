/* point_run.h: check, shape, allocate and run a hand-built point, failing
 * the test (check.h) with the tool's message if any step refuses it. */
#ifndef HEADSPEC_TESTS_POINT_RUN_H
#define HEADSPEC_TESTS_POINT_RUN_H

#include "check.h"
#include "headspec/point.h"

/* Run p into r (allocated here with the point's shape; free with
 * hs_result_free). Nonzero: it failed, and the failure is counted. */
static int run(const hs_point *p, hs_result *r) {
  hs_shape shape;
  hs_err err;
  const char *key;
  if (hs_point_check(p, &key, &err) || hs_point_shape(p, &shape, &err) ||
      hs_result_alloc(r, &shape, &err) || hs_point_run(p, r, NULL, NULL, &err)) {
    CHECK(0, "point run: %s", err.msg);
    return 1;
  }
  return 0;
}

#endif
