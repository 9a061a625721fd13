/* phase_replicas.c: the ODE's Monte Carlo error bar and its convergence
 * in the sample size N (phase.h, issue 26; docs/MODEL.md#monte-carlo-error).
 *
 * The ODE's expectations are averages over a fixed set of N samples, so
 * every number it gives is a random variable of that set. Replica 0 is the
 * ODE phase's own run on set 0; replicas 1 .. R-1 integrate the same ODE
 * (start, method, tolerances, record times, control variate) on
 * independent sets of N samples, drawn, made antithetic and moment-matched
 * exactly as set 0 (population.h: stream HS_STREAM_REPLICA + r); with
 * analysis.stability each also gets the stability phase's head-symmetric
 * prediction on its set (stability/predicted_t). Their spread is the
 * error bar. One more run on N/4 samples (stream
 * HS_STREAM_QUARTER) tells how far the numbers still move with N: a bias
 * of order 1/N moves x by about (x(N) - x(N/4)) / 4 from N to 4N
 * (Richardson), noise of order 1/sqrt(N) does not bias it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <gsl/gsl_cdf.h>

#include "headspec/stability.h"
#include "phase.h"

static int runs(const hs_point *p) {
  return p->run_ode && p->ode_replicas >= 2 && p->resample_dt <= 0;
}

/* The quarter set's size: N/4, even (antithetic pairs), at least 2. */
static int quarter_samples(const hs_point *p) {
  int n = p->ode_samples / 4;
  n -= n % 2;
  return n < 2 ? 2 : n;
}

/* Whether the replicas repeat the stability phase's head-symmetric
 * prediction. */
static int predicts(const hs_point *p) { return p->stability; }

/* Each replica draws its set and integrates (no saddle test, no attention
 * statistics: rhs calls and one loss per record), then predicts (with
 * analysis.stability); the quarter run at N/4 costs about a quarter of an
 * integration and predicts nothing. */
static double replica_cost(const hs_point *p, const hs_dist *dist) {
  return hs_phase_population.cost(p, dist) + hs_ode_phase_integration_cost(p, dist) +
         p->records * 0.5 * hs_cost_lpop_head(p) * p->H;
}

static double prediction_cost(const hs_point *p, const hs_dist *dist) {
  return predicts(p) ? hs_stability_prediction_rhs(p, dist) * hs_cost_rhs(p, dist) : 0;
}

static double cost(const hs_point *p, const hs_dist *dist) {
  return (p->ode_replicas - 1 + 0.25) * replica_cost(p, dist) +
         (p->ode_replicas - 1) * prediction_cost(p, dist);
}

/* The quarter run takes about as many right-hand sides as a replica. */
double hs_replicas_phase_rhs(const hs_point *p, const hs_dist *dist) {
  return p->ode_replicas * hs_ode_phase_integration_rhs(p, dist) +
         (predicts(p) ? (p->ode_replicas - 1) * hs_stability_prediction_rhs(p, dist) : 0);
}

/* Where one run's records go: m (T x H x K), Q (T x H x H), b (T x H),
 * lambda and loss (T), and the head-symmetric prediction on its set
 * (K); any may be NULL (but loss). */
typedef struct tape {
  double *m, *Q, *b, *lambda, *loss, *predicted_t;
  hs_population *pop;
  int replica, n_runs; /* for the progress fraction */
} tape;

static hs_status record(hs_point_context *ctx, hs_ode *ode, const double *y, double t, int j,
                        void *user, int *stop, hs_err *err) {
  (void)ode, (void)t, (void)stop;
  tape *tp = user;
  int H = ctx->res->shape.H, K = ctx->res->shape.K, width = K + H;
  const double *R = y, *b = y + H * width;
  for (int h = 0; h < H; h++)
    memcpy(tp->m + ((size_t)j * H + h) * K, R + h * width, sizeof(double) * K);
  if (tp->Q)
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, H, width, 1.0, R, width, R, width,
                0.0, tp->Q + (size_t)j * H * H, H);
  if (tp->b) memcpy(tp->b + (size_t)j * H, b, sizeof(double) * H);
  if (tp->lambda) tp->lambda[j] = y[H * width + H];
  tp->loss[j] = hs_population_loss(tp->pop, H, R, NULL, b, y[H * width + H], NULL, NULL, NULL,
                                   NULL, NULL);
  if (hs_progress_stopped(&ctx->progress))
    return hs_err_set(err, HS_EINTERRUPT, "interrupted at replica %d's record t = %g",
                      tp->replica, t);
  return HS_OK;
}

