/* sgd.c: online SGD at finite d (MODEL.md sections 3-4). */
#include "headspec/sgd.h"
#include "rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

/* Test-set sequences per stream chunk. */
enum { TEST_CHUNK = 64 };
/* Normals drawn between progress reports: a multiple of the generator's
 * 512-normal blocks, so drawing in pieces gives the same stream. */
enum { PIECE = 64 * 512 };

static void *xcalloc(size_t n, size_t size, int *failed) {
  void *p = calloc(n ? n : 1, size);
  if (!p) *failed = 1;
  return p;
}

/* Whether the training set is held in memory (sgd.h). */
static int set_held(const hs_sgd_config *cfg) {
  double bytes = 8.0 * cfg->n_train * cfg->L * cfg->d;
  return cfg->n_train > 0 && !cfg->stream_set && bytes <= HS_SGD_SET_HOLD_BYTES;
}

/* Epochs of one batch each: every step is the whole set, in index order. */
static int set_in_order(const hs_sgd_config *cfg) {
  return cfg->n_train > 0 && cfg->batches == HS_BATCHES_EPOCHS && cfg->B == cfg->n_train;
}

/* MODEL.md section 1, one stream per sequence: sequence i of the training
 * set from (TRAIN_SET, i), its L d noise entries, then eps, then c.
 * Returns eps. */
static int draw_set_sequence(hs_sgd *s, long i, double *X) {
  const hs_sgd_config *cfg = &s->cfg;
  int d = cfg->d, L = cfg->L;
  hs_rng r;
  hs_rng_init(&r, cfg->job_seed, cfg->seed, HS_PURPOSE_TRAIN_SET, (uint64_t)i);
  hs_rng_normal(&r, X, (size_t)L * d);
  int eps = (int)hs_rng_below(&r, (uint64_t)L);
  hs_dist_sample(cfg->dist, &r, s->c);
  cblas_dgemv(CblasRowMajor, CblasTrans, s->K, d, 1.0 / sqrt((double)d), cfg->xi, d, s->c, 1,
              1.0, X + (size_t)eps * d, 1);
  return eps;
}

/* The held set, drawn once. Nonzero: told to stop. */
static int draw_set(hs_sgd *s) {
  size_t size = (size_t)s->cfg.L * s->cfg.d;
  for (long i = 0; i < s->cfg.n_train; i++) {
    s->set_eps[i] = draw_set_sequence(s, i, s->set + i * size);
    if (hs_progress_work(s->cfg.progress, (double)size)) return 1;
  }
  return 0;
}

