/* cli_resume.c: the command line that resumes an interrupted run (cli.h):
 * the run's own words, under mpirun or srun the launcher's too (read from
 * the parent process), never --restart or --fresh, quoted for a shell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

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
void hs_cli_print_resume_hint(int argc, char **argv) {
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
