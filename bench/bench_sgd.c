/* bench_sgd.c: SGD steps per second, the two samplers side by side, and
 * the full sampler against its floor.
 *
 * 1. generators: ns per normal of hs_rng_normal (the full sampler's) and
 *    hs_rng_normal_fast (the reduced sampler's).
 * 2. samplers: for the settings of issue 11 (softmax, flipping, K = 2),
 *    steps/s of sampler full and sampler reduced, measured alternately
 *    (three rounds, best of each) so that a load change hits both.
 * 3. floor (sampler full, L = 16, H = 8): the step against drawing its
 *    B*L*d normals plus its products with the same BLAS calls.
 * 4. training sets (sampler full): steps/s online, on a held training set
 *    and on a streamed one (redrawn at each use), in turns (five rounds,
 *    the median of each round's ratio), and the held step against its
 *    floor: copying its B L d entries plus the step's BLAS products.
 * 5. reduced L H d SECONDS: the reduced step (B = 1) against its compute
 *    floor (its normals at the fast generator's rate, its multiply-adds
 *    at the dgemm rate).
 * 6. rows L H d SECONDS: the reduced step's two row kernels alone
 *    (src/model/rows.c, B = 1: the Gram of the n = k + H + K rows [Z; W; xi]
 *    and W += alpha coef [Z; W; xi]) against their floors: their
 *    multiply-adds at the dgemm rate (their rows read once, at the rate of
 *    OpenBLAS's dasum, printed as read_us, took less at every setting).
 * Usage: bench_sgd [seconds-per-measurement] [samplers|floor|trainset|all]
 *        bench_sgd one L H d B SECONDS   (one setting of 3, for bench/race.py)
 *        bench_sgd reduced L H d SECONDS
 *        bench_sgd rows L H d SECONDS
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/dist.h"
#include "headspec/sgd.h"
#include "model/rows.h"

/* The thread's CPU time: time spent preempted on a shared machine does not
 * count (bench/race.py's peers use the same clock). */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Calls per second of fn(arg), run for about `budget` seconds. */
#define RATE(budget, stmt)                                       \
  ({                                                             \
    long n_ = 0;                                                 \
    double t0_ = now(), t_;                                      \
    do {                                                         \
      for (int k_ = 0; k_ < 16; k_++, n_++) { stmt; }            \
    } while ((t_ = now() - t0_) < (budget));                     \
    n_ / t_;                                                     \
  })

static hs_dist flipping(void) {
  hs_dist dist;
  hs_dist_params dp = {.name = "flipping", .b1 = 1, .b2 = 2};
  hs_dist_init(&dist, &dp, NULL);
  return dist;
}

static void generators(double budget) {
  enum { N = 1 << 16 };
  double *x = malloc(sizeof(double) * N);
  hs_rng r;
  hs_rng_init(&r, 1, 1, HS_PURPOSE_TRAIN, 0);
  double old = 0, fast = 0;
  for (int round = 0; round < 3; round++) {
    old = fmax(old, RATE(budget / 3, hs_rng_normal(&r, x, N)));
    fast = fmax(fast, RATE(budget / 3, hs_rng_normal_fast(&r, x, N)));
  }
  printf("generators: hs_rng_normal %.2f ns/normal, hs_rng_normal_fast %.2f ns/normal (%.1fx)\n",
         1e9 / (old * N), 1e9 / (fast * N), fast / old);
  free(x);
}

/* Steps per second of one sampler at one setting, for `budget` seconds;
 * n > 0: on a training set of n sequences (stream: redrawn at each use). */
static double set_rate(int L, int H, int d, int B, hs_sampler sampler, long n, int stream,
                       double budget, const double *xi, const hs_dist *dist) {
  hs_sgd_config cfg = {.d = d, .L = L, .H = H, .B = B, .sampler = sampler, .eta = 0.1,
                       .kappa = 1, .sigma0 = 0.5, .act = &hs_softmax, .dist = dist,
                       .xi = xi, .job_seed = 1, .seed = 1, .test_samples = 1,
                       .n_train = n, .stream_set = stream};
  hs_sgd s;
  hs_sgd_init(&s, &cfg, NULL);
  hs_sgd_step(&s); /* warm up */
  double rate = RATE(budget, hs_sgd_step(&s));
  hs_sgd_free(&s);
  return rate;
}

