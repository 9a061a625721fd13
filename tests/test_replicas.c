/* test_replicas.c: the ODE's Monte Carlo replicas (ode.replicas,
 * phase_replicas.c, issue 26 items 2 and 3).
 *
 * - Identity: replica r's records are, bit for bit, the point's ODE
 *   integrated here by hand on population stream HS_STREAM_REPLICA + r
 *   (drawn as set 0: antithetic, moments matched), and the quarter run's
 *   escape times those of the same on N/4 samples of HS_STREAM_QUARTER;
 *   replica 0 is the ode/ run, unchanged by the replicas beside it.
 * - In law: the replicas' spread equals the spread over independent runs
 *   (the same point with R = 1 under other seeds, whose set 0 is an
 *   independent set), by an F test on the variances and a Welch test on
 *   the means, each at a false-alarm rate of 1e-4 over the quantities.
 * - The head-symmetric prediction per replica (analysis.stability,
 *   replicas/predicted_t): replica 0's is stability/predicted_t bit for
 *   bit, replica r's is, bit for bit, the tangent flow computed here by
 *   hand from the ODE's record 0 on the right-hand side built on stream
 *   HS_STREAM_REPLICA + r; the predictions' spread over the replicas is
 *   that of the measured escapes (each sd finite, nonzero, within 2x of
 *   the other: the prediction follows its set's source term); without
 *   analysis.stability the field stays NaN.
 * - The convergence-in-N verdict fires where N is clearly too small (the
 *   source term seeding escapes: no control variate, a tiny start, few
 *   samples) and not where it is large.
 * - hs_point_samples_needed: the rule validate warns by. */
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "check.h"
#include "headspec/ode.h"
#include "headspec/population.h"
#include "headspec/stability.h"
#include "headspec/timegrid.h"
#include "point_fixture.h"
#include "point_run.h"

enum { H = 2, K = 2, W = K + H };

/* Gaussian features (2, 1), gradient flow from a given small start,
 * rkf45: each feature leaves its saddle. */
static hs_point gaussian_point(int N, int R, double start, int cv, double t_max, int T) {
  hs_point p = hs_test_point("softmax");
  static double betas[2] = {2, 1}, m[H * K], Q[H * H];
  double mm[H * K] = {start, -0.7 * start, -0.5 * start, 1.3 * start};
  memcpy(m, mm, sizeof m);
  for (int i = 0; i < H; i++)
    for (int j = 0; j < H; j++) {
      double q = (i == j) * 0.25;
      for (int k = 0; k < K; k++) q += m[i * K + k] * m[j * K + k];
      Q[i * H + j] = q;
    }
  strcpy(p.dist.name, "diag_gaussian");
  p.dist.betas = (hs_matrix){betas, 1, 2};
  p.ode_start = HS_START_GIVEN;
  p.start_m = (hs_matrix){m, H, K};
  p.start_Q = (hs_matrix){Q, H, H};
  p.ode_method = HS_ODE_RKF45;
  p.run_sgd = 0, p.noise_term = 0, p.ode_samples = N, p.ode_replicas = R;
  p.ode_control_variate = cv, p.t_max = t_max, p.records = T, p.maps = 1;
  p.stability_threshold = 0.1, p.fresh_samples = 2000;
  return p;
}

/* The point's ODE on stream `stream` of n samples, by hand, through its
 * records: m (T x H x K) and the loss at each. */
static void by_hand(const hs_point *p, uint64_t stream, int n, double *m, double *loss) {
  hs_dist dist;
  hs_err err;
  hs_population pop;
  CHECK(hs_dist_init(&dist, &p->dist, &err) == HS_OK, "%s", err.msg);
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, p->L, H, n, p->job_seed,
                           (uint64_t)p->seed, stream, NULL, &err) == HS_OK, "%s", err.msg);
  hs_population_make_antithetic(&pop);
  if (p->ode_control_variate) hs_population_match_moments(&pop, &dist);
  size_t dim = hs_ode_dim(H, K);
  double *y = calloc(dim, sizeof(double)), times[64];
  hs_timegrid(0, p->t_min, p->t_max, p->records, times);
  CHECK(hs_population_represent(H, K, p->start_m.data, p->start_Q.data, y, &err) == HS_OK,
        "%s", err.msg);
  y[dim - 1] = p->start_lambda;
  hs_ode_config cfg = {.method = HS_ODE_RKF45, .eta_over_B = p->eta / p->B, .kappa = p->kappa,
                       .rtol = p->ode_rtol, .atol = p->ode_atol, .dist = &dist,
                       .control_variate = p->ode_control_variate, .job_seed = p->job_seed,
                       .seed = (uint64_t)p->seed, .antithetic = 1};
  hs_ode *ode;
  CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  double t = 0;
  for (int j = 0; j < p->records; j++) {
    CHECK(hs_ode_advance(ode, y, &t, times[j], &err) == HS_OK, "%s", err.msg);
    for (int h = 0; h < H; h++) memcpy(m + (j * H + h) * K, y + h * W, sizeof(double) * K);
    loss[j] = hs_population_loss(&pop, H, y, NULL, y + H * W, y[dim - 1], NULL, NULL, NULL,
                                 NULL, NULL);
  }
  hs_ode_free(ode);
  free(y);
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

