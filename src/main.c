/* main.c: the headspec command line (subcommands only). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/job.h"
#include "headspec/store.h"
#include "headspec/sweep.h"
#include "headspec/version.h"

/* Exit codes (also in --help and the README). */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

static const char usage[] =
    "usage: headspec run [--fresh] [--quiet] JOB.yaml\n"
    "       headspec validate JOB.yaml\n"
    "       headspec info RESULTS.h5\n"
    "       headspec --help | --version\n"
    "\n"
    "  run       run every pending point of the job's grid into its results\n"
    "            file; re-running the same job resumes where it stopped.\n"
    "            Under mpirun or srun the points are shared among the ranks.\n"
    "            --fresh  move an existing results file aside and start anew\n"
    "            --quiet  no progress lines\n"
    "  validate  check a job file; print the grid size and a cost estimate\n"
    "  info      summarise a results file: points done, failed, pending\n"
    "\n"
    "exit status: 0 all points done, 1 some point failed or an I/O error,\n"
    "             2 bad command line or job file, 3 interrupted (run again)\n";

static int load_job(const char *path, hs_job *job, int verbose) {
  hs_err err;
  hs_err_clear(&err);
  if (hs_job_load(path, job, &err)) {
    if (verbose) fprintf(stderr, "headspec: %s\n", err.msg);
    hs_job_free(job);
    return 0;
  }
  return 1;
}

static int cmd_validate(const char *path) {
  hs_job job;
  if (!load_job(path, &job, 1)) return EXIT_USAGE;
  double cost = 0;
  for (long i = 0; i < job.n_points; i++) {
    hs_point p;
    hs_job_point(&job, i, &p);
    cost += hs_job_point_cost(&p);
  }
  printf("%s: valid; %ld grid point%s, output %s\n", path, job.n_points,
         job.n_points == 1 ? "" : "s", job.output);
  for (int k = 0; k < hs_n_job_keys; k++)
    if (job.values[k].n > 1)
      printf("  swept: %s (%d values)\n", hs_job_keys[k].name, job.values[k].n);
  printf("estimated cost: %.3g core-hours (%.0f core-seconds)\n", cost / 3600, cost);
  hs_job_free(&job);
  return EXIT_DONE;
}

static int cmd_info(const char *path) {
  hs_err err;
  if (hs_store_info(path, stdout, &err)) {
    fprintf(stderr, "headspec: %s\n", err.msg);
    return EXIT_FAILED;
  }
  return EXIT_DONE;
}

static int cmd_run(int argc, char **argv) {
  hs_sweep_options opt = {0};
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--fresh") == 0) opt.fresh = 1;
    else if (strcmp(argv[i], "--quiet") == 0) opt.quiet = 1;
    else if (argv[i][0] == '-' || path) {
      fprintf(stderr, "headspec: run: unexpected '%s'\n%s", argv[i], usage);
      return EXIT_USAGE;
    } else path = argv[i];
  }
  if (!path) {
    fprintf(stderr, "headspec: run needs a job file\n%s", usage);
    return EXIT_USAGE;
  }
  MPI_Init(NULL, NULL);
  hs_sweep_install_signals();
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  hs_job job;
  if (!load_job(path, &job, rank == 0)) {
    MPI_Finalize();
    return EXIT_USAGE;
  }
  hs_err err;
  hs_err_clear(&err);
  hs_sweep_summary sum;
  hs_status st = hs_sweep_run(&job, MPI_COMM_WORLD, &opt, &sum, &err);
  int code = EXIT_DONE;
  if (st) {
    /* every rank has the same message (the sweep shares the first error) */
    if (rank == 0) fprintf(stderr, "headspec: %s\n", err.msg);
    code = st == HS_EMISMATCH || st == HS_EINPUT ? EXIT_USAGE : EXIT_FAILED;
  } else if (rank == 0) {
    fprintf(stderr,
            "headspec: %s: %ld points: %ld done (%ld from before), %ld failed, "
            "%ld pending\n",
            job.output, sum.total, sum.done, sum.skipped, sum.failed, sum.pending);
    if (sum.interrupted)
      fprintf(stderr,
              "headspec: stopped by a signal; run the same command again to "
              "resume (done points are kept)\n");
  }
  if (!st) code = sum.failed ? EXIT_FAILED : sum.pending ? EXIT_INTERRUPTED : EXIT_DONE;
  hs_job_free(&job);
  MPI_Finalize();
  return code;
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_DONE;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("headspec %s (commit %s, results format %d)\n", HS_VERSION,
           HS_GIT_COMMIT, HS_FORMAT_VERSION);
    return EXIT_DONE;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2);
  if ((strcmp(argv[1], "validate") == 0 || strcmp(argv[1], "info") == 0) && argc == 3)
    return argv[1][0] == 'v' ? cmd_validate(argv[2]) : cmd_info(argv[2]);
  fprintf(stderr, "headspec: unknown command or arguments: '%s'\n%s", argv[1], usage);
  return EXIT_USAGE;
}
