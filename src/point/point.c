/* point.c: run one grid point (SGD with records on the time grid). */
#include "headspec/point.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/bayes.h"
#include "headspec/population.h"
#include "headspec/timegrid.h"
#include "point_impl.h"

const char *const hs_dim_names[HS_N_DIMS] = {"H", "K", "L", "T", "maps"};

const hs_axis_info hs_axes[HS_N_AXES] = {
    [HS_AXIS_TIME] = {"time", HS_DIM_T, 0, "nominal record time t"},
    [HS_AXIS_HEAD] = {"head", HS_DIM_H, 0, "head h"},
    [HS_AXIS_HEAD2] = {"head2", HS_DIM_H, 0, "head h'"},
    [HS_AXIS_SPIKE] = {"spike", HS_DIM_K, 0, "spike k"},
    [HS_AXIS_SPIKE2] = {"spike2", HS_DIM_K, 0, "spike k'"},
    [HS_AXIS_TOKEN] = {"token", HS_DIM_L, 0, "token l"},
    [HS_AXIS_MAP] = {"map", HS_DIM_MAPS, 0, "sampled sequence"},
    [HS_AXIS_KEPT] = {"kept", HS_DIM_H, 1, "heads kept"},
    [HS_AXIS_REMOVAL] = {"removal", HS_DIM_H, 0, "pruning step"},
};

#define TIME HS_AXIS_TIME
#define HEAD HS_AXIS_HEAD
#define HEAD2 HS_AXIS_HEAD2
#define SPIKE HS_AXIS_SPIKE
#define SPIKE2 HS_AXIS_SPIKE2
#define TOKEN HS_AXIS_TOKEN
#define MAP HS_AXIS_MAP
#define KEPT HS_AXIS_KEPT
#define REMOVAL HS_AXIS_REMOVAL
#define F(path, member, long_name, units, doc, rank, ...) \
  {path, long_name, units, doc, rank, {__VA_ARGS__}, offsetof(hs_result, member)}
