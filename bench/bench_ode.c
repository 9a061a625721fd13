/* bench_ode.c: the order-parameter ODE's cost and Monte Carlo error.
 *
 * Modes for bench/run.sh's races (one line of output each):
 *   bench_ode rhs L H SECS        ms per right-hand side (N_mc = 20000, K = 2,
 *                                 best single call in thread CPU time,
 *                                 softmax) and its floor, measured now: the
 *                                 core's multiply-add rate (OpenBLAS dgemm)
 *                                 and exp rate (libmvec), see rhs_floor;
 *   bench_ode integrate L H N T METHOD [noise [ACTIVATION KAPPA]]
 *                                 a whole integration from numpy_ode.py's
 *                                 start (softmax, kappa 1 unless given):
 *                                 seconds, RHS count;
 *   bench_ode late METHOD         gradient flow (L = 8, H = 2, N_mc = 5000)
 *                                 to t = 2000: RHS per unit time by phase;
 *   bench_ode cv N T ROUNDS [bdf] the control variate's cost over a whole
 *                                 run: gradient flow of issue 26's case
 *                                 (diag_gaussian (3, 2, 1), L = 8, H = 4,
 *                                 softmax, antithetic, rkf45 or bdf) to t = T, with
 *                                 and without it by turns, thread CPU time;
 *                                 per round the ratio, then their median.
 * Without a mode (or with a number T_END) the report below:
 *   rhs:      seconds per right-hand side at N_mc = 20000, L = 16, H = 8,
 *             K = 2 (softmax, flipping(1, 2)), from a random state;
 *   integrate: a whole integration to t = T_END (GSL rkf45, rtol 1e-6,
 *             atol 1e-8) at N_mc = 5000, L = 8, H = 2, from the fixed start
 *             m_hk = 0.01 (h+1)(-1)^k, V = 0.5 I (numpy_ode.py does the
 *             same with the same scheme and tolerances);
 *   error:    how Lpop(t) of that integration depends on N_mc: the largest
 *             |L_N(t) - L_ref(t)| over the time grid, against N_mc = 160000
 *             (the same stream, so each N is its own sample set).
 *   variance: the spread over 16 independent sample sets (N_mc = 5000) of
 *             Lpop and of its gradient, plain and antithetic (u -> -u), at
 *             the start above and at a specialised state.
 * Usage: bench_ode [T_END]   (default 200)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include <cblas.h>

#include "bench_exp.h"
#include "headspec/ode.h"
#include "headspec/point.h"
#include "point_fixture.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The thread's CPU time: for the races' kernel timings, so that time the
 * thread spends preempted on a shared machine does not count (the peers
 * use the same clock). */
static double cpu(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* A right-hand side to time: softmax, flipping(1, 2), K = 2, N_mc samples,
 * from a random state (bench_rhs and mode_rhs). */
typedef struct {
  hs_dist dist;
  hs_population pop;
  hs_ode *ode;
  double *y, *dy;
} rhs_case;

static void rhs_case_init(rhs_case *c, int L, int H, int N) {
  enum { K = 2 };
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&c->dist, &dp, NULL);
  hs_population_init(&c->pop, &hs_softmax, &c->dist, L, H, N, 1, 1, 0, NULL, NULL);
  size_t n = hs_ode_dim(H, K);
  c->y = malloc(sizeof(double) * n), c->dy = malloc(sizeof(double) * n);
  hs_rng r;
  hs_rng_init(&r, 2, 2, HS_PURPOSE_TEST, 0);
  hs_rng_normal(&r, c->y, n);
  c->y[n - 1] = 1;
  hs_ode_config cfg = {.eta_over_B = 0.5, .kappa = 1, .noise_term = 1, .rtol = 1e-6, .atol = 1e-8};
  hs_ode_create(&c->pop, &cfg, &c->ode, NULL);
}

static void rhs_case_free(rhs_case *c) {
  hs_ode_free(c->ode);
  hs_population_free(&c->pop);
  hs_dist_free(&c->dist);
  free(c->y), free(c->dy);
}

static void bench_rhs(void) {
  enum { H = 8, K = 2, L = 16, N = 20000 };
  rhs_case c;
  rhs_case_init(&c, L, H, N);
  int reps = 0;
  double t0 = now();
  while (now() - t0 < 2.0 || reps < 5) hs_ode_rhs(c.ode, c.y, c.dy, NULL), reps++;
  printf("rhs: N_mc=%d L=%d H=%d K=%d: %.2f ms per right-hand side (%d calls)\n", N, L, H,
         K, 1e3 * (now() - t0) / reps, reps);
  rhs_case_free(&c);
}

