/* main.c: the headspec command line: its subcommands and their usage.
 * What validate prints of a plan is in cli_validate.c, the line that
 * resumes an interrupted run in cli_resume.c (cli.h). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headspec/job.h"
#include "headspec/plan.h"
#include "headspec/store.h"
#include "headspec/sweep.h"
#include "headspec/version.h"
#include "cli.h"

/* Exit codes (also in --help and docs/CLUSTERS.md). */
enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 3 };

/* Each subcommand's usage (`headspec CMD --help`); together, `headspec --help`. */
static const char usage_run[] =
    "usage: headspec run [--restart] [--quiet] JOB.yaml\n"
    "  run every pending point of the job's grid into its results file;\n"
    "  re-running the same job resumes where it stopped, and a job that adds\n"
    "  points grows the file. Under mpirun or srun the points are shared\n"
    "  among the ranks.\n"
    "  --restart  move an existing results file aside and start anew\n"
    "             (--fresh, its old name, still works)\n"
    "  --quiet    no progress lines\n";
static const char usage_validate[] =
    "usage: headspec validate JOB.yaml\n"
    "  check a job file; print the grid, a cost estimate (per phase) and what\n"
    "  run would do with an existing results file. Nothing is run.\n";
static const char usage_info[] =
    "usage: headspec info RESULTS.h5\n"
    "  summarise a results file: points done, failed, pending (having checked\n"
    "  it as verify does; damaged points counted), rate, convergence\n";
static const char usage_verify[] =
    "usage: headspec verify RESULTS.h5\n"
    "  check a results file whole: every object against the job it stores,\n"
    "  every point's data against its checksum; lists each damaged point (run\n"
    "  computes them again); exit 1 if any\n";
static const char usage_repair[] =
    "usage: headspec repair JOB.yaml\n"
    "  rebuild the job's damaged results file from the job (its /grid columns,\n"
    "  labels, coordinates, attributes), keeping every point that matches its\n"
    "  checksum; the damaged file is kept as FILE.old-DATE. Then run the job to\n"
    "  compute the rest.\n";
static const char usage_clean[] =
    "usage: headspec clean RESULTS.h5\n"
    "  delete the RESULTS.h5.old-DATE copies that growing or --restart left\n"
    "  beside RESULTS.h5 (each a whole earlier file); prints what it deletes\n";
static const char usage_exit[] =
    "exit status: 0 all points done, 1 some point failed or an I/O error,\n"
    "             2 bad command line or job file, 3 interrupted by SIGINT, SIGTERM\n"
    "             or SIGUSR1 (done points are kept: run again to resume; under\n"
    "             mpirun, SIGINT and SIGTERM give mpirun's own 1: docs/CLUSTERS.md)\n";

typedef struct command {
  const char *name, *usage;
} command;
static const command commands[] = {{"run", usage_run},
                                   {"validate", usage_validate},
                                   {"info", usage_info},
                                   {"verify", usage_verify},
                                   {"repair", usage_repair},
                                   {"clean", usage_clean}};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void print_usage(FILE *f) {
  for (int c = 0; c < N_COMMANDS; c++) fprintf(f, "%s%s", c ? "\n" : "", commands[c].usage);
  fprintf(f, "\nusage: headspec --help | --version | CMD --help\n\n%s", usage_exit);
}

/* Whether an argument asks for help. */
static int is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

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

