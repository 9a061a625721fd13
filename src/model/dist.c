/* dist.c: the P_c table, sampling, phi, and the teacher's spikes. */
#include "headspec/dist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

static hs_status alloc_form(hs_dist *d, int K, int n_atoms, hs_err *err) {
  d->K = K;
  d->n_atoms = n_atoms;
  d->mean = calloc((size_t)K, sizeof(double));
  if (n_atoms > 0) {
    d->atoms = calloc((size_t)n_atoms * K, sizeof(double));
    d->probs = calloc((size_t)n_atoms, sizeof(double));
  } else {
    d->scales = calloc((size_t)K, sizeof(double));
  }
  if (!d->mean || (n_atoms > 0 && (!d->atoms || !d->probs)) ||
      (n_atoms == 0 && !d->scales))
    return hs_err_set(err, HS_ENOMEM, "out of memory for a distribution");
  return HS_OK;
}

/* flipping(b1, b2): c = (b1, s b2), s = +-1 with probability 1/2. */
static hs_status build_flipping(hs_dist *d, const hs_dist_params *p,
                                hs_err *err) {
  if (!isfinite(p->b1) || !isfinite(p->b2))
    return hs_err_set(err, HS_EINPUT, "flipping: b1 and b2 must be finite");
  hs_status s = alloc_form(d, 2, 2, err);
  if (s) return s;
  double atoms[4] = {p->b1, p->b2, p->b1, -p->b2};
  memcpy(d->atoms, atoms, sizeof atoms);
  d->probs[0] = d->probs[1] = 0.5;
  return HS_OK;
}

/* onehot(beta, K, signed): beta e_k, k uniform; times +-1 if signed. */
static hs_status build_onehot(hs_dist *d, const hs_dist_params *p,
                              hs_err *err) {
  if (p->K < 1) return hs_err_set(err, HS_EINPUT, "onehot: K must be >= 1");
  if (!isfinite(p->beta))
    return hs_err_set(err, HS_EINPUT, "onehot: beta must be finite");
  int signs = p->is_signed ? 2 : 1;
  int J = signs * p->K;
  hs_status s = alloc_form(d, p->K, J, err);
  if (s) return s;
  for (int j = 0; j < J; j++) {
    d->atoms[(size_t)j * p->K + j / signs] = (j % signs ? -1 : 1) * p->beta;
    d->probs[j] = 1.0 / J;
  }
  return HS_OK;
}

/* gaussian(bmin, bmax, K): c_k ~ N(0, beta_k^2), beta_k linear in k. */
static hs_status build_gaussian(hs_dist *d, const hs_dist_params *p,
                                hs_err *err) {
  if (p->K < 1) return hs_err_set(err, HS_EINPUT, "gaussian: K must be >= 1");
  if (!(p->bmin >= 0) || !(p->bmax >= 0) || !isfinite(p->bmin) ||
      !isfinite(p->bmax))
    return hs_err_set(err, HS_EINPUT,
                      "gaussian: bmin and bmax must be finite and >= 0");
  hs_status s = alloc_form(d, p->K, 0, err);
  if (s) return s;
  for (int k = 0; k < p->K; k++)
    d->scales[k] =
        p->K == 1 ? p->bmin : p->bmin + (p->bmax - p->bmin) * k / (p->K - 1);
  return HS_OK;
}

/* diag_gaussian(betas): c_k ~ N(0, beta_k^2) with the given beta_k, for
 * strengths that are not evenly spaced (two equal ones, say). */
static hs_status build_diag_gaussian(hs_dist *d, const hs_dist_params *p,
                                     hs_err *err) {
  int K = p->betas.rows * p->betas.cols;
  if (K < 1 || !p->betas.data)
    return hs_err_set(err, HS_EINPUT, "diag_gaussian: needs betas (one per spike)");
  for (int k = 0; k < K; k++)
    if (!(p->betas.data[k] >= 0) || !isfinite(p->betas.data[k]))
      return hs_err_set(err, HS_EINPUT, "diag_gaussian: betas must be finite and >= 0");
  hs_status s = alloc_form(d, K, 0, err);
  if (s) return s;
  memcpy(d->scales, p->betas.data, sizeof(double) * K);
  return HS_OK;
}

