/* progress.c: time-gated progress reports (progress.h). */
#include "headspec/progress.h"

#include <string.h>
#include <time.h>

/* The coarse clock is read from the vDSO in a few nanoseconds; its
 * resolution (a few ms) is far below HS_PROGRESS_EVERY. */
static double coarse_now(void) {
  struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
  clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void hs_progress_init(hs_progress *p, hs_progress_fn fn, void *user) {
  memset(p, 0, sizeof *p);
  p->fn = fn;
  p->user = user;
  p->span = 1;
  p->phase = "";
  p->next = coarse_now() + HS_PROGRESS_EVERY;
}

void hs_progress_phase(hs_progress *p, const char *name, double lo, double span) {
  if (!p) return;
  p->phase = name;
  p->lo = lo;
  p->span = span;
  p->fraction = lo;
  if (p->fn && !p->stop) p->stop = p->fn(p->user, p->phase, p->fraction) != 0;
}

void hs_progress_set(hs_progress *p, double phase_fraction) {
  if (!p) return;
  /* estimates may overshoot a little: stay inside the phase; and never go
   * back (the ODE's stepper evaluates behind its last time after a
   * rejected step) */
  double f = phase_fraction < 0 ? 0 : phase_fraction > 1 ? 1 : phase_fraction;
  if (p->lo + p->span * f > p->fraction) p->fraction = p->lo + p->span * f;
}

int hs_progress_poll(hs_progress *p) {
  if (!p) return 0;
  p->pending = 0;
  if (p->stop || !p->fn) return p->stop;
  double t = coarse_now();
  if (t < p->next) return 0;
  p->next = t + HS_PROGRESS_EVERY;
  p->stop = p->fn(p->user, p->phase, p->fraction) != 0;
  return p->stop;
}
