/* main.c: the headspec command line (subcommands only). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/plan.h"
#include "headspec/store.h"
#include "headspec/sweep.h"
#include "headspec/version.h"

/* Exit codes (also in --help and docs/CLUSTERS.md). */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

static const char usage[] =
    "usage: headspec run [--restart] [--quiet] JOB.yaml\n"
    "       headspec validate JOB.yaml\n"
    "       headspec info RESULTS.h5\n"
    "       headspec verify RESULTS.h5\n"
    "       headspec --help | --version\n"
    "\n"
    "  run       run every pending point of the job's grid into its results\n"
    "            file; re-running the same job resumes where it stopped.\n"
    "            Under mpirun or srun the points are shared among the ranks.\n"
    "            --restart  move an existing results file aside and start anew\n"
    "                     (--fresh, its old name, still works)\n"
    "            --quiet    no progress lines\n"
    "  validate  check a job file; print the grid, a cost estimate and what\n"
    "            run would do with an existing results file\n"
    "  info      summarise a results file: points done, failed, pending\n"
    "            (having checked it as verify does; damaged points counted)\n"
    "  verify    check a results file whole: every object against the job it\n"
    "            stores, every point's data against its checksum; lists each\n"
    "            damaged point (run computes them again); exit 1 if any\n"
    "\n"
    "exit status: 0 all points done, 1 some point failed or an I/O error,\n"
    "             2 bad command line or job file, 3 interrupted by SIGINT, SIGTERM\n"
    "             or SIGUSR1 (done points are kept: run again to resume)\n";

static hs_plan *load_plan(const char *path, int verbose) {
  hs_err err;
  hs_err_clear(&err);
  hs_plan *plan = NULL;
  if (hs_plan_load(path, &plan, &err)) {
    if (verbose) fprintf(stderr, "headspec: %s\n", err.msg);
    return NULL;
  }
  return plan;
}

/* Column c at point i as text ("" where the point does not read it). */
static void column_text(const hs_plan *plan, int c, long i, char *v, size_t len) {
  hs_column_type type = hs_plan_columns(plan)[c].type;
  double x = type == HS_COLUMN_NAME ? 0 : hs_plan_column_number(plan, c, i);
  if (type == HS_COLUMN_NAME)
    snprintf(v, len, "%s", hs_plan_column_word(plan, c, i));
  else if (type == HS_COLUMN_REAL ? isnan(x) : x == -1)
    v[0] = '\0';
  else
    snprintf(v, len, "%.10g", x);
}

/* The first 16 distinct values of columns cols[0..n) together: "0.5" for
 * one column, "(0.5, 1)" for a zip group. */
static void print_values(const hs_plan *plan, const int *cols, int n) {
  char seen[16][256];
  int shown = 0;
  for (long i = 0; i < hs_plan_n_points(plan) && shown < 16; i++) {
    char v[256] = "";
    size_t used = 0;
    for (int e = 0; e < n && used < sizeof v; e++) {
      char one[64];
      column_text(plan, cols[e], i, one, sizeof one);
      if (!one[0]) used = sizeof v; /* not read here */
      else used += (size_t)snprintf(v + used, sizeof v - used, "%s%s", e ? ", " : "", one);
    }
    int dup = used >= sizeof v || !v[0];
    for (int k = 0; k < shown && !dup; k++) dup = strcmp(seen[k], v) == 0;
    if (dup) continue;
    snprintf(seen[shown++], sizeof seen[0], "%s", v);
    printf(n > 1 ? " (%s)" : " %s", v);
  }
  printf("\n");
}

/* The values a swept column takes, as "softmax softmax1 bsoftmax", and the
 * tuples of each zip group. */
static void print_swept(const hs_plan *plan) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  for (int c = 0; c < hs_plan_n_columns(plan); c++) {
    if (!cols[c].swept) continue;
    printf("  swept: %s:", cols[c].name);
    print_values(plan, &c, 1);
  }
  for (int z = 0; z < hs_plan_n_zips(plan); z++) {
    const hs_plan_zip *zip = &hs_plan_zips(plan)[z];
    printf("  zipped: %s:", zip->names);
    print_values(plan, zip->columns, zip->n);
  }
  if (hs_plan_time_is_index(plan))
    printf("  t_max is swept: the results' time axis is the record index (each point's own "
           "times are its sgd/t, ode/t)\n");
}

/* For ode method auto: how many ODE points take each stepper. */
static void print_auto_method(const hs_plan *plan) {
  long n = hs_plan_n_points(plan), with[2] = {0, 0};
  for (long i = 0; i < n; i++) {
    hs_point p;
    hs_plan_point(plan, i, &p);
    if (!p.run_ode || strcmp(p.ode_method, "auto") != 0) continue;
    int K = hs_plan_groups(plan)[hs_plan_group_of(plan, i)].shape.K;
    with[hs_point_ode_method(&p, K) == HS_ODE_BDF]++;
  }
  if (with[0] + with[1])
    printf("ode method auto: bdf for %ld point%s, rkf45 for %ld\n", with[1],
           with[1] == 1 ? "" : "s", with[0]);
}

