/* attention.h: the three attention activations, forward and backward, on
 * score matrices (MODEL.md sections 2 and 3).
 *
 * One implementation serves the finite-d SGD (scores from real tokens, rho =
 * G e with the token Gram G) and the ODE's population loss (scores in the
 * reduced representation, G = I so rho = e). Scores of one sequence are an
 * L x H row-major matrix a[l*H + h]. Every exponential is max-shifted, so
 * scores of any size are safe.
 *
 * Activations are a table: adding one touches attention.c only.
 */
#ifndef HEADSPEC_ATTENTION_H
#define HEADSPEC_ATTENTION_H

/* The non-weight parameters of a layer. */
typedef struct hs_attn_model {
  int H;
  const double *b; /* H biases (softmax1, bsoftmax); unused by softmax */
  double lambda;   /* softmax1 output scale */
  double *work;    /* 2H doubles of scratch, owned by the caller (no stack
                      arrays: H may be in the thousands) */
} hs_attn_model;

typedef struct hs_activation {
  const char *name;
  int trains_b;      /* whether b is a trained parameter */
  int trains_lambda; /* whether lambda is */
  /* Scores a (L x H) -> normalised weights P (L x H; p, q or A of MODEL.md
   * section 3, kept for backward) and aggregated weights alpha (L). */
  void (*forward)(const hs_attn_model *m, int L, const double *a, double *P,
                  double *alpha);
  /* Given rho = G e (L), write g = d ell / d a (L x H) and add d ell / d b
   * to gb (H) and d ell / d lambda to *glambda. */
  void (*backward)(const hs_attn_model *m, int L, const double *P,
                   const double *alpha, const double *rho, double *g,
                   double *gb, double *glambda);
  /* The factor turning P into the per-head attention weights: A = scale P. */
  double (*head_scale)(const hs_attn_model *m);
} hs_activation;

extern const hs_activation hs_softmax, hs_softmax1, hs_bsoftmax;

/* The activation with this name, or NULL. */
const hs_activation *hs_activation_find(const char *name);
/* Space-separated names, for messages. */
const char *hs_activation_names(void);

/* e_l = [l == eps] - alpha_l (MODEL.md section 3). */
void hs_attn_residual(int L, int eps, const double *alpha, double *e);

#endif