hs_status hs_sgd_init(hs_sgd *s, const hs_sgd_config *cfg, hs_err *err) {
  memset(s, 0, sizeof *s);
  s->cfg = *cfg;
  s->K = cfg->dist->K;
  int d = cfg->d, L = cfg->L, H = cfg->H;
  if (cfg->n_train > 0 && cfg->sampler != HS_SAMPLER_FULL)
    return hs_err_set(err, HS_EINPUT,
                      "the reduced sampler draws fresh sequences: a training set needs the "
                      "full sampler");
  s->epoch = -1;
  s->cap = cfg->B > TEST_CHUNK ? cfg->B : TEST_CHUNK;
  size_t rows = (size_t)s->cap * L;
  /* A held set is its own batch in gradient descent: X needs no copy of it. */
  size_t x_rows = set_held(cfg) && set_in_order(cfg) ? (size_t)TEST_CHUNK * L : rows;
  int failed = 0;
  s->Bm = xcalloc((size_t)(H + s->K) * d, sizeof(double), &failed);
  s->W = s->Bm;
  s->b = xcalloc((size_t)H, sizeof(double), &failed);
  s->X = xcalloc(x_rows * d, sizeof(double), &failed);
  s->S = xcalloc(rows * H, sizeof(double), &failed);
  s->P = xcalloc(rows * H, sizeof(double), &failed);
  s->G = xcalloc(rows * H, sizeof(double), &failed);
  s->alpha = xcalloc(rows, sizeof(double), &failed);
  s->e = xcalloc(rows, sizeof(double), &failed);
  s->rho = xcalloc(rows, sizeof(double), &failed);
  s->r = xcalloc((size_t)d, sizeof(double), &failed);
  s->c = xcalloc((size_t)s->cap * s->K, sizeof(double), &failed);
  s->eps = xcalloc((size_t)s->cap, sizeof(int), &failed);
  s->gb = xcalloc((size_t)H, sizeof(double), &failed);
  s->work = xcalloc(2 * (size_t)H, sizeof(double), &failed);
  if (cfg->n_train > 0) {
    s->idx = xcalloc((size_t)s->cap, sizeof(long), &failed);
    if (cfg->batches == HS_BATCHES_EPOCHS && !set_in_order(cfg))
      s->order = xcalloc((size_t)cfg->n_train, sizeof(long), &failed);
    if (set_held(cfg)) {
      s->set = xcalloc((size_t)cfg->n_train * L * d, sizeof(double), &failed);
      s->set_eps = xcalloc((size_t)cfg->n_train, sizeof(int), &failed);
    }
  }
  if (failed) {
    hs_sgd_free(s);
    return hs_err_set(err, HS_ENOMEM, "out of memory for SGD at d = %d", d);
  }
  memcpy(s->Bm + (size_t)H * d, cfg->xi, sizeof(double) * s->K * d);
  if (cfg->sampler == HS_SAMPLER_REDUCED) {
    hs_status st = hs_sgd_reduced_alloc(s, err);
    if (st) {
      hs_sgd_free(s);
      return st;
    }
  }
  for (int h = 0; h < H; h++) {
    hs_rng r;
    hs_rng_init(&r, cfg->job_seed, cfg->seed, HS_PURPOSE_INIT, (uint64_t)h);
    hs_rng_normal(&r, s->W + (size_t)h * d, (size_t)d);
    cblas_dscal(d, cfg->sigma0, s->W + (size_t)h * d, 1);
  }
  s->lambda = 1.0;
  if (s->set && draw_set(s)) {
    hs_sgd_free(s);
    return hs_err_set(err, HS_EINTERRUPT, "interrupted while drawing the training set");
  }
  return HS_OK;
}

void hs_sgd_free(hs_sgd *s) {
  hs_sgd_reduced_free(s);
  free(s->Bm), free(s->b), free(s->X), free(s->S), free(s->P), free(s->G);
  free(s->alpha), free(s->e), free(s->rho), free(s->r), free(s->c);
  free(s->eps), free(s->gb), free(s->work);
  free(s->set), free(s->set_eps), free(s->idx), free(s->order);
  memset(s, 0, sizeof *s);
}

/* MODEL.md section 1: n sequences x_l = z_l + [l == eps] c.xi / sqrt(d).
 * Returns nonzero (X unfinished) if the progress listener says stop. */
static int draw_batch(hs_sgd *s, hs_rng *r, int n) {
  int d = s->cfg.d, L = s->cfg.L;
  size_t total = (size_t)n * L * d;
  for (size_t done = 0; done < total; done += PIECE) {
    size_t k = total - done < PIECE ? total - done : PIECE;
    hs_rng_normal(r, s->X + done, k);
    if (hs_progress_work(s->cfg.progress, (double)k)) return 1;
  }
  for (int i = 0; i < n; i++) {
    s->eps[i] = (int)hs_rng_below(r, (uint64_t)L);
    hs_dist_sample(s->cfg.dist, r, s->c);
    double *x = s->X + ((size_t)i * L + s->eps[i]) * d;
    cblas_dgemv(CblasRowMajor, CblasTrans, s->K, d, 1.0 / sqrt((double)d),
                s->cfg.xi, d, s->c, 1, 1.0, x, 1);
  }
  return 0;
}

/* Scores a = X W^T / sqrt(d) and the forward pass of n sequences X
 * (n L x d) with relevant indices eps. */
