/* main.c: the headspec command line (subcommands only). */
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

/* Keys whose list sweeps the grid where a per-spike variant of the model
 * reads one value per spike: a list under the first may be meant as the
 * second (iso_gaussian with beta: [3, 2, 1] is three points, not one). */
static const struct per_spike {
  const char *dist, *key, *variant, *variant_key;
} per_spike[] = {{"iso_gaussian", "beta", "diag_gaussian", "betas"},
                 {"onehot", "beta", "discrete", "atoms"}};

static void print_per_spike_notes(const hs_plan *plan) {
  const hs_plan_column *cols = hs_plan_columns(plan);
  for (size_t v = 0; v < sizeof per_spike / sizeof *per_spike; v++) {
    int key = hs_job_key_index("model", per_spike[v].key), c = 0;
    while (c < hs_plan_n_columns(plan) && cols[c].key != key) c++;
    if (c == hs_plan_n_columns(plan) || !cols[c].swept) continue;
    long with = 0;
    for (long i = 0; i < hs_plan_n_points(plan); i++) {
      hs_point p;
      hs_plan_point(plan, i, &p);
      with += strcmp(p.dist.name, per_spike[v].dist) == 0;
    }
    if (!with) continue;
    printf("note: %s is swept: its %s points take one value each (one strength for every "
           "spike), %ld points in all; for one value per spike use distribution %s with %s\n",
           per_spike[v].key, per_spike[v].dist, with, per_spike[v].variant,
           per_spike[v].variant_key);
  }
}

/* For ode method auto: how many ODE points take each stepper. */
static void print_auto_method(const hs_plan *plan) {
  long n = hs_plan_n_points(plan), with[2] = {0, 0};
  for (long i = 0; i < n; i++) {
    hs_point p;
    hs_plan_point(plan, i, &p);
    if (!p.run_ode || p.ode_method != HS_ODE_AUTO) continue;
    int K = hs_plan_groups(plan)[hs_plan_group_of(plan, i)].shape.K;
    with[hs_point_ode_method(&p, K) == HS_ODE_BDF]++;
  }
  if (with[0] + with[1])
    printf("ode method auto: bdf for %ld point%s, rkf45 for %ld\n", with[1],
           with[1] == 1 ? "" : "s", with[0]);
}

/* Points whose ode.samples is small for their start (hs_point_samples_needed):
 * the fixed samples' source term would seed escapes the theory does not
 * have (issue 26). At most ~10^5 points are examined, evenly spaced. */
static void print_small_samples(const hs_plan *plan) {
  long n = hs_plan_n_points(plan), stride = n > 100000 ? n / 100000 : 1, small = 0, seen = 0;
  long first = -1;
  double need = 0;
  for (long i = 0; i < n; i += stride, seen++) {
    hs_point p;
    hs_dist dist;
    hs_err ignore;
    hs_plan_point(plan, i, &p);
    if (hs_dist_init(&dist, &p.dist, &ignore)) continue;
    double needed = hs_point_samples_needed(&p, &dist);
    hs_dist_free(&dist);
    if (!(p.ode_samples < needed)) continue;
    if (small++ == 0) first = i, need = needed;
  }
  if (!small) return;
  char label[HS_LABEL_LEN];
  hs_plan_label(plan, first, label, sizeof label);
  printf("warning: ode.samples is small for %ld of %ld point%s%s: the fixed samples' source "
         "term, of order 1/sqrt(samples), competes with the start's components that seed the "
         "escapes, on features the control variate does not cover; e.g. point %ld (%s) wants "
         "samples >= %.3g (16 / s0^2, s0 = sigma0 / sqrt(d) or the given start_m; "
         "docs/MODEL.md#monte-carlo-error)\n",
         small, seen, seen == 1 ? "" : "s", stride > 1 ? " examined" : "", first, label, need);
}

/* The estimate of the points left to compute (done[i]: reused as done; may
 * be NULL), and its parts: the phases and the per-point overhead, each
 * summed over at most ~10^5 of those points, evenly spaced (the shares;
 * the total is every point's). */
static void print_cost(const hs_plan *plan, const unsigned char *done, long to_compute) {
  long n = hs_plan_n_points(plan), stride = to_compute > 100000 ? to_compute / 100000 : 1;
  double total = 0, part[HS_N_COST_PARTS] = {0}, sampled = 0;
  for (long i = 0, k = 0; i < n; i++) {
    if (done && done[i]) continue;
    total += hs_plan_cost(plan, i);
    if (k++ % stride) continue;
    hs_point p;
    double c[HS_N_COST_PARTS];
    hs_plan_point(plan, i, &p);
    sampled += hs_point_cost_parts(&p, c);
    for (int j = 0; j < HS_N_COST_PARTS; j++) part[j] += c[j];
  }
  printf("estimated cost: %.3g core-hours (%.0f core-seconds)%s\n", total / 3600, total,
         done && to_compute < n ? " for the points left to compute" : "");
  if (!(total > 0) || !(sampled > 0)) return;
  printf("  by phase:");
  for (int j = 0; j < HS_N_COST_PARTS; j++) {
    double s = total * part[j] / sampled;
    if (part[j] > 0 && s >= 0.005 * total)
      printf(" %s %.3g s (%.0f%%)", hs_point_cost_part_name(j), s, 100 * part[j] / sampled);
  }
  printf("\n");
}