static double sampler_rate(int L, int H, int d, int B, hs_sampler sampler, double budget,
                           const double *xi, const hs_dist *dist) {
  return set_rate(L, H, d, B, sampler, 0, 0, budget, xi, dist);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median5(double *x) {
  qsort(x, 5, sizeof *x, cmp_double);
  return x[2];
}

/* Seconds of copying B L d entries of a held set plus the step's products
 * (the floor_table's BLAS calls): the held step's floor. */
static double held_floor(int L, int H, int d, int B, double budget, const double *xi,
                         const hs_dist *dist) {
  hs_sgd_config cfg = {.d = d, .L = L, .H = H, .B = B, .eta = 0.1, .kappa = 1, .sigma0 = 0.5,
                       .act = &hs_softmax, .dist = dist, .xi = xi, .job_seed = 1, .seed = 1,
                       .test_samples = 1};
  hs_sgd s;
  hs_sgd_init(&s, &cfg, NULL);
  size_t n = (size_t)B * L * d;
  double *src = calloc(n, sizeof(double));
  double rate = RATE(budget, {
    memcpy(s.X, src, n * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * L, H, d, 1.0, s.X, d, s.W, d, 0.0,
                s.S, H);
    for (int b = 0; b < B; b++) {
      cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, s.X + (size_t)b * L * d, d, s.e, 1, 0.0,
                  s.r, 1);
      cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, s.X + (size_t)b * L * d, d, s.r, 1,
                  0.0, s.rho, 1);
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, B * L, -1e-9, s.G, H, s.X, d,
                1.0, s.W, d);
  });
  free(src);
  hs_sgd_free(&s);
  return rate;
}

static void trainset(double budget) {
  enum { K = 2 };
  /* L, H, d, B, n: the study's setting (jobs/beyond), a long one, a wide one */
  const int set[][5] = {{8, 2, 100, 16, 6400}, {8, 2, 1000, 1, 4000}, {16, 8, 1000, 16, 2000}};
  hs_dist dist = flipping();
  printf("%4s %3s %6s %4s %6s %10s %10s %10s %7s %7s %7s\n", "L", "H", "d", "B", "n",
         "online/s", "held/s", "stream/s", "held/on", "strm/on", "floor%");
  for (int i = 0; i < 3; i++) {
    int L = set[i][0], H = set[i][1], d = set[i][2], B = set[i][3], n = set[i][4];
    double *xi = malloc(sizeof(double) * K * d);
    hs_teacher_spikes(xi, K, d, 1, 1, 0, NULL);
    double on[5], held[5], strm[5], rh[5], rs[5];
    for (int round = 0; round < 5; round++) { /* in turns: a load change hits all */
      on[round] = set_rate(L, H, d, B, HS_SAMPLER_FULL, 0, 0, budget / 5, xi, &dist);
      held[round] = set_rate(L, H, d, B, HS_SAMPLER_FULL, n, 0, budget / 5, xi, &dist);
      strm[round] = set_rate(L, H, d, B, HS_SAMPLER_FULL, n, 1, budget / 5, xi, &dist);
      rh[round] = held[round] / on[round], rs[round] = strm[round] / on[round];
    }
    double fl = held_floor(L, H, d, B, budget / 5, xi, &dist), h = median5(held);
    printf("%4d %3d %6d %4d %6d %10.0f %10.0f %10.0f %6.2fx %6.2fx %6.0f%%\n", L, H, d, B, n,
           median5(on), h, median5(strm), median5(rh), median5(rs), 100 * h / fl);
    fflush(stdout);
    free(xi);
  }
  hs_dist_free(&dist);
}

static void samplers(double budget) {
  enum { K = 2 };
  const int set[][5] = {{8, 2, 1000, 1, 4}, {16, 8, 4000, 1, 2}, {16, 8, 1000, 16, 2},
                        {64, 2, 2000, 1, 10}};
  hs_dist dist = flipping();
  printf("%4s %3s %3s %6s %4s %12s %12s %7s %7s\n", "L", "H", "K", "d", "B", "full/s",
         "reduced/s", "ratio", "target");
  for (int i = 0; i < 4; i++) {
    int L = set[i][0], H = set[i][1], d = set[i][2], B = set[i][3];
    double *xi = malloc(sizeof(double) * K * d);
    hs_teacher_spikes(xi, K, d, 1, 1, 0, NULL);
    double full = 0, red = 0;
    for (int round = 0; round < 3; round++) {
      full = fmax(full, sampler_rate(L, H, d, B, HS_SAMPLER_FULL, budget / 3, xi, &dist));
      red = fmax(red, sampler_rate(L, H, d, B, HS_SAMPLER_REDUCED, budget / 3, xi, &dist));
    }
    printf("%4d %3d %3d %6d %4d %12.0f %12.0f %6.1fx %6dx\n", L, H, K, d, B, full, red,
           red / full, set[i][4]);
    fflush(stdout);
    free(xi);
  }
  hs_dist_free(&dist);
}

/* Steps/s of the full sampler at one setting and its floor: drawing its
 * B*L*d normals plus its products with the same BLAS calls. */