/* ODE-only point: flipping(1, 2), L = 8, H = 2, d = 1000 start. */
static hs_point ode_point(int samples, double t_end, int records) {
  hs_point p = hs_test_point("softmax");
  p.d = 1000, p.test_samples = 0, p.records = records, p.t_max = t_end;
  p.ode_samples = samples, p.antithetic = 0;
  p.sampler = HS_SAMPLER_FULL;
  return p;
}

static int count_rhs(void *user, double t) {
  (void)t;
  ++*(long *)user;
  return 0;
}

/* The whole integration of the fixed start; prints time, RHS count, Lpop. */
static void bench_integrate(double t_end) {
  enum { H = 2, K = 2, L = 8, N = 5000, W = K + H };
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  hs_population pop;
  hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 1, 1, 0, NULL, NULL);
  double y[H * W + H + 1];
  memset(y, 0, sizeof y);
  for (int h = 0; h < H; h++) {
    for (int k = 0; k < K; k++) y[h * W + k] = 0.01 * (h + 1) * (k % 2 ? -1 : 1);
    y[h * W + K + h] = 0.5;
  }
  y[H * W + H] = 1;
  long calls = 0;
  hs_ode_config cfg = {.eta_over_B = 0.5, .kappa = 1, .noise_term = 1, .rtol = 1e-6,
                       .atol = 1e-8, .poll = count_rhs, .poll_user = &calls};
  hs_ode *ode;
  hs_ode_create(&pop, &cfg, &ode, NULL);
  double t = 0, t0 = now();
  hs_err err;
  if (hs_ode_advance(ode, y, &t, t_end, &err)) fprintf(stderr, "bench_ode: %s\n", err.msg);
  double secs = now() - t0;
  double loss = hs_population_loss(&pop, H, y, NULL, y + H * W, 1, NULL, NULL, NULL, NULL, NULL);
  printf("integrate: N_mc=%d L=%d H=%d to t=%g: %.2f s, %ld right-hand sides, final Lpop %.4f\n",
         N, L, H, t_end, secs, calls, loss);
  hs_ode_free(ode);
  hs_population_free(&pop);
  hs_dist_free(&dist);
}

/* Spread over sample sets of Lpop and |grad| at state R (H = 2, K = 2). */
static void spread(const char *what, const double *R, int antithetic) {
  enum { H = 2, K = 2, W = K + H, L = 8, N = 5000, SETS = 16 };
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  double b[H] = {0, 0}, loss[SETS], grads[SETS][H * W], gb[H], gl;
  for (int set = 0; set < SETS; set++) {
    hs_population pop;
    hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 100 + set, 1, 0, NULL, NULL);
    if (antithetic) hs_population_make_antithetic(&pop);
    loss[set] = hs_population_loss(&pop, H, R, NULL, b, 1, grads[set], gb, &gl, NULL, NULL);
    hs_population_free(&pop);
  }
  double ml = 0, vl = 0, vg = 0;
  for (int set = 0; set < SETS; set++) ml += loss[set] / SETS;
  for (int set = 0; set < SETS; set++) vl += (loss[set] - ml) * (loss[set] - ml) / (SETS - 1);
  for (int i = 0; i < H * W; i++) {
    double mg = 0;
    for (int set = 0; set < SETS; set++) mg += grads[set][i] / SETS;
    for (int set = 0; set < SETS; set++)
      vg += (grads[set][i] - mg) * (grads[set][i] - mg) / (SETS - 1);
  }
  printf("variance: %-11s %-10s std(Lpop) %.5f  rms std(grad) %.5f\n", what,
         antithetic ? "antithetic" : "plain", sqrt(vl), sqrt(vg / (H * W)));
  hs_dist_free(&dist);
}

static double run(int samples, double t_end, int records, double *loss) {
  hs_point p = ode_point(samples, t_end, records);
  hs_shape shape = {.T = records, .H = 2, .K = 2, .L = 8, .maps = 1};
  hs_result res;
  hs_err err;
  hs_result_alloc(&res, &shape, &err);
  double t0 = now();
  if (hs_point_run(&p, &res, NULL, NULL, &err)) fprintf(stderr, "bench_ode: %s\n", err.msg);
  double secs = now() - t0;
  memcpy(loss, res.ode_loss, sizeof(double) * records);
  hs_result_free(&res);
  return secs;
}

