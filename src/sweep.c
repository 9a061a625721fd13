/* sweep.c: run the pending points of a job, master/worker over MPI
 * (sweep.h).
 *
 * Rank 0 is the master: it keeps the queue of pending points (longest
 * estimated cost first) and hands one to each worker that asks. It also
 * computes points itself, answering requests from inside its progress
 * callback (every ~0.1 s in every phase of a point, progress.h), so no core
 * idles on a small machine. Every rank writes its own points' rows into the
 * shared file; nothing goes through the master but point indices. With one
 * rank, the master does everything. (Over 400 lines as one protocol: the
 * queue, the worker loop and the answers from the progress callback share
 * the message tags and the master's state.) */
#include "headspec/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headspec/plan.h"
#include "headspec/store.h"

enum { TAG_READY = 1, TAG_ASSIGN = 2 };
enum { NO_POINT = -1 };
/* Seconds between progress lines. */
#define PRINT_EVERY 10.0

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

/* A worker's report: the point it finished (or NO_POINT), how it ended, and
 * whether it wants another. */
typedef struct report {
  int point, status, wants_more;
} report;

typedef struct sweep {
  const hs_plan *plan;
  const hs_sweep_options *opt;
  hs_store *store;
  MPI_Comm comm;
  int rank, size;
  /* master only */
  int *queue;      /* pending points, longest first */
  long n_queue, next;
  int active;      /* workers not yet told to stop */
  long *per_rank;  /* points finished by each rank */
  double cost_total, cost_done, start, last_print;
  /* every rank: what it did itself */
  long done, failed;
  int stopping;    /* a signal or an error: hand out no more work */
  hs_status error;
  hs_err err;
  /* the master's own point, for progress lines */
  long current;    /* -1: none */
  double current_cost;
  /* HEADSPEC_REPORT_WAIT (bench/bench_stop.sh): the longest gap between
   * two looks at the progress callback during a point (on the master, the
   * longest a request can wait) and, on workers, the longest wait for an
   * answer */
  double last_look, max_gap, max_wait;
  const char *phase; /* the phase of this rank's point, as last heard */
} sweep;

/* ---- running one point on this rank --------------------------------------- */

static int worker_progress(void *user, const char *phase, double fraction);
static int master_progress(void *user, const char *phase, double fraction);

/* Testing (docs/TESTS.md, stop_phases): HEADSPEC_TESTING_SIGNAL_IN=PHASE raises
 * SIGUSR1 on this rank as its point enters that phase, so a test can land a
 * signal inside any phase without sleeping; the phase must notice it. */
static void testing_signal(sweep *sw, const char *phase) {
  if (phase == sw->phase) return;
  sw->phase = phase;
  const char *hook = getenv("HEADSPEC_TESTING_SIGNAL_IN");
  if (hook && strcmp(hook, phase) == 0) raise(SIGUSR1);
}

/* Testing (docs/TESTS.md, slurm_two_nodes): HEADSPEC_TESTING_HOLD=FILE holds
 * each rank's points at their start while FILE exists, once the rank has
 * finished HEADSPEC_TESTING_HOLD_AFTER points this run (default 1), so a
 * test can be sure that points are still under way when it kills a node or
 * a rank, however fast the machine. A held rank keeps answering (the master
 * serves its workers) and a signal ends the hold: returns nonzero when the
 * point must stay pending. */
static int testing_hold(sweep *sw, hs_progress_fn progress) {
  const char *file = getenv("HEADSPEC_TESTING_HOLD");
  const char *after = getenv("HEADSPEC_TESTING_HOLD_AFTER");
  if (!file || sw->done + sw->failed < (after ? atol(after) : 1)) return 0;
  const struct timespec pause = {0, 20 * 1000 * 1000};
  while (access(file, F_OK) == 0)
    if (progress(sw, NULL, 0)) return 1;
    else nanosleep(&pause, NULL);
  return 0;
}

static void look(sweep *sw, const char *phase) {
  double t = now();
  if (t - sw->last_look > sw->max_gap) sw->max_gap = t - sw->last_look;
  sw->last_look = t;
  if (phase) testing_signal(sw, phase);
}

/* Run point i here and store it; returns its hs_point_status (PENDING if it
 * was interrupted). */