static void floor_one(int L, int H, int d, int B, double budget, const hs_dist *dist,
                      double *steps, double *floor, double *ns_normal) {
  enum { K = 2 };
  double *xi = malloc(sizeof(double) * K * d);
  hs_teacher_spikes(xi, K, d, 1, 1, 0, NULL);
  hs_sgd_config cfg = {.d = d, .L = L, .H = H, .B = B, .eta = 0.1, .kappa = 1,
                       .sigma0 = 0.5, .act = &hs_softmax, .dist = dist,
                       .xi = xi, .job_seed = 1, .seed = 1, .test_samples = 1};
  hs_sgd s;
  hs_sgd_init(&s, &cfg, NULL);
  *steps = RATE(budget, hs_sgd_step(&s));
  size_t n = (size_t)B * L * d;
  hs_rng r;
  hs_rng_init(&r, 1, 1, HS_PURPOSE_TRAIN, 0);
  double normals = RATE(budget, hs_rng_normal(&r, s.X, n));
  double products = RATE(budget, {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B * L, H, d, 1.0,
                s.X, d, s.W, d, 0.0, s.S, H);
    for (int b = 0; b < B; b++) {
      cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, s.X + (size_t)b * L * d, d,
                  s.e, 1, 0.0, s.r, 1);
      cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, s.X + (size_t)b * L * d,
                  d, s.r, 1, 0.0, s.rho, 1);
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, d, B * L, -1e-9,
                s.G, H, s.X, d, 1.0, s.W, d);
  });
  *floor = 1 / (1 / normals + 1 / products);
  *ns_normal = 1e9 / (normals * n);
  hs_sgd_free(&s);
  free(xi);
}

static void floor_table(double budget) {
  enum { L = 16, H = 8 };
  int ds[] = {200, 1000, 4000}, Bs[] = {1, 16};
  hs_dist dist = flipping();
  printf("%6s %4s %12s %12s %7s %9s\n", "d", "B", "steps/s", "floor/s", "floor%", "ns/normal");
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) {
      double steps, floor, ns;
      floor_one(L, H, ds[i], Bs[j], budget, &dist, &steps, &floor, &ns);
      printf("%6d %4d %12.0f %12.0f %6.0f%% %9.2f\n", ds[i], Bs[j], steps, floor,
             100 * steps / floor, ns);
      fflush(stdout);
    }
  hs_dist_free(&dist);
}

/* The core's multiply-add rate: OpenBLAS dgemm at n = 384 (in cache), one
 * call, in multiply-adds per second. */
static double gemm_rate(double *a, double *b, double *c) {
  enum { n = 384 };
  double t0 = now();
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
  return (double)n * n * n / (now() - t0);
}

/* The reduced step (sampler reduced, B = 1) against its compute floor: its
 * normals (k d for the frame, k = min(H, L), plus L (H + K) + L^2/2-ish per
 * sequence) at hs_rng_normal_fast's rate, and its d-long multiply-adds
 * (the Gram of [Z; W; xi], n (n + 1)/2 per coordinate with n = k + H + K;
 * the update H n; W's axpy H) at the dgemm rate. The three are measured
 * in turns (best of each) so that they see the core at the same speed. */
static void reduced_floor(int L, int H, int d, double budget) {
  enum { K = 2, GN = 384 };
  hs_dist dist = flipping();
  double *xi = malloc(sizeof(double) * K * d);
  hs_teacher_spikes(xi, K, d, 1, 1, 0, NULL);
  hs_sgd_config cfg = {.d = d, .L = L, .H = H, .B = 1, .sampler = HS_SAMPLER_REDUCED,
                       .eta = 0.1, .kappa = 1, .sigma0 = 0.5, .act = &hs_softmax,
                       .dist = &dist, .xi = xi, .job_seed = 1, .seed = 1, .test_samples = 1};
  hs_sgd s;
  hs_sgd_init(&s, &cfg, NULL);
  int r = H + K, q = L < d - r ? L : d - r, k = H < q ? H : q, n = k + r, nb = 0;
  for (int l = 0; l < L; l++) nb += l < q ? l : q;
  size_t normals = (size_t)k * d + (size_t)L * r + nb + q;
  double ma = (double)d * (n * (n + 1) / 2.0 + H * n + H);
  double *x = malloc(sizeof(double) * normals), *ga = calloc(GN * GN, sizeof(double));
  double *gb = calloc(GN * GN, sizeof(double)), *gc = calloc(GN * GN, sizeof(double));
  hs_rng rng;
  hs_rng_init(&rng, 1, 1, HS_PURPOSE_TRAIN, 0);
  hs_sgd_step(&s); /* warm up */
  double step = 0, gen = 0, gma = 0;
  for (double t0 = now(); now() - t0 < budget;) {
    double t1 = now();
    for (int i = 0; i < 16; i++) hs_sgd_step(&s);
    step = fmax(step, 16 / (now() - t1));
    t1 = now();
    for (int i = 0; i < 16; i++) hs_rng_normal_fast(&rng, x, normals);
    gen = fmax(gen, 16.0 * normals / (now() - t1));
    gma = fmax(gma, gemm_rate(ga, gb, gc));
  }
  double floor = 1 / (normals / gen + ma / gma);
  printf("headspec sgd reduced L=%d H=%d d=%d B=1: steps/s %.1f floor_steps/s %.1f floor_frac "
         "%.3f normals %zu ns_normal %.3f multiply_adds %.0f gemm_GMAs %.2f\n", L, H, d, step,
         floor, step / floor, normals, 1e9 / gen, ma, 1e-9 * gma);
  hs_sgd_free(&s);
  free(x), free(ga), free(gb), free(gc), free(xi);
  hs_dist_free(&dist);
}

