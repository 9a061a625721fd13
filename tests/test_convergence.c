/* test_convergence.c: whether a point knows it had stopped moving, and how
 * its heads share their attention (issue 19).
 * - The B-softmax started at its Bayes point (a fixed point of Lpop) is
 *   converged at once; a flow stopped long before it specialises is not.
 * - ode/speed, from the right-hand side, equals a finite difference of the
 *   recorded order parameters between two runs a small dt apart.
 * - ode.stop_when_converged stops at a converged record, stores that time,
 *   leaves the later records NaN, and the records it computed equal those
 *   of the same point run without stopping, bit for bit.
 * - It does not stop on a plateau (issue 25): a small start (sigma0 0.05,
 *   d = 1000) on a Gaussian without a mean lingers near m = 0, slow enough
 *   per unit log-time for the loss and speed rule (which stopped it at
 *   t = 1), until both features escape; the stop comes after both escapes
 *   of the same point run to t_max, and the flag at a plateau's end is 0.
 * - The attention statistics at R = 0 (every score zero) against their
 *   closed forms for each activation, and SGD's softmax heads each give out
 *   exactly 1/H.
 * Usage: test_convergence [fixed|speed|stop|plateau|attention] (default: all). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/point.h"
#include "headspec/stability.h"
#include "point_fixture.h"
#include "point_run.h"

/* Gradient flow of the ODE alone on flipping(1, 2), log records. */
static hs_point flow(const char *act, double t_max) {
  hs_point p = hs_test_point(act);
  p.run_sgd = 0, p.noise_term = 0, p.records = 21, p.t_max = t_max, p.t_min = 0.1;
  p.ode_samples = 20000;
  p.record_grid = HS_GRID_LOG;
  return p;
}

static void test_fixed_point(void) {
  hs_point p = flow("bsoftmax", 20);
  p.ode_start = HS_START_BAYES;
  hs_result r;
  if (run(&p, &r)) return;
  CHECK(r.ode_converged[0] == 1, "Bayes point: loss rate %g, speed %g", r.ode_loss_rate[0],
        r.ode_speed[0]);
  CHECK_CLOSE(r.ode_t_stop[0], 20, 1e-9, "t_stop at t_max");
  hs_result_free(&r);
  /* from the SGD start, stopped at t = 2: still on its way */
  p = flow("bsoftmax", 2);
  p.start_noise = 0.3;
  if (run(&p, &r)) return;
  CHECK(r.ode_converged[0] == 0, "t = 2: loss rate %g, speed %g", r.ode_loss_rate[0],
        r.ode_speed[0]);
  CHECK(r.ode_speed[0] > 10 * p.converged_speed_tol, "speed %g", r.ode_speed[0]);
  hs_result_free(&r);
}

/* |theta| of the last record of a run: theta = (m, Q, b, lambda). */
static void last_theta(const hs_result *r, double *theta) {
  int H = r->shape.H, K = r->shape.K, j = r->shape.T - 1, n = 0;
  for (int i = 0; i < H * K; i++) theta[n++] = r->ode_m[(size_t)j * H * K + i];
  for (int i = 0; i < H * H; i++) theta[n++] = r->ode_Q[(size_t)j * H * H + i];
  for (int i = 0; i < H; i++) theta[n++] = r->ode_b[(size_t)j * H + i];
  theta[n] = r->ode_lambda[j];
}

static void test_speed(void) {
  const char *acts[] = {"softmax", "softmax1", "bsoftmax"};
  for (int a = 0; a < 3; a++) {
    double t1 = 3, dt = 1e-4;
    hs_point p = flow(acts[a], t1);
    p.start_noise = 0.3, p.ode_rtol = 1e-12, p.ode_atol = 1e-12, p.ode_samples = 2000;
    hs_result r1, r0;
    if (run(&p, &r1)) return;
    p.t_max = t1 - dt;
    if (run(&p, &r0)) return;
    int n = 2 * 2 + 2 * 2 + 2 + 1;
    double th1[11], th0[11], diff = 0, norm = 0;
    last_theta(&r1, th1), last_theta(&r0, th0);
    for (int i = 0; i < n; i++) diff += (th1[i] - th0[i]) * (th1[i] - th0[i]), norm += th1[i] * th1[i];
    double fd = t1 * sqrt(diff) / dt / fmax(sqrt(norm), 1);
    CHECK(fabs(r1.ode_speed[0] - fd) <= 1e-3 * fd, "%s: speed %.8g, finite difference %.8g",
          acts[a], r1.ode_speed[0], fd);
    hs_result_free(&r1), hs_result_free(&r0);
  }
}

static void test_stop(void) {
  hs_point p = flow("bsoftmax", 1000);
  p.ode_start = HS_START_BAYES;
  p.start_noise = 0.3;
  hs_result all, stopped;
  if (run(&p, &all)) return;
  p.ode_stop_converged = 1;
  if (run(&p, &stopped)) return;
  int T = stopped.shape.T, j = 0;
  while (j < T && !isnan(stopped.ode_t[j])) j++;
  CHECK(j > 1 && j < T, "stopped after record %d of %d", j - 1, T);
  if (!(j > 1 && j < T)) return;
  CHECK(stopped.ode_converged[0] == 1, "converged at the stop");
  CHECK(stopped.ode_t_stop[0] == stopped.ode_t[j - 1], "t_stop %g, last record %g",
        stopped.ode_t_stop[0], stopped.ode_t[j - 1]);
  CHECK(stopped.ode_t_stop[0] < p.t_max, "t_stop %g", stopped.ode_t_stop[0]);
  int H = p.H, K = 2, same = 1, nan_after = 1;
  for (int i = 0; i < j; i++) {
    same &= stopped.ode_loss[i] == all.ode_loss[i] && stopped.ode_t[i] == all.ode_t[i];
    for (int k = 0; k < H * K; k++) same &= stopped.ode_m[i * H * K + k] == all.ode_m[i * H * K + k];
  }
  for (int i = j; i < T; i++) nan_after &= isnan(stopped.ode_loss[i]) && isnan(stopped.ode_m[i * H * K]);
  CHECK(same, "records before the stop equal the uninterrupted run's");
  CHECK(nan_after, "records after the stop are NaN");
  CHECK_CLOSE(all.ode_t_stop[0], p.t_max, 1e-9, "without stopping t_stop = t_max");
  hs_result_free(&all), hs_result_free(&stopped);
}

