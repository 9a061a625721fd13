/* point.c: run one grid point (SGD with records on the time grid). */
#include "headspec/point.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headspec/attention.h"
#include "headspec/overlap.h"
#include "headspec/sgd.h"
#include "headspec/timegrid.h"

const hs_result_field hs_result_fields[] = {
    {"sgd/t", "time t = steps * eta / d of each record", 1, {HS_DIM_T},
     offsetof(hs_result, t)},
    {"sgd/step", "SGD steps taken at each record", 1, {HS_DIM_T},
     offsetof(hs_result, step)},
    {"sgd/m", "m_hk = <w_h, xi_k>/d", 3, {HS_DIM_T, HS_DIM_H, HS_DIM_K},
     offsetof(hs_result, m)},
    {"sgd/Q", "Q_hh' = <w_h, w_h'>/d", 3, {HS_DIM_T, HS_DIM_H, HS_DIM_H},
     offsetof(hs_result, Q)},
    {"sgd/Qperp", "Q - m M^-1 m^T, the heads' Gram orthogonal to the spikes",
     3, {HS_DIM_T, HS_DIM_H, HS_DIM_H}, offsetof(hs_result, Qperp)},
    {"sgd/b", "biases b_h", 2, {HS_DIM_T, HS_DIM_H}, offsetof(hs_result, b)},
    {"sgd/lambda", "softmax1 output scale", 1, {HS_DIM_T},
     offsetof(hs_result, lambda)},
    {"sgd/test_loss", "mean loss |y - f(X)|^2/d on the fixed test set", 1,
     {HS_DIM_T}, offsetof(hs_result, test_loss)},
    {"sgd/train_loss", "mean batch loss over the steps since the last record",
     1, {HS_DIM_T}, offsetof(hs_result, train_loss)},
    {"sgd/M", "spike Gram M_kk' = <xi_k, xi_k'>/d", 2, {HS_DIM_K, HS_DIM_K},
     offsetof(hs_result, M)},
    {"seconds", "wall-clock seconds spent on the point", 0, {0},
     offsetof(hs_result, seconds)},
};
const int hs_n_result_fields = sizeof hs_result_fields / sizeof *hs_result_fields;

static int dim_size(hs_dim d, const hs_shape *s) {
  switch (d) {
    case HS_DIM_T: return s->T;
    case HS_DIM_H: return s->H;
    case HS_DIM_K: return s->K;
    case HS_DIM_L: return s->L;
  }
  return 0;
}

size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s) {
  size_t n = 1;
  for (int i = 0; i < f->rank; i++) n *= (size_t)dim_size(f->dims[i], s);
  return n;
}

double *hs_result_field_data(const hs_result *r, const hs_result_field *f) {
  return *(double *const *)((const char *)r + f->offset);
}

hs_status hs_point_shape(const hs_point *p, hs_shape *shape, hs_err *err) {
  hs_dist dist;
  hs_status s = hs_dist_init(&dist, &p->dist, err);
  if (s) return s;
  shape->T = p->records;
  shape->H = p->H;
  shape->K = dist.K;
  shape->L = p->L;
  hs_dist_free(&dist);
  return HS_OK;
}

hs_status hs_result_alloc(hs_result *r, const hs_shape *shape, hs_err *err) {
  memset(r, 0, sizeof *r);
  r->shape = *shape;
  for (int i = 0; i < hs_n_result_fields; i++) {
    const hs_result_field *f = &hs_result_fields[i];
    double **slot = (double **)((char *)r + f->offset);
    size_t n = hs_result_field_size(f, shape);
    if (!(*slot = malloc(n * sizeof(double)))) {
      hs_result_free(r);
      return hs_err_set(err, HS_ENOMEM, "out of memory for results");
    }
    for (size_t j = 0; j < n; j++) (*slot)[j] = NAN;
  }
  return HS_OK;
}

