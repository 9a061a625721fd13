/* test_sgd_law.c: the reduced sampler (MODEL.md section 4b) against the
 * full sampler, which is the independent reference: equal in law.
 *
 * For each activation and each shape (L > H and L < H, each with B = 1
 * and B = 3, and a tiny d with d - (H + K) < L, where the Bartlett factor
 * is L x d'), compares
 *   one step from a fixed state, over many step indices (independent
 *   batches): the increments of m, Q, b, lambda and the batch loss;
 *   a trajectory of 200 steps over 400 seeds (each seed its own
 *   initialisation, the same for both samplers): the final m, Q, b,
 *   lambda and the test loss.
 * And online SGD (the full sampler) against SGD on a fixed training set
 * so large that no sequence is used twice (shuffled epochs, within the
 * first epoch) or almost surely none (drawn with replacement from 2^31 - 1
 * sequences: a repeat has probability ~1e-4 per run): the same law, by the
 * same trajectory comparison.
 * Each quantity: means and variances within 4 standard errors and a
 * two-sample Kolmogorov-Smirnov test at p = 1e-4 (about 700 checks, so a
 * false alarm has probability about 4%; the streams are fixed, so a pass
 * is reproducible). Usage: test_sgd_law [quick] (quick: fewer samples,
 * for the sanitizer build).
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "check.h"
#include "headspec/sgd.h"

typedef struct shape {
  const char *name;
  int d, L, H, B;
} shape;

static const shape shapes[] = {
    {"L > H", 30, 6, 2, 1},
    {"L < H", 30, 2, 3, 1},
    {"B > 1", 30, 5, 2, 3},
    {"B > 1, L < H", 30, 2, 3, 3},
    {"tiny d: d' = 4 < L", 8, 6, 2, 1},
};

/* Samples of one quantity from the two samplers (or from online SGD and
 * SGD on a training set: the names say which). */
typedef struct pair {
  double *f, *r;
  int n;
  const char *fname, *rname;
} pair;

