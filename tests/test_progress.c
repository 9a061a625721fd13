/* test_progress.c: every long computation hears its progress listener and
 * gives up when told (progress.h): the Bayes risk, the population's draw,
 * Lpop and pruning, an SGD step (which then leaves the model as it was)
 * and the test loss; a whole point listened to equals one run without a
 * listener bit for bit, its fractions rise within [0, 1], and a listener
 * that says stop makes it return HS_EINTERRUPT. No timing is asserted: the
 * listener is made due at once by setting the next call time in the past. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/bayes.h"
#include "headspec/point.h"
#include "point_fixture.h"
#include "headspec/prune.h"
#include "headspec/sgd.h"

typedef struct listener {
  int calls, stop_at; /* stop at this call (0: never) */
  double last, lowest, highest;
  int decreased;
} listener;

static int listen(void *user, const char *phase, double fraction) {
  (void)phase;
  listener *l = user;
  l->calls++;
  if (fraction < l->last) l->decreased = 1;
  l->last = fraction;
  if (fraction < l->lowest) l->lowest = fraction;
  if (fraction > l->highest) l->highest = fraction;
  return l->stop_at && l->calls >= l->stop_at;
}

/* A progress whose listener is due at once and says stop. */
static hs_progress stopping(listener *l) {
  hs_progress p;
  memset(l, 0, sizeof *l);
  l->stop_at = 1;
  hs_progress_init(&p, listen, l);
  p.next = -1e300;
  return p;
}

static void test_numerical_modules(void) {
  hs_dist_params dp = {.b1 = 1, .b2 = 2};
  strcpy(dp.name, "flipping");
  hs_dist dist;
  hs_err err;
  CHECK(hs_dist_init(&dist, &dp, &err) == HS_OK, "%s", err.msg);
  int L = 8, H = 3, K = dist.K, W = K + H;
  listener l;
  hs_progress p = stopping(&l);
  double risk = 0, se = 0;
  CHECK(hs_bayes_risk(&dist, L, 100000, 1, 1, &p, &risk, &se, &err) == HS_EINTERRUPT,
        "Bayes risk not interrupted");
  CHECK(l.calls == 1, "Bayes risk: %d calls of a listener that said stop", l.calls);

  hs_population pop;
  p = stopping(&l);
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, 4000, 1, 1, 0, &p, &err) ==
            HS_EINTERRUPT, "population draw not interrupted");
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, L, H, 4000, 1, 1, 0, NULL, &err) == HS_OK,
        "%s", err.msg);
  double R[3 * 5], b[3] = {0.1, -0.2, 0.3}, loss[3], order[3];
  for (int i = 0; i < H * W; i++) R[i] = 0.3 * ((i * 7) % 5 - 2);
  double free_loss = hs_population_loss(&pop, H, R, NULL, b, 1, NULL, NULL, NULL, NULL, NULL);
  CHECK(isfinite(free_loss), "Lpop without a listener: %g", free_loss);
  p = stopping(&l);
  pop.progress = &p;
  CHECK(isnan(hs_population_loss(&pop, H, R, NULL, b, 1, NULL, NULL, NULL, NULL, NULL)),
        "Lpop told to stop is not NaN");
  p = stopping(&l);
  CHECK(hs_prune(&pop, H, R, NULL, b, 1, loss, order, &err) == HS_EINTERRUPT,
        "pruning not interrupted");
  hs_population_free(&pop);

  double xi[2 * 64];
  CHECK(hs_teacher_spikes(xi, K, 64, 1, 1, 1, &err) == HS_OK, "%s", err.msg);
  hs_sgd_config cfg = {.d = 64, .L = L, .H = H, .B = 300, .eta = 0.5, .kappa = 1,
                       .sigma0 = 0.5, .act = &hs_softmax, .dist = &dist, .xi = xi,
                       .job_seed = 1, .seed = 1, .test_samples = 500};
  hs_sgd s;
  CHECK(hs_sgd_init(&s, &cfg, &err) == HS_OK, "%s", err.msg);
  double *W0 = malloc(sizeof(double) * H * 64);
  memcpy(W0, s.W, sizeof(double) * H * 64);
  p = stopping(&l);
  s.cfg.progress = &p;
  CHECK(isnan(hs_sgd_step(&s)), "a step told to stop returns a loss");
  CHECK(s.step == 0 && memcmp(W0, s.W, sizeof(double) * H * 64) == 0,
        "a step told to stop changed the model");
  p = stopping(&l);
  CHECK(isnan(hs_sgd_test_loss(&s)), "test loss told to stop is not NaN");
  s.cfg.progress = NULL;
  CHECK(isfinite(hs_sgd_step(&s)) && s.step == 1, "step without a listener");
  free(W0);
  hs_sgd_free(&s);
  hs_dist_free(&dist);
}

/* About a second of one core in every phase's code: SGD, ODE, pruning, maps,
 * Bayes risk. */
static hs_point make_point(void) {
  hs_point p = hs_test_point("softmax");
  p.job_seed = 5, p.H = 3, p.seed = 2, p.orthonormal_spikes = 0, p.d = 200, p.B = 50;
  p.test_samples = 200, p.run_sgd = 1, p.records = 4, p.ode_samples = 6000;
  p.start_noise = 0.1, p.bayes_samples = 100000, p.maps = 2, p.prune = 1;
  p.sampler = HS_SAMPLER_FULL;
  return p;
}

static void test_point(void) {
  hs_point p = make_point();
  hs_shape shape;
  hs_err err;
  hs_result quiet, heard, stopped;
  CHECK(hs_point_shape(&p, &shape, &err) == HS_OK, "%s", err.msg);
  hs_result_alloc(&quiet, &shape, &err);
  hs_result_alloc(&heard, &shape, &err);
  hs_result_alloc(&stopped, &shape, &err);
  CHECK(hs_point_run(&p, &quiet, NULL, NULL, &err) == HS_OK, "%s", err.msg);
  listener l = {.lowest = 1, .highest = 0};
  CHECK(hs_point_run(&p, &heard, listen, &l, &err) == HS_OK, "%s", err.msg);
  CHECK(l.calls > 0, "a point of about a second never called its listener");
  CHECK(!l.decreased && l.lowest >= 0 && l.highest <= 1,
        "fractions not rising within [0, 1]: %g..%g", l.lowest, l.highest);
  for (int f = 0; f < hs_n_result_fields; f++) {
    const hs_result_field *field = &hs_result_fields[f];
    if (strcmp(field->name, "seconds") == 0) continue;
    size_t n = hs_result_field_size(field, &shape);
    const double *a = hs_result_field_data(&quiet, field), *b = hs_result_field_data(&heard, field);
    int same = 1;
    for (size_t i = 0; i < n; i++) same &= a[i] == b[i] || (isnan(a[i]) && isnan(b[i]));
    CHECK(same, "%s differs when a listener is called", field->name);
  }
  listener s = {.stop_at = 1};
  CHECK(hs_point_run(&p, &stopped, listen, &s, &err) == HS_EINTERRUPT,
        "a point told to stop did not return HS_EINTERRUPT");
  hs_result_free(&quiet);
  hs_result_free(&heard);
  hs_result_free(&stopped);
}

int main(void) {
  test_numerical_modules();
  test_point();
  return check_report("progress");
}
