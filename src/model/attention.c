/* attention.c: softmax, softmax1 and bsoftmax (MODEL.md sections 2-3).
 *
 * Built with -O3 -ffast-math (CMakeLists.txt) so the exponentials run
 * through glibc's vector exp: the code therefore never relies on infinities
 * or NaN (maxima start from the first score, not -INFINITY). */
#include "headspec/attention.h"

#include "core/dispatch.h"

#include <math.h>
#include <string.h>

/* Per-head maxima of the scores (column maxima of the L x H matrix). */
static void head_max(int L, int H, const double *restrict a, double *restrict mx) {
  for (int h = 0; h < H; h++) mx[h] = a[h];
  for (int l = 1; l < L; l++)
    for (int h = 0; h < H; h++) mx[h] = a[l * H + h] > mx[h] ? a[l * H + h] : mx[h];
}

/* P = exp(a - shift[h]) over the L x H matrix: one contiguous loop, so gcc
 * calls the vector exp (this file is built with -ffast-math). */
HS_DISPATCH static void exp_shifted(int L, int H, const double *restrict a,
                                    const double *restrict shift, double *restrict P) {
  for (int l = 0; l < L; l++)
    for (int h = 0; h < H; h++) P[l * H + h] = a[l * H + h] - shift[h];
  for (int i = 0; i < L * H; i++) P[i] = exp(P[i]);
}

/* P /= column sums S (plus extra[h]); alpha_l = scale * sum_h P_lh. */
static void normalise(int L, int H, const double *restrict extra, double scale,
                      double *restrict P, double *restrict alpha, double *restrict S) {
  for (int h = 0; h < H; h++) S[h] = extra ? extra[h] : 0;
  for (int l = 0; l < L; l++)
    for (int h = 0; h < H; h++) S[h] += P[l * H + h];
  for (int h = 0; h < H; h++) S[h] = 1 / S[h];
  for (int l = 0; l < L; l++) {
    double sum = 0;
    for (int h = 0; h < H; h++) sum += P[l * H + h] *= S[h];
    alpha[l] = scale * sum;
  }
}

/* softmax: p_hl = e^{a_hl} / S_h, alpha_l = (1/H) sum_h p_hl. */
static void softmax_forward(const hs_attn_model *m, int L, const double *a,
                            double *P, double *alpha) {
  int H = m->H;
  double *mx = m->work, *S = m->work + H;
  head_max(L, H, a, mx);
  exp_shifted(L, H, a, mx, P);
  normalise(L, H, NULL, 1.0 / H, P, alpha, S);
}

/* g_hl = -(2/H) p_hl (rho_l - rbar_h), rbar_h = sum_l p_hl rho_l. */
static void softmax_backward(const hs_attn_model *m, int L, const double *P,
                             const double *alpha, const double *rho,
                             double *g, double *gb, double *glambda) {
  (void)alpha, (void)gb, (void)glambda;
  int H = m->H;
  for (int h = 0; h < H; h++) {
    double rbar = 0;
    for (int l = 0; l < L; l++) rbar += P[l * H + h] * rho[l];
    for (int l = 0; l < L; l++)
      g[l * H + h] = -(2.0 / H) * P[l * H + h] * (rho[l] - rbar);
  }
}

/* softmax1: q_hl = e^{a_hl} / (e^{b_h} + S_h), alpha_l = (lambda/H) sum_h q. */
static void softmax1_forward(const hs_attn_model *m, int L, const double *a,
                             double *P, double *alpha) {
  int H = m->H;
  double *mx = m->work, *extra = m->work + H;
  head_max(L, H, a, mx);
  for (int h = 0; h < H; h++) {
    mx[h] = m->b[h] > mx[h] ? m->b[h] : mx[h];
    extra[h] = exp(m->b[h] - mx[h]);
  }
  exp_shifted(L, H, a, mx, P);
  normalise(L, H, extra, m->lambda / H, P, alpha, mx); /* mx is spent */
}

/* g_hl = -(2 lambda/H) q_hl (rho_l - rbar_h); d/db_h = (2 lambda/H) q0_h
 * rbar_h; d/dlambda = -(2/H) sum q_hl rho_l. */