static int run_here(sweep *sw, long i) {
  hs_point p;
  hs_plan_point(sw->plan, i, &p);
  /* the results buffer has the shape of the point's group in the file */
  const hs_plan_group *g = &hs_plan_groups(sw->plan)[hs_plan_group_of(sw->plan, i)];
  hs_result res;
  hs_err perr;
  hs_err_clear(&perr);
  if (hs_result_alloc(&res, &g->shape, &perr)) {
    sw->error = perr.code;
    sw->err = perr;
    return HS_POINT_PENDING;
  }
  sw->current = i;
  sw->current_cost = hs_plan_cost(sw->plan, i);
  sw->last_look = now();
  sw->phase = NULL;
  hs_progress_fn progress = sw->rank == 0 ? master_progress : worker_progress;
  hs_status pst = testing_hold(sw, progress) ? HS_EINTERRUPT
                                             : hs_point_run(&p, &res, progress, sw, &perr);
  look(sw, NULL);
  sw->current = -1;
  int outcome = HS_POINT_PENDING;
  hs_status st = HS_OK;
  if (pst == HS_OK) {
    st = hs_store_write_point(sw->store, i, &res, sw->rank, &sw->err);
    outcome = HS_POINT_DONE;
    sw->done++;
  } else if (pst != HS_EINTERRUPT) {
    char label[HS_LABEL_LEN];
    hs_plan_label(sw->plan, i, label, sizeof label);
    fprintf(stderr, "headspec: [rank %d] point %ld (%s) failed: %s\n", sw->rank, i, label,
            perr.msg);
    st = hs_store_mark_failed(sw->store, i, perr.msg, sw->rank, &sw->err);
    outcome = HS_POINT_FAILED;
    sw->failed++;
  }
  if (st) {
    sw->error = st;
    outcome = HS_POINT_PENDING;
  }
  hs_result_free(&res);
  return outcome;
}

/* ---- master ----------------------------------------------------------------- */

static void print_progress(sweep *sw, double fraction) {
  if (sw->opt->quiet) return;
  long done = 0;
  for (int r = 0; r < sw->size; r++) done += sw->per_rank[r];
  double elapsed = now() - sw->start;
  double cost = sw->cost_done + (sw->current >= 0 ? fraction * sw->current_cost : 0);
  /* Until a point is finished the ETA is the cost model's (its seconds
   * shared by the ranks); then the measured throughput, estimated seconds
   * done per second, corrects it for this machine and load. */
  double remaining = fmax(sw->cost_total - cost, 0);
  double eta = done == 0 ? remaining / sw->size : cost > 0 ? elapsed * remaining / cost : -1;
  char e[32], left[32];
  format_duration(elapsed, e, sizeof e);
  format_duration(eta, left, sizeof left);
  int busiest = 0;
  for (int r = 1; r < sw->size; r++)
    if (sw->per_rank[r] > sw->per_rank[busiest]) busiest = r;
  char now_at[HS_LABEL_LEN + 32] = "";
  if (sw->current >= 0) {
    char label[HS_LABEL_LEN];
    hs_plan_label(sw->plan, sw->current, label, sizeof label);
    snprintf(now_at, sizeof now_at, "; rank 0 on %s (%.0f%%)", label, 100 * fraction);
  }
  fprintf(stderr,
          "headspec: %ld/%ld points stored this run, %ld queued, %.3g points/min, "
          "elapsed %s, ETA %s; %d rank%s, busiest rank %d (%ld)%s\n",
          done, sw->n_queue, sw->n_queue - sw->next, 60 * done / (elapsed > 0 ? elapsed : 1),
          e, left, sw->size, sw->size == 1 ? "" : "s", busiest, sw->per_rank[busiest], now_at);
  sw->last_print = now();
}

/* The next queued point, or NO_POINT when none is left or we are stopping. */
static int next_point(sweep *sw) {
  if (hs_sweep_stop || sw->error) sw->stopping = 1;
  if (sw->stopping || sw->next >= sw->n_queue) return NO_POINT;
  return sw->queue[sw->next++];
}

static void account(sweep *sw, int rank, const report *r) {
  if (r->point == NO_POINT || r->status == HS_POINT_PENDING) return;
  sw->cost_done += hs_plan_cost(sw->plan, r->point);
  sw->per_rank[rank]++;
  if (now() - sw->last_print > PRINT_EVERY) print_progress(sw, 0);
}

