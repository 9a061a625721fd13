/* test_attention.c: the analytic gradients of MODEL.md section 3 against
 * central finite differences of ell = e^T G e, for every activation, and
 * numerical safety at huge scores (attention.h). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/attention.h"
#include "headspec/rng.h"

enum { L = 6, H = 3 };

typedef struct problem {
  const hs_activation *act;
  double a[L * H], b[H], lambda, G[L * L];
  int eps;
} problem;

/* ell = e^T G e at (a, b, lambda). */
static double loss(const problem *p) {
  double work[2 * H];
  hs_attn_model m = {H, p->b, p->lambda, work};
  double P[L * H], alpha[L], e[L], ell = 0;
  p->act->forward(&m, L, p->a, P, alpha);
  hs_attn_residual(L, p->eps, alpha, e);
  for (int i = 0; i < L; i++)
    for (int j = 0; j < L; j++) ell += e[i] * p->G[i * L + j] * e[j];
  return ell;
}

static void gradients(const problem *p, double *g, double *gb, double *gl) {
  double work[2 * H];
  hs_attn_model m = {H, p->b, p->lambda, work};
  double P[L * H], alpha[L], e[L], rho[L];
  p->act->forward(&m, L, p->a, P, alpha);
  hs_attn_residual(L, p->eps, alpha, e);
  for (int i = 0; i < L; i++) {
    rho[i] = 0;
    for (int j = 0; j < L; j++) rho[i] += p->G[i * L + j] * e[j];
  }
  memset(gb, 0, sizeof(double) * H);
  *gl = 0;
  p->act->backward(&m, L, P, alpha, rho, g, gb, gl);
}

/* Central difference of the loss in the variable *x. */
static double fd(problem *p, double *x) {
  double h = 1e-6, keep = *x;
  *x = keep + h;
  double up = loss(p);
  *x = keep - h;
  double down = loss(p);
  *x = keep;
  return (up - down) / (2 * h);
}

static void random_problem(problem *p, const hs_activation *act, uint64_t seed) {
  hs_rng r;
  hs_rng_init(&r, seed, 0, HS_PURPOSE_TEST, 0);
  p->act = act;
  hs_rng_normal(&r, p->a, L * H);
  for (int i = 0; i < L * H; i++) p->a[i] *= 1.5;
  hs_rng_normal(&r, p->b, H);
  p->lambda = 1.3;
  double Y[L * 9];
  hs_rng_normal(&r, Y, L * 9);
  for (int i = 0; i < L; i++) /* G = Y Y^T / 9: a Gram matrix, not I */
    for (int j = 0; j < L; j++) {
      p->G[i * L + j] = 0;
      for (int k = 0; k < 9; k++) p->G[i * L + j] += Y[i * 9 + k] * Y[j * 9 + k] / 9;
    }
  p->eps = (int)hs_rng_below(&r, L);
}

static void test_gradients(const hs_activation *act) {
  for (uint64_t seed = 1; seed <= 5; seed++) {
    problem p;
    random_problem(&p, act, seed);
    double g[L * H], gb[H], gl;
    gradients(&p, g, gb, &gl);
    char what[64];
    snprintf(what, sizeof what, "%s d ell/d a", act->name);
    for (int i = 0; i < L * H; i++) CHECK_CLOSE(g[i], fd(&p, &p.a[i]), 1e-7, what);
    snprintf(what, sizeof what, "%s d ell/d b", act->name);
    for (int h = 0; h < H; h++)
      CHECK_CLOSE(act->trains_b ? gb[h] : 0, act->trains_b ? fd(&p, &p.b[h]) : 0, 1e-7, what);
    if (act->trains_b) {
      /* the bsoftmax is invariant to a common shift of b: sum of d/db is 0 */
      double s = 0;
      for (int h = 0; h < H; h++) s += gb[h];
      if (act == &hs_bsoftmax) CHECK_CLOSE(s, 0, 1e-12, "bsoftmax shift invariance");
    }
    if (act->trains_lambda) CHECK_CLOSE(gl, fd(&p, &p.lambda), 1e-7, "d ell/d lambda");
  }
}

/* Scores of +-800 overflow a naive exp; weights must stay finite and sum
 * to 1 (softmax, bsoftmax) or at most lambda (softmax1). */
static void test_large_scores(const hs_activation *act) {
  problem p;
  random_problem(&p, act, 9);
  for (int i = 0; i < L * H; i++) p.a[i] = (i % 2 ? 800 : -800) + i;
  p.b[0] = 900;
  double work[2 * H];
  hs_attn_model m = {H, p.b, 1.0, work};
  double P[L * H], alpha[L], g[L * H], gb[H], gl, s = 0;
  act->forward(&m, L, p.a, P, alpha);
  for (int l = 0; l < L; l++) s += alpha[l];
  CHECK(isfinite(s) && s <= 1 + 1e-12, "%s: sum alpha = %g", act->name, s);
  if (act != &hs_softmax1) CHECK_CLOSE(s, 1, 1e-12, "sum of weights");
  gradients(&p, g, gb, &gl);
  for (int i = 0; i < L * H; i++) CHECK(isfinite(g[i]), "%s: finite gradient", act->name);
}

int main(void) {
  const hs_activation *acts[] = {&hs_softmax, &hs_softmax1, &hs_bsoftmax};
  for (int i = 0; i < 3; i++) {
    test_gradients(acts[i]);
    test_large_scores(acts[i]);
    CHECK(hs_activation_find(acts[i]->name) == acts[i], "lookup by name");
  }
  CHECK(hs_activation_find("relu") == NULL, "unknown activation");
  return check_report("test_attention");
}