static int same_bits(const double *a, const double *b, size_t n) {
  return memcmp(a, b, n * sizeof(double)) == 0;
}

static void test_identity(void) {
  enum { R = 3, T = 9, N = 512 };
  hs_point p = gaussian_point(N, R, 0.01, 1, 4, T), alone = p;
  alone.ode_replicas = 1;
  hs_result r, r1;
  if (run(&p, &r)) return;
  if (run(&alone, &r1)) return hs_result_free(&r);
  CHECK(r.shape.replicas == R && r1.shape.replicas == 0, "shapes %d %d", r.shape.replicas,
        r1.shape.replicas);
  size_t THK = (size_t)T * H * K;
  CHECK(same_bits(r.ode_m, r1.ode_m, THK) && same_bits(r.ode_loss, r1.ode_loss, T) &&
            same_bits(r.ode_Q, r1.ode_Q, (size_t)T * H * H),
        "replica 0 (ode/) is the run without replicas");
  CHECK(same_bits(r.rep_m, r.ode_m, THK) && same_bits(r.rep_loss, r.ode_loss, T),
        "replicas/ slot 0 is ode/");
  double m[T * H * K], loss[T];
  for (int k = 1; k < R; k++) {
    by_hand(&p, HS_STREAM_REPLICA + (uint64_t)k, N, m, loss);
    CHECK(same_bits(r.rep_m + k * THK, m, THK), "replica %d's m is its stream's ODE", k);
    CHECK(same_bits(r.rep_loss + (size_t)k * T, loss, T), "replica %d's loss", k);
    CHECK(!same_bits(r.rep_m + k * THK, r.ode_m, THK), "replica %d differs from replica 0", k);
  }
  by_hand(&p, HS_STREAM_QUARTER, N / 4, m, loss);
  CHECK(r.quarter_loss[0] == loss[T - 1], "quarter loss %.17g vs %.17g", r.quarter_loss[0],
        loss[T - 1]);
  double esc[K];
  hs_stability_measured_escape(T, r.ode_t, m, H, K, 0.1, esc);
  for (int k = 0; k < K; k++)
    CHECK(same_bits(&r.quarter_escape_t[k], &esc[k], 1), "quarter escape %d: %g vs %g", k,
          r.quarter_escape_t[k], esc[k]);
  for (int k = 0; k < R; k++)
    CHECK(isfinite(r.rep_loss_fresh[k]), "replica %d's out-of-sample loss", k);
  CHECK(r.rep_loss_fresh[0] == r.ode_loss_fresh[0], "replica 0's fresh loss is ode/loss_fresh");
  hs_result_free(&r), hs_result_free(&r1);
}

/* Sample mean and variance of x[0], x[stride], ... (n of them). */
static void moments(const double *x, int n, int stride, double *mean, double *var) {
  double s = 0, q = 0;
  for (int i = 0; i < n; i++) s += x[i * stride];
  *mean = s / n;
  for (int i = 0; i < n; i++) q += (x[i * stride] - *mean) * (x[i * stride] - *mean);
  *var = q / (n - 1);
}

/* Two samples of one law: variances by a two-sided F test, means by
 * Welch's t, each at false-alarm rate alpha. */
static void same_law(const double *a, int na, int sa, const double *b, int nb, int sb,
                     double alpha, const char *what) {
  double ma, va, mb, vb;
  moments(a, na, sa, &ma, &va);
  moments(b, nb, sb, &mb, &vb);
  double lo = gsl_cdf_fdist_Pinv(alpha / 4, na - 1, nb - 1);
  double hi = gsl_cdf_fdist_Qinv(alpha / 4, na - 1, nb - 1);
  CHECK(va / vb > lo && va / vb < hi, "%s: variance ratio %.3g outside [%.3g, %.3g]", what,
        va / vb, lo, hi);
  double se = sqrt(va / na + vb / nb), tq = gsl_cdf_tdist_Qinv(alpha / 4, na + nb - 2);
  CHECK(fabs(ma - mb) < tq * se, "%s: means %.6g and %.6g differ by %.2g standard errors", what,
        ma, mb, fabs(ma - mb) / se);
  printf("  %s: replicas %.6g (sd %.3g), separate runs %.6g (sd %.3g)\n", what, ma, sqrt(va), mb,
         sqrt(vb));
}