typedef struct poller {
  hs_point_context *ctx;
  const tape *tp;
  double t_end;
} poller;

static int poll(void *user, double t) {
  poller *pl = user;
  hs_progress_set(&pl->ctx->progress, (pl->tp->replica + t / pl->t_end) / pl->tp->n_runs);
  return hs_progress_poll(&pl->ctx->progress);
}

/* One run from the start y0 on a set of n samples from population stream
 * `stream`, through records 0 .. n_records - 1, into tp (its prediction
 * too, on the same set, while it is drawn); y gets its final state. */
static hs_status run_on(hs_point_context *ctx, uint64_t stream, int n, const double *y0,
                        int n_records, tape *tp, double *y, long *calls, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_population pop;
  hs_status st = hs_population_init(&pop, ctx->act, &ctx->dist, p->L, p->H, n, p->job_seed,
                                    (uint64_t)p->seed, stream, &ctx->progress, err);
  if (st) return st;
  /* the same method as set 0's (phase_population.c) */
  if (p->antithetic) hs_population_make_antithetic(&pop);
  if (p->ode_control_variate) hs_population_match_moments(&pop, &ctx->dist);
  memcpy(y, y0, sizeof(double) * hs_ode_dim(p->H, ctx->dist.K));
  tp->pop = &pop;
  poller pl = {ctx, tp, ctx->times[n_records - 1]};
  long c = 0;
  st = hs_ode_phase_follow(ctx, &pop, y, n_records, record, tp, poll, &pl, &c, err);
  *calls += c;
  if (!st && tp->predicted_t) st = hs_stability_predict_on(ctx, &pop, tp->predicted_t, calls, err);
  hs_population_free(&pop);
  return st;
}

static double mean_of(const double *x, int n, int stride) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[(size_t)i * stride];
  return s / n;
}

static double sd_of(const double *x, int n, int stride) {
  double m = mean_of(x, n, stride), s = 0;
  for (int i = 0; i < n; i++) s += pow(x[(size_t)i * stride] - m, 2);
  return n > 1 ? sqrt(s / (n - 1)) : NAN;
}

/* The rule's false-alarm rate per number without a bias (at most). */
#define FALSE_ALARM 0.01

/* The convergence-in-N rule for one number (docs/MODEL.md): x[r] over the
 * R replicas at N, xq on N/4. A 1/N bias moves the replicas' mean by
 * (xbar - xq) / 4 from N to 4N; that estimate's standard error, with the
 * noise of a run scaling as 1/sqrt(N) (sd s at N, 2 s at N/4), is
 * sqrt(4 s^2 + s^2 / R) / 4. Flagged (returns 1) when the move exceeds the
 * error bar s / sqrt(R) by more than z of its own standard errors, z the
 * two-sided FALSE_ALARM quantile of Student's t with R - 1 degrees of
 * freedom (s is estimated from the R replicas; move / move_se is t-like). */
static int moves(const double *x, int R, int stride, double xq, double *move, double *move_se) {
  double xbar = mean_of(x, R, stride), s = sd_of(x, R, stride);
  double z = gsl_cdf_tdist_Qinv(FALSE_ALARM / 2, R - 1);
  *move = (xbar - xq) / 4;
  *move_se = sqrt(4 * s * s + s * s / R) / 4;
  return fabs(*move) > s / sqrt(R) + z * *move_se;
}

/* Per feature: escaped on every replica and the quarter run (its move and
 * rule), on none of them (no move), or on some: the escape itself depends
 * on the sample set, or appears only at the larger N (flagged). An escape
 * on N/4 only is the source term's kind of escape fading with N: no move
 * of a time at N, not flagged. */
static int judge_escapes(hs_result *res, int R, int K) {
  int flagged = 0;
  for (int k = 0; k < K; k++) {
    int escaped = 0;
    for (int r = 0; r < R; r++) escaped += !isnan(res->rep_escape_t[(size_t)r * K + k]);
    int quarter = !isnan(res->quarter_escape_t[k]);
    if (escaped == R && quarter)
      flagged |= moves(res->rep_escape_t + k, R, K, res->quarter_escape_t[k],
                       &res->escape_move[k], &res->escape_move_se[k]);
    else if (escaped == 0)
      res->escape_move[k] = res->escape_move_se[k] = 0;
    else
      flagged = 1;
  }
  return flagged;
}