/* nq pairs of n samples each. */
static pair *pairs_alloc(int nq, int n) {
  pair *p = calloc(nq, sizeof *p);
  for (int j = 0; j < nq; j++)
    p[j] = (pair){malloc(sizeof(double) * n), malloc(sizeof(double) * n), n, "full", "reduced"};
  return p;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void moments(const double *x, int n, double *mean, double *var, double *m4) {
  double m = 0, v = 0, q = 0;
  for (int i = 0; i < n; i++) m += x[i];
  m /= n;
  for (int i = 0; i < n; i++) {
    double c = (x[i] - m) * (x[i] - m);
    v += c, q += c * c;
  }
  *mean = m, *var = v / (n - 1), *m4 = q / n;
}

/* Two-sample KS statistic of equal-size samples (sorts them). */
static double ks(double *a, double *b, int n) {
  qsort(a, n, sizeof *a, cmp_double);
  qsort(b, n, sizeof *b, cmp_double);
  double D = 0;
  for (int i = 0, j = 0; i < n && j < n;) {
    double x = a[i] <= b[j] ? a[i] : b[j];
    while (i < n && a[i] <= x) i++;
    while (j < n && b[j] <= x) j++;
    D = fmax(D, fabs((double)(i - j) / n));
  }
  return D;
}

static void compare(pair *p, const char *what) {
  int n = p->n;
  double mf, vf, qf, mr, vr, qr;
  moments(p->f, n, &mf, &vf, &qf);
  moments(p->r, n, &mr, &vr, &qr);
  if (vf == 0 && vr == 0) {
    CHECK(mf == mr, "%s: constant %g vs %g", what, mf, mr);
    return;
  }
  CHECK(fabs(mf - mr) <= 4 * sqrt((vf + vr) / n), "%s: mean %.6g (%s) vs %.6g (%s), se %.3g",
        what, mf, p->fname, mr, p->rname, sqrt((vf + vr) / n));
  double sev = sqrt((fmax(qf - vf * vf, 0) + fmax(qr - vr * vr, 0)) / n);
  CHECK(fabs(vf - vr) <= 4 * sev, "%s: variance %.6g (%s) vs %.6g (%s), se %.3g", what, vf,
        p->fname, vr, p->rname, sev);
  /* P(sqrt(n/2) D > 2.23) = 1e-4 (Kolmogorov's limit law) */
  double D = ks(p->f, p->r, n), crit = 2.23 * sqrt(2.0 / n);
  CHECK(D <= crit, "%s: KS distance %.4f > %.4f (p < 1e-4)", what, D, crit);
}

/* The state's summary: m (H x K), Q's upper triangle, b, lambda. */
static int summarise(const hs_sgd *s, double *out) {
  int d = s->cfg.d, H = s->cfg.H, K = s->K, n = 0;
  for (int h = 0; h < H; h++)
    for (int k = 0; k < K; k++)
      out[n++] = cblas_ddot(d, s->W + (size_t)h * d, 1, s->cfg.xi + (size_t)k * d, 1) / d;
  for (int h = 0; h < H; h++)
    for (int g = h; g < H; g++)
      out[n++] = cblas_ddot(d, s->W + (size_t)h * d, 1, s->W + (size_t)g * d, 1) / d;
  for (int h = 0; h < H; h++) out[n++] = s->b[h];
  out[n++] = s->lambda;
  return n;
}

static const char *label(const hs_sgd *s, int j, char *buf, size_t len) {
  int H = s->cfg.H, K = s->K;
  int nm = H * K, nq = H * (H + 1) / 2;
  if (j < nm) snprintf(buf, len, "m[%d][%d]", j / K, j % K);
  else if (j < nm + nq) snprintf(buf, len, "Q entry %d", j - nm);
  else if (j < nm + nq + H) snprintf(buf, len, "b[%d]", j - nm - nq);
  else if (j == nm + nq + H) snprintf(buf, len, "lambda");
  else snprintf(buf, len, "loss");
  return buf;
}

typedef struct setup {
  hs_dist dist;
  double *xi;
  hs_sgd_config cfg;
} setup;

static void make_setup(setup *su, const char *act, const shape *sh) {
  hs_err err;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  CHECK(hs_dist_init(&su->dist, &p, &err) == HS_OK, "%s", err.msg);
  su->xi = malloc(sizeof(double) * 2 * sh->d);
  CHECK(hs_teacher_spikes(su->xi, 2, sh->d, 5, 1, 0, &err) == HS_OK, "%s", err.msg);
  su->cfg = (hs_sgd_config){.d = sh->d, .L = sh->L, .H = sh->H, .B = sh->B, .eta = 0.5,
                            .kappa = 1, .sigma0 = 0.5, .act = hs_activation_find(act),
                            .dist = &su->dist, .xi = su->xi, .job_seed = 5, .seed = 1,
                            .test_samples = 20};
}

/* Quantities per state: m, Q, b, lambda, and a loss. */
static int n_quantities(const shape *sh) {
  return sh->H * 2 + sh->H * (sh->H + 1) / 2 + sh->H + 2;
}

/* Increments of one step from a fixed state (b and lambda away from their
 * start, so their gradients are not special), over n step indices. */
static void one_step(const char *act, const shape *sh, int n) {
  setup su;
  make_setup(&su, act, sh);
  int nq = n_quantities(sh);
  pair *p = pairs_alloc(nq, n);
  double before[64], after[64];
  for (int sampler = 0; sampler < 2; sampler++) {
    su.cfg.sampler = sampler ? HS_SAMPLER_REDUCED : HS_SAMPLER_FULL;
    hs_sgd s;
    hs_err err;
    CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_OK, "%s", err.msg);
    for (int h = 0; h < sh->H; h++) s.b[h] = 0.3 * h - 0.2;
    s.lambda = 1.2;
    size_t wsize = sizeof(double) * sh->H * sh->d;
    double *W0 = malloc(wsize), b0[8], l0 = s.lambda;
    memcpy(W0, s.W, wsize);
    memcpy(b0, s.b, sizeof(double) * sh->H);
    summarise(&s, before);
    for (int i = 0; i < n; i++) {
      memcpy(s.W, W0, wsize);
      memcpy(s.b, b0, sizeof(double) * sh->H);
      s.lambda = l0;
      s.step = i;
      double loss = hs_sgd_step(&s);
      CHECK(s.full_steps == (sampler ? 0 : i + 1), "%s: the reduced sampler fell back", sh->name);
      summarise(&s, after);
      for (int j = 0; j < nq - 1; j++) (sampler ? p[j].r : p[j].f)[i] = after[j] - before[j];
      (sampler ? p[nq - 1].r : p[nq - 1].f)[i] = loss;
    }
    free(W0);
    hs_sgd_free(&s);
  }
  hs_sgd s = {.cfg = su.cfg, .K = 2};
  for (int j = 0; j < nq; j++) {
    char what[160], lab[32];
    snprintf(what, sizeof what, "%s, %s, one step: %s", act, sh->name, label(&s, j, lab, sizeof lab));
    compare(&p[j], what);
    free(p[j].f), free(p[j].r);
  }
  free(p);
  free(su.xi);
  hs_dist_free(&su.dist);
}

