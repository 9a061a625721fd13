/* bench_store.c: the HDF5 cost of the results file for a grid of N points
 * (default 10000; H = 2, K = 2, L = 8, 51 records):
 *  - creating the file whole (rank 0, serially);
 *  - storing one point (all result datasets and the run record, independent
 *    writes through the MPI-IO driver);
 *  - growing it: the same job plus one seed, so a new file is made with the
 *    N done points copied bit for bit.
 * Usage: bench_store DIR [N]   (writes DIR/bench_store.h5 and job files)
 *
 *        bench_store checksum DIR [N [WORDS]]
 *   the two ways to checksum every point's data (issue 18), raced by turns
 *   (A B A B A B, the median of three): N rows of WORDS doubles (default
 *   20000 x 600, about a tiny point's 4.8 KB) written row by row, as run
 *   stores points, then read back whole and checked, with
 *     A  a contiguous dataset and a CRC-32 per row (zlib's crc32, as
 *        /grid/checksum), computed while writing and checked on reading;
 *     B  a chunked dataset (one row a chunk) with HDF5's Fletcher32 filter;
 *   and the file size of each.
 *
 *        bench_store fill JOB.yaml
 *   the job's results file, created and filled as if every point were
 *   done (every value 0.25, checksums right) without computing anything:
 *   bench/bench_scale.sh measures resume, verify and grow on it. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "headspec/plan.h"
#include "headspec/store.h"
#include "store_impl.h"

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

/* ---- checksum: a CRC column against Fletcher32 ----------------------------- */

typedef struct sum_result {
  double write, read;
  long bytes;
} sum_result;

