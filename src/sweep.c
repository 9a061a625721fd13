/* sweep.c: run the pending points of a job (sweep.h). */
#include "headspec/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/store.h"

volatile sig_atomic_t hs_sweep_stop = 0;

static void on_signal(int sig) {
  (void)sig;
  hs_sweep_stop = 1;
}

void hs_sweep_install_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void format_duration(double s, char *buf, size_t n) {
  if (!(s >= 0) || s > 1e8) snprintf(buf, n, "?");
  else if (s < 60) snprintf(buf, n, "%.0fs", s);
  else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

/* Progress of the sweep, measured in estimated point costs. */
typedef struct progress {
  const hs_sweep_options *opt;
  const hs_point *point;
  double start, last_print;
  double cost_total, cost_done, cost_point;
  long done, failed, total;
} progress;

static void print_progress(progress *pr, double fraction) {
  double elapsed = now() - pr->start;
  double done = pr->cost_done + fraction * pr->cost_point;
  double eta = done > 0 ? elapsed * (pr->cost_total - done) / done : -1;
  char e[32], left[32];
  format_duration(elapsed, e, sizeof e);
  format_duration(eta, left, sizeof left);
  fprintf(stderr,
          "headspec: [%ld/%ld done, %ld failed] point %d (%s, H=%d, seed=%d) "
          "%3.0f%%  elapsed %s, ETA %s\n",
          pr->done, pr->total, pr->failed, pr->point->index,
          pr->point->activation, pr->point->H, pr->point->seed, 100 * fraction,
          e, left);
  pr->last_print = now();
}

static int on_progress(void *user, double fraction) {
  progress *pr = user;
  if (!pr->opt->quiet && now() - pr->last_print > 10) print_progress(pr, fraction);
  return hs_sweep_stop != 0;
}

/* Run one point and store it (or its failure). */
static hs_status run_point(hs_store *store, const hs_point *p, progress *pr,
                           int rank, hs_err *err) {
  hs_shape shape;
  hs_result res;
  hs_status st = hs_point_shape(p, &shape, err);
  if (!st) st = hs_result_alloc(&res, &shape, err);
  if (st) return st;
  pr->point = p;
  pr->cost_point = hs_job_point_cost(p);
  hs_err perr;
  hs_err_clear(&perr);
  hs_status pst = hs_point_run(p, &res, on_progress, pr, &perr);
  if (pst == HS_OK) {
    st = hs_store_write_point(store, p, &res, rank, err);
    pr->done++;
  } else if (pst == HS_EINTERRUPT) {
    st = HS_OK; /* left pending: a re-run recomputes it */
  } else {
    fprintf(stderr, "headspec: point %d failed: %s\n", p->index, perr.msg);
    st = hs_store_mark_failed(store, p, perr.msg, rank, err);
    pr->failed++;
  }
  hs_result_free(&res);
  pr->cost_done += pr->cost_point;
  return st;
}

hs_status hs_sweep_run(const hs_job *job, MPI_Comm comm,
                       const hs_sweep_options *opt, hs_sweep_summary *sum,
                       hs_err *err) {
  memset(sum, 0, sizeof *sum);
  int rank, size;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  hs_store *store;
  char moved[4096];
  hs_status st = hs_store_open(job, comm, opt->fresh, moved, sizeof moved, &store, err);
  if (st) return st;
  if (moved[0] && rank == 0)
    fprintf(stderr, "headspec: moved the old %s aside to %s\n", job->output, moved);
  signed char *status = malloc((size_t)job->n_points);
  if (!status) st = hs_err_set(err, HS_ENOMEM, "out of memory");
  if (!st) st = hs_store_read_status(store, status, err);
  progress pr = {.opt = opt, .start = now(), .last_print = now(), .total = job->n_points};
  for (long i = 0; i < job->n_points && !st; i++) {
    hs_point p;
    hs_job_point(job, i, &p);
    if (status[i] == HS_POINT_DONE) sum->skipped++;
    else if (i % size == rank) pr.cost_total += hs_job_point_cost(&p);
  }
  pr.done = sum->skipped;
  for (long i = 0; i < job->n_points && !st && !hs_sweep_stop; i++) {
    if (status[i] == HS_POINT_DONE || i % size != rank) continue;
    hs_point p;
    hs_job_point(job, i, &p);
    st = run_point(store, &p, &pr, rank, err);
    if (!opt->quiet && !st) print_progress(&pr, 1.0);
  }
  long counts[2] = {pr.done - sum->skipped, pr.failed};
  MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_LONG, MPI_SUM, comm);
  int stop = hs_sweep_stop;
  MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, comm);
  sum->total = job->n_points;
  sum->done = sum->skipped + counts[0];
  sum->failed = counts[1];
  sum->pending = sum->total - sum->done - sum->failed;
  sum->interrupted = stop;
  free(status);
  hs_err cerr;
  hs_status cst = hs_store_close(store, &cerr);
  if (!st && cst) {
    *err = cerr;
    st = cst;
  }
  return st;
}
