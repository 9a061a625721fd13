/* bench_store.c: the HDF5 cost of storing one point (all result datasets
 * plus the status row, independent writes through the MPI-IO driver) for a
 * grid of 1000 points with H = 2, K = 2, L = 8 and 51 records.
 * Usage: bench_store DIR   (writes DIR/bench_store.h5 and a job file) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "headspec/store.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  const char *dir = argc > 1 ? argv[1] : ".";
  char path[4096];
  snprintf(path, sizeof path, "%s/bench_store.yaml", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "output: %s/bench_store.h5\nmodel: {distribution: flipping, b1: 1, b2: 2, "
             "activation: softmax, H: 2, seed: [", dir);
  for (int i = 1; i <= 1000; i++) fprintf(f, "%d%s", i, i < 1000 ? ", " : "]}\n");
  fprintf(f, "training: {d: 100, eta: 0.5, t_max: 1}\n");
  fclose(f);
  hs_job job;
  hs_err err;
  if (hs_job_load(path, &job, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  double t0 = now();
  hs_store *store;
  if (hs_store_open(&job, MPI_COMM_WORLD, 1, NULL, 0, &store, &err))
    return fprintf(stderr, "%s\n", err.msg), 1;
  double t_create = now() - t0;
  hs_point p;
  hs_shape shape;
  hs_result res;
  hs_job_point(&job, 0, &p);
  hs_point_shape(&p, &shape, &err);
  hs_result_alloc(&res, &shape, &err);
  t0 = now();
  for (long i = 0; i < job.n_points; i++) {
    hs_job_point(&job, i, &p);
    hs_store_write_point(store, &p, &res, 0, &err);
  }
  double t_write = now() - t0;
  hs_store_close(store, &err);
  printf("store: creating a file for %ld points: %.3f s; writing a point: %.3f ms\n",
         job.n_points, t_create, 1e3 * t_write / job.n_points);
  hs_result_free(&res);
  hs_job_free(&job);
  MPI_Finalize();
  return 0;
}
