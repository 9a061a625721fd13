/* plan_match.c: which points of one plan are points of another (plan.h).
 *
 * A point is its parameters: the values of the keys it reads, and the job
 * seed. Two points are the same when those agree exactly, whatever the job
 * files' comments, key order or list order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_impl.h"

/* Key k's j-th value as exact text (17 digits: equal text, equal bits). */
static void value_text(const hs_job *job, int k, int j, char *buf, size_t len) {
  const hs_key_values *kv = &job->values[k];
  switch (hs_job_keys[k].type) {
    case HS_KEY_NAME: snprintf(buf, len, "%s", kv->word[j]); return;
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX: {
      size_t used = (size_t)snprintf(buf, len, "%dx%d:", kv->rows, kv->cols);
      for (int e = 0; e < kv->rows * kv->cols && used < len; e++)
        used += (size_t)snprintf(buf + used, len - used, "%.17g,", kv->mat[e]);
      return;
    }
    default: snprintf(buf, len, "%.17g", kv->num[j]); return;
  }
}

/* The identity of point i: "seed;key=value;..." over the keys it reads
 * (testing knobs are not parameters). Returns its length, or -1 if it does
 * not fit. */
static int identity(const hs_plan *plan, long i, char *buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "job_seed=%llu;",
                                 (unsigned long long)plan->job.job_seed);
  for (int k = 0; k < hs_n_job_keys && used < len; k++) {
    int v = hs_plan_value_index(plan, k, i);
    if (v == HS_UNREAD || hs_job_keys[k].read_when == HS_READ_TESTING) continue;
    used += (size_t)snprintf(buf + used, len - used, "%s.%s=", hs_job_keys[k].section,
                             hs_job_keys[k].name);
    if (used >= len) break;
    value_text(&plan->job, k, v, buf + used, len - used);
    used += strlen(buf + used);
    if (used < len) buf[used++] = ';', buf[used] = '\0';
  }
  return used < len ? (int)used : -1;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

typedef struct hashed {
  uint64_t hash;
  long point;
} hashed;

static int by_hash(const void *a, const void *b) {
  const hashed *x = a, *y = b;
  return x->hash < y->hash ? -1 : x->hash > y->hash ? 1 : (x->point > y->point) - (x->point < y->point);
}

/* Whether any point of the plan reads key k. */
static int read_anywhere(const hs_plan *plan, int k) {
  for (long i = 0; i < plan->n_points; i++)
    if (hs_plan_value_index(plan, k, i) != HS_UNREAD) return 1;
  return 0;
}

/* Settings with one value in both jobs that differ: listed in err. */
static hs_status compare_shared(const hs_plan *old, const hs_plan *cur, hs_err *err) {
  char what[HS_ERR_MSG_LEN] = "";
  size_t used = 0;
  if (old->job.job_seed != cur->job.job_seed)
    used += (size_t)snprintf(what, sizeof what, "job_seed (%llu in the file, %llu in the job)",
                             (unsigned long long)old->job.job_seed,
                             (unsigned long long)cur->job.job_seed);
  for (int k = 0; k < hs_n_job_keys && used < sizeof what; k++) {
    const hs_key *key = &hs_job_keys[k];
    int single = key->type == HS_KEY_VECTOR || key->type == HS_KEY_MATRIX ||
                 (old->job.values[k].n == 1 && cur->job.values[k].n == 1);
    if (!single || key->read_when == HS_READ_TESTING || !read_anywhere(old, k) ||
        !read_anywhere(cur, k))
      continue;
    char a[256], b[256];
    value_text(&old->job, k, 0, a, sizeof a);
    value_text(&cur->job, k, 0, b, sizeof b);
    if (strcmp(a, b) != 0)
      used += (size_t)snprintf(what + used, sizeof what - used, "%s%s.%s (%s in the file, %s in the job)",
                               used ? ", " : "", key->section, key->name, a, b);
  }
  if (!used) return HS_OK;
  return hs_err_set(err, HS_EMISMATCH, "%s", what);
}

hs_status hs_plan_match_points(const hs_plan *old, const hs_plan *cur,
                               hs_plan_match *m, hs_err *err) {
  memset(m, 0, sizeof *m);
  hs_status st = compare_shared(old, cur, err);
  if (st) return st;
  enum { ID_LEN = 16384 };
  char *a = malloc(ID_LEN), *b = malloc(ID_LEN);
  hashed *cur_hash = malloc(sizeof *cur_hash * (size_t)cur->n_points);
  m->cur_of_old = malloc(sizeof *m->cur_of_old * (size_t)old->n_points);
  if (!a || !b || !cur_hash || !m->cur_of_old) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory matching points");
    goto out;
  }
  for (long i = 0; i < cur->n_points; i++) {
    if (identity(cur, i, a, ID_LEN) < 0) {
      st = hs_err_set(err, HS_EINPUT, "point %ld has parameters too long to match", i);
      goto out;
    }
    cur_hash[i] = (hashed){fnv1a(a), i};
  }
  qsort(cur_hash, (size_t)cur->n_points, sizeof *cur_hash, by_hash);
  m->same = old->n_points == cur->n_points;
  for (long i = 0; i < old->n_points; i++) {
    m->cur_of_old[i] = -1;
    if (identity(old, i, a, ID_LEN) < 0) continue;
    hashed key = {fnv1a(a), -1};
    long lo = 0, hi = cur->n_points; /* the first entry with this hash */
    while (lo < hi) {
      long mid = (lo + hi) / 2;
      if (cur_hash[mid].hash < key.hash) lo = mid + 1;
      else hi = mid;
    }
    for (long j = lo; j < cur->n_points && cur_hash[j].hash == key.hash; j++)
      if (identity(cur, cur_hash[j].point, b, ID_LEN) >= 0 && strcmp(a, b) == 0) {
        m->cur_of_old[i] = cur_hash[j].point;
        m->common++;
        break;
      }
    m->same &= m->cur_of_old[i] == i;
  }
out:
  free(a), free(b), free(cur_hash);
  if (st) hs_plan_match_free(m);
  return st;
}

void hs_plan_match_free(hs_plan_match *m) {
  free(m->cur_of_old);
  m->cur_of_old = NULL;
}