void hs_result_free(hs_result *r) {
  for (int i = 0; i < hs_n_result_fields; i++)
    free(*(double **)((char *)r + hs_result_fields[i].offset));
  memset(r, 0, sizeof *r);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Store the SGD state as record j. */
static hs_status record_sgd(hs_sgd *s, const double *M, hs_result *res, int j,
                            hs_err *err) {
  const hs_shape *sh = &res->shape;
  int H = sh->H, K = sh->K;
  res->t[j] = s->step * s->cfg.eta / s->cfg.d;
  res->step[j] = (double)s->step;
  hs_status st = hs_overlap_compute(s->W, H, s->cfg.xi, K, s->cfg.d, M,
                                    res->m + (size_t)j * H * K,
                                    res->Q + (size_t)j * H * H,
                                    res->Qperp + (size_t)j * H * H, err);
  if (st) return st;
  memcpy(res->b + (size_t)j * H, s->b, sizeof(double) * H);
  res->lambda[j] = s->lambda;
  res->test_loss[j] = hs_sgd_test_loss(s);
  if (!isfinite(res->test_loss[j]))
    return hs_err_set(err, HS_ENUM, "test loss is not finite at t = %g",
                      res->t[j]);
  return HS_OK;
}

/* MODEL.md section 4: online SGD, recorded on the time grid. */
static hs_status run_sgd(const hs_point *p, const hs_dist *dist,
                         const double *xi, hs_result *res,
                         hs_progress_fn progress, void *user, hs_err *err) {
  int T = res->shape.T, K = dist->K;
  double times[T];
  hs_timegrid(strcmp(p->record_grid, "log") == 0, p->t_min, p->t_max, T, times);
  hs_overlap_spike_gram(xi, K, p->d, res->M);
  hs_sgd_config cfg = {.d = p->d, .L = p->L, .H = p->H, .B = p->B,
                       .eta = p->eta, .kappa = p->kappa, .sigma0 = p->sigma0,
                       .act = hs_activation_find(p->activation), .dist = dist,
                       .xi = xi, .job_seed = p->job_seed, .seed = (uint64_t)p->seed,
                       .test_samples = p->test_samples};
  hs_sgd s;
  hs_status st = hs_sgd_init(&s, &cfg, err);
  if (st) return st;
  long total = hs_timegrid_step(times[T - 1], p->eta, p->d);
  for (int j = 0; j < T && !st; j++) {
    long target = hs_timegrid_step(times[j], p->eta, p->d);
    double loss_sum = 0;
    long n = 0;
    for (; s.step < target; n++) {
      loss_sum += hs_sgd_step(&s);
      if (progress && (s.step & 255) == 0 &&
          progress(user, (double)s.step / (total > 0 ? total : 1))) {
        double t = s.step * p->eta / p->d;
        hs_sgd_free(&s);
        return hs_err_set(err, HS_EINTERRUPT, "interrupted at t = %g", t);
      }
    }
    res->train_loss[j] = n ? loss_sum / n : NAN;
    if (n && !isfinite(loss_sum))
      st = hs_err_set(err, HS_ENUM, "training loss is not finite before t = %g",
                      times[j]);
    else
      st = record_sgd(&s, res->M, res, j, err);
  }
  hs_sgd_free(&s);
  return st;
}

hs_status hs_point_run(const hs_point *p, hs_result *res,
                       hs_progress_fn progress, void *user, hs_err *err) {
  double start = now();
  if (!hs_activation_find(p->activation))
    return hs_err_set(err, HS_EINPUT, "unknown activation '%s'", p->activation);
  hs_dist dist;
  hs_status st = hs_dist_init(&dist, &p->dist, err);
  if (st) return st;
  double *xi = malloc(sizeof(double) * dist.K * p->d);
  if (!xi) {
    hs_dist_free(&dist);
    return hs_err_set(err, HS_ENOMEM, "out of memory for spikes");
  }
  st = hs_teacher_spikes(xi, dist.K, p->d, p->job_seed, (uint64_t)p->seed,
                         p->orthonormal_spikes, err);
  if (!st) st = run_sgd(p, &dist, xi, res, progress, user, err);
  free(xi);
  hs_dist_free(&dist);
  res->seconds[0] = now() - start;
  return st;
}