static int cmd_validate(const char *path) {
  hs_plan *plan = load_plan(path, 1);
  if (!plan) return EXIT_USAGE;
  long n = hs_plan_n_points(plan);
  printf("%s: valid; %ld grid point%s in %d results group%s, output %s\n", path, n,
         n == 1 ? "" : "s", hs_plan_n_groups(plan), hs_plan_n_groups(plan) == 1 ? "" : "s",
         hs_plan_output(plan));
  hs_cli_print_grid(plan);
  hs_store_report rep;
  hs_err err;
  hs_err_clear(&err);
  int code = EXIT_DONE;
  if (hs_store_survey(plan, 0, &rep, &err)) {
    free(rep.done);
    hs_cli_print_cost(plan, NULL, n);
    fprintf(stderr, "headspec: %s\n", err.msg);
    code = err.code == HS_EIO ? EXIT_FAILED : EXIT_USAGE;
  } else {
    hs_cli_print_cost(plan, rep.done, rep.to_compute);
    if (rep.finished_swap)
      printf("output: %s was being swapped for its grown file when a run was killed: run "
             "completes the swap first (the grown file, %s.created, is what it then finds)\n",
             hs_plan_output(plan), hs_plan_output(plan));
    if (!rep.exists)
      printf("output: %s is new%s; %ld points to compute; the file will take about %.3g MB\n",
             hs_plan_output(plan), rep.created_dir ? " (its directory will be created)" : "",
             rep.to_compute, rep.file_bytes / 1e6);
    else
      printf("output: %s exists: %ld points %s, %ld to compute\n", hs_plan_output(plan),
             rep.reused,
             rep.upgraded ? "reused (written by an older headspec, it will be rewritten in "
                            "this one's layout; fields it did not write stay NaN)"
             : rep.grown  ? "reused (it will be rewritten with the new points)"
                          : "done",
             rep.to_compute);
    if (rep.exists && rep.file_bytes > 0)
      printf("output: a new file of about %.3g MB will be made beside it (the old one is kept "
             "as %s.old-DATE; headspec clean deletes such copies)\n", rep.file_bytes / 1e6,
             hs_plan_output(plan));
    if (rep.damaged)
      printf("damaged: %ld done points do not match their checksums and will be computed "
             "again: %s\n", rep.damaged, rep.damaged_text);
    free(rep.done);
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

/* ---- the line to resume after a signal ------------------------------------ */

static int cmd_run(int argc, char **argv, int full_argc, char **full_argv) {
  hs_sweep_options opt = {0};
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    /* --fresh was its name; "fresh" now means only out of sample */
    if (strcmp(argv[i], "--restart") == 0 || strcmp(argv[i], "--fresh") == 0) opt.restart = 1;
    else if (strcmp(argv[i], "--quiet") == 0) opt.quiet = 1;
    else if (argv[i][0] == '-' || path) {
      fprintf(stderr, "headspec: run: unexpected '%s'\n\n%s", argv[i], usage_run);
      return EXIT_USAGE;
    } else path = argv[i];
  }
  if (!path) {
    fprintf(stderr, "headspec: run needs a job file\n\n%s", usage_run);
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
    if (sum.interrupted && sum.pending) hs_cli_print_resume_hint(full_argc, full_argv);
  }
  if (!st) code = sum.failed ? EXIT_FAILED : sum.pending ? EXIT_INTERRUPTED : EXIT_DONE;
  hs_plan_free(plan);
  hs_store_finalize();
  MPI_Finalize();
  return code;
}

static int cmd_repair(const char *path) {
  hs_plan *plan = load_plan(path, 1);
  if (!plan) return EXIT_USAGE;
  hs_err err;
  hs_err_clear(&err);
  long kept = 0;
  char moved[4400] = "";
  int code = EXIT_DONE;
  if (hs_store_repair(plan, &kept, moved, sizeof moved, &err)) {
    fprintf(stderr, "headspec: %s\n", err.msg);
    code = err.code == HS_EIO ? EXIT_FAILED : EXIT_USAGE;
  } else {
    long n = hs_plan_n_points(plan);
    printf("%s: repaired from %s: %ld of %ld points kept (they match their checksums), %ld "
           "to compute (headspec run %s); the damaged file is kept as %s\n",
           hs_plan_output(plan), path, kept, n, n - kept, path, moved);
  }
  hs_store_finalize();
  hs_plan_free(plan);
  return code;
}

static int cmd_clean(const char *path) {
  hs_err err;
  hs_err_clear(&err);
  if (hs_store_clean(path, stdout, &err)) {
    fprintf(stderr, "headspec: %s\n", err.msg);
    return EXIT_FAILED;
  }
  return EXIT_DONE;
}

/* The subcommand named name, or NULL. */
static const command *find_command(const char *name) {
  for (int c = 0; c < N_COMMANDS; c++)
    if (strcmp(commands[c].name, name) == 0) return &commands[c];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2 || is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
    const command *about = argc > 2 ? find_command(argv[2]) : NULL; /* help CMD */
    if (argc > 2 && !about && !is_help(argv[2])) {
      fprintf(stderr, "headspec: help: unknown command '%s'\n\n", argv[2]);
      print_usage(stderr);
      return EXIT_USAGE;
    }
    if (about) fputs(about->usage, stdout);
    else print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_DONE;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("%s\n", hs_build_info());
    return EXIT_DONE;
  }
  const command *cmd = find_command(argv[1]);
  if (!cmd) {
    fprintf(stderr, "headspec: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return EXIT_USAGE;
  }
  for (int i = 2; i < argc; i++)
    if (is_help(argv[i])) {
      fputs(cmd->usage, stdout);
      return EXIT_DONE;
    }
  if (cmd->usage == usage_run) return cmd_run(argc - 2, argv + 2, argc, argv);
  if (argc != 3) {
    fprintf(stderr, "headspec: %s takes one file, not %d arguments\n\n%s", argv[1], argc - 2,
            cmd->usage);
    return EXIT_USAGE;
  }
  if (cmd->usage == usage_validate) return cmd_validate(argv[2]);
  if (cmd->usage == usage_info) return cmd_info(argv[2], 0);
  if (cmd->usage == usage_verify) return cmd_info(argv[2], 1);
  if (cmd->usage == usage_repair) return cmd_repair(argv[2]);
  return cmd_clean(argv[2]);
}
