/* sweep.h: run every pending point of a job into its results file, over
 * the ranks of an MPI communicator (master/worker; see sweep.c).
 *
 * Knows nothing of the model: it hands the plan's points to hs_point_run and
 * the results to the store. With one rank that rank does everything.
 */
#ifndef HEADSPEC_SWEEP_H
#define HEADSPEC_SWEEP_H

#include <mpi.h>
#include <signal.h>

#include "headspec/error.h"
#include "headspec/plan.h"

typedef struct hs_sweep_options {
  int restart; /* move an existing results file aside and start anew */
  int quiet;   /* no progress lines */
} hs_sweep_options;

typedef struct hs_sweep_summary {
  long total, done, failed, skipped, pending;
  int interrupted; /* stopped by a signal; the rest resumes on a re-run */
} hs_sweep_summary;

/* Set by SIGTERM, SIGUSR1 or SIGINT: finish the current step and stop. */
extern volatile sig_atomic_t hs_sweep_stop;
void hs_sweep_install_signals(void);

hs_status hs_sweep_run(const hs_plan *plan, MPI_Comm comm,
                       const hs_sweep_options *opt, hs_sweep_summary *sum,
                       hs_err *err);

#endif