/* The final record every run reached: replica 0's last (ode/t_stop). */
static int records_run(const hs_result *res) {
  int n = 0;
  for (int j = 0; j < res->shape.T; j++)
    if (!isnan(res->ode_t[j])) n = j + 1;
  return n;
}

static double escape_threshold(const hs_point *p) {
  return p->stability_threshold > 0 ? p->stability_threshold : 0.1;
}

/* Replica 0's records into its slot of the replicas/ fields. */
static void copy_replica0(hs_result *res) {
  int T = res->shape.T, H = res->shape.H, K = res->shape.K;
  memcpy(res->rep_m, res->ode_m, sizeof(double) * T * H * K);
  memcpy(res->rep_Q, res->ode_Q, sizeof(double) * T * H * H);
  memcpy(res->rep_b, res->ode_b, sizeof(double) * T * H);
  memcpy(res->rep_lambda, res->ode_lambda, sizeof(double) * T);
  memcpy(res->rep_loss, res->ode_loss, sizeof(double) * T);
  memcpy(res->rep_predicted_t, res->stab_predicted_t, sizeof(double) * K);
}

static hs_status run(hs_point_context *ctx, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, K = ctx->dist.K, T = res->shape.T, R = p->ode_replicas;
  int n = records_run(res);
  size_t dim = hs_ode_dim(H, K), TH = (size_t)T * H;
  double thr = escape_threshold(p);
  double *y0 = malloc(sizeof(double) * dim), *qm = malloc(sizeof(double) * TH * K);
  double *qloss = malloc(sizeof(double) * T);
  ctx->replica_y = malloc(sizeof(double) * dim * (size_t)(R - 1));
  if (!y0 || !qm || !qloss || !ctx->replica_y) {
    free(y0), free(qm), free(qloss);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the replicas");
  }
  copy_replica0(res);
  hs_status st = n > 0 ? hs_ode_phase_start(ctx, y0, err)
                       : hs_err_set(err, HS_ENUM, "the ODE stored no record to replicate");
  long calls = 0;
  for (int r = 1; r < R && !st; r++) {
    tape tp = {res->rep_m + r * TH * K, res->rep_Q + r * TH * H, res->rep_b + r * TH,
               res->rep_lambda + (size_t)r * T, res->rep_loss + (size_t)r * T,
               predicts(p) ? res->rep_predicted_t + (size_t)r * K : NULL, NULL, r - 1, R};
    st = run_on(ctx, HS_STREAM_REPLICA + (uint64_t)r, p->ode_samples, y0, n, &tp,
                ctx->replica_y + (r - 1) * dim, &calls, err);
  }
  if (!st) {
    for (size_t i = 0; i < TH * K; i++) qm[i] = NAN;
    double *yq = malloc(sizeof(double) * dim);
    tape tp = {qm, NULL, NULL, NULL, qloss, NULL, NULL, R - 1, R};
    st = yq ? run_on(ctx, HS_STREAM_QUARTER, quarter_samples(p), y0, n, &tp, yq, &calls, err)
            : hs_err_set(err, HS_ENOMEM, "out of memory");
    free(yq);
  }
  if (!st) {
    for (int r = 0; r < R; r++)
      hs_stability_measured_escape(n, res->ode_t, res->rep_m + r * TH * K, H, K, thr,
                                   res->rep_escape_t + (size_t)r * K);
    hs_stability_measured_escape(n, res->ode_t, qm, H, K, thr, res->quarter_escape_t);
    res->quarter_loss[0] = qloss[n - 1];
    int flagged = moves(res->rep_loss + n - 1, R, T, qloss[n - 1], res->loss_move,
                        res->loss_move_se);
    flagged |= judge_escapes(res, R, K);
    res->n_converged[0] = !flagged;
  }
  ctx->rhs_calls = calls;
  free(y0), free(qm), free(qloss);
  return st;
}

const hs_phase hs_phase_replicas = {"replicas", runs, cost, run};