static sum_result race_one(const char *path, int fletcher, long n, long words) {
  sum_result r = {0};
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)words}, chunk[2] = {1, (hsize_t)words};
  hid_t sp = H5Screate_simple(2, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  if (fletcher) H5Pset_chunk(dcpl, 2, chunk), H5Pset_fletcher32(dcpl);
  hid_t d = H5Dcreate2(f, "data", H5T_IEEE_F64LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT), c = -1;
  hsize_t one = (hsize_t)n;
  hid_t csp = H5Screate_simple(1, &one, NULL);
  if (!fletcher) c = H5Dcreate2(f, "checksum", H5T_STD_U32LE, csp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  double *row = malloc(sizeof *row * (size_t)words), *all = malloc(sizeof *all * (size_t)(n * words));
  uint32_t *sums = malloc(sizeof *sums * (size_t)n);
  double t0 = now();
  for (long i = 0; i < n; i++) {
    for (long k = 0; k < words; k++) row[k] = 1.0 / (double)(i + k + 1);
    hs_h5_rows(d, H5T_NATIVE_DOUBLE, i, 1, row, 1);
    if (!fletcher) {
      uint32_t sum = (uint32_t)crc32(0, (const unsigned char *)row, (uInt)(sizeof *row * words));
      hs_h5_rows(c, H5T_NATIVE_UINT32, i, 1, &sum, 1);
    }
  }
  H5Fflush(f, H5F_SCOPE_GLOBAL);
  r.write = now() - t0;
  t0 = now();
  long bad = H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0;
  if (!fletcher) {
    H5Dread(c, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, sums);
    for (long i = 0; i < n; i++)
      bad += sums[i] != (uint32_t)crc32(0, (const unsigned char *)(all + i * words),
                                        (uInt)(sizeof *all * words));
  }
  r.read = now() - t0;
  if (bad) fprintf(stderr, "bench_store: %ld rows failed their checksum\n", bad);
  free(row), free(all), free(sums);
  if (c >= 0) H5Dclose(c);
  H5Dclose(d), H5Sclose(csp), H5Sclose(sp), H5Pclose(dcpl);
  H5Fclose(f);
  FILE *fp = fopen(path, "rb");
  if (fp) fseek(fp, 0, SEEK_END), r.bytes = ftell(fp), fclose(fp);
  remove(path);
  return r;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int race_checksums(const char *dir, long n, long words) {
  char path[4096];
  snprintf(path, sizeof path, "%s/bench_checksum.h5", dir);
  double w[2][3], r[2][3];
  long bytes[2] = {0};
  for (int turn = 0; turn < 3; turn++)
    for (int who = 0; who < 2; who++) { /* A B A B A B */
      sum_result x = race_one(path, who, n, words);
      w[who][turn] = x.write, r[who][turn] = x.read, bytes[who] = x.bytes;
    }
  for (int who = 0; who < 2; who++) qsort(w[who], 3, sizeof(double), cmp_double), qsort(r[who], 3, sizeof(double), cmp_double);
  double raw = 8.0 * (double)n * (double)words;
  printf("checksums, %ld rows of %ld doubles (%.0f MB of data), medians of 3 turns:\n", n, words, raw / 1e6);
  printf("  CRC-32 column:      write %.2f us/row, read+check %.0f MB/s, file %.4f x data\n",
         1e6 * w[0][1] / n, raw / 1e6 / r[0][1], bytes[0] / raw);
  printf("  Fletcher32 chunks:  write %.2f us/row, read+check %.0f MB/s, file %.4f x data\n",
         1e6 * w[1][1] / n, raw / 1e6 / r[1][1], bytes[1] / raw);
  printf("  Fletcher32 / CRC:   write %.2f, read %.2f\n", w[1][1] / w[0][1], r[1][1] / r[0][1]);
  return 0;
}

/* ---- fill: a finished file without computing ----------------------------- */

static int fill(const char *job) {
  hs_plan *plan = load(job);
  if (!plan) return 1;
  hs_err err;
  hs_store_report rep;
  hs_store *store;
  if (hs_store_open(plan, MPI_COMM_WORLD, 1, &rep, &store, &err) || hs_store_close(store, &err))
    return fprintf(stderr, "%s\n", err.msg), 1;
  hid_t f = H5Fopen(hs_plan_output(plan), H5F_ACC_RDWR, H5P_DEFAULT);
  long n = hs_plan_n_points(plan);
  enum { BLOCK = 1 << 20 };
  double *v = malloc(sizeof *v * BLOCK);
  for (long k = 0; k < BLOCK; k++) v[k] = 0.25;
  for (int g = 0; g < hs_plan_n_groups(plan); g++)
    for (int fld = 0; fld < hs_n_result_fields; fld++) {
      char name[256];
      hs_store_field_path(&hs_plan_groups(plan)[g], fld, name, sizeof name);
      hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
      long row = (long)(hs_h5_row_bytes(d) / 8), rows = hs_plan_groups(plan)[g].n;
      long per = BLOCK / row > 0 ? BLOCK / row : 1;
      for (long r0 = 0; r0 < rows; r0 += per)
        hs_h5_rows(d, H5T_NATIVE_DOUBLE, r0, rows - r0 < per ? rows - r0 : per, v, 1);
      H5Dclose(d);
    }
  signed char *status = malloc((size_t)n);
  memset(status, HS_POINT_DONE, (size_t)n);
  uint32_t *sums = malloc(sizeof *sums * (size_t)n);
  hid_t d = H5Dopen2(f, "grid/status", H5P_DEFAULT);
  H5Dwrite(d, H5T_NATIVE_SCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, status);
  H5Dclose(d);
  int bad = hs_sum_file(f, plan, status, sums, hs_plan_output(plan), &err) != HS_OK;
  d = H5Dopen2(f, "grid/checksum", H5P_DEFAULT);
  bad |= H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, sums) < 0;
  H5Dclose(d);
  bad |= H5Fclose(f) < 0;
  free(v), free(status), free(sums);
  hs_plan_free(plan);
  return bad;
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  if (argc > 1 && (strcmp(argv[1], "checksum") == 0 || strcmp(argv[1], "fill") == 0)) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int code = argv[1][0] == 'c'
                   ? race_checksums(argc > 2 ? argv[2] : ".", argc > 3 ? atol(argv[3]) : 20000,
                                    argc > 4 ? atol(argv[4]) : 600)
                   : argc > 2 ? fill(argv[2]) : 2;
    hs_store_finalize();
    MPI_Finalize();
    return code;
  }
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