static int cmd_validate(const char *path) {
  hs_plan *plan = load_plan(path, 1);
  if (!plan) return EXIT_USAGE;
  long n = hs_plan_n_points(plan);
  double cost = 0;
  for (long i = 0; i < n; i++) cost += hs_plan_cost(plan, i);
  printf("%s: valid; %ld grid point%s in %d results group%s, output %s\n", path, n,
         n == 1 ? "" : "s", hs_plan_n_groups(plan), hs_plan_n_groups(plan) == 1 ? "" : "s",
         hs_plan_output(plan));
  print_swept(plan);
  print_auto_method(plan);
  printf("estimated cost: %.3g core-hours (%.0f core-seconds)\n", cost / 3600, cost);
  hs_store_report rep;
  hs_err err;
  hs_err_clear(&err);
  int code = EXIT_DONE;
  if (hs_store_survey(plan, 0, &rep, &err)) {
    fprintf(stderr, "headspec: %s\n", err.msg);
    code = err.code == HS_EIO ? EXIT_FAILED : EXIT_USAGE;
  } else if (!rep.exists) {
    if (rep.finished_swap)
      printf("output: %s was being swapped for its grown file when a run was killed: run "
             "completes the swap first\n", hs_plan_output(plan));
    printf("output: %s is new%s; %ld points to compute; the file will take about %.3g MB\n",
           hs_plan_output(plan), rep.created_dir ? " (its directory will be created)" : "",
           rep.to_compute, rep.file_bytes / 1e6);
  } else {
    printf("output: %s exists: %ld points %s, %ld to compute\n", hs_plan_output(plan),
           rep.reused,
           rep.upgraded ? "reused (written by an older headspec, it will be rewritten in this "
                          "one's layout; fields it did not write stay NaN)"
           : rep.grown  ? "reused (it will be rewritten with the new points)"
                        : "done",
           rep.to_compute);
    if (rep.file_bytes > 0)
      printf("output: a new file of about %.3g MB will be made beside it\n", rep.file_bytes / 1e6);
    if (rep.damaged)
      printf("damaged: %ld done points do not match their checksums and will be computed "
             "again: %s\n", rep.damaged, rep.damaged_text);
  }
  hs_store_finalize();
  hs_plan_free(plan);
  return code;
}

static int cmd_info(const char *path, int verify) {
  hs_err err;
  hs_err_clear(&err);
  int code = EXIT_DONE;
  if (hs_store_info(path, verify, stdout, &err)) {
    fprintf(stderr, "headspec: %s\n", err.msg);
    code = EXIT_FAILED;
  }
  hs_store_finalize();
  return code;
}

/* The command to run again to resume: the sbatch line when the SLURM
 * scripts say so, else this one (with mpirun in front under mpirun). */
static void print_resume_hint(int argc, char **argv) {
  const char *given = getenv("HEADSPEC_RESUME_COMMAND");
  if (given && *given) {
    fprintf(stderr, "headspec: stopped by a signal; to resume (done points are kept): %s\n", given);
    return;
  }
  const char *ranks = getenv("OMPI_COMM_WORLD_SIZE");
  fprintf(stderr, "headspec: stopped by a signal; to resume (done points are kept): ");
  if (ranks) fprintf(stderr, "mpirun -n %s ", ranks);
  for (int i = 0; i < argc; i++) fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
  fprintf(stderr, "\n");
}

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv) {
  hs_sweep_options opt = {0};
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    /* --fresh was its name; "fresh" now means only out of sample */
    if (strcmp(argv[i], "--restart") == 0 || strcmp(argv[i], "--fresh") == 0) opt.restart = 1;
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
  hs_plan *plan = load_plan(path, rank == 0);
  if (!plan) {
    MPI_Finalize();
    return EXIT_USAGE;
  }
  hs_err err;
  hs_err_clear(&err);
  hs_sweep_summary sum;
  hs_status st = hs_sweep_run(plan, MPI_COMM_WORLD, &opt, &sum, &err);
  int code = EXIT_DONE;
  if (st) {
    /* every rank has the same message (the sweep shares the first error) */
    if (rank == 0) fprintf(stderr, "headspec: %s\n", err.msg);
    code = st == HS_EMISMATCH || st == HS_EINPUT ? EXIT_USAGE : EXIT_FAILED;
  } else if (rank == 0) {
    fprintf(stderr,
            "headspec: %s: %ld points: %ld done (%ld from before), %ld failed, "
            "%ld pending\n",
            hs_plan_output(plan), sum.total, sum.done, sum.skipped, sum.failed, sum.pending);
    if (sum.interrupted && sum.pending) print_resume_hint(full_argc, full_argv);
  }
  if (!st) code = sum.failed ? EXIT_FAILED : sum.pending ? EXIT_INTERRUPTED : EXIT_DONE;
  hs_plan_free(plan);
  hs_store_finalize();
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
    printf("%s\n", hs_build_info());
    return EXIT_DONE;
  }
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc - 2, argv + 2, argc, argv);
  if (strcmp(argv[1], "validate") == 0 && argc == 3) return cmd_validate(argv[2]);
  if (strcmp(argv[1], "info") == 0 && argc == 3) return cmd_info(argv[2], 0);
  if (strcmp(argv[1], "verify") == 0 && argc == 3) return cmd_info(argv[2], 1);
  fprintf(stderr, "headspec: unknown command or arguments: '%s'\n%s", argv[1], usage);
  return EXIT_USAGE;
}
