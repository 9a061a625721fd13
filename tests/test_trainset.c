/* test_trainset.c: SGD on a fixed training set (sgd.h).
 *
 * Checked against things that do not come from the set's own code:
 *   gradient descent (epochs, B = n): one step is -eta times the gradient
 *     of the whole-set loss hs_sgd_train_set_loss, by central differences
 *     (with kappa = d, so b and lambda move at the same rate as W);
 *   epochs: every block of n consecutive batch positions is a permutation
 *     of the set, and epochs differ; with replacement: the indices are
 *     uniform (chi-square, p = 1e-4) and batches do repeat sequences;
 *   the set held in memory and redrawn from its streams give the same
 *     model bit for bit, and sequence i does not depend on n;
 *   the model is independent of the set at the start, so there its loss
 *     on the set equals the test loss within sampling error; after many
 *     passes over a small set the training loss is far below the test
 *     loss (the generalisation gap, printed), which online SGD or a set
 *     that is not reused could not give;
 *   the reduced sampler is refused with a set.
 * The law of training on a very large set against online SGD is in
 * test_sgd_law.c (the same statistics as the samplers' law test).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "headspec/sgd.h"

typedef struct setup {
  hs_dist dist;
  double *xi;
  hs_sgd_config cfg;
} setup;

static void make_setup(setup *su, const char *act, int d, int L, int H, int B, long n) {
  hs_err err;
  hs_dist_params p = {.name = "flipping", .b1 = 1, .b2 = 2};
  CHECK(hs_dist_init(&su->dist, &p, &err) == HS_OK, "%s", err.msg);
  su->xi = malloc(sizeof(double) * 2 * d);
  CHECK(hs_teacher_spikes(su->xi, 2, d, 4, 1, 1, &err) == HS_OK, "%s", err.msg);
  su->cfg = (hs_sgd_config){.d = d, .L = L, .H = H, .B = B, .n_train = n, .eta = 0.5,
                            .kappa = 1, .sigma0 = 0.5, .act = hs_activation_find(act),
                            .dist = &su->dist, .xi = su->xi, .job_seed = 4, .seed = 2,
                            .test_samples = 2000};
}

static void free_setup(setup *su) {
  hs_dist_free(&su->dist);
  free(su->xi);
}

static void init(hs_sgd *s, const hs_sgd_config *cfg) {
  hs_err err;
  CHECK(hs_sgd_init(s, cfg, &err) == HS_OK, "%s", err.msg);
}

/* Parameters as one vector: W, b, lambda. */
static int params(const hs_sgd *s, double *out) {
  int n = s->cfg.H * s->cfg.d;
  memcpy(out, s->W, sizeof(double) * n);
  memcpy(out + n, s->b, sizeof(double) * s->cfg.H);
  out[n + s->cfg.H] = s->lambda;
  return n + s->cfg.H + 1;
}

static void set_params(hs_sgd *s, const double *v) {
  int n = s->cfg.H * s->cfg.d;
  memcpy(s->W, v, sizeof(double) * n);
  memcpy(s->b, v + n, sizeof(double) * s->cfg.H);
  s->lambda = v[n + s->cfg.H];
}

/* Gradient descent: the step's change D of all parameters is -eta grad of
 * the training loss, so along D the loss changes at the rate -|D|^2 / eta. */