const hs_result_field hs_result_fields[] = {
    F("sgd/t", t, "SGD time t", "1", "time t = steps * eta / d of each record", 1, TIME),
    F("sgd/step", step, "SGD steps", "1", "SGD steps taken at each record", 1, TIME),
    F("sgd/m", m, "SGD m", "1", "m_hk = <w_h, xi_k>/d", 3, TIME, HEAD, SPIKE),
    F("sgd/Q", Q, "SGD Q", "1", "Q_hh' = <w_h, w_h'>/d", 3, TIME, HEAD, HEAD2),
    F("sgd/Qperp", Qperp, "SGD Q_perp", "1",
      "Q - m M^-1 m^T: the heads' Gram orthogonal to the spikes", 3, TIME, HEAD, HEAD2),
    F("sgd/b", b, "SGD bias b", "1", "biases b_h", 2, TIME, HEAD),
    F("sgd/lambda", lambda, "SGD lambda", "1", "softmax1 output scale", 1, TIME),
    F("sgd/test_loss", test_loss, "SGD test loss", "1",
      "mean loss |y - f(X)|^2/d on the fixed test set", 1, TIME),
    F("sgd/train_loss", train_loss, "SGD training loss", "1",
      "mean batch loss over the steps since the last record", 1, TIME),
    F("sgd/lpop", lpop, "Lpop at SGD's order parameters", "1",
      "population loss Lpop at the measured (m, Q, b, lambda)", 1, TIME),
    F("sgd/lpop_fresh", lpop_fresh, "out-of-sample Lpop of the final SGD model", "1",
      "Lpop at the final measured (m, Q, b, lambda) on an independent Monte Carlo set "
      "(analysis.fresh_samples)", 0, HS_AXIS_TIME),
    F("sgd/lpop_fresh_se", lpop_fresh_se, "standard error of sgd/lpop_fresh", "1",
      "Monte Carlo standard error of sgd/lpop_fresh", 0, HS_AXIS_TIME),
    F("sgd/M", M, "spike Gram M", "1", "spike Gram M_kk' = <xi_k, xi_k'>/d", 2, SPIKE, SPIKE2),
    F("sgd/prune_loss", sgd_prune_loss, "SGD pruned Lpop", "1",
      "Lpop of the final SGD model with k heads kept", 1, KEPT),
    F("sgd/prune_order", sgd_prune_order, "SGD pruned head", "1",
      "heads in the order greedy pruning removes them", 1, REMOVAL),
    F("sgd/maps", sgd_maps, "SGD attention A", "1",
      "attention weights A_hl of the final SGD model on sampled sequences", 3, MAP, HEAD, TOKEN),
    F("sgd/maps_eps", sgd_maps_eps, "relevant token", "1",
      "relevant token of each map's sequence", 1, MAP),
    F("ode/t", ode_t, "ODE time t", "1", "time t of each record", 1, TIME),
    F("ode/m", ode_m, "ODE m", "1", "m of the ODE", 3, TIME, HEAD, SPIKE),
    F("ode/Q", ode_Q, "ODE Q", "1", "Q of the ODE", 3, TIME, HEAD, HEAD2),
    F("ode/Qperp", ode_Qperp, "ODE Q_perp", "1", "Q_perp = V V^T of the ODE", 3, TIME, HEAD, HEAD2),
    F("ode/b", ode_b, "ODE bias b", "1", "biases of the ODE", 2, TIME, HEAD),
    F("ode/lambda", ode_lambda, "ODE lambda", "1", "softmax1 output scale of the ODE", 1, TIME),
    F("ode/loss", ode_loss, "ODE loss Lpop", "1", "population loss Lpop along the ODE", 1, TIME),
    F("ode/loss_fresh", ode_loss_fresh, "out-of-sample Lpop of the final ODE state", "1",
      "Lpop at the final ODE state on an independent Monte Carlo set (analysis.fresh_samples): "
      "ode/loss follows the ODE's own samples and is biased low", 0, HS_AXIS_TIME),
    F("ode/loss_fresh_se", ode_loss_fresh_se, "standard error of ode/loss_fresh", "1",
      "Monte Carlo standard error of ode/loss_fresh", 0, HS_AXIS_TIME),
    F("ode/prune_loss", ode_prune_loss, "ODE pruned Lpop", "1",
      "Lpop of the final ODE model with k heads kept", 1, KEPT),
    F("ode/prune_order", ode_prune_order, "ODE pruned head", "1",
      "heads in the order greedy pruning removes them", 1, REMOVAL),
    F("ode/maps", ode_maps, "ODE attention A", "1",
      "attention weights A_hl of the final ODE model (token 0 relevant)", 3, MAP, HEAD, TOKEN),
    F("bayes_risk", bayes_risk, "Bayes risk R*", "1", "Bayes risk R* (Monte Carlo)", 0, HS_AXIS_TIME),
    F("bayes_risk_se", bayes_risk_se, "standard error of R*", "1",
      "standard error of bayes_risk", 0, HS_AXIS_TIME),
    F("seconds", seconds, "wall time", "s", "wall-clock seconds spent on the point", 0, HS_AXIS_TIME),
    F("mean_c", mean_c, "mean feature weights E[c]", "1",
      "E[c] of the point's distribution P_c (the direction every head learns first)", 1,
      SPIKE),
};
#undef F
#undef TIME
#undef HEAD
#undef HEAD2
#undef SPIKE
#undef SPIKE2
#undef TOKEN
#undef MAP
#undef KEPT
#undef REMOVAL
const int hs_n_result_fields = sizeof hs_result_fields / sizeof *hs_result_fields;