static int cmd_validate(const char *path) {
  hs_plan *plan = load_plan(path, 1);
  if (!plan) return EXIT_USAGE;
  long n = hs_plan_n_points(plan);
  printf("%s: valid; %ld grid point%s in %d results group%s, output %s\n", path, n,
         n == 1 ? "" : "s", hs_plan_n_groups(plan), hs_plan_n_groups(plan) == 1 ? "" : "s",
         hs_plan_output(plan));
  print_swept(plan);
  print_per_spike_notes(plan);
  print_auto_method(plan);
  print_small_samples(plan);
  hs_store_report rep;
  hs_err err;
  hs_err_clear(&err);
  int code = EXIT_DONE;
  if (hs_store_survey(plan, 0, &rep, &err)) {
    free(rep.done);
    print_cost(plan, NULL, n);
    fprintf(stderr, "headspec: %s\n", err.msg);
    code = err.code == HS_EIO ? EXIT_FAILED : EXIT_USAGE;
  } else {
    print_cost(plan, rep.done, rep.to_compute);
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

/* Whether a run option must not be repeated to resume: --restart (and its
 * old name --fresh) would start over. */
static int starts_over(const char *arg) {
  return strcmp(arg, "--restart") == 0 || strcmp(arg, "--fresh") == 0;
}

/* One word as the shell reads it: bare if safe, else in single quotes. */
static void print_word(FILE *f, const char *w) {
  int safe = *w != '\0';
  for (const char *c = w; *c && safe; c++)
    safe = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c)
           != NULL;
  if (safe) {
    fputs(w, f);
    return;
  }
  fputc('\'', f);
  for (const char *c = w; *c; c++)
    if (*c == '\'') fputs("'\\''", f);
    else fputc(*c, f);
  fputc('\'', f);
}

/* The launcher's words in front of headspec when our parent is mpirun (or
 * mpiexec, orterun, prterun) on this node and its command line ends with ours:
 * *n_words of them from /proc/PPID/cmdline, into buf. 0 if not. */
static int launcher_words(int argc, char **argv, char *buf, size_t len, const char **words,
                          int max_words, int *n_words) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)getppid());
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(buf, 1, len - 1, f);
  fclose(f);
  buf[got] = '\0';
  int n = 0;
  for (size_t at = 0; at < got && n < max_words; at += strlen(buf + at) + 1) words[n++] = buf + at;
  const char *base = n ? strrchr(words[0], '/') : NULL;
  base = base ? base + 1 : n ? words[0] : "";
  /* mpirun, mpiexec and their suffixed names (Debian's mpirun.openmpi) */
  if (strncmp(base, "mpirun", 6) != 0 && strncmp(base, "mpiexec", 7) != 0 &&
      strcmp(base, "orterun") != 0 && strcmp(base, "prterun") != 0)
    return 0;
  if (n < argc + 1) return 0; /* mpirun's own words, then ours */
  for (int i = 1; i < argc; i++)
    if (strcmp(words[n - argc + i], argv[i]) != 0) return 0;
  *n_words = n - argc; /* up to, not with, the program */
  return 1;
}

/* The command to run again to resume: the sbatch line when the SLURM
 * scripts give it; under mpirun on this node its own command line (every
 * option of it, e.g. --allow-run-as-root); under another launcher its
 * rank count and a note. Never with --restart, which would start over. */
static void print_resume_hint(int argc, char **argv) {
  const char *given = getenv("HEADSPEC_RESUME_COMMAND");
  fprintf(stderr, "headspec: stopped by a signal; to resume (done points are kept): ");
  if (given && *given) {
    fprintf(stderr, "%s\n", given);
    return;
  }
  static char buf[65536];
  const char *words[1024];
  int n_launcher = 0;
  const char *ranks = getenv("OMPI_COMM_WORLD_SIZE"), *slurm = getenv("SLURM_STEP_ID");
  if (!ranks && !slurm) ranks = getenv("PMI_SIZE"); /* MPICH's launcher */
  int known = launcher_words(argc, argv, buf, sizeof buf, words, 1024, &n_launcher);
  for (int i = 0; i < n_launcher; i++) print_word(stderr, words[i]), fputc(' ', stderr);
  if (!known && ranks) {
    fprintf(stderr, "mpirun -n %s ", ranks);
    if (geteuid() == 0 && !getenv("OMPI_ALLOW_RUN_AS_ROOT")) fprintf(stderr, "--allow-run-as-root ");
  } else if (!known && slurm && getenv("SLURM_NTASKS")) {
    fprintf(stderr, "srun -n %s ", getenv("SLURM_NTASKS"));
  }
  for (int i = 0, first = 1; i < argc; i++) {
    if (i > 1 && starts_over(argv[i])) continue; /* argv[1] is "run" */
    if (!first) fputc(' ', stderr);
    print_word(stderr, argv[i]);
    first = 0;
  }
  if (!known && (ranks || slurm))
    fprintf(stderr, "\nheadspec: (with the launcher options this run was started with)");
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
    if (sum.interrupted && sum.pending) print_resume_hint(full_argc, full_argv);
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