/* Answer one worker's report with its next point (or NO_POINT: stop). */
static void answer(sweep *sw, int worker, const report *r) {
  account(sw, worker, r);
  int point = r->wants_more ? next_point(sw) : NO_POINT;
  MPI_Send(&point, 1, MPI_INT, worker, TAG_ASSIGN, sw->comm);
  if (point == NO_POINT) sw->active--;
}

/* Answer every report already waiting (non-blocking). */
static void serve_waiting(sweep *sw) {
  int flag;
  MPI_Status status;
  while (sw->active > 0 &&
         (MPI_Iprobe(MPI_ANY_SOURCE, TAG_READY, sw->comm, &flag, &status), flag)) {
    report r;
    MPI_Recv(&r, 3, MPI_INT, status.MPI_SOURCE, TAG_READY, sw->comm, MPI_STATUS_IGNORE);
    answer(sw, status.MPI_SOURCE, &r);
  }
}

static int master_progress(void *user, const char *phase, double fraction) {
  sweep *sw = user;
  look(sw, phase);
  serve_waiting(sw);
  if (now() - sw->last_print > PRINT_EVERY) print_progress(sw, fraction);
  return hs_sweep_stop != 0;
}

typedef struct queued {
  double cost;
  int point;
} queued;

/* Longest estimated cost first; ties in grid order. */
static int by_cost(const void *a, const void *b) {
  const queued *x = a, *y = b;
  return x->cost > y->cost ? -1 : x->cost < y->cost ? 1 : x->point - y->point;
}

static hs_status plan_queue(sweep *sw, const signed char *status, long *skipped) {
  long n = hs_plan_n_points(sw->plan);
  queued *q = malloc(sizeof *q * (size_t)n);
  sw->queue = malloc(sizeof(int) * (size_t)n);
  sw->per_rank = calloc((size_t)sw->size, sizeof(long));
  if (!q || !sw->queue || !sw->per_rank) {
    free(q);
    return hs_err_set(&sw->err, HS_ENOMEM, "out of memory");
  }
  for (long i = 0; i < n; i++) {
    if (status[i] == HS_POINT_DONE) {
      ++*skipped;
      continue;
    }
    q[sw->n_queue] = (queued){hs_plan_cost(sw->plan, i), (int)i};
    sw->cost_total += q[sw->n_queue++].cost;
  }
  qsort(q, (size_t)sw->n_queue, sizeof *q, by_cost);
  for (long k = 0; k < sw->n_queue; k++) sw->queue[k] = q[k].point;
  free(q);
  return HS_OK;
}

static void run_master(sweep *sw) {
  sw->active = sw->size - 1;
  sw->start = sw->last_print = now();
  for (;;) {
    serve_waiting(sw);
    int point = next_point(sw);
    if (point != NO_POINT) {
      report mine = {point, run_here(sw, point), 1};
      account(sw, 0, &mine);
      continue;
    }
    if (sw->active == 0) break;
    report r; /* nothing left for us: wait for the workers to check in */
    MPI_Status status;
    MPI_Recv(&r, 3, MPI_INT, MPI_ANY_SOURCE, TAG_READY, sw->comm, &status);
    answer(sw, status.MPI_SOURCE, &r);
  }
  print_progress(sw, 0);
}

/* ---- worker ------------------------------------------------------------------ */

static int worker_progress(void *user, const char *phase, double fraction) {
  (void)fraction;
  look(user, phase);
  return hs_sweep_stop != 0;
}

static void run_worker(sweep *sw) {
  report r = {NO_POINT, HS_POINT_PENDING, 1};
  for (;;) {
    r.wants_more = !hs_sweep_stop && !sw->error;
    double asked = now();
    MPI_Send(&r, 3, MPI_INT, 0, TAG_READY, sw->comm);
    int point;
    MPI_Recv(&point, 1, MPI_INT, 0, TAG_ASSIGN, sw->comm, MPI_STATUS_IGNORE);
    if (now() - asked > sw->max_wait) sw->max_wait = now() - asked;
    if (point == NO_POINT) break;
    r.point = point;
    r.status = run_here(sw, point);
  }
}

/* ---- the sweep ---------------------------------------------------------------- */

