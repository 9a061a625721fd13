/* test_dist.c: sampled moments of every P_c against MODEL.md's closed
 * forms, phi against direct sums and quadrature, and the spikes (dist.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/dist.h"
#include "headspec/overlap.h"

enum { N = 400000 };

/* Compare sample mean and second moment of d with the given closed forms. */
static void check_moments(const hs_dist *d, const double *mean,
                          const double *second, double scale, const char *what) {
  int K = d->K;
  double m[16] = {0}, s[256] = {0}, c[16];
  hs_rng r;
  hs_rng_init(&r, 1, 1, HS_PURPOSE_TRAIN, 0);
  for (int i = 0; i < N; i++) {
    hs_dist_sample(d, &r, c);
    for (int k = 0; k < K; k++) {
      m[k] += c[k] / N;
      for (int j = 0; j < K; j++) s[k * K + j] += c[k] * c[j] / N;
    }
  }
  double tol = 5 * scale / sqrt((double)N);
  for (int k = 0; k < K; k++) {
    CHECK_CLOSE(m[k], mean[k], tol, what);
    CHECK_CLOSE(d->mean[k], mean[k], 1e-12, what);
    for (int j = 0; j < K; j++) CHECK_CLOSE(s[k * K + j], second[k * K + j], 3 * tol * scale, what);
  }
}

static hs_dist make(hs_dist_params p) {
  hs_dist d;
  hs_err err;
  CHECK(hs_dist_init(&d, &p, &err) == HS_OK, "%s: %s", p.name, err.msg);
  return d;
}

static void test_moments(void) {
  hs_dist d = make((hs_dist_params){.name = "flipping", .b1 = 1, .b2 = 2});
  check_moments(&d, (double[]){1, 0}, (double[]){1, 0, 0, 4}, 2, "flipping");
  hs_dist_free(&d);
  d = make((hs_dist_params){.name = "onehot", .beta = 3, .K = 3});
  check_moments(&d, (double[]){1, 1, 1}, (double[]){3, 0, 0, 0, 3, 0, 0, 0, 3}, 3, "onehot");
  hs_dist_free(&d);
  d = make((hs_dist_params){.name = "onehot", .beta = 3, .K = 3, .is_signed = 1});
  check_moments(&d, (double[]){0, 0, 0}, (double[]){3, 0, 0, 0, 3, 0, 0, 0, 3}, 3, "signed onehot");
  CHECK(d.n_atoms == 6, "signed onehot has 2K atoms: %d", d.n_atoms);
  hs_dist_free(&d);
  d = make((hs_dist_params){.name = "gaussian", .bmin = 0.5, .bmax = 2, .K = 3});
  check_moments(&d, (double[]){0, 0, 0}, (double[]){0.25, 0, 0, 0, 1.5625, 0, 0, 0, 4}, 2,
                "gaussian");
  hs_dist_free(&d);
  double betas[] = {3, 1, 1}; /* two equal strengths */
  d = make((hs_dist_params){.name = "diag_gaussian", .betas = {betas, 1, 3}});
  check_moments(&d, (double[]){0, 0, 0}, (double[]){9, 0, 0, 0, 1, 0, 0, 0, 1}, 3,
                "diag_gaussian");
  hs_dist_free(&d);
  d = make((hs_dist_params){.name = "iso_gaussian", .beta = 2, .K = 2});
  check_moments(&d, (double[]){0, 0}, (double[]){4, 0, 0, 4}, 2, "iso_gaussian");
  hs_dist_free(&d);
  double atoms[] = {1, 0, 0, 2, -1, -1}, probs[] = {0.5, 0.3, 0.2};
  d = make((hs_dist_params){.name = "discrete", .atoms = {atoms, 3, 2},
                            .probs = {probs, 1, 3}});
  check_moments(&d, (double[]){0.3, 0.4}, (double[]){0.7, 0.2, 0.2, 1.4}, 2, "discrete");
  hs_dist_free(&d);
}

static void test_phi(void) {
  /* atoms: phi(u) = sum_j p_j exp(<c_j,u> - |c_j|^2/2), written out */
  hs_dist d = make((hs_dist_params){.name = "flipping", .b1 = 1, .b2 = 2});
  double u[2] = {0.3, -1.1};
  double direct = 0.5 * exp(0.3 - 2.2 - 2.5) + 0.5 * exp(0.3 + 2.2 - 2.5);
  CHECK_CLOSE(hs_dist_log_phi(&d, u), log(direct), 1e-12, "flipping phi");
  double big[2] = {400, 300}; /* no overflow */
  CHECK(isfinite(hs_dist_log_phi(&d, big)), "log phi finite at large u");
  hs_dist_free(&d);
  /* gaussian K = 1: closed form against quadrature of N(0, beta^2) */
  d = make((hs_dist_params){.name = "gaussian", .bmin = 1.5, .bmax = 1.5, .K = 1});
  double x = 0.7, beta = 1.5, integral = 0, h = 1e-3;
  for (double c = -12 * beta; c <= 12 * beta; c += h)
    integral += h * exp(-c * c / (2 * beta * beta)) / (beta * sqrt(2 * M_PI)) *
                exp(c * x - c * c / 2);
  CHECK_CLOSE(hs_dist_log_phi(&d, &x), log(integral), 1e-8, "gaussian phi");
  hs_dist_free(&d);
}

static void test_errors(void) {
  hs_dist d;
  hs_err err;
  double atoms[] = {1, 2}, probs[] = {0.5, 0.4};
  hs_dist_params bad = {.name = "discrete", .atoms = {atoms, 2, 1},
                        .probs = {probs, 1, 2}};
  CHECK(hs_dist_init(&d, &bad, &err) == HS_EINPUT, "probs must sum to 1");
  hs_dist_params unknown = {.name = "cauchy"};
  CHECK(hs_dist_init(&d, &unknown, &err) == HS_EINPUT, "unknown distribution");
  double negative[] = {1, -0.5};
  hs_dist_params bad_betas = {.name = "diag_gaussian", .betas = {negative, 1, 2}};
  CHECK(hs_dist_init(&d, &bad_betas, &err) == HS_EINPUT, "betas must be >= 0");
  hs_dist_params no_betas = {.name = "diag_gaussian"};
  CHECK(hs_dist_init(&d, &no_betas, &err) == HS_EINPUT, "diag_gaussian needs betas");
  CHECK(hs_dist_uses_key(hs_dist_find("onehot"), "K"), "onehot reads K");
  CHECK(!hs_dist_uses_key(hs_dist_find("flipping"), "b"), "flipping has no key b");
}

static void test_spikes(void) {
  enum { K = 3, D = 500 };
  static double xi[K * D];
  double M[K * K];
  hs_err err;
  CHECK(hs_teacher_spikes(xi, K, D, 1, 2, 1, &err) == HS_OK, "%s", err.msg);
  hs_overlap_spike_gram(xi, K, D, M);
  for (int i = 0; i < K * K; i++)
    CHECK_CLOSE(M[i], i % (K + 1) == 0, 1e-13, "orthonormal spikes: M = I");
  CHECK(hs_teacher_spikes(xi, K, D, 1, 2, 0, &err) == HS_OK, "%s", err.msg);
  hs_overlap_spike_gram(xi, K, D, M);
  for (int i = 0; i < K * K; i++)
    CHECK_CLOSE(M[i], i % (K + 1) == 0, 5 * sqrt(2.0 / D), "Gaussian spikes: M ~ I");
}

int main(void) {
  test_moments();
  test_phi();
  test_errors();
  test_spikes();
  return check_report("test_dist");
}
