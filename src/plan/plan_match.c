/* plan_match.c: which points of one plan are points of another (plan.h).
 *
 * A point is its parameters: the values of the keys it reads, and the job
 * seed. Two points are the same when those agree exactly (bit for bit,
 * every element of a vector however long), whatever the job files'
 * comments, key order or list order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_impl.h"

/* x in the fewest digits that read back as x (1e-06, not
 * 9.9999999999999995e-07): for messages. */
static int shortest(char *buf, size_t len, double x) {
  int n = 0;
  for (int digits = 15; digits <= 17; digits++) {
    n = snprintf(buf, len, "%.*g", digits, x);
    if (strtod(buf, NULL) == x || x != x) break;
  }
  return n;
}

/* Whether key k's value ja in job a is value jb in job b: compared bit for
 * bit, every element of a vector or matrix (never a truncated text). */
static int same_value(const hs_job *a, int ja, const hs_job *b, int jb, int k) {
  const hs_key_values *x = &a->values[k], *y = &b->values[k];
  switch (hs_job_keys[k].type) {
    case HS_KEY_NAME: return strcmp(x->word[ja], y->word[jb]) == 0;
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX:
      return x->rows == y->rows && x->cols == y->cols &&
             (x->rows * x->cols <= 0 ||
              memcmp(x->mat, y->mat, sizeof *x->mat * (size_t)(x->rows * x->cols)) == 0);
    default: return memcmp(&x->num[ja], &y->num[jb], sizeof *x->num) == 0;
  }
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/* A hash of key k's value j: equal values, equal hashes. */
static uint64_t value_hash(const hs_job *job, int k, int j) {
  const hs_key_values *kv = &job->values[k];
  uint64_t h = fnv1a(1469598103934665603ULL, &k, sizeof k);
  switch (hs_job_keys[k].type) {
    case HS_KEY_NAME: return fnv1a(h, kv->word[j], strlen(kv->word[j]));
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX:
      h = fnv1a(fnv1a(h, &kv->rows, sizeof kv->rows), &kv->cols, sizeof kv->cols);
      return kv->rows * kv->cols > 0 ? fnv1a(h, kv->mat, sizeof *kv->mat * (size_t)(kv->rows * kv->cols)) : h;
    default: return fnv1a(h, &kv->num[j], sizeof *kv->num);
  }
}

/* Whether key k is a parameter (testing knobs are not) with values. */
static int is_parameter(const hs_plan *plan, int k) {
  return hs_job_keys[k].read_when != HS_READ_TESTING && plan->job.values[k].n >= 1;
}

/* The hash of point i's identity: the job seed and the value of every
 * parameter it reads. */
static uint64_t point_hash(const hs_plan *plan, uint64_t **hashes, long i) {
  uint64_t h = fnv1a(1469598103934665603ULL, &plan->job.job_seed, sizeof plan->job.job_seed);
  for (int k = 0; k < hs_n_job_keys; k++) {
    int v = hs_plan_value_index(plan, k, i);
    if (v != HS_UNREAD && hashes[k]) h = fnv1a(h, &hashes[k][v], sizeof hashes[k][v]);
  }
  return h;
}

/* Whether point i of a and point j of b are the same point: the same job
 * seed, the same parameters read, each with the same value. */
static int same_point(const hs_plan *a, long i, const hs_plan *b, long j) {
  if (a->job.job_seed != b->job.job_seed) return 0;
  for (int k = 0; k < hs_n_job_keys; k++) {
    int va = is_parameter(a, k) ? hs_plan_value_index(a, k, i) : HS_UNREAD;
    int vb = is_parameter(b, k) ? hs_plan_value_index(b, k, j) : HS_UNREAD;
    if ((va == HS_UNREAD) != (vb == HS_UNREAD)) return 0;
    if (va != HS_UNREAD && !same_value(&a->job, va, &b->job, vb, k)) return 0;
  }
  return 1;
}

/* Every value's hash, per parameter key (NULL for the others). */
static void hashes_free(uint64_t **h) {
  for (int k = 0; h && k < hs_n_job_keys; k++) free(h[k]);
  free(h);
}

static uint64_t **hashes_make(const hs_plan *plan) {
  uint64_t **h = calloc((size_t)hs_n_job_keys, sizeof *h);
  for (int k = 0; h && k < hs_n_job_keys; k++) {
    if (!is_parameter(plan, k)) continue;
    int n = plan->job.values[k].n;
    if (!(h[k] = malloc(sizeof **h * (size_t)n))) return hashes_free(h), NULL;
    for (int j = 0; j < n; j++) h[k][j] = value_hash(&plan->job, k, j);
  }
  return h;
}

/* Whether both plans list the same values for every key (a resumed job, or
 * its text reformatted): then they have the same points in the same order,
 * known without comparing a point. */
static int same_values(const hs_plan *a, const hs_plan *b) {
  if (a->job.job_seed != b->job.job_seed || a->n_points != b->n_points) return 0;
  for (int k = 0; k < hs_n_job_keys; k++) {
    const hs_key_values *x = &a->job.values[k], *y = &b->job.values[k];
    if (x->n != y->n || x->rows != y->rows || x->cols != y->cols ||
        (x->num && y->num && memcmp(x->num, y->num, sizeof *x->num * (size_t)x->n) != 0) ||
        (x->word && y->word && memcmp(x->word, y->word, sizeof *x->word * (size_t)x->n) != 0) ||
        (x->mat && y->mat && memcmp(x->mat, y->mat, sizeof *x->mat * (size_t)(x->rows * x->cols)) != 0) ||
        !x->num != !y->num || !x->word != !y->word || !x->mat != !y->mat)
      return 0;
  }
  return 1;
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

/* Key k's first value as text for a message ("3x1:0.5,1,2" for vectors). */
static void value_text(const hs_job *job, int k, char *buf, size_t len) {
  const hs_key_values *kv = &job->values[k];
  switch (hs_job_keys[k].type) {
    case HS_KEY_NAME: snprintf(buf, len, "%s", kv->word[0]); return;
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX: {
      size_t used = (size_t)snprintf(buf, len, "%dx%d:", kv->rows, kv->cols);
      for (int e = 0; e < kv->rows * kv->cols && used < len; e++)
        used += (size_t)shortest(buf + used, len - used, kv->mat[e]),
        used += used < len ? (size_t)snprintf(buf + used, len - used, ",") : 0;
      return;
    }
    default: shortest(buf, len, kv->num[0]); return;
  }
}

/* How key k's (single) value differs: "(A in the file, B in the job)", the
 * values whole when short, else the first entry that differs. */
static void describe_difference(const hs_job *old, const hs_job *cur, int k, char *buf,
                                size_t len) {
  const hs_key_values *x = &old->values[k], *y = &cur->values[k];
  char a[128], b[128];
  value_text(old, k, a, sizeof a);
  value_text(cur, k, b, sizeof b);
  int listed = hs_job_keys[k].type == HS_KEY_VECTOR || hs_job_keys[k].type == HS_KEY_MATRIX;
  if (!listed || (strlen(a) < 60 && strlen(b) < 60)) {
    snprintf(buf, len, "(%s in the file, %s in the job)", a, b);
    return;
  }
  if (x->rows != y->rows || x->cols != y->cols) {
    snprintf(buf, len, "(%dx%d values in the file, %dx%d in the job)", x->rows, x->cols, y->rows,
             y->cols);
    return;
  }
  int e = 0;
  while (e < x->rows * x->cols && memcmp(&x->mat[e], &y->mat[e], sizeof *x->mat) == 0) e++;
  shortest(a, sizeof a, x->mat[e]);
  shortest(b, sizeof b, y->mat[e]);
  snprintf(buf, len, "(entry %d of %d: %s in the file, %s in the job)", e + 1,
           x->rows * x->cols, a, b);
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
        !read_anywhere(cur, k) || same_value(&old->job, 0, &cur->job, 0, k))
      continue;
    char how[400];
    describe_difference(&old->job, &cur->job, k, how, sizeof how);
    used += (size_t)snprintf(what + used, sizeof what - used, "%s%s.%s %s", used ? ", " : "",
                             key->section, key->name, how);
  }
  if (!used) return HS_OK;
  return hs_err_set(err, HS_EMISMATCH, "%s", what);
}