int hs_shape_dim(const hs_shape *s, hs_dim d) {
  switch (d) {
    case HS_DIM_T: return s->T;
    case HS_DIM_H: return s->H;
    case HS_DIM_K: return s->K;
    case HS_DIM_L: return s->L;
    case HS_DIM_MAPS: return s->maps;
    case HS_N_DIMS: break;
  }
  return 0;
}

size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s) {
  size_t n = 1;
  for (int i = 0; i < f->rank; i++) n *= (size_t)hs_shape_dim(s, hs_axes[f->axes[i]].dim);
  return n;
}

double *hs_result_field_data(const hs_result *r, const hs_result_field *f) {
  return *(double *const *)((const char *)r + f->offset);
}

hs_status hs_point_shape(const hs_point *p, hs_shape *shape, hs_err *err) {
  hs_dist dist;
  hs_status s = hs_dist_init(&dist, &p->dist, err);
  if (s) return s;
  shape->T = p->records;
  shape->H = p->H;
  shape->K = dist.K;
  shape->L = p->L;
  shape->maps = p->maps;
  hs_dist_free(&dist);
  return HS_OK;
}

hs_status hs_result_alloc(hs_result *r, const hs_shape *shape, hs_err *err) {
  memset(r, 0, sizeof *r);
  r->shape = *shape;
  for (int i = 0; i < hs_n_result_fields; i++) {
    const hs_result_field *f = &hs_result_fields[i];
    double **slot = (double **)((char *)r + f->offset);
    size_t n = hs_result_field_size(f, shape);
    if (!(*slot = malloc(n * sizeof(double)))) {
      hs_result_free(r);
      return hs_err_set(err, HS_ENOMEM, "out of memory for results");
    }
    for (size_t j = 0; j < n; j++) (*slot)[j] = NAN;
  }
  return HS_OK;
}