/* The stability phase's head-symmetric prediction, by hand, on stream
 * `stream` of the point's samples: from the ODE's record 0 (m, Q of res;
 * b = 0, lambda as recorded), its head average as the reference, the rest
 * as the seed, the tangent flow sampled 8 times per record interval. */
static void predicted_by_hand(const hs_point *p, const hs_result *res, uint64_t stream,
                              double *t_escape) {
  hs_dist dist;
  hs_err err;
  hs_population pop;
  CHECK(hs_dist_init(&dist, &p->dist, &err) == HS_OK, "%s", err.msg);
  CHECK(hs_population_init(&pop, &hs_softmax, &dist, p->L, H, p->ode_samples, p->job_seed,
                           (uint64_t)p->seed, stream, NULL, &err) == HS_OK, "%s", err.msg);
  hs_population_make_antithetic(&pop);
  if (p->ode_control_variate) hs_population_match_moments(&pop, &dist);
  size_t dim = hs_ode_dim(H, K);
  double *y0 = calloc(dim, sizeof(double)), *ys = calloc(dim, sizeof(double));
  double *delta = calloc(dim, sizeof(double)), sign[H * K];
  CHECK(hs_population_represent(H, K, res->ode_m, res->ode_Q, y0, &err) == HS_OK, "%s",
        err.msg);
  for (int h = 0; h < H; h++) y0[H * W + h] = isnan(res->ode_b[h]) ? 0 : res->ode_b[h];
  y0[dim - 1] = res->ode_lambda[0];
  CHECK(hs_stability_symmetric_state(H, K, y0, ys, &err) == HS_OK, "%s", err.msg);
  for (size_t i = 0; i < dim; i++) delta[i] = y0[i] - ys[i];
  hs_ode_config cfg = {.eta_over_B = p->eta / p->B, .kappa = p->kappa, .rtol = p->ode_rtol,
                       .atol = p->ode_atol, .control_variate = p->ode_control_variate,
                       .dist = &dist};
  hs_ode *ode;
  CHECK(hs_ode_create(&pop, &cfg, &ode, &err) == HS_OK, "%s", err.msg);
  hs_stability_flow flow = {.ode = ode, .H = H, .K = K, .symmetric = 1,
                            .threshold = p->stability_threshold, .rtol = p->ode_rtol,
                            .atol = p->ode_atol};
  CHECK(hs_stability_escape(&flow, ys, delta, 0, p->t_max, 8 * (p->records - 1), t_escape, sign,
                            NULL, &err) == HS_OK,
        "%s", err.msg);
  hs_ode_free(ode);
  free(y0), free(ys), free(delta);
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

static void test_predicted(void) {
  enum { R = 8, T = 33, N = 256 };
  hs_point p = gaussian_point(N, R, 0.02, 1, 16, T);
  strcpy(p.dist.name, "flipping"); /* both features escape from the given start */
  p.dist.betas = (hs_matrix){0};
  p.dist.b1 = 1, p.dist.b2 = 2;
  p.stability = 1;
  hs_result r;
  if (run(&p, &r)) return;
  CHECK(same_bits(r.rep_predicted_t, r.stab_predicted_t, K),
        "replica 0's prediction is stability/predicted_t");
  for (int k = 0; k < K; k++)
    CHECK(isfinite(r.stab_predicted_t[k]), "feature %d is predicted to escape before t_max", k);
  double t[K];
  for (int i = 1; i < R; i++) {
    predicted_by_hand(&p, &r, HS_STREAM_REPLICA + (uint64_t)i, t);
    CHECK(same_bits(r.rep_predicted_t + (size_t)i * K, t, K),
          "replica %d's prediction (%.17g, %.17g) is its stream's by hand (%.17g, %.17g)", i,
          r.rep_predicted_t[i * K], r.rep_predicted_t[i * K + 1], t[0], t[1]);
  }
  predicted_by_hand(&p, &r, 0, t);
  CHECK(same_bits(r.stab_predicted_t, t, K), "set 0's by hand is stability/predicted_t");
  for (int k = 0; k < K; k++) {
    double mp, vp, mm, vm;
    moments(r.rep_predicted_t + k, R, K, &mp, &vp);
    moments(r.rep_escape_t + k, R, K, &mm, &vm);
    double ratio = sqrt(vp / vm);
    printf("  feature %d: predicted %.4g (sd %.3g over %d replicas), measured %.4g (sd %.3g)\n",
           k + 1, mp, sqrt(vp), R, mm, sqrt(vm));
    CHECK(vp > 0 && isfinite(vp) && vm > 0 && isfinite(vm) && ratio > 0.5 && ratio < 2,
          "feature %d: the predictions' spread %.3g is the measured escapes' %.3g (ratio %.3g)",
          k + 1, sqrt(vp), sqrt(vm), ratio);
  }
  hs_result_free(&r);
  p.stability = 0, p.ode_replicas = 2;
  if (run(&p, &r)) return;
  for (int i = 0; i < 2 * K; i++)
    CHECK(isnan(r.rep_predicted_t[i]), "no prediction without analysis.stability");
  hs_result_free(&r);
}

static void test_spread(void) {
  enum { R = 16, T = 4, N = 256 };
  hs_point p = gaussian_point(N, R, 0.02, 1, 3, T);
  hs_result r;
  if (run(&p, &r)) return;
  double loss[R], m11[R];
  for (int s = 0; s < R; s++) {
    hs_point q = p;
    q.ode_replicas = 1, q.seed = 100 + s; /* another seed: an independent set 0 */
    hs_result one;
    if (run(&q, &one)) break;
    loss[s] = one.ode_loss[T - 1], m11[s] = one.ode_m[(T - 1) * H * K];
    hs_result_free(&one);
  }
  /* two quantities, each with two tests inside same_law at 1e-4 / 2 */
  same_law(r.rep_loss + T - 1, R, T, loss, R, 1, 0.5e-4, "final loss");
  same_law(r.rep_m + (T - 1) * H * K, R, T * H * K, m11, R, 1, 0.5e-4, "final m_11");
  hs_result_free(&r);
}

/* N clearly too small: no control variate, a start of 1e-3 against a
 * source of order 1/sqrt(64) = 0.12 (the quarter set: 16 samples). N
 * large: the control variate on and a start of 0.02. */
static void test_flag(void) {
  hs_point small = gaussian_point(64, 4, 1e-3, 0, 8, 33);
  hs_point large = gaussian_point(8192, 4, 0.02, 1, 8, 33);
  hs_result r;
  if (!run(&small, &r)) {
    CHECK(r.n_converged[0] == 0, "N = 64 without the control variate is flagged (%g)",
          r.n_converged[0]);
    printf("  N = 64: loss move %.3g ± %.2g, escape moves %.3g ± %.2g, %.3g ± %.2g\n",
           r.loss_move[0], r.loss_move_se[0], r.escape_move[0], r.escape_move_se[0],
           r.escape_move[1], r.escape_move_se[1]);
    hs_result_free(&r);
  }
  if (!run(&large, &r)) {
    CHECK(r.n_converged[0] == 1, "N = 8192 with the control variate is not flagged (%g)",
          r.n_converged[0]);
    printf("  N = 8192: loss move %.3g ± %.2g, escape moves %.3g ± %.2g, %.3g ± %.2g\n",
           r.loss_move[0], r.loss_move_se[0], r.escape_move[0], r.escape_move_se[0],
           r.escape_move[1], r.escape_move_se[1]);
    hs_result_free(&r);
  }
}

static void test_samples_needed(void) {
  hs_dist dist;
  hs_err err;
  hs_point p = gaussian_point(4096, 1, 0.01, 1, 8, 9);
  CHECK(hs_dist_init(&dist, &p.dist, &err) == HS_OK, "%s", err.msg);
  CHECK(hs_point_samples_needed(&p, &dist) == 0, "gaussian with the control variate: none");
  p.ode_control_variate = 0; /* given start: max_h |m_hk| is 0.01 (k = 1), 0.013 (k = 2) */
  CHECK_CLOSE(hs_point_samples_needed(&p, &dist), 16 / (0.01 * 0.01), 1e-6, "given start");
  p.ode_start = HS_START_SGD; /* sigma0 / sqrt(d) = 0.05 */
  CHECK_CLOSE(hs_point_samples_needed(&p, &dist), 16 / 0.0025, 1e-6, "sgd start");
  hs_dist_free(&dist);
  hs_point f = hs_test_point("softmax"); /* flipping: c_1 = b1 is driven, c_2 flips */
  CHECK(hs_dist_init(&dist, &f.dist, &err) == HS_OK, "%s", err.msg);
  CHECK_CLOSE(hs_point_samples_needed(&f, &dist), 16 / 0.0025, 1e-6,
              "flipping without the control variate: c_2 (sigma0 / sqrt(d) = 0.05)");
  f.ode_control_variate = 1;
  CHECK(hs_point_samples_needed(&f, &dist) == 0, "flipping with it: c_2 covered, c_1 driven");
  hs_dist_free(&dist);
}

int main(void) {
  test_samples_needed();
  test_identity();
  test_spread();
  test_predicted();
  test_flag();
  return check_report("test_replicas");
}