hs_status hs_plan_match_points(const hs_plan *old, const hs_plan *cur,
                               hs_plan_match *m, hs_err *err) {
  memset(m, 0, sizeof *m);
  hs_status st = compare_shared(old, cur, err);
  if (st) return st;
  if (same_values(old, cur)) { /* every point is itself */
    m->cur_of_old = malloc(sizeof *m->cur_of_old * (size_t)(old->n_points ? old->n_points : 1));
    if (!m->cur_of_old) return hs_err_set(err, HS_ENOMEM, "out of memory matching points");
    for (long i = 0; i < old->n_points; i++) m->cur_of_old[i] = i;
    m->same = 1;
    m->common = old->n_points;
    return HS_OK;
  }
  uint64_t **ho = hashes_make(old), **hc = hashes_make(cur);
  hashed *cur_hash = malloc(sizeof *cur_hash * (size_t)(cur->n_points ? cur->n_points : 1));
  m->cur_of_old = malloc(sizeof *m->cur_of_old * (size_t)(old->n_points ? old->n_points : 1));
  if (!ho || !hc || !cur_hash || !m->cur_of_old) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory matching points");
    goto out;
  }
  for (long i = 0; i < cur->n_points; i++) cur_hash[i] = (hashed){point_hash(cur, hc, i), i};
  qsort(cur_hash, (size_t)cur->n_points, sizeof *cur_hash, by_hash);
  m->same = old->n_points == cur->n_points;
  for (long i = 0; i < old->n_points; i++) {
    m->cur_of_old[i] = -1;
    hashed key = {point_hash(old, ho, i), -1};
    long lo = 0, hi = cur->n_points; /* the first entry with this hash */
    while (lo < hi) {
      long mid = (lo + hi) / 2;
      if (cur_hash[mid].hash < key.hash) lo = mid + 1;
      else hi = mid;
    }
    for (long j = lo; j < cur->n_points && cur_hash[j].hash == key.hash; j++)
      if (same_point(old, i, cur, cur_hash[j].point)) {
        m->cur_of_old[i] = cur_hash[j].point;
        m->common++;
        break;
      }
    m->same &= m->cur_of_old[i] == i;
  }
out:
  hashes_free(ho), hashes_free(hc);
  free(cur_hash);
  if (st) hs_plan_match_free(m);
  return st;
}

void hs_plan_match_free(hs_plan_match *m) {
  free(m->cur_of_old);
  m->cur_of_old = NULL;
}