void hs_result_free(hs_result *r) {
  for (int i = 0; i < hs_n_result_fields; i++)
    free(*(double **)((char *)r + hs_result_fields[i].offset));
  memset(r, 0, sizeof *r);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int64_t hs_point_steps(const hs_point *p) {
  double steps = p->t_max * p->d / p->eta; /* in double: cannot overflow */
  return steps <= HS_MAX_STEPS ? hs_timegrid_step(p->t_max, p->eta, p->d) : -1;
}

/* K of the point's distribution without building it. */
static double spikes_of(const hs_point *p) {
  if (p->dist.atoms.rows > 0) return p->dist.atoms.cols;
  if (p->dist.betas.cols > 0) return p->dist.betas.cols;
  return p->dist.K > 0 ? p->dist.K : 2;
}

double hs_point_memory(const hs_point *p) {
  double H = p->H, K = spikes_of(p), L = p->L, d = p->d, N = p->ode_samples;
  double T = p->records, W = K + H, cap = p->B > 64 ? p->B : 64; /* sgd.c's batch */
  /* one sample set at a time: the fresh one is drawn after set 0 is freed */
  if (p->fresh_samples > N) N = p->fresh_samples;
  if (!p->run_sgd && !p->run_ode) N = 0; /* only the Bayes risk */
  double doubles = K * d + N * L * W + N * K + 256 * L * (3 * H + 2); /* population.c */
  int sgd_start = p->run_ode && strcmp(p->ode_start, "sgd") == 0;
  if (p->run_sgd || sgd_start) doubles += H * d + cap * L * (d + 3 * H + 3) + d;
  if (p->run_ode) doubles += 12 * (H * W + H + 1) + 3 * H * H; /* rkf45 state, N, LU */
  if (p->run_ode && p->resample_dt > 0) /* the steps' set, besides set 0 */
    doubles += (double)p->ode_samples * (L * W + K);
  doubles += 2 * T * (H * K + 3 * H * H + H + 4) + K * K + 2 * p->maps * H * L; /* results */
  doubles += L * K;                                                          /* Bayes */
  return 8 * doubles;
}

/* The given start's shapes, and Q - m m^T = V V^T positive semi-definite
 * (positive definite if the noise term needs V^-1). */
static hs_status check_given(const hs_point *p, int K, int need_pd, hs_err *err) {
  int H = p->H;
  if (p->start_m.rows != H || p->start_m.cols != K)
    return hs_err_set(err, HS_EINPUT, "start_m must be H x K = %d x %d (got %d x %d)", H, K,
                      p->start_m.rows, p->start_m.cols);
  if (p->start_Q.rows != H || p->start_Q.cols != H)
    return hs_err_set(err, HS_EINPUT, "start_Q must be H x H = %d x %d (got %d x %d)", H, H,
                      p->start_Q.rows, p->start_Q.cols);
  if (p->start_b.data && p->start_b.cols != H)
    return hs_err_set(err, HS_EINPUT, "start_b must have H = %d entries", H);
  double *R = malloc(sizeof(double) * H * (K + H));
  if (!R) return hs_err_set(err, HS_ENOMEM, "out of memory");
  hs_status st = hs_population_represent(H, K, p->start_m.data, p->start_Q.data, R, err);
  if (st) hs_err_set(err, HS_EINPUT, "start_Q - start_m start_m^T is not positive semi-definite");
  for (int h = 0; h < H && !st && need_pd; h++)
    if (!(R[h * (K + H) + K + h] > 0))
      st = hs_err_set(err, HS_EINPUT,
                      "start_Q - start_m start_m^T is singular, so the ODE's noise term "
                      "(which needs its inverse) is undefined: set ode noise_term: false, "
                      "or start_noise > 0");
  free(R);
  return st;
}

/* Whether the ODE's start fits the point: the Bayes point's atoms, the
 * given m/Q/b, and a start whose Q_perp is invertible when the noise term
 * needs it (start_noise > 0 makes it so almost surely). */
static hs_status check_start(const hs_point *p, const hs_dist *dist, hs_err *err) {
  int H = p->H, K = dist->K;
  int need_pd = p->noise_term && p->start_noise == 0;
  if (strcmp(p->ode_start, "bayes") == 0) {
    double *R = malloc(sizeof(double) * H * (K + H)), *b = malloc(sizeof(double) * H);
    hs_status st = R && b ? hs_bayes_point(dist, H, R, b, err)
                          : hs_err_set(err, HS_ENOMEM, "out of memory");
    free(R), free(b);
    if (!st && need_pd)
      st = hs_err_set(err, HS_EINPUT,
                      "the Bayes point has Q_perp = 0, where the ODE's noise term (which "
                      "needs Q_perp^-1) is undefined: set ode noise_term: false, or "
                      "start_noise > 0");
    return st;
  }
  if (strcmp(p->ode_start, "given") == 0) return check_given(p, K, need_pd, err);
  /* sgd: Q - m m^T = W (I - xi^T xi / d) W^T / d. With H > d heads the W
   * span all of R^d, where I - xi^T xi / d has negative directions unless
   * the spikes are orthonormal: indefinite, no start. Orthonormal, it is a
   * projector of rank d - K: singular when H > d - K. */
  if (!p->orthonormal_spikes && H > p->d)
    return hs_err_set(err, HS_EINPUT,
                      "the ODE's start from SGD needs H <= d (H = %d, d = %d): with more "
                      "heads than dimensions Q - m m^T is indefinite; raise d, or use "
                      "orthonormal_spikes",
                      H, p->d);
  if (need_pd && p->orthonormal_spikes && H > p->d - K)
    return hs_err_set(err, HS_EINPUT,
                      "the SGD start's Q_perp has rank d - K = %d < H = %d, so the ODE's "
                      "noise term (which needs Q_perp^-1) is undefined: raise d to H + K, set "
                      "ode noise_term: false, or start_noise > 0",
                      p->d - K, H);
  return HS_OK;
}

/* The checks that need the distribution (its K). */
static hs_status check_with_dist(const hs_point *p, const hs_dist *dist, const char **key,
                                 hs_err *err) {
  int models = p->run_sgd || p->run_ode; /* a Bayes-only point has no d */
  if (models && p->orthonormal_spikes && dist->K > p->d)
    return *key = "model.orthonormal_spikes",
           hs_err_set(err, HS_EINPUT, "orthonormal spikes need K <= d (K = %d, d = %d)",
                      dist->K, p->d);
  int spikes_used = p->run_sgd || (p->run_ode && strcmp(p->ode_start, "sgd") == 0);
  if (spikes_used && dist->K > p->d)
    return *key = "training.d",
           hs_err_set(err, HS_EINPUT,
                      "K = %d spikes need d >= K (d = %d): their Gram matrix M would be "
                      "singular", dist->K, p->d);
  if (p->run_ode) return *key = "ode.start", check_start(p, dist, err);
  return HS_OK;
}

hs_status hs_point_check(const hs_point *p, const char **key, hs_err *err) {
  const char *blame = NULL;
  if (!key) key = &blame;
  *key = NULL;
  if (!p->run_sgd && !p->run_ode && p->bayes_samples == 0)
    return *key = "analysis.bayes_samples",
           hs_err_set(err, HS_EINPUT,
                      "nothing to compute: training run and ode run are both false and "
                      "analysis bayes_samples is 0 (give bayes_samples > 0 for a point "
                      "that computes only the Bayes risk)");
  if (p->run_sgd && hs_point_steps(p) < 0)
    return *key = "training.t_max",
           hs_err_set(err, HS_EINPUT,
                      "%.3g SGD steps (t_max d / eta = %g * %d / %g), over the limit of "
                      "2^53 = %.4g: lower t_max or d, or raise eta",
                      p->t_max * p->d / p->eta, p->t_max, p->d, p->eta, HS_MAX_STEPS);
  double hours = hs_point_cost(p) / 3600;
  if (!(hours <= HS_MAX_POINT_CORE_HOURS))
    return *key = "training.t_max",
           hs_err_set(err, HS_EINPUT,
                      "one point is estimated at %.3g core-hours, over the limit of %g "
                      "(a probable mistake; to run it anyway raise HS_MAX_POINT_CORE_HOURS "
                      "in include/headspec/point.h and rebuild)",
                      hours, HS_MAX_POINT_CORE_HOURS);
  double gib = hs_point_memory(p) / (1 << 30);
  if (!(gib <= HS_MAX_POINT_GIB))
    return *key = "training.d",
           hs_err_set(err, HS_EINPUT,
                      "one point needs about %.3g GiB of memory, over the limit of %d GiB "
                      "(mostly 8 max(B, 64) L d bytes for SGD's batch, 8 samples L (K + H) "
                      "for the ODE's samples, 8 records H^2 for the results; to run it "
                      "anyway raise HS_MAX_POINT_GIB in include/headspec/point.h)",
                      gib, HS_MAX_POINT_GIB);
  hs_dist dist;
  *key = "model.distribution";
  hs_status st = hs_dist_init(&dist, &p->dist, err);
  if (st) return st;
  st = check_with_dist(p, &dist, key, err);
  hs_dist_free(&dist);
  return st;
}

/* Estimated single-core seconds of each phase: the cost model behind the
 * ETA, the queue's order, `validate` and the per-point limit. Unit costs
 * measured by bench/ on this machine class (one core): SGD ~7 ns per normal
 * plus ~0.6 ns per head and token-dimension (full sampler; reduced: 2.5 ns
 * per frame normal, 0.3 ns per d-long FMA); Lpop ~12 ns per sample, token
 * and head with gradients, half without; the ODE about five right-hand
 * sides per unit of t (median 4-7 over the points of jobs/paper/, 2-13 in
 * all), each with an O(H^3) solve when the noise term is on (~3 ns
 * H^3); greedy pruning ~H^3/3 head evaluations of Lpop; the Bayes risk ~30 ns
 * per token and spike or atom. */
static void estimate_costs(const hs_point *p, const hs_dist *dist, hs_point_context *ctx) {
  double *c = ctx->cost, H = p->H, T = p->records, K = dist->K;
  double lpop_head = (double)p->ode_samples * p->L * 12e-9, lpop = lpop_head * H;
  double prune = p->prune ? H * H * H / 3 * lpop_head : 0;
  double maps = (double)p->maps * p->L * (p->d + H) * 8e-9;
  memset(c, 0, sizeof ctx->cost);
  int models = p->run_sgd || p->run_ode; /* else only the Bayes risk */
  c[HS_PHASE_POPULATION] = models ? (double)p->ode_samples * p->L * (K + H) * 7e-9 : 0;
  if (strcmp(p->sampler, "reduced") != 0) {
    ctx->cost_step = (double)p->B * p->L * p->d * (7e-9 + 0.6e-9 * H);
  } else { /* k d fast normals, Grams and update of k + r rows */
    double k = H < p->L ? H : p->L, n = k + H + K;
    ctx->cost_step = (double)p->B * p->d * (k * 2.5e-9 + n * (n + 2 * H) / 2 * 0.3e-9);
  }
  ctx->cost_record = (double)p->test_samples * p->L * p->d * 8e-9 + 0.5 * lpop;
  if (p->run_sgd) {
    double steps = ceil(p->t_max * p->d / p->eta);
    c[HS_PHASE_SGD] = steps * ctx->cost_step + T * ctx->cost_record;
    c[HS_PHASE_SGD_FINAL] = maps + prune;
  }
  double rhs = lpop + (p->noise_term ? 3e-9 * H * H * H : 0);
  double lpop_rhs = (double)p->ode_samples * p->L * H * 4e-9; /* lane kernel, AVX2 */
  if (p->run_ode && p->resample_dt > 0) { /* a draw and a right-hand side per step */
    double steps = ceil(p->t_max / p->resample_dt) + T;
    c[HS_PHASE_ODE] = steps * (c[HS_PHASE_POPULATION] + rhs) + T * 0.5 * lpop;
    c[HS_PHASE_ODE_FINAL] = maps + prune;
  } else if (p->run_ode) { /* right-hand sides counted by bench_ode (issue 16) */
    const hs_activation *act = hs_activation_find(p->activation);
    int extras = act && (act->trains_b || act->trains_lambda); /* rkf45: kappa stiffens */
    double stiff = extras && p->kappa > 1 ? pow(p->kappa, 0.8) : 1; /* 6x at kappa 10 */
    double n = H * (K + H) + H + 1; /* bdf: each Jacobian is n right-hand sides */
    double calls = strcmp(p->ode_method, "bdf") == 0 ? (30 + n / 2) * log1p(p->t_max)
                                                     : 35 * pow(p->t_max, 0.45) * stiff;
    c[HS_PHASE_ODE] = (calls + T) * (lpop_rhs + (p->noise_term ? 3e-9 * H * H * H : 0));
    c[HS_PHASE_ODE_FINAL] = maps + prune;
  }
  if (models && p->fresh_samples > 0) /* draw, then one loss per model */
    c[HS_PHASE_FRESH] = (double)p->fresh_samples * p->L *
                        ((K + H) * 7e-9 + (p->run_sgd + p->run_ode) * 0.5 * 12e-9 * H);
  c[HS_PHASE_BAYES] = (double)p->bayes_samples * p->L * (K + dist->n_atoms) * 30e-9;
}

double hs_point_cost(const hs_point *p) {
  hs_point_context ctx;
  hs_err ignore;
  if (hs_dist_init(&ctx.dist, &p->dist, &ignore)) return 0;
  estimate_costs(p, &ctx.dist, &ctx);
  hs_dist_free(&ctx.dist);
  double total = 0;
  for (int i = 0; i < HS_N_PHASES; i++) total += ctx.cost[i];
  return total;
}

void hs_point_phase(hs_point_context *ctx, hs_phase phase) {
  static const char *names[HS_N_PHASES] = {"population", "sgd", "sgd_final",
                                           "ode", "ode_final", "fresh", "bayes"};
  double before = 0, total = 0;
  for (int i = 0; i < HS_N_PHASES; i++) {
    if (i < (int)phase) before += ctx->cost[i];
    total += ctx->cost[i];
  }
  if (!(total > 0)) total = 1;
  hs_progress_phase(&ctx->progress, before / total, ctx->cost[phase] / total);
  /* testing: a signal as the phase starts, which the phase must notice */
  const char *hook = getenv("HEADSPEC_TESTING_SIGNAL_IN");
  if (hook && strcmp(hook, names[phase]) == 0) raise(SIGUSR1);
}

hs_status hs_point_run(const hs_point *p, hs_result *res,
                       hs_progress_fn progress, void *user, hs_err *err) {
  double start = now();
  if (p->fail_on_purpose)
    return hs_err_set(err, HS_ENUM, "forced failure of point %d (testing: fail_point)",
                      p->index);
  hs_point_context ctx = {.p = p, .res = res};
  hs_progress_init(&ctx.progress, progress, user);
  ctx.act = hs_activation_find(p->activation);
  if (!ctx.act)
    return hs_err_set(err, HS_EINPUT, "unknown activation '%s'", p->activation);
  hs_status st = hs_dist_init(&ctx.dist, &p->dist, err);
  if (st) return st;
  int K = ctx.dist.K, T = res->shape.T;
  memcpy(res->mean_c, ctx.dist.mean, sizeof(double) * K);
  int models = p->run_sgd || p->run_ode; /* else only the Bayes risk: no d, no time */
  estimate_costs(p, &ctx.dist, &ctx);
  if (models) {
    ctx.xi = malloc(sizeof(double) * K * p->d);
    ctx.times = malloc(sizeof(double) * T);
    if (!ctx.xi || !ctx.times) st = hs_err_set(err, HS_ENOMEM, "out of memory for spikes");
  }
  if (!st && models) {
    hs_timegrid(strcmp(p->record_grid, "log") == 0, p->t_min, p->t_max, T, ctx.times);
    st = hs_teacher_spikes(ctx.xi, K, p->d, p->job_seed, (uint64_t)p->seed,
                           p->orthonormal_spikes, err);
  }
  if (!st && models) {
    hs_point_phase(&ctx, HS_PHASE_POPULATION);
    st = hs_population_init(&ctx.pop, ctx.act, &ctx.dist, p->L, p->H, p->ode_samples,
                            p->job_seed, (uint64_t)p->seed, 0, &ctx.progress, err);
  }
  if (!st && models && p->antithetic) hs_population_make_antithetic(&ctx.pop);
  if (!st && p->run_sgd) st = hs_point_run_sgd(&ctx, err);
  if (!st && p->run_ode) st = hs_point_run_ode(&ctx, err);
  hs_population_free(&ctx.pop); /* before the fresh set: the peak is one set */
  if (!st && models && p->fresh_samples > 0) st = hs_point_run_fresh(&ctx, err);
  if (!st && p->bayes_samples > 0) {
    hs_point_phase(&ctx, HS_PHASE_BAYES);
    st = hs_bayes_risk(&ctx.dist, p->L, p->bayes_samples, p->job_seed, (uint64_t)p->seed,
                       &ctx.progress, res->bayes_risk, res->bayes_risk_se, err);
  }
  free(ctx.xi);
  free(ctx.times);
  free(ctx.ode_y);
  hs_dist_free(&ctx.dist);
  res->seconds[0] = now() - start;
  return st;
}