static void forward(hs_sgd *s, const double *X, const int *eps, int n) {
  int d = s->cfg.d, L = s->cfg.L, H = s->cfg.H;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n * L, H, d,
              1.0 / sqrt((double)d), X, d, s->W, d, 0.0, s->S, H);
  hs_attn_model m = {H, s->b, s->lambda, s->work};
  for (int i = 0; i < n; i++) {
    size_t o = (size_t)i * L;
    s->cfg.act->forward(&m, L, s->S + o * H, s->P + o * H, s->alpha + o);
    hs_attn_residual(L, eps[i], s->alpha + o, s->e + o);
  }
}

/* Loss ell = |X^T e|^2 / d of sequence i of X; leaves rho = X X^T e / d. */
static double sequence_loss(hs_sgd *s, const double *Xn, int i) {
  int d = s->cfg.d, L = s->cfg.L;
  const double *X = Xn + (size_t)i * L * d;
  cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, X, d, s->e + (size_t)i * L,
              1, 0.0, s->r, 1);
  cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0 / d, X, d, s->r, 1, 0.0,
              s->rho + (size_t)i * L, 1);
  return cblas_ddot(d, s->r, 1, s->r, 1) / d;
}

/* MODEL.md sections 3-4: forward, backward and update on the batch X of B
 * sequences; returns its mean loss (NAN, the model unchanged, if told to
 * stop). */
static double descend(hs_sgd *s, const double *X, const int *eps) {
  const hs_sgd_config *cfg = &s->cfg;
  int d = cfg->d, L = cfg->L, H = cfg->H, B = cfg->B;
  forward(s, X, eps, B);
  hs_attn_model m = {H, s->b, s->lambda, s->work};
  double loss = 0, *gb = s->gb, glambda = 0;
  memset(gb, 0, sizeof(double) * H);
  for (int i = 0; i < B; i++) {
    size_t o = (size_t)i * L;
    loss += sequence_loss(s, X, i);
    cfg->act->backward(&m, L, s->P + o * H, s->alpha + o, s->rho + o,
                       s->G + o * H, gb, &glambda);
    if (hs_progress_work(cfg->progress, 4.0 * L * (d + H))) return NAN;
  }
  /* grad_{w_h} = (1/B) sum g_hl x_l / sqrt(d): one GEMM, applied in place. */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, B * L,
              -cfg->eta / (B * sqrt((double)d)), s->G, H, X, d, 1.0, s->W,
              d);
  double rate = cfg->kappa * cfg->eta / d / B;
  if (cfg->act->trains_b)
    for (int h = 0; h < H; h++) s->b[h] -= rate * gb[h];
  if (cfg->act->trains_lambda) s->lambda -= rate * glambda;
  return loss / B;
}

/* MODEL.md section 4: the step from the full tokens of (TRAIN, step). */
static double full_step(hs_sgd *s) {
  const hs_sgd_config *cfg = &s->cfg;
  hs_rng r;
  hs_rng_init(&r, cfg->job_seed, cfg->seed, HS_PURPOSE_TRAIN, (uint64_t)s->step);
  if (draw_batch(s, &r, cfg->B)) return NAN;
  return descend(s, s->X, s->eps);
}

/* Epoch e's permutation of the set (Fisher-Yates on (TRAIN_ORDER, e)). */
static void permute(hs_sgd *s, long e) {
  long n = s->cfg.n_train;
  hs_rng r;
  hs_rng_init(&r, s->cfg.job_seed, s->cfg.seed, HS_PURPOSE_TRAIN_ORDER, (uint64_t)e);
  for (long i = 0; i < n; i++) s->order[i] = i;
  for (long i = n - 1; i > 0; i--) {
    long j = (long)hs_rng_below(&r, (uint64_t)i + 1), t = s->order[i];
    s->order[i] = s->order[j], s->order[j] = t;
  }
  s->epoch = e;
}

/* The set sequences of this step's batch (sgd.h): a pure function of the
 * step, so a run restarts at any step. */