/* Seconds of OpenBLAS's dasum over n doubles: about the time to read them
 * once. */
static double read_time(const double *x, size_t n) {
  double t0 = now();
  volatile double sink = cblas_dasum((int)n, x, 1);
  (void)sink;
  return now() - t0;
}

/* The reduced step's row kernels (B = 1) at its shapes, in turns with the
 * dgemm rate and the read rate (best of each). */
static void rows_floor(int L, int H, int d, double budget) {
  enum { K = 2, GN = 384 };
  int r = H + K, q = L < d - r ? L : d - r, k = H < q ? H : q, n = k + r;
  double *M = aligned_alloc(64, sizeof(double) * ((size_t)n * d + 8));
  double *W = malloc(sizeof(double) * (size_t)H * d), *coef = malloc(sizeof(double) * H * n);
  double *G = calloc((size_t)n * n, sizeof(double)), *ga = calloc(GN * GN, sizeof(double));
  double *gb = calloc(GN * GN, sizeof(double)), *gc = calloc(GN * GN, sizeof(double));
  hs_rng rng;
  hs_rng_init(&rng, 1, 1, HS_PURPOSE_TRAIN, 0);
  hs_rng_normal(&rng, M, (size_t)n * d);
  hs_rng_normal(&rng, W, (size_t)H * d);
  hs_rng_normal(&rng, coef, (size_t)H * n);
  double gram = 1e30, update = 1e30, rd = 1e30, gma = 0;
  for (double t0 = now(); now() - t0 < budget;) {
    double t1 = now();
    for (int i = 0; i < 16; i++) hs_rows_gram(n, d, M, G);
    gram = fmin(gram, (now() - t1) / 16);
    t1 = now();
    for (int i = 0; i < 16; i++) hs_rows_update(H, n, d, 1e-9, coef, M, W);
    update = fmin(update, (now() - t1) / 16);
    rd = fmin(rd, read_time(M, (size_t)n * d));
    gma = fmax(gma, gemm_rate(ga, gb, gc));
  }
  double ma_gram = (double)d * n * (n + 1) / 2, ma_update = (double)d * H * n;
  double floor_gram = ma_gram / gma, floor_update = ma_update / gma;
  printf("headspec rows L=%d H=%d d=%d n=%d: gram_us %.2f floor_us %.2f floor_frac %.3f "
         "update_us %.2f floor_us %.2f floor_frac %.3f gemm_GMAs %.2f read_us %.2f\n", L, H, d, n,
         1e6 * gram, 1e6 * floor_gram, floor_gram / gram, 1e6 * update, 1e6 * floor_update,
         floor_update / update, 1e-9 * gma, 1e6 * rd);
  free(M), free(W), free(coef), free(G), free(ga), free(gb), free(gc);
}

int main(int argc, char **argv) {
  if (argc > 6 && strcmp(argv[1], "one") == 0) { /* bench/race.py: one setting */
    hs_dist dist = flipping();
    double steps, floor, ns;
    floor_one(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atof(argv[6]),
              &dist, &steps, &floor, &ns);
    printf("headspec sgd L=%s H=%s d=%s B=%s: steps/s %.1f floor_frac %.3f\n", argv[2],
           argv[3], argv[4], argv[5], steps, steps / floor);
    hs_dist_free(&dist);
    return 0;
  }
  if (argc > 5 && strcmp(argv[1], "rows") == 0) { /* the row kernels alone */
    rows_floor(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    return 0;
  }
  if (argc > 5 && strcmp(argv[1], "reduced") == 0) { /* the reduced step's floor */
    reduced_floor(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    return 0;
  }
  double budget = argc > 1 ? atof(argv[1]) : 1.0;
  const char *what = argc > 2 ? argv[2] : "all";
  int all = strcmp(what, "all") == 0;
  if (all || strcmp(what, "samplers") == 0) {
    generators(budget);
    samplers(budget);
  }
  if (all || strcmp(what, "floor") == 0) floor_table(budget);
  if (all || strcmp(what, "trainset") == 0) trainset(budget);
  return 0;
}