/* The core's multiply-add rate: one OpenBLAS dgemm at n = 384 (in cache,
 * one thread), in multiply-adds per second. */
enum { GEMM_N = 384, EXP_N = 2048 };
typedef struct {
  double *a, *b, *c, x[EXP_N], y[EXP_N], sink;
} floor_probe;

static void probe_init(floor_probe *f) {
  int n = GEMM_N;
  f->a = calloc(n * n, sizeof(double)), f->b = calloc(n * n, sizeof(double));
  f->c = calloc(n * n, sizeof(double)), f->sink = 0;
  for (int i = 0; i < n * n; i++) f->a[i] = 1e-3 * (i % 7), f->b[i] = 1e-3 * (i % 5);
  for (int i = 0; i < EXP_N; i++) f->x[i] = -8.0 * i / EXP_N;
}

static double gemm_rate(floor_probe *f) {
  int n = GEMM_N;
  double t1 = cpu();
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, f->a, n, f->b, n, 0.0,
              f->c, n);
  return (double)n * n * n / (cpu() - t1);
}

/* Exponentials per second of libmvec's vector exp on an L1-resident array
 * of scores' range (the kernels' exps are of max-shifted scores, <= 0). */
static double exp_rate(floor_probe *f) {
  double t1 = cpu();
  for (int r = 0; r < 64; r++) bench_exp_array(EXP_N, f->x, f->y), f->sink += f->y[r];
  return 64.0 * EXP_N / (cpu() - t1);
}

static void probe_free(floor_probe *f) {
  if (f->sink < 0) printf("%g", f->sink); /* keeps the loops */
  free(f->a), free(f->b), free(f->c);
}

/* The right-hand side's floor in seconds per call at N samples: per sample
 * the necessary multiply-adds (scores L H W + H K, gradient L H W + H K,
 * N's triangle L H (H+1)/2) plus 8 element-wise operations per score
 * (max, shift, sum, scale, alpha; rbar, e - rbar, times P) at the dgemm
 * rate, and L H exponentials at the exp rate. */
static double rhs_floor(int N, int L, int H, int K, double gma, double exps) {
  double W = K + H, ma = L * H * W * 2 + 2.0 * H * K + L * H * (H + 1) / 2.0;
  return N * ((ma + 8.0 * L * H) / gma + L * H / exps);
}

/* Best time to read the samples once (what a right-hand side streams from
 * L3 or memory; the compute floor above ignores it). */
static double read_time(const hs_population *pop) {
  size_t n = ((size_t)pop->N + 7) / 8 * 8 * pop->L * (pop->K + pop->H);
  double best = 1e9, sink = 0;
  for (int r = 0; r < 10; r++) {
    double t1 = cpu(), s[8] = {0};
    for (size_t i = 0; i < n; i += 8)
      for (int j = 0; j < 8; j++) s[j] += pop->U[i + j];
    best = fmin(best, cpu() - t1);
    sink += s[0];
  }
  if (sink == 1234.5) printf(" ");
  return best;
}

static int mode_rhs(int L, int H, double budget) {
  enum { K = 2, N = 20000 };
  rhs_case c;
  rhs_case_init(&c, L, H, N);
  /* best of single calls, the floor's rates measured between them (best
   * of each), so that all three see the core at the same speeds */
  floor_probe probe;
  probe_init(&probe);
  double gma = 0, exps = 0, best = 1e9;
  hs_ode_rhs(c.ode, c.y, c.dy, NULL); /* warm up */
  for (double t0 = cpu(); cpu() - t0 < budget;) {
    gma = fmax(gma, gemm_rate(&probe));
    exps = fmax(exps, exp_rate(&probe));
    double t1 = cpu();
    hs_ode_rhs(c.ode, c.y, c.dy, NULL);
    best = fmin(best, cpu() - t1);
  }
  probe_free(&probe);
  double fl = rhs_floor(N, L, H, K, gma, exps), stream = read_time(&c.pop);
  printf("rhs L=%d H=%d N=%d: ms %.3f floor_ms %.3f floor_frac %.3f gemm_GMAs %.2f exp_ns %.3f "
         "read_samples_ms %.3f\n", L, H, N, 1e3 * best, 1e3 * fl, fl / best, 1e-9 * gma,
         1e9 / exps, 1e3 * stream);
  rhs_case_free(&c);
  return 0;
}