static void batch_indices(hs_sgd *s) {
  const hs_sgd_config *cfg = &s->cfg;
  long n = cfg->n_train, B = cfg->B;
  if (cfg->batches == HS_BATCHES_WITH_REPLACEMENT) {
    hs_rng r;
    hs_rng_init(&r, cfg->job_seed, cfg->seed, HS_PURPOSE_TRAIN_ORDER, (uint64_t)s->step);
    for (long k = 0; k < B; k++) s->idx[k] = (long)hs_rng_below(&r, (uint64_t)n);
    return;
  }
  for (long k = 0; k < B; k++) {
    if (set_in_order(cfg)) {
      s->idx[k] = k;
      continue;
    }
    int64_t pos = (int64_t)s->step * B + k; /* < 2^53 B: hs_point_check */
    if (pos / n != s->epoch) permute(s, (long)(pos / n));
    s->idx[k] = s->order[pos % n];
  }
}

/* Tokens of set sequence i into X (L x d); returns its eps. */
static int set_sequence(hs_sgd *s, long i, double *X) {
  size_t size = (size_t)s->cfg.L * s->cfg.d;
  if (!s->set) return draw_set_sequence(s, i, X);
  memcpy(X, s->set + i * size, sizeof(double) * size);
  return s->set_eps[i];
}

int hs_sgd_set_sequence(hs_sgd *s, long i, double *X) { return set_sequence(s, i, X); }

/* A step on a batch of the training set. */
static double set_step(hs_sgd *s) {
  const hs_sgd_config *cfg = &s->cfg;
  size_t size = (size_t)cfg->L * cfg->d;
  if (s->set && set_in_order(cfg)) return descend(s, s->set, s->set_eps);
  batch_indices(s);
  for (int k = 0; k < cfg->B; k++) {
    s->eps[k] = set_sequence(s, s->idx[k], s->X + k * size);
    if (hs_progress_work(cfg->progress, s->set ? 0.1 * size : (double)size)) return NAN;
  }
  return descend(s, s->X, s->eps);
}

double hs_sgd_passes(const hs_sgd *s) {
  return s->cfg.n_train > 0 ? (double)s->step * s->cfg.B / s->cfg.n_train : 0;
}

double hs_sgd_train_set_loss(hs_sgd *s) {
  const hs_sgd_config *cfg = &s->cfg;
  long n = cfg->n_train;
  if (n <= 0) return NAN;
  size_t size = (size_t)cfg->L * cfg->d;
  double total = 0;
  for (long done = 0; done < n;) {
    int k = n - done < TEST_CHUNK ? (int)(n - done) : TEST_CHUNK;
    const double *X = s->set ? s->set + done * size : s->X;
    const int *eps = s->set ? s->set_eps + done : s->eps;
    for (int j = 0; j < k && !s->set; j++) {
      s->eps[j] = draw_set_sequence(s, done + j, s->X + j * size);
      if (hs_progress_work(cfg->progress, (double)size)) return NAN;
    }
    forward(s, X, eps, k);
    for (int j = 0; j < k; j++) total += sequence_loss(s, X, j);
    if (hs_progress_work(cfg->progress, 4.0 * k * cfg->L * (cfg->d + cfg->H))) return NAN;
    done += k;
  }
  return total / n;
}

double hs_sgd_reduced_step_ns(int B, int d, int L, int H, int K) {
  double k = H < L ? H : L, n = k + H + K;
  /* rows.c's kernels (B = 1, few rows) run at 2.5x OpenBLAS's rate here */
  double fma = B == 1 && n <= HS_ROWS_MAX ? 0.06 : 0.1;
  return B * ((double)d * (2.5 * k + fma * n * (n + 2 * H)) + 2000 + 250.0 * L);
}

double hs_sgd_step(hs_sgd *s) {
  double loss;
  if (s->red) { /* its cost in ~ns, the cost model's */
    const hs_sgd_config *cfg = &s->cfg;
    if (hs_progress_work(cfg->progress,
                         hs_sgd_reduced_step_ns(cfg->B, cfg->d, cfg->L, cfg->H, s->K)))
      return NAN; /* told to stop: the model as it was */
  }
  if (!s->red || !hs_sgd_reduced_step(s, &loss)) {
    loss = s->cfg.n_train > 0 ? set_step(s) : full_step(s);
    if (hs_progress_stopped(s->cfg.progress)) return NAN; /* the model as it was */
    s->full_steps++;
  }
  s->step++;
  return loss;
}