static void test_gradient_descent(const char *act) {
  enum { D = 40, N = 12 };
  setup su;
  make_setup(&su, act, D, 5, 2, N, N);
  su.cfg.kappa = D; /* b and lambda at rate kappa eta / d = eta */
  su.cfg.batches = HS_BATCHES_EPOCHS;
  hs_sgd s;
  init(&s, &su.cfg);
  for (int h = 0; h < 2; h++) s.b[h] = 0.3 * h - 0.2; /* away from b = 0 */
  s.lambda = 1.2;
  double p0[128], p1[128], v[128], dir[128];
  int np = params(&s, p0);
  hs_sgd_step(&s);
  params(&s, p1);
  double norm2 = 0;
  for (int i = 0; i < np; i++) {
    dir[i] = p1[i] - p0[i]; /* 0 for what the activation does not train */
    norm2 += dir[i] * dir[i];
  }
  double h = 1e-4, loss[2];
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < np; i++) v[i] = p0[i] + (k ? -h : h) * dir[i];
    set_params(&s, v);
    loss[k] = hs_sgd_train_set_loss(&s);
  }
  double fd = (loss[0] - loss[1]) / (2 * h), want = -norm2 / su.cfg.eta;
  CHECK(fabs(fd - want) <= 1e-6 * fabs(want) + 1e-12,
        "%s: gradient descent step: directional derivative %.10g, -|D|^2/eta %.10g", act, fd,
        want);
  CHECK(norm2 > 0, "%s: the step moved nothing", act);
  hs_sgd_free(&s);
  free_setup(&su);
}

/* Shuffled epochs: n = 24, B = 5 (batches straddle epoch ends). */
static void test_epochs(void) {
  enum { N = 24, B = 5, EPOCHS = 10 };
  setup su;
  make_setup(&su, "softmax", 20, 4, 2, B, N);
  hs_sgd s;
  init(&s, &su.cfg);
  long pos[N * EPOCHS];
  for (int step = 0; step < N * EPOCHS / B; step++) {
    hs_sgd_step(&s);
    for (int k = 0; k < B; k++) pos[step * B + k] = s.idx[k];
  }
  int differ = 0;
  for (int e = 0; e < EPOCHS; e++) {
    int seen[N] = {0}, fine = 1;
    for (int i = 0; i < N; i++) {
      long j = pos[e * N + i];
      fine &= j >= 0 && j < N && !seen[j];
      if (j >= 0 && j < N) seen[j] = 1;
    }
    CHECK(fine, "epoch %d is not a permutation of the set", e);
    if (e) differ |= memcmp(pos + e * N, pos, sizeof(long) * N) != 0;
  }
  CHECK(differ, "every epoch in the same order: not shuffled");
  CHECK_CLOSE(hs_sgd_passes(&s), (double)EPOCHS, 0, "passes after 10 epochs");
  hs_sgd_free(&s);
  free_setup(&su);
}

/* Uniform with replacement: n = 10, B = 7, 2000 steps. */
static void test_with_replacement(void) {
  enum { N = 10, B = 7, STEPS = 2000 };
  setup su;
  make_setup(&su, "softmax", 20, 4, 2, B, N);
  su.cfg.batches = HS_BATCHES_WITH_REPLACEMENT;
  hs_sgd s;
  init(&s, &su.cfg);
  double count[N] = {0};
  int repeats = 0;
  for (int step = 0; step < STEPS; step++) {
    hs_sgd_step(&s);
    int seen[N] = {0};
    for (int k = 0; k < B; k++) {
      count[s.idx[k]]++;
      repeats += seen[s.idx[k]]++ > 0;
    }
  }
  double chi2 = 0, e = (double)STEPS * B / N;
  for (int i = 0; i < N; i++) chi2 += (count[i] - e) * (count[i] - e) / e;
  CHECK(chi2 < 33.7, "indices not uniform: chi2 = %.2f with 9 dof (p < 1e-4)", chi2);
  CHECK(repeats > 0, "no batch repeats a sequence: not with replacement");
  CHECK_CLOSE(hs_sgd_passes(&s), (double)STEPS * B / N, 0, "passes");
  hs_sgd_free(&s);
  free_setup(&su);
}

/* Held and streamed sets: the same model after each mode's steps, bit for
 * bit; the same loss on the set; sequence i the same in a larger set. */