/* iso_gaussian(beta, K): c ~ N(0, beta^2 I_K), one strength to sweep. */
static hs_status build_iso_gaussian(hs_dist *d, const hs_dist_params *p,
                                          hs_err *err) {
  if (p->K < 1) return hs_err_set(err, HS_EINPUT, "iso_gaussian: K must be >= 1");
  if (!(p->beta >= 0) || !isfinite(p->beta))
    return hs_err_set(err, HS_EINPUT, "iso_gaussian: beta must be finite and >= 0");
  hs_status s = alloc_form(d, p->K, 0, err);
  if (s) return s;
  for (int k = 0; k < p->K; k++) d->scales[k] = p->beta;
  return HS_OK;
}

/* discrete(atoms, probs): atom c_j with probability p_j. */
static hs_status build_discrete(hs_dist *d, const hs_dist_params *p,
                                hs_err *err) {
  int J = p->atoms.rows, K = p->atoms.cols;
  if (J < 1 || K < 1 || !p->atoms.data || !p->probs.data)
    return hs_err_set(err, HS_EINPUT, "discrete: needs atoms and probs");
  if (p->probs.rows * p->probs.cols != J)
    return hs_err_set(err, HS_EINPUT, "discrete: %d probs for %d atoms",
                      p->probs.rows * p->probs.cols, J);
  double total = 0;
  for (int j = 0; j < J; j++) {
    if (!(p->probs.data[j] >= 0) || !isfinite(p->probs.data[j]))
      return hs_err_set(err, HS_EINPUT, "discrete: probs must be >= 0");
    total += p->probs.data[j];
  }
  if (fabs(total - 1) > 1e-6)
    return hs_err_set(err, HS_EINPUT, "discrete: probs sum to %g, not 1",
                      total);
  hs_status s = alloc_form(d, K, J, err);
  if (s) return s;
  memcpy(d->atoms, p->atoms.data, sizeof(double) * J * K);
  for (int j = 0; j < J; j++) d->probs[j] = p->probs.data[j] / total;
  return HS_OK;
}

static const hs_dist_type dist_types[] = {
    {"flipping", "b1 b2", build_flipping},
    {"onehot", "beta K signed", build_onehot},
    {"gaussian", "bmin bmax K", build_gaussian},
    {"discrete", "atoms probs", build_discrete},
    {"diag_gaussian", "betas", build_diag_gaussian},
    {"iso_gaussian", "beta K", build_iso_gaussian},
};
enum { N_DIST_TYPES = sizeof dist_types / sizeof dist_types[0] };

const hs_dist_type *hs_dist_find(const char *name) {
  for (int i = 0; i < N_DIST_TYPES; i++)
    if (strcmp(dist_types[i].name, name) == 0) return &dist_types[i];
  return NULL;
}

/* Joined from the table, once, so a new distribution is one entry. */
const char *hs_dist_names(void) {
  static char names[N_DIST_TYPES * HS_NAME_LEN];
  if (!names[0])
    for (int i = 0; i < N_DIST_TYPES; i++) {
      if (i) strcat(names, " ");
      strcat(names, dist_types[i].name);
    }
  return names;
}

int hs_dist_uses_key(const hs_dist_type *type, const char *key) {
  size_t n = strlen(key);
  for (const char *s = type->keys; (s = strstr(s, key)); s += n)
    if ((s == type->keys || s[-1] == ' ') && (s[n] == ' ' || s[n] == '\0'))
      return 1;
  return 0;
}

hs_status hs_dist_init(hs_dist *d, const hs_dist_params *p, hs_err *err) {
  memset(d, 0, sizeof *d);
  d->type = hs_dist_find(p->name);
  if (!d->type)
    return hs_err_set(err, HS_EINPUT, "unknown distribution '%s' (one of: %s)",
                      p->name, hs_dist_names());
  hs_status s = d->type->build(d, p, err);
  if (s) {
    hs_dist_free(d);
    return s;
  }
  for (int j = 0; j < d->n_atoms; j++)
    for (int k = 0; k < d->K; k++)
      d->mean[k] += d->probs[j] * d->atoms[(size_t)j * d->K + k];
  return HS_OK;
}

void hs_dist_free(hs_dist *d) {
  free(d->atoms);
  free(d->probs);
  free(d->scales);
  free(d->mean);
  memset(d, 0, sizeof *d);
}