/* What opening the file did, in a line or two. */
static void print_opening(const hs_plan *plan, const hs_store_report *rep) {
  const char *out = hs_plan_output(plan);
  if (rep->created_dir) fprintf(stderr, "headspec: created the directory of %s\n", out);
  if (rep->finished_swap)
    fprintf(stderr, "headspec: %s: completed the swap of a grow that was killed while swapping "
            "the files\n", out);
  if (rep->damaged)
    fprintf(stderr, "headspec: %s: %ld done point%s damaged (stored data that does not match "
            "its checksum), computed again, never copied: %s%s\n", out, rep->damaged,
            rep->damaged == 1 ? " is" : "s are", rep->damaged_text,
            rep->damaged > 5 ? "; ... (headspec verify lists them all)" : "");
  struct stat kept;
  if (rep->moved_to[0])
    fprintf(stderr, "headspec: moved the old %s aside to %s (%.3g MB, a whole copy; `headspec "
            "clean %s` deletes the old copies)\n", out, rep->moved_to,
            stat(rep->moved_to, &kept) == 0 ? kept.st_size / 1e6 : 0.0, out);
  if (rep->exists && !rep->moved_to[0])
    fprintf(stderr, "headspec: %s: resuming: %ld points done, %ld to compute\n", out,
            rep->reused, rep->to_compute);
  else if (rep->upgraded)
    fprintf(stderr, "headspec: %s was written by an older headspec: rewritten in this one's "
            "layout, %ld points reused (fields it did not write are NaN there; --restart "
            "recomputes them), %ld to compute\n", out, rep->reused, rep->to_compute);
  else if (rep->grown)
    fprintf(stderr, "headspec: %s: the job adds points: %ld points reused, %ld to compute\n",
            out, rep->reused, rep->to_compute);
}

hs_status hs_sweep_run(const hs_plan *plan, MPI_Comm comm,
                       const hs_sweep_options *opt, hs_sweep_summary *sum,
                       hs_err *err) {
  memset(sum, 0, sizeof *sum);
  sweep sw = {.plan = plan, .opt = opt, .comm = comm, .current = -1};
  MPI_Comm_rank(comm, &sw.rank);
  MPI_Comm_size(comm, &sw.size);
  hs_store_report rep;
  hs_status st = hs_store_open(plan, comm, opt->restart, &rep, &sw.store, err);
  if (st) return st;
  if (sw.rank == 0) print_opening(plan, &rep);
  long n_points = hs_plan_n_points(plan);
  if (sw.rank == 0) {
    signed char *status = malloc((size_t)n_points);
    st = status ? hs_store_read_status(sw.store, status, &sw.err)
                : hs_err_set(&sw.err, HS_ENOMEM, "out of memory");
    if (!st) st = plan_queue(&sw, status, &sum->skipped);
    free(status);
    sw.error = st;
    run_master(&sw);
  } else {
    run_worker(&sw);
  }
  if (getenv("HEADSPEC_REPORT_WAIT"))
    fprintf(stderr, "headspec: [rank %d] longest gap between progress calls %.3f s, "
            "longest wait for the master %.3f s\n", sw.rank, sw.max_gap, sw.max_wait);
  long counts[2] = {sw.done, sw.failed};
  MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_LONG, MPI_SUM, comm);
  MPI_Bcast(&sum->skipped, 1, MPI_LONG, 0, comm);
  int stop = hs_sweep_stop, worst = sw.error, first_bad = sw.error ? sw.rank : sw.size;
  MPI_Allreduce(MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX, comm);
  MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_INT, MPI_MAX, comm);
  MPI_Allreduce(MPI_IN_PLACE, &first_bad, 1, MPI_INT, MPI_MIN, comm);
  sum->total = n_points;
  sum->done = sum->skipped + counts[0];
  sum->failed = counts[1];
  sum->pending = sum->total - sum->done - sum->failed;
  sum->interrupted = stop;
  if (worst && first_bad < sw.size) {
    /* the first rank with an error says what it was, everywhere */
    MPI_Bcast(sw.err.msg, sizeof sw.err.msg, MPI_CHAR, first_bad, comm);
    st = hs_err_set(err, (hs_status)worst, "%s", sw.err.msg);
  }
  hs_err cerr;
  hs_status cst = hs_store_close(sw.store, &cerr);
  if (!st && cst) {
    *err = cerr;
    st = cst;
  }
  free(sw.queue);
  free(sw.per_rank);
  return st;
}