static void softmax1_backward(const hs_attn_model *m, int L, const double *P,
                              const double *alpha, const double *rho,
                              double *g, double *gb, double *glambda) {
  (void)alpha;
  int H = m->H;
  double c = 2.0 * m->lambda / H, dlambda = 0;
  for (int h = 0; h < H; h++) {
    double rbar = 0, q0 = 1;
    for (int l = 0; l < L; l++) {
      rbar += P[l * H + h] * rho[l];
      q0 -= P[l * H + h];
    }
    for (int l = 0; l < L; l++) g[l * H + h] = -c * P[l * H + h] * (rho[l] - rbar);
    gb[h] += c * q0 * rbar;
    dlambda += rbar;
  }
  *glambda += -(2.0 / H) * dlambda;
}

/* bsoftmax: A_hl = e^{a_hl + b_h} / Z over all heads and tokens. */
static void bsoftmax_forward(const hs_attn_model *m, int L, const double *a,
                             double *P, double *alpha) {
  int H = m->H;
  double mx = a[0] + m->b[0], *shift = m->work, Z = 0;
  for (int l = 0; l < L; l++)
    for (int h = 0; h < H; h++) mx = a[l * H + h] + m->b[h] > mx ? a[l * H + h] + m->b[h] : mx;
  for (int h = 0; h < H; h++) shift[h] = mx - m->b[h];
  exp_shifted(L, H, a, shift, P);
  for (int i = 0; i < L * H; i++) Z += P[i];
  Z = 1 / Z;
  for (int l = 0; l < L; l++) {
    double sum = 0;
    for (int h = 0; h < H; h++) sum += P[l * H + h] *= Z;
    alpha[l] = sum;
  }
}

/* g_hl = -2 A_hl (rho_l - rbar), rbar = sum_l alpha_l rho_l; d/db_h = sum_l g. */
static void bsoftmax_backward(const hs_attn_model *m, int L, const double *P,
                              const double *alpha, const double *rho,
                              double *g, double *gb, double *glambda) {
  (void)glambda;
  int H = m->H;
  double rbar = 0;
  for (int l = 0; l < L; l++) rbar += alpha[l] * rho[l];
  for (int l = 0; l < L; l++)
    for (int h = 0; h < H; h++) {
      double v = -2.0 * P[l * H + h] * (rho[l] - rbar);
      g[l * H + h] = v;
      gb[h] += v;
    }
}

static double softmax_scale(const hs_attn_model *m) { return 1.0 / m->H; }
static double softmax1_scale(const hs_attn_model *m) { return m->lambda / m->H; }
static double bsoftmax_scale(const hs_attn_model *m) { (void)m; return 1.0; }

const hs_activation hs_softmax = {"softmax", 0, 0, softmax_forward,
                                  softmax_backward, softmax_scale};
const hs_activation hs_softmax1 = {"softmax1", 1, 1, softmax1_forward,
                                   softmax1_backward, softmax1_scale};
const hs_activation hs_bsoftmax = {"bsoftmax", 1, 0, bsoftmax_forward,
                                   bsoftmax_backward, bsoftmax_scale};

static const hs_activation *const activations[] = {&hs_softmax, &hs_softmax1,
                                                   &hs_bsoftmax};

const hs_activation *hs_activation_find(const char *name) {
  for (size_t i = 0; i < sizeof activations / sizeof *activations; i++)
    if (strcmp(activations[i]->name, name) == 0) return activations[i];
  return NULL;
}

/* Joined from the table, once, so a new activation is one entry. */
const char *hs_activation_names(void) {
  enum { N = sizeof activations / sizeof *activations };
  static char names[N * 16]; /* names are under 16 characters */
  if (!names[0])
    for (size_t i = 0; i < N; i++) {
      if (i) strcat(names, " ");
      strcat(names, activations[i]->name);
    }
  return names;
}

void hs_attn_residual(int L, int eps, const double *alpha, double *e) {
  for (int l = 0; l < L; l++) e[l] = (l == eps) - alpha[l];
}