void hs_dist_sample(const hs_dist *d, hs_rng *r, double *c) {
  if (d->n_atoms > 0) {
    double u = hs_rng_u01(hs_rng_u64(r));
    int j = 0;
    for (double cum = d->probs[0]; u > cum && j < d->n_atoms - 1;)
      cum += d->probs[++j];
    memcpy(c, d->atoms + (size_t)j * d->K, sizeof(double) * d->K);
  } else {
    hs_rng_normal(r, c, (size_t)d->K);
    for (int k = 0; k < d->K; k++) c[k] *= d->scales[k];
  }
}

/* Probability of the atom equal to c with component k times sign (the
 * others as they are): prefiltered on component k, which few atoms share. */
static double atom_mass(const hs_dist *d, const double *c, int k, double sign) {
  double mass = 0;
  for (int i = 0; i < d->n_atoms; i++) {
    const double *a = d->atoms + (size_t)i * d->K;
    if (a[k] != sign * c[k]) continue;
    int same = 1;
    for (int q = 0; q < d->K && same; q++) same = q == k || a[q] == c[q];
    if (same) mass += d->probs[i];
  }
  return mass;
}

int hs_dist_flip_symmetric(const hs_dist *d, int k) {
  if (d->n_atoms == 0) return 1; /* independent centred Gaussians */
  for (int j = 0; j < d->n_atoms; j++) {
    const double *c = d->atoms + (size_t)j * d->K;
    if (c[k] == 0) continue;
    double plus = atom_mass(d, c, k, 1), minus = atom_mass(d, c, k, -1);
    if (fabs(plus - minus) > 1e-12 * fmax(plus, minus)) return 0;
  }
  return 1;
}

/* log(p_j) + <c_j, u> - |c_j|^2/2 */
static double atom_log_weight(const hs_dist *d, int j, const double *u) {
  const double *c = d->atoms + (size_t)j * d->K;
  double v = log(d->probs[j]);
  for (int k = 0; k < d->K; k++) v += c[k] * u[k] - 0.5 * c[k] * c[k];
  return v;
}

/* MODEL.md section 7: phi(u) = E_c exp(<c,u> - |c|^2/2). */
double hs_dist_log_phi(const hs_dist *d, const double *u) {
  if (d->n_atoms == 0) {
    double s = 0;
    for (int k = 0; k < d->K; k++) {
      double b2 = d->scales[k] * d->scales[k];
      s += -0.5 * log1p(b2) + b2 * u[k] * u[k] / (2 * (1 + b2));
    }
    return s;
  }
  /* log-sum-exp over atoms: one pass for the maximum, one for the sum */
  double mx = -INFINITY;
  for (int j = 0; j < d->n_atoms; j++) mx = fmax(mx, atom_log_weight(d, j, u));
  double s = 0;
  for (int j = 0; j < d->n_atoms; j++) s += exp(atom_log_weight(d, j, u) - mx);
  return mx + log(s);
}

hs_status hs_teacher_spikes(double *xi, int K, int d, uint64_t job_seed,
                            uint64_t seed, int orthonormal, hs_err *err) {
  for (int k = 0; k < K; k++) {
    hs_rng r;
    hs_rng_init(&r, job_seed, seed, HS_PURPOSE_SPIKES, (uint64_t)k);
    hs_rng_normal(&r, xi + (size_t)k * d, (size_t)d);
  }
  if (!orthonormal) return HS_OK;
  if (K > d)
    return hs_err_set(err, HS_EINPUT,
                      "orthonormal spikes need K <= d (K = %d, d = %d)", K, d);
  /* Modified Gram-Schmidt, applied twice ("twice is enough") for exact
   * orthogonality in floating point; then rescale to norm sqrt(d). */
  for (int k = 0; k < K; k++) {
    double *x = xi + (size_t)k * d;
    for (int pass = 0; pass < 2; pass++)
      for (int j = 0; j < k; j++) {
        const double *y = xi + (size_t)j * d;
        cblas_daxpy(d, -cblas_ddot(d, x, 1, y, 1) / d, y, 1, x, 1);
      }
    double norm = cblas_dnrm2(d, x, 1);
    if (!(norm > 0))
      return hs_err_set(err, HS_ENUM, "spike %d is degenerate", k);
    cblas_dscal(d, sqrt((double)d) / norm, x, 1);
  }
  return HS_OK;
}
