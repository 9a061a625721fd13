/* test_job.c: what the job reader stores for values that were misread
 * before (YAML aliases, denormal numbers), checked against the values
 * written in the YAML text; and the step count of a point against exact
 * integer arithmetic at the 2^53 limit (point.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/job.h"
#include "headspec/plan.h"

static const hs_key_values *value(const hs_job *job, const char *section, const char *name) {
  for (int i = 0; i < hs_n_job_keys; i++)
    if (strcmp(hs_job_keys[i].section, section) == 0 && strcmp(hs_job_keys[i].name, name) == 0)
      return &job->values[i];
  return NULL;
}

/* Load a job from text; 0 on success. */
static int load(const char *text, hs_job *job, hs_err *err) {
  char path[] = "/tmp/test_job_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) return -1;
  fputs(text, f);
  fclose(f);
  hs_status s = hs_job_load(path, job, err);
  remove(path);
  return s;
}

/* PyYAML reads `b2: *2` as b1's value 1.0; the reader once stored the
 * anchor's name, 2. */
static void test_aliases(void) {
  hs_job job;
  hs_err err;
  const char *text = "output: x.h5\n"
                     "model:\n"
                     "  distribution: &bs flipping\n"
                     "  b1: &2 1.0\n"
                     "  b2: *2\n"
                     "  activation: &act bsoftmax\n"
                     "  H: &heads [1, 3]\n"
                     "  seed: *heads\n"
                     "training: {d: 100, eta: 0.5, t_max: 1}\n"
                     "ode: {noise_term: false}\n"
                     "analysis: {bayes_samples: *heads, maps: *2}\n";
  int s = load(text, &job, &err);
  CHECK(s == 0, "aliases refused: %s", err.msg);
  if (s) return;
  CHECK(value(&job, "model", "b2")->num[0] == 1.0, "b2 = %g, not b1's 1.0",
        value(&job, "model", "b2")->num[0]);
  CHECK(strcmp(value(&job, "model", "distribution")->word[0], "flipping") == 0, "distribution");
  CHECK(strcmp(value(&job, "model", "activation")->word[0], "bsoftmax") == 0, "activation");
  const hs_key_values *seed = value(&job, "model", "seed");
  CHECK(seed->n == 2 && seed->num[0] == 1 && seed->num[1] == 3, "seed swept over [1, 3]");
  const hs_key_values *bayes = value(&job, "analysis", "bayes_samples");
  CHECK(bayes->n == 2 && bayes->num[1] == 3, "an alias to a list in a flow mapping");
  CHECK(value(&job, "analysis", "maps")->num[0] == 1, "maps = b1's 1.0");
  hs_job_free(&job);
  hs_plan *plan;
  int ps = hs_plan_from_text("aliases", text, &plan, &err);
  CHECK(ps == 0, "plan: %s", err.msg);
  if (ps) return;
  CHECK(hs_plan_n_points(plan) == 8, "2 x 2 x 2 points, got %ld", hs_plan_n_points(plan));
  hs_plan_free(plan);
}

/* 1e-320 is a (subnormal) number: stored exactly as strtod reads it. */
static void test_denormal(void) {
  hs_job job;
  hs_err err;
  int s = load("output: x.h5\n"
               "model: {distribution: flipping, b1: 1e-320, b2: -4.9e-324, activation: softmax,"
               " H: 1}\n"
               "training: {d: 100, eta: 0.5, t_max: 1}\n",
               &job, &err);
  CHECK(s == 0, "denormals refused: %s", err.msg);
  if (s) return;
  CHECK(value(&job, "model", "b1")->num[0] == strtod("1e-320", NULL), "b1 = %g",
        value(&job, "model", "b1")->num[0]);
  CHECK(value(&job, "model", "b2")->num[0] < 0, "b2 = the smallest negative subnormal");
  hs_job_free(&job);
}

/* Steps = t_max d / eta: exact up to 2^53, refused (-1) above. */
static void test_steps(void) {
  hs_point p = {.d = 1 << 20, .eta = 1, .t_max = 8589934592.0}; /* 2^33 * 2^20 = 2^53 */
  CHECK(hs_point_steps(&p) == (int64_t)1 << 53, "2^53 steps, got %lld",
        (long long)hs_point_steps(&p));
  p.t_max = 8589934592.0 + 1;
  CHECK(hs_point_steps(&p) == -1, "over 2^53: %lld", (long long)hs_point_steps(&p));
  hs_point q = {.d = 200, .eta = 1e-8, .t_max = 1e9}; /* 2e19: overflowed a long */
  CHECK(hs_point_steps(&q) == -1, "2e19 steps: %lld", (long long)hs_point_steps(&q));
  hs_point r = {.d = 1000, .eta = 0.5, .t_max = 123.4567};
  CHECK(hs_point_steps(&r) == 246913, "246913.4 rounds to 246913, got %lld",
        (long long)hs_point_steps(&r));
}

int main(void) {
  test_aliases();
  test_denormal();
  test_steps();
  return check_report("job");
}