/* Indexed by hs_sgd_sampler. */
static const char *const sampler_names[] = {"full", "reduced"};
enum { N_SAMPLERS = sizeof sampler_names / sizeof *sampler_names };

int hs_sgd_sampler_find(const char *name) {
  for (int i = 0; i < N_SAMPLERS; i++)
    if (strcmp(name, sampler_names[i]) == 0) return i;
  return -1;
}

/* Joined from the table, once. */
const char *hs_sgd_sampler_names(void) {
  static char names[N_SAMPLERS * HS_NAME_LEN];
  if (!names[0])
    for (int i = 0; i < N_SAMPLERS; i++) {
      if (i) strcat(names, " ");
      strcat(names, sampler_names[i]);
    }
  return names;
}

/* Indexed by hs_batches. */
static const char *const batches_names[] = {"epochs", "replacement"};

int hs_sgd_batches_find(const char *name) {
  for (int i = 0; i < 2; i++)
    if (strcmp(name, batches_names[i]) == 0) return i;
  return -1;
}

const char *hs_sgd_batches_names(void) { return "epochs replacement"; }

double hs_sgd_batch_loss(hs_sgd *s, long step) {
  if (s->cfg.n_train > 0) return NAN; /* X may not hold B sequences */
  hs_rng r;
  hs_rng_init(&r, s->cfg.job_seed, s->cfg.seed, HS_PURPOSE_TRAIN, (uint64_t)step);
  if (draw_batch(s, &r, s->cfg.B)) return NAN;
  forward(s, s->X, s->eps, s->cfg.B);
  double loss = 0;
  for (int i = 0; i < s->cfg.B; i++) loss += sequence_loss(s, s->X, i);
  return loss / s->cfg.B;
}

double hs_sgd_test_loss(hs_sgd *s) {
  const hs_sgd_config *cfg = &s->cfg;
  double total = 0;
  for (int done = 0, chunk = 0; done < cfg->test_samples; chunk++) {
    int n = cfg->test_samples - done < TEST_CHUNK ? cfg->test_samples - done
                                                   : TEST_CHUNK;
    hs_rng r;
    hs_rng_init(&r, cfg->job_seed, cfg->seed, HS_PURPOSE_TEST, (uint64_t)chunk);
    if (draw_batch(s, &r, n)) return NAN;
    forward(s, s->X, s->eps, n);
    for (int i = 0; i < n; i++) total += sequence_loss(s, s->X, i);
    if (hs_progress_work(cfg->progress, 4.0 * n * cfg->L * (cfg->d + cfg->H))) return NAN;
    done += n;
  }
  return total / cfg->test_samples;
}

int hs_sgd_attention_maps(hs_sgd *s, int n, double *A, int *eps) {
  int L = s->cfg.L, H = s->cfg.H;
  for (int done = 0, chunk = 0; done < n; chunk++) {
    int k = n - done < TEST_CHUNK ? n - done : TEST_CHUNK;
    hs_rng r;
    hs_rng_init(&r, s->cfg.job_seed, s->cfg.seed, HS_PURPOSE_MAPS, (uint64_t)chunk);
    if (draw_batch(s, &r, k)) return 1;
    forward(s, s->X, s->eps, k);
    for (int i = 0; i < k; i++) {
      eps[done + i] = s->eps[i];
      hs_attn_model m = {H, s->b, s->lambda, s->work};
      double scale = s->cfg.act->head_scale(&m);
      for (int h = 0; h < H; h++)
        for (int l = 0; l < L; l++)
          A[((size_t)(done + i) * H + h) * L + l] =
              scale * s->P[((size_t)i * L + l) * H + h];
    }
    done += k;
  }
  return 0;
}