/* Gradient flow on diag_gaussian(2, 1) from a small SGD start: the heads
 * sit near m = 0 (a saddle of the flow) before spike 0, then spike 1,
 * escapes. */
static hs_point plateau_point(double t_max) {
  static const double betas[] = {2.0, 1.0};
  hs_point p = flow("softmax", t_max);
  strcpy(p.dist.name, "diag_gaussian");
  p.dist.betas = (hs_matrix){betas, 1, 2};
  p.record_grid = HS_GRID_LINEAR;
  p.records = (int)(2 * t_max) + 1, p.t_min = 0; /* every 0.5 */
  p.sigma0 = 0.05, p.d = 1000, p.ode_samples = 2000;
  return p;
}

static void test_plateau(void) {
  hs_point p = plateau_point(30);
  hs_result all, stopped;
  if (run(&p, &all)) return;
  double escape[2];
  hs_stability_measured_escape(all.shape.T, all.ode_t, all.ode_m, p.H, 2, 0.1, escape);
  CHECK(escape[0] > 2 && escape[1] > escape[0] && escape[1] < 25,
        "the escapes (spike 0 at %g, spike 1 at %g) after a plateau, before t_max", escape[0],
        escape[1]);
  p.ode_stop_converged = 1;
  if (run(&p, &stopped)) return;
  CHECK(stopped.ode_t_stop[0] > escape[1], "stopped at t = %g, before the escapes at %g and %g",
        stopped.ode_t_stop[0], escape[0], escape[1]);
  /* run to the plateau's end only: slow by the rule's rates, yet a saddle */
  p = plateau_point(1);
  p.ode_stop_converged = 0;
  hs_result early;
  if (run(&p, &early)) return;
  CHECK(early.ode_loss_rate[0] < p.converged_loss_tol && early.ode_speed[0] < p.converged_speed_tol,
        "at t = 1 the loss (%g) and state (%g) are slow", early.ode_loss_rate[0],
        early.ode_speed[0]);
  CHECK(early.ode_converged[0] == 0, "a plateau is not converged");
  hs_result_free(&all), hs_result_free(&stopped), hs_result_free(&early);
}

/* Record 0 of a given start m = 0, Q = 0: every score is zero. */
static void test_attention(void) {
  static const double zero[16] = {0}, b4[4] = {0, 0, -2, -1};
  const char *acts[] = {"softmax", "softmax1", "bsoftmax"};
  int H = 4, L = 8;
  for (int a = 0; a < 3; a++) {
    hs_point p = flow(acts[a], 1);
    p.H = H, p.L = L, p.attention_samples = 64, p.ode_samples = 100, p.records = 2;
    p.ode_start = HS_START_GIVEN;
    p.start_m = (hs_matrix){zero, H, 2}, p.start_Q = (hs_matrix){zero, H, H};
    p.start_b = (hs_matrix){b4, 1, H};
    hs_result r;
    if (run(&p, &r)) return;
    double z = 0;
    for (int h = 0; h < H; h++) z += exp(b4[h]);
    for (int h = 0; h < H; h++) {
      double total, sink = NAN;
      if (a == 0) total = 1.0 / H;
      else if (a == 1) total = (1.0 / H) * L / (exp(b4[h]) + L), sink = exp(b4[h]) / (exp(b4[h]) + L);
      else total = exp(b4[h]) / z;
      CHECK_CLOSE(r.ode_attn_total[h], total, 1e-12, acts[a]);
      CHECK_CLOSE(r.ode_attn_relevant[h], total / L, 1e-12, acts[a]);
      CHECK(isnan(sink) ? isnan(r.ode_attn_sink[h]) : fabs(r.ode_attn_sink[h] - sink) < 1e-12,
            "%s sink %g vs %g", acts[a], r.ode_attn_sink[h], sink);
    }
    /* quiet: total under a quarter of the busiest (bsoftmax: e^-2 only) */
    CHECK_CLOSE(r.ode_quiet_heads[0], a == 2 ? 1 : 0, 0, acts[a]);
    hs_result_free(&r);
  }
  /* SGD's softmax heads each give out 1/H whatever their state */
  hs_point p = hs_test_point("softmax");
  p.run_sgd = 1, p.run_ode = 0, p.attention_samples = 32, p.records = 3;
  hs_result r;
  if (run(&p, &r)) return;
  for (int i = 0; i < 3 * p.H; i++) CHECK_CLOSE(r.sgd_attn_total[i], 1.0 / p.H, 1e-12, "sgd");
  CHECK(!isnan(r.sgd_converged[0]) && !isnan(r.sgd_speed[0]), "SGD judged");
  hs_result_free(&r);
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : "";
  if (!*only || !strcmp(only, "fixed")) test_fixed_point();
  if (!*only || !strcmp(only, "speed")) test_speed();
  if (!*only || !strcmp(only, "stop")) test_stop();
  if (!*only || !strcmp(only, "plateau")) test_plateau();
  if (!*only || !strcmp(only, "attention")) test_attention();
  return check_report("convergence");
}