static void test_held_equals_streamed(const char *act, hs_batches batches, int B, int N) {
  enum { D = 24, L = 5, STEPS = 40 };
  setup su;
  make_setup(&su, act, D, L, 3, B, N);
  su.cfg.batches = batches;
  hs_sgd a, b;
  init(&a, &su.cfg);
  su.cfg.stream_set = 1;
  init(&b, &su.cfg);
  CHECK(a.set && !b.set, "one set held, one streamed");
  for (int i = 0; i < STEPS; i++) {
    double la = hs_sgd_step(&a), lb = hs_sgd_step(&b);
    CHECK(memcmp(&la, &lb, sizeof la) == 0, "%s B = %d: step %d loss %.17g vs %.17g", act, B, i,
          la, lb);
  }
  double pa[128], pb[128];
  int np = params(&a, pa);
  params(&b, pb);
  CHECK(memcmp(pa, pb, sizeof(double) * np) == 0, "%s B = %d: held and streamed models differ",
        act, B);
  double ta = hs_sgd_train_set_loss(&a), tb = hs_sgd_train_set_loss(&b);
  CHECK(memcmp(&ta, &tb, sizeof ta) == 0, "%s: set loss %.17g vs %.17g", act, ta, tb);
  /* sequence 7 of this set and of a set of 1000 (streamed) */
  su.cfg.n_train = 1000;
  hs_sgd c;
  init(&c, &su.cfg);
  double xa[L * D], xc[L * D];
  int ea = hs_sgd_set_sequence(&a, 7, xa), ec = hs_sgd_set_sequence(&c, 7, xc);
  CHECK(ea == ec && memcmp(xa, xc, sizeof xa) == 0, "sequence 7 depends on n");
  hs_sgd_free(&a), hs_sgd_free(&b), hs_sgd_free(&c);
  free_setup(&su);
}

/* The loss on the set against the test loss: equal in law at the start,
 * far below it after many passes over a small set. */
static void test_generalisation_gap(const char *act) {
  enum { D = 30, L = 6 };
  setup su;
  make_setup(&su, act, D, L, 2, 5, 2000);
  hs_sgd s;
  init(&s, &su.cfg);
  double train0 = hs_sgd_train_set_loss(&s), test0 = hs_sgd_test_loss(&s);
  /* per-sequence losses spread ~0.3 at d = 30: SE ~0.01 of each mean */
  CHECK(fabs(train0 - test0) < 0.05, "%s: at the start, set loss %.4f vs test loss %.4f", act,
        train0, test0);
  hs_sgd_free(&s);
  su.cfg.n_train = 30; /* alpha = 1 */
  init(&s, &su.cfg);
  while (s.step < 8000) hs_sgd_step(&s); /* t = 133, 1333 passes */
  double train = hs_sgd_train_set_loss(&s), test = hs_sgd_test_loss(&s);
  printf("%s: n = 30, d = 30 after %.0f passes: training loss %.4f, test loss %.4f, gap %.4f "
         "(at the start %.4f, %.4f)\n",
         act, hs_sgd_passes(&s), train, test, test - train, train0, test0);
  CHECK(test - train > 0.2, "%s: no generalisation gap: training %.4f, test %.4f", act, train,
        test);
  CHECK(train < train0 - 0.2, "%s: the training loss did not fall: %.4f from %.4f", act, train,
        train0);
  hs_sgd_free(&s);
  free_setup(&su);
}

static void test_reduced_refused(void) {
  setup su;
  make_setup(&su, "softmax", 20, 4, 2, 1, 10);
  su.cfg.sampler = HS_SAMPLER_REDUCED;
  hs_sgd s;
  hs_err err;
  CHECK(hs_sgd_init(&s, &su.cfg, &err) == HS_EINPUT, "reduced sampler with a set accepted");
  free_setup(&su);
}

int main(void) {
  const char *acts[] = {"softmax", "softmax1", "bsoftmax"};
  for (int a = 0; a < 3; a++) {
    test_gradient_descent(acts[a]);
    test_held_equals_streamed(acts[a], HS_BATCHES_EPOCHS, 4, 30);
    test_held_equals_streamed(acts[a], HS_BATCHES_WITH_REPLACEMENT, 4, 30);
    /* gradient descent, B = n above the test chunk of 64 (X smaller than B) */
    test_held_equals_streamed(acts[a], HS_BATCHES_EPOCHS, 100, 100);
    test_generalisation_gap(acts[a]);
  }
  test_epochs();
  test_with_replacement();
  test_reduced_refused();
  return check_report("test_trainset");
}
