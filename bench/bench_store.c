/* bench_store.c: the HDF5 cost of the results file for a grid of N points
 * (default 10000; H = 2, K = 2, L = 8, 51 records):
 *  - creating the file whole (rank 0, serially);
 *  - storing one point (all result datasets and the run record, independent
 *    writes through the MPI-IO driver);
 *  - growing it: the same job plus one seed, so a new file is made with the
 *    N done points copied bit for bit.
 * Usage: bench_store DIR [N]   (writes DIR/bench_store.h5 and job files) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "headspec/plan.h"
#include "headspec/store.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static const char *write_job(const char *dir, const char *name, int seeds) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return NULL;
  fprintf(f, "output: %s/bench_store.h5\nmodel: {distribution: flipping, b1: 1, b2: 2, "
             "activation: softmax, H: 2, seed: [", dir);
  for (int i = 1; i <= seeds; i++) fprintf(f, "%d%s", i, i < seeds ? ", " : "]}\n");
  fprintf(f, "training: {d: 100, eta: 0.5, t_max: 1}\n");
  fclose(f);
  return path;
}

static hs_plan *load(const char *path) {
  hs_plan *plan = NULL;
  hs_err err;
  if (!path || hs_plan_load(path, &plan, &err)) fprintf(stderr, "%s\n", path ? err.msg : "?");
  return plan;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *dir = argc > 1 ? argv[1] : ".";
  int n = argc > 2 ? atoi(argv[2]) : 10000;
  hs_plan *plan = load(write_job(dir, "bench_store.yaml", n));
  if (!plan) return 1;
  hs_err err;
  hs_store_report rep;
  hs_store *store;
  double t0 = now();
  if (hs_store_open(plan, MPI_COMM_WORLD, 1, &rep, &store, &err))
    return fprintf(stderr, "%s\n", err.msg), 1;
  double t_create = now() - t0;
  hs_result res;
  hs_result_alloc(&res, &hs_plan_groups(plan)[0].shape, &err);
  t0 = now();
  for (long i = 0; i < n; i++) hs_store_write_point(store, i, &res, 0, &err);
  double t_write = now() - t0;
  hs_store_close(store, &err);
  hs_plan *grown = load(write_job(dir, "bench_store_grown.yaml", n + 1));
  if (!grown) return 1;
  t0 = now();
  if (hs_store_open(grown, MPI_COMM_WORLD, 0, &rep, &store, &err))
    return fprintf(stderr, "%s\n", err.msg), 1;
  double t_grow = now() - t0;
  hs_store_close(store, &err);
  printf("store, %d points: creating the file %.2f s; storing a point %.3f ms; "
         "growing it by one point (%ld copied) %.2f s\n",
         n, t_create, 1e3 * t_write / n, rep.reused, t_grow);
  hs_result_free(&res);
  hs_plan_free(plan);
  hs_plan_free(grown);
  hs_store_finalize();
  MPI_Finalize();
  return 0;
}