/* numpy_ode.py's start: m_hk = 0.01 (h+1) (-1)^k, V = 0.5 I, lambda = 1. */
static void fixed_start(int H, int K, double *y) {
  int W = K + H;
  memset(y, 0, sizeof(double) * hs_ode_dim(H, K));
  for (int h = 0; h < H; h++) {
    for (int k = 0; k < K; k++) y[h * W + k] = 0.01 * (h + 1) * (k % 2 ? -1 : 1);
    y[h * W + K + h] = 0.5;
  }
  y[H * W + H] = 1;
}

static int mode_integrate(int L, int H, int N, double t_end, const char *method, int noise,
                          const char *activation, double kappa) {
  enum { K = 2 };
  const hs_activation *act = hs_activation_find(activation);
  if (!act || hs_ode_method_find(method) < 0)
    return fprintf(stderr, "bench_ode: unknown activation or method\n"), 1;
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  hs_population pop;
  hs_population_init(&pop, act, &dist, L, H, N, 1, 1, 0, NULL, NULL);
  double *y = malloc(sizeof(double) * hs_ode_dim(H, K));
  fixed_start(H, K, y);
  hs_ode_config cfg = {.method = (hs_ode_method)hs_ode_method_find(method), .eta_over_B = 0.5,
                       .kappa = kappa, .noise_term = noise, .rtol = 1e-6, .atol = 1e-8};
  hs_ode *ode;
  hs_err err;
  if (hs_ode_create(&pop, &cfg, &ode, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double t = 0, t0 = now();
  if (hs_ode_advance(ode, y, &t, t_end, &err)) fprintf(stderr, "bench_ode: %s\n", err.msg);
  double secs = now() - t0;
  double loss = hs_population_loss(&pop, H, y, NULL, y + H * (K + H), y[hs_ode_dim(H, K) - 1],
                                   NULL, NULL, NULL, NULL, NULL);
  printf("integrate %s kappa=%g L=%d H=%d N=%d t=%g %s: s %.3f rhs %ld Lpop %.6f\n",
         activation, kappa, L, H, N, t_end, method, secs, hs_ode_rhs_calls(ode), loss);
  hs_ode_free(ode);
  hs_population_free(&pop);
  hs_dist_free(&dist);
  free(y);
  return 0;
}

/* Gradient flow to t = 2000 in phases: right-hand sides per unit time. */
static int mode_late(const char *method) {
  enum { K = 2, H = 2, L = 8, N = 5000 };
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  hs_population pop;
  hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 1, 1, 0, NULL, NULL);
  double y[H * (K + H) + H + 1], t = 0, ends[] = {10, 100, 500, 1000, 2000}, t0 = now();
  fixed_start(H, K, y);
  hs_ode_config cfg = {.method = (hs_ode_method)hs_ode_method_find(method), .kappa = 1,
                       .noise_term = 0, .rtol = 1e-6, .atol = 1e-8};
  hs_ode *ode;
  hs_err err;
  hs_ode_create(&pop, &cfg, &ode, &err);
  printf("late %s gradient flow L=%d H=%d N=%d:", method, L, H, N);
  long before = 0;
  for (int i = 0; i < 5; i++) {
    double from = t;
    if (hs_ode_advance(ode, y, &t, ends[i], &err)) fprintf(stderr, "bench_ode: %s\n", err.msg);
    long calls = hs_ode_rhs_calls(ode);
    printf("  [%g,%g] %.2f/t", from, ends[i], (calls - before) / (ends[i] - from));
    before = calls;
  }
  double loss = hs_population_loss(&pop, H, y, NULL, y + H * (K + H), 1, NULL, NULL, NULL,
                                   NULL, NULL);
  printf("  total rhs %ld, %.2f s, Lpop %.6f\n", before, now() - t0, loss);
  hs_ode_free(ode);
  hs_population_free(&pop);
  hs_dist_free(&dist);
  return 0;
}

/* One whole run of issue 26's case: thread CPU seconds; its right-hand
 * sides and extra evaluations into calls[0], calls[1]. */
static double cv_run(hs_population *pop, const hs_dist *dist, double t_end, int on,
                     hs_ode_method method, long *calls) {
  enum { K = 3, H = 4 };
  double y[H * (K + H) + H + 1], t = 0;
  fixed_start(H, K, y);
  hs_ode_config cfg = {.kappa = 1, .rtol = 1e-6, .atol = 1e-8, .dist = dist,
                       .control_variate = on, .method = method};
  hs_ode *ode;
  hs_err err;
  hs_ode_create(pop, &cfg, &ode, &err);
  double t0 = cpu();
  if (hs_ode_advance(ode, y, &t, t_end, &err)) fprintf(stderr, "bench_ode: %s\n", err.msg);
  double secs = cpu() - t0;
  calls[0] = hs_ode_rhs_calls(ode), calls[1] = hs_ode_cv_calls(ode);
  hs_ode_free(ode);
  return secs;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int mode_cv(int N, double t_end, int rounds, hs_ode_method method) {
  enum { L = 8, H = 4 };
  double betas[3] = {3, 2, 1}, ratio[64];
  hs_dist dist;
  hs_dist_params dp = {.name = "diag_gaussian", .betas = {betas, 1, 3}};
  hs_dist_init(&dist, &dp, NULL);
  hs_population pop;
  hs_population_init(&pop, &hs_softmax, &dist, L, H, N, 1, 1, 0, NULL, NULL);
  hs_population_make_antithetic(&pop);
  if (rounds > 64) rounds = 64;
  long on[2], off[2];
  for (int r = 0; r < rounds; r++) {
    double a = cv_run(&pop, &dist, t_end, 1, method, on);
    double b = cv_run(&pop, &dist, t_end, 0, method, off);
    ratio[r] = a / b;
    printf("cv round %d: on %.3f s (%ld rhs, %ld with the second state), off %.3f s (%ld rhs): %.2fx\n", r,
           a, on[0], on[1], b, off[0], ratio[r]);
    fflush(stdout);
  }
  qsort(ratio, (size_t)rounds, sizeof *ratio, cmp_double);
  printf("cv N=%d t=%g: corrected/uncorrected CPU time median %.2fx (range %.2f-%.2f, %d "
         "rounds); right-hand sides %.2fx\n",
         N, t_end, ratio[rounds / 2], ratio[0], ratio[rounds - 1], rounds,
         (double)on[0] / off[0]);
  hs_population_free(&pop);
  hs_dist_free(&dist);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 4 && strcmp(argv[1], "cv") == 0)
    return mode_cv(atoi(argv[2]), atof(argv[3]), atoi(argv[4]),
                   argc > 5 && strcmp(argv[5], "bdf") == 0 ? HS_ODE_BDF : HS_ODE_RKF45);
  if (argc > 4 && strcmp(argv[1], "rhs") == 0)
    return mode_rhs(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
  if (argc > 6 && strcmp(argv[1], "integrate") == 0)
    return mode_integrate(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]), argv[6],
                          argc > 7 ? atoi(argv[7]) : 1, argc > 8 ? argv[8] : "softmax",
                          argc > 9 ? atof(argv[9]) : 1);
  if (argc > 2 && strcmp(argv[1], "late") == 0) return mode_late(argv[2]);
  double t_end = argc > 1 ? atof(argv[1]) : 200;
  enum { T = 41 };
  bench_rhs();
  bench_integrate(t_end);
  double start[8] = {0.01, -0.01, 0.5, 0, 0.02, -0.02, 0, 0.5};
  double special[8] = {0.9, 1.2, 0.3, 0, 0.9, -1.2, 0, 0.3};
  for (int a = 0; a < 2; a++) spread("start", start, a);
  for (int a = 0; a < 2; a++) spread("specialised", special, a);
  double ref[T], loss[T];
  run(160000, t_end, T, ref);
  printf("error: N_mc  max_t |Lpop_N - Lpop_ref|  (ref N_mc = 160000)\n");
  for (int n = 1250; n <= 40000; n *= 2) {
    double s = run(n, t_end, T, loss), worst = 0;
    for (int j = 0; j < T; j++) worst = fmax(worst, fabs(loss[j] - ref[j]));
    printf("error: %6d  %.5f  (%.2f s)\n", n, worst, s);
    fflush(stdout);
  }
  return 0;
}
