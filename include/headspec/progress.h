/* progress.h: how a long computation reports progress and learns that it
 * must stop, knowing nothing of who listens (sweep.c: MPI requests, signals).
 *
 * The computation reports work as it goes (hs_progress_work, as often as
 * every inner iteration: an addition and a comparison) and, every
 * HS_PROGRESS_GRAIN units, reads a coarse clock; every HS_PROGRESS_EVERY
 * seconds it calls the listener with the fraction of the whole run done.
 * So the listener hears from it every ~0.1 s whatever the sizes, at a
 * negligible cost. Once the listener returns nonzero, every later call says
 * stop too, and the computation abandons its work (HS_EINTERRUPT).
 *
 * A run is made of phases; each covers [lo, lo + span] of the whole and
 * reports its own fraction in [0, 1] (hs_progress_set). Every function
 * accepts a NULL hs_progress (nobody listens, never stops).
 */
#ifndef HEADSPEC_PROGRESS_H
#define HEADSPEC_PROGRESS_H

/* The listener: the current phase's name and the fraction of the whole run
 * done; nonzero: stop. It is also called as each phase starts. */
typedef int (*hs_progress_fn)(void *user, const char *phase, double fraction);

/* Seconds between calls of the listener. */
#define HS_PROGRESS_EVERY 0.1
/* Units of work (~ a nanosecond each: a normal drawn, a multiply-add)
 * between clock readings. */
#define HS_PROGRESS_GRAIN 16384.0

typedef struct hs_progress {
  hs_progress_fn fn; /* may be NULL */
  void *user;
  const char *phase; /* the current phase's name ("" before the first) */
  double lo, span;   /* the current phase's share of the run */
  double fraction;   /* of the whole run, as last set */
  double pending;    /* work since the last clock reading */
  double next;       /* coarse-clock second of the next call */
  int stop;          /* the listener said stop */
} hs_progress;

void hs_progress_init(hs_progress *p, hs_progress_fn fn, void *user);

/* Start a phase covering [lo, lo + span] of the run, and tell the listener
 * (a phase that stops at once never polls). */
void hs_progress_phase(hs_progress *p, const char *name, double lo, double span);

/* The fraction of the current phase done (no clock reading); the run's
 * fraction never decreases. */
void hs_progress_set(hs_progress *p, double phase_fraction);

/* Read the clock; call the listener if HS_PROGRESS_EVERY passed. Nonzero:
 * stop. */
int hs_progress_poll(hs_progress *p);

/* Whether the listener said stop. */
static inline int hs_progress_stopped(const hs_progress *p) { return p && p->stop; }

/* Account for `units` of work; polls every HS_PROGRESS_GRAIN units.
 * Nonzero: stop. */
static inline int hs_progress_work(hs_progress *p, double units) {
  if (!p) return 0;
  if ((p->pending += units) < HS_PROGRESS_GRAIN) return p->stop;
  return hs_progress_poll(p);
}

#endif
