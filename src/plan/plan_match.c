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

/* x in the fewest digits that read back as x (1e-06, not
 * 9.9999999999999995e-07): equal text, equal bits. */
static int shortest(char *buf, size_t len, double x) {
  int n = 0;
  for (int digits = 15; digits <= 17; digits++) {
    n = snprintf(buf, len, "%.*g", digits, x);
    if (strtod(buf, NULL) == x || x != x) break;
  }
  return n;
}

/* Key k's j-th value as exact text (equal text, equal bits). */
static void value_text(const hs_job *job, int k, int j, char *buf, size_t len) {
  const hs_key_values *kv = &job->values[k];
  switch (hs_job_keys[k].type) {
    case HS_KEY_NAME: snprintf(buf, len, "%s", kv->word[j]); return;
    case HS_KEY_VECTOR:
    case HS_KEY_MATRIX: {
      size_t used = (size_t)snprintf(buf, len, "%dx%d:", kv->rows, kv->cols);
      for (int e = 0; e < kv->rows * kv->cols && used < len; e++)
        used += (size_t)shortest(buf + used, len - used, kv->mat[e]),
        used += used < len ? (size_t)snprintf(buf + used, len - used, ",") : 0;
      return;
    }
    default: shortest(buf, len, kv->num[j]); return;
  }
}

/* "section.key=value;" of every value of every key that is a parameter
 * (testing knobs are not), made once per plan: a point's identity is then
 * a concatenation, not a printf per key and point. */
typedef struct value_texts {
  char ***text; /* [key][value], NULL for testing knobs */
  char seed[64];
} value_texts;

static void texts_free(value_texts *t, const hs_plan *plan) {
  for (int k = 0; t->text && k < hs_n_job_keys; k++) {
    for (int j = 0; t->text[k] && j < plan->job.values[k].n; j++) free(t->text[k][j]);
    free(t->text[k]);
  }
  free(t->text);
  t->text = NULL;
}

static int texts_make(value_texts *t, const hs_plan *plan) {
  snprintf(t->seed, sizeof t->seed, "job_seed=%llu;", (unsigned long long)plan->job.job_seed);
  t->text = calloc((size_t)hs_n_job_keys, sizeof *t->text);
  if (!t->text) return -1;
  for (int k = 0; k < hs_n_job_keys; k++) {
    int n = plan->job.values[k].n;
    if (hs_job_keys[k].read_when == HS_READ_TESTING || n < 1) continue;
    if (!(t->text[k] = calloc((size_t)n, sizeof **t->text))) return texts_free(t, plan), -1;
    for (int j = 0; j < n; j++) {
      char v[8192], one[8400];
      value_text(&plan->job, k, j, v, sizeof v);
      snprintf(one, sizeof one, "%s.%s=%s;", hs_job_keys[k].section, hs_job_keys[k].name, v);
      if (!(t->text[k][j] = strdup(one))) return texts_free(t, plan), -1;
    }
  }
  return 0;
}

/* The identity of point i: "seed;key=value;..." over the keys it reads
 * (testing knobs are not parameters). Returns its length, or -1 if it does
 * not fit. */
static int identity(const hs_plan *plan, const value_texts *t, long i, char *buf, size_t len) {
  size_t used = strlen(t->seed);
  if (used >= len) return -1;
  memcpy(buf, t->seed, used + 1);
  for (int k = 0; k < hs_n_job_keys; k++) {
    int v = hs_plan_value_index(plan, k, i);
    if (v == HS_UNREAD || !t->text[k]) continue;
    size_t n = strlen(t->text[k][v]);
    if (used + n >= len) return -1;
    memcpy(buf + used, t->text[k][v], n + 1);
    used += n;
  }
  return (int)used;
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
  if (same_values(old, cur)) { /* every point is itself */
    m->cur_of_old = malloc(sizeof *m->cur_of_old * (size_t)(old->n_points ? old->n_points : 1));
    if (!m->cur_of_old) return hs_err_set(err, HS_ENOMEM, "out of memory matching points");
    for (long i = 0; i < old->n_points; i++) m->cur_of_old[i] = i;
    m->same = 1;
    m->common = old->n_points;
    return HS_OK;
  }
  value_texts to = {0}, tc = {0};
  char *a = malloc(ID_LEN), *b = malloc(ID_LEN);
  hashed *cur_hash = malloc(sizeof *cur_hash * (size_t)cur->n_points);
  m->cur_of_old = malloc(sizeof *m->cur_of_old * (size_t)old->n_points);
  if (!a || !b || !cur_hash || !m->cur_of_old || texts_make(&to, old) || texts_make(&tc, cur)) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory matching points");
    goto out;
  }
  for (long i = 0; i < cur->n_points; i++) {
    if (identity(cur, &tc, i, a, ID_LEN) < 0) {
      st = hs_err_set(err, HS_EINPUT, "point %ld has parameters too long to match", i);
      goto out;
    }
    cur_hash[i] = (hashed){fnv1a(a), i};
  }
  qsort(cur_hash, (size_t)cur->n_points, sizeof *cur_hash, by_hash);
  m->same = old->n_points == cur->n_points;
  for (long i = 0; i < old->n_points; i++) {
    m->cur_of_old[i] = -1;
    if (identity(old, &to, i, a, ID_LEN) < 0) continue;
    hashed key = {fnv1a(a), -1};
    long lo = 0, hi = cur->n_points; /* the first entry with this hash */
    while (lo < hi) {
      long mid = (lo + hi) / 2;
      if (cur_hash[mid].hash < key.hash) lo = mid + 1;
      else hi = mid;
    }
    for (long j = lo; j < cur->n_points && cur_hash[j].hash == key.hash; j++)
      if (identity(cur, &tc, cur_hash[j].point, b, ID_LEN) >= 0 && strcmp(a, b) == 0) {
        m->cur_of_old[i] = cur_hash[j].point;
        m->common++;
        break;
      }
    m->same &= m->cur_of_old[i] == i;
  }
out:
  texts_free(&to, old), texts_free(&tc, cur);
  free(a), free(b), free(cur_hash);
  if (st) hs_plan_match_free(m);
  return st;
}

void hs_plan_match_free(hs_plan_match *m) {
  free(m->cur_of_old);
  m->cur_of_old = NULL;
}
