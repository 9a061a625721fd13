/* bayes.c: Bayes risk and Bayes point (bayes.h; MODEL.md section 7). */
#include "headspec/bayes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/rng.h"

/* Sequences per stream index: the estimate does not depend on chunking. */
enum { CHUNK = 1024 };

hs_status hs_bayes_risk(const hs_dist *dist, int L, long n, uint64_t job_seed,
                        uint64_t seed, hs_progress *progress, double *risk,
                        double *se, hs_err *err) {
  int K = dist->K;
  double *u = malloc(sizeof(double) * L * K), *lp = malloc(sizeof(double) * L);
  double *c = malloc(sizeof(double) * K), sum = 0, sum2 = 0;
  if (!u || !lp || !c) {
    free(u), free(lp), free(c);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the Bayes risk (L = %d, K = %d)", L, K);
  }
  hs_rng r;
  for (long i = 0; i < n; i++) {
    if (i % CHUNK == 0) {
      hs_rng_init(&r, job_seed, seed, HS_PURPOSE_BAYES, (uint64_t)(i / CHUNK));
      hs_progress_set(progress, (double)i / n);
    }
    /* per sequence ~30 ns per token and spike or atom (log phi) */
    if (hs_progress_work(progress, 30.0 * L * (K + dist->n_atoms))) {
      free(u), free(lp), free(c);
      return hs_err_set(err, HS_EINTERRUPT, "interrupted in the Bayes risk");
    }
    hs_rng_normal(&r, u, (size_t)L * K);
    hs_dist_sample(dist, &r, c);
    for (int k = 0; k < K; k++) u[k] += c[k]; /* token 0 is the relevant one */
    double mx = -INFINITY, z = 0;
    for (int l = 0; l < L; l++) mx = fmax(mx, lp[l] = hs_dist_log_phi(dist, u + l * K));
    for (int l = 0; l < L; l++) z += lp[l] = exp(lp[l] - mx);
    double ell = 0;
    for (int l = 0; l < L; l++) {
      double e = (l == 0) - lp[l] / z;
      ell += e * e;
    }
    sum += ell, sum2 += ell * ell;
  }
  *risk = sum / n;
  *se = sqrt(fmax(sum2 / n - *risk * *risk, 0) / n);
  free(u), free(lp), free(c);
  return HS_OK;
}

hs_status hs_bayes_point(const hs_dist *dist, int H, double *R, double *b,
                         hs_err *err) {
  if (dist->n_atoms != H)
    return hs_err_set(err, HS_EINPUT,
                      "the Bayes point needs H equal to the number of atoms of P_c "
                      "(H = %d, atoms = %d%s)", H, dist->n_atoms,
                      dist->n_atoms ? "" : ": gaussian has none");
  int K = dist->K, width = K + H;
  memset(R, 0, sizeof(double) * H * width);
  for (int h = 0; h < H; h++) {
    const double *c = dist->atoms + (size_t)h * K;
    double c2 = 0;
    for (int k = 0; k < K; k++) R[h * width + k] = c[k], c2 += c[k] * c[k];
    b[h] = log(dist->probs[h]) - 0.5 * c2;
  }
  return HS_OK;
}
