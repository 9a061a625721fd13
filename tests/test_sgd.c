/* test_sgd.c: the SGD update against finite differences of the batch loss,
 * and the first phase of learning on flipping(1, 2) (sgd.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/overlap.h"
#include "headspec/sgd.h"

typedef struct setup {
  hs_dist dist;
  double *xi;
  hs_sgd_config cfg;
} setup;

static void make_setup(setup *su, const char *act, int d, int H, int B) {
  hs_err err;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  CHECK(hs_dist_init(&su->dist, &p, &err) == HS_OK, "%s", err.msg);
  su->xi = malloc(sizeof(double) * 2 * d);
  CHECK(hs_teacher_spikes(su->xi, 2, d, 3, 1, 1, &err) == HS_OK, "%s", err.msg);
  su->cfg = (hs_sgd_config){.d = d, .L = 8, .H = H, .B = B, .eta = 0.5,
                            .kappa = 1, .sigma0 = 0.5,
                            .act = hs_activation_find(act), .dist = &su->dist,
                            .xi = su->xi, .job_seed = 3, .seed = 1,
                            .test_samples = 2000};
}

static void free_setup(setup *su) {
  hs_dist_free(&su->dist);
  free(su->xi);
}

/* The step's change of W, b and lambda is -eta times the gradient of the
 * batch loss; check it along a random direction by central differences. */
static void test_step_gradient(const char *act) {
  enum { D = 60, H = 3, B = 4 };
  setup su;
  make_setup(&su, act, D, H, B);
  hs_sgd s;
  hs_err err;
  CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_OK, "%s", err.msg);
  for (int h = 0; h < H; h++) s.b[h] = 0.3 * h - 0.2; /* away from b = 0 */
  s.lambda = 1.2;
  double W0[H * D], b0[H], l0 = s.lambda, V[H * D];
  memcpy(W0, s.W, sizeof W0);
  memcpy(b0, s.b, sizeof b0);
  hs_rng r;
  hs_rng_init(&r, 99, 0, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, V, H * D);
  double h = 1e-5, eta = su.cfg.eta, bias_rate = su.cfg.kappa * eta / D;
  /* directional derivative of the batch loss along V */
  for (int i = 0; i < H * D; i++) s.W[i] = W0[i] + h * V[i];
  double up = hs_sgd_batch_loss(&s, 0);
  for (int i = 0; i < H * D; i++) s.W[i] = W0[i] - h * V[i];
  double down = hs_sgd_batch_loss(&s, 0);
  memcpy(s.W, W0, sizeof W0);
  double fd_w = (up - down) / (2 * h);
  double fd_b[H], fd_l = 0;
  for (int k = 0; k < H; k++) {
    s.b[k] = b0[k] + h;
    up = hs_sgd_batch_loss(&s, 0);
    s.b[k] = b0[k] - h;
    down = hs_sgd_batch_loss(&s, 0);
    s.b[k] = b0[k];
    fd_b[k] = (up - down) / (2 * h);
  }
  s.lambda = l0 + h;
  up = hs_sgd_batch_loss(&s, 0);
  s.lambda = l0 - h;
  down = hs_sgd_batch_loss(&s, 0);
  s.lambda = l0;
  fd_l = (up - down) / (2 * h);
  s.step = 0;
  hs_sgd_step(&s);
  double dir = 0;
  for (int i = 0; i < H * D; i++) dir += (W0[i] - s.W[i]) / eta * V[i];
  char what[64];
  snprintf(what, sizeof what, "%s: weight gradient along V", act);
  CHECK_CLOSE(dir, fd_w, 1e-6 * (1 + fabs(fd_w)), what);
  for (int k = 0; k < H; k++) {
    double g = (b0[k] - s.b[k]) / bias_rate;
    snprintf(what, sizeof what, "%s: bias gradient", act);
    CHECK_CLOSE(g, su.cfg.act->trains_b ? fd_b[k] : 0, 1e-6, what);
  }
  snprintf(what, sizeof what, "%s: lambda gradient", act);
  CHECK_CLOSE((l0 - s.lambda) / bias_rate, su.cfg.act->trains_lambda ? fd_l : 0, 1e-6, what);
  hs_sgd_free(&s);
  free_setup(&su);
}

/* Paper, first phase: the heads learn the mean direction mu = (b1, 0): m_h1
 * grows for every head while m_h2 stays small, and the loss falls well
 * below its initial value. At t = 4 (eta = 0.5, d = 500) runs give m_h1 of
 * 0.35-0.41 and a loss 0.08 below its start, for all three activations. We
 * require m_h1 > 0.25, over ten times its initial size sigma0/sqrt(d) = 0.02,
 * |m_h2| < 0.3 (specialisation comes later, near t = 10) and a drop of 0.04
 * (measured on the same 2000 test sequences both times, so the difference
 * is far less noisy than either loss). */
static void test_first_phase(const char *act) {
  enum { D = 500, H = 2 };
  setup su;
  make_setup(&su, act, D, H, 1);
  hs_sgd s;
  hs_err err;
  CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_OK, "%s", err.msg);
  double M[4], m[H * 2], Q[H * H], Qp[H * H];
  hs_overlap_spike_gram(su.xi, 2, D, M);
  double loss0 = hs_sgd_test_loss(&s);
  long steps = (long)(4.0 * D / su.cfg.eta);
  for (long i = 0; i < steps; i++) hs_sgd_step(&s);
  double loss1 = hs_sgd_test_loss(&s);
  hs_overlap_compute(s.W, H, su.xi, 2, D, M, m, Q, Qp, &err);
  printf("%s: loss %.4f -> %.4f at t = 4; m = [[%.3f %.3f] [%.3f %.3f]]\n", act,
         loss0, loss1, m[0], m[1], m[2], m[3]);
  for (int h = 0; h < H; h++) {
    CHECK(m[h * 2] > 0.25, "%s: m_%d1 = %.3f has grown", act, h + 1, m[h * 2]);
    CHECK(fabs(m[h * 2 + 1]) < 0.3, "%s: m_%d2 = %.3f still small", act, h + 1, m[h * 2 + 1]);
  }
  CHECK(loss1 < loss0 - 0.04, "%s: loss fell from %.4f to %.4f", act, loss0, loss1);
  hs_sgd_free(&s);
  free_setup(&su);
}

int main(void) {
  const char *acts[] = {"softmax", "softmax1", "bsoftmax"};
  for (int i = 0; i < 3; i++) test_step_gradient(acts[i]);
  for (int i = 0; i < 3; i++) test_first_phase(acts[i]);
  return check_report("test_sgd");
}
