/* dist.h: feature-weight distributions P_c and the teacher's spikes
 * (MODEL.md section 1).
 *
 * Distributions are a table (GSL's algorithms-as-data): each entry names the
 * job keys it reads and builds an hs_dist from hs_dist_params. Every
 * distribution is stored either as atoms with probabilities (flipping, onehot,
 * discrete) or as independent Gaussians (gaussian, diag_gaussian); sampling,
 * the mean and the Bayes function phi are written once for each form.
 */
#ifndef HEADSPEC_DIST_H
#define HEADSPEC_DIST_H

#include "headspec/error.h"
#include "headspec/rng.h"

enum { HS_NAME_LEN = 16 };

/* A row-major matrix given in a job file (a vector has rows == 1). */
typedef struct hs_matrix {
  const double *data;
  int rows, cols;
} hs_matrix;

/* The job's description of P_c; which fields count depends on the name. */
typedef struct hs_dist_params {
  char name[HS_NAME_LEN];
  double b1, b2;       /* flipping */
  double beta;         /* onehot */
  int K;               /* onehot, gaussian */
  int is_signed;       /* onehot */
  double bmin, bmax;   /* gaussian */
  hs_matrix atoms;     /* discrete: one atom per row */
  hs_matrix probs;     /* discrete: 1 x atoms */
  hs_matrix betas;     /* diag_gaussian: 1 x K standard deviations */
} hs_dist_params;

typedef struct hs_dist {
  const struct hs_dist_type *type;
  int K;
  int n_atoms;      /* > 0: c is one of the atoms; 0: Gaussian */
  double *atoms;    /* n_atoms x K */
  double *probs;    /* n_atoms, summing to 1 */
  double *scales;   /* K standard deviations (Gaussian form) */
  double *mean;     /* K: E[c] */
} hs_dist;

typedef struct hs_dist_type {
  const char *name;
  const char *keys; /* space-separated job keys this distribution reads */
  hs_status (*build)(hs_dist *d, const hs_dist_params *p, hs_err *err);
} hs_dist_type;

/* The table entry for a name, or NULL. */
const hs_dist_type *hs_dist_find(const char *name);
/* Space-separated list of all names (for messages). */
const char *hs_dist_names(void);
/* Whether the distribution reads this job key. */
int hs_dist_uses_key(const hs_dist_type *type, const char *key);

/* Build d from p (validating it); free with hs_dist_free. */
hs_status hs_dist_init(hs_dist *d, const hs_dist_params *p, hs_err *err);
void hs_dist_free(hs_dist *d);

/* Draw one c in R^K. */
void hs_dist_sample(const hs_dist *d, hs_rng *r, double *c);

/* Whether P_c is symmetric under c_k -> -c_k (the other components
 * kept): always for the Gaussian forms; for atoms, when every atom's
 * mirror image carries the same probability (flipping: k = 1 only, 0-based;
 * signed onehot: every k; unsigned onehot: none). Then the population
 * loss is even in the column m_.k, and its m_.k-gradient vanishes in
 * expectation wherever m_.k = 0 (the ODE's control variate, ode.h). */
int hs_dist_flip_symmetric(const hs_dist *d, int k);

/* log phi(u), phi(u) = E_c exp(<c,u> - |c|^2/2) (MODEL.md section 7). */
double hs_dist_log_phi(const hs_dist *d, const double *u);

/* The teacher's spikes xi (K x d, row-major): i.i.d. N(0,1) entries, spike k
 * from its own stream so it does not depend on K; with orthonormal set, an
 * exactly orthogonal set of norm sqrt(d) (Gram-Schmidt of the same draw). */
hs_status hs_teacher_spikes(double *xi, int K, int d, uint64_t job_seed,
                            uint64_t seed, int orthonormal, hs_err *err);

#endif