/* (m, Q, b, lambda, test loss) after `steps` steps, over n seeds. */
static void trajectory(const char *act, const shape *sh, int n, int steps) {
  setup su;
  make_setup(&su, act, sh);
  int nq = n_quantities(sh);
  pair *p = pairs_alloc(nq, n);
  double out[64];
  for (int i = 0; i < n; i++)
    for (int sampler = 0; sampler < 2; sampler++) {
      su.cfg.sampler = sampler ? HS_SAMPLER_REDUCED : HS_SAMPLER_FULL;
      su.cfg.seed = 1000 + (uint64_t)i;
      hs_sgd s;
      hs_err err;
      CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_OK, "%s", err.msg);
      for (int t = 0; t < steps; t++) hs_sgd_step(&s);
      CHECK(s.full_steps == (sampler ? 0 : steps), "%s: the reduced sampler fell back", sh->name);
      summarise(&s, out);
      out[nq - 1] = hs_sgd_test_loss(&s);
      for (int j = 0; j < nq; j++) (sampler ? p[j].r : p[j].f)[i] = out[j];
      hs_sgd_free(&s);
    }
  hs_sgd s = {.cfg = su.cfg, .K = 2};
  for (int j = 0; j < nq; j++) {
    char what[160], lab[32];
    label(&s, j, lab, sizeof lab);
    if (j == nq - 1) snprintf(lab, sizeof lab, "test loss");
    snprintf(what, sizeof what, "%s, %s, after %d steps: %s", act, sh->name, steps, lab);
    compare(&p[j], what);
    free(p[j].f), free(p[j].r);
  }
  free(p);
  free(su.xi);
  hs_dist_free(&su.dist);
}

/* Online SGD against SGD on a very large training set (full sampler
 * both): (m, Q, b, lambda, test loss) after `steps` steps over n seeds. */
static void trajectory_set(const char *act, const shape *sh, int n, int steps,
                           hs_batches batches) {
  setup su;
  make_setup(&su, act, sh);
  int nq = n_quantities(sh);
  pair *p = pairs_alloc(nq, n);
  double out[64];
  const char *mode = batches == HS_BATCHES_EPOCHS ? "epochs" : "with replacement";
  for (int i = 0; i < n; i++)
    for (int set = 0; set < 2; set++) {
      su.cfg.sampler = HS_SAMPLER_FULL;
      su.cfg.seed = 1000 + (uint64_t)i;
      /* epochs: steps B < n, no sequence twice; one permutation of n */
      su.cfg.n_train = !set ? 0 : batches == HS_BATCHES_EPOCHS ? 100000 : 2147483647;
      su.cfg.batches = batches;
      su.cfg.stream_set = 1; /* draw only the sequences used */
      hs_sgd s;
      hs_err err;
      CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_OK, "%s", err.msg);
      for (int t = 0; t < steps; t++) hs_sgd_step(&s);
      summarise(&s, out);
      out[nq - 1] = hs_sgd_test_loss(&s);
      for (int j = 0; j < nq; j++) (set ? p[j].r : p[j].f)[i] = out[j];
      hs_sgd_free(&s);
    }
  hs_sgd s = {.cfg = su.cfg, .K = 2};
  for (int j = 0; j < nq; j++) {
    char what[160], lab[32];
    label(&s, j, lab, sizeof lab);
    if (j == nq - 1) snprintf(lab, sizeof lab, "test loss");
    snprintf(what, sizeof what, "%s, %s, training set (%s), after %d steps: %s", act, sh->name,
             mode, steps, lab);
    p[j].fname = "online", p[j].rname = "training set";
    compare(&p[j], what);
    free(p[j].f), free(p[j].r);
  }
  free(p);
  free(su.xi);
  hs_dist_free(&su.dist);
}

int main(int argc, char **argv) {
  int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
  const char *acts[] = {"softmax", "softmax1", "bsoftmax"};
  for (int a = 0; a < 3; a++)
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
      one_step(acts[a], &shapes[k], quick ? 400 : 4000);
      trajectory(acts[a], &shapes[k], quick ? 100 : 400, quick ? 50 : 200);
    }
  for (int a = 0; a < 3; a++)
    for (size_t k = 0; k < 3; k += 2) /* L > H, B = 1; B = 3 */
      for (int batches = 0; batches < 2; batches++)
        trajectory_set(acts[a], &shapes[k], quick ? 100 : 400, quick ? 50 : 200,
                       batches ? HS_BATCHES_WITH_REPLACEMENT : HS_BATCHES_EPOCHS);
  return check_report("test_sgd_law");
}
