/* attention_stats.c: how a model's heads share out their attention, at each
 * record (result.h: attn_total, attn_relevant, attn_sink, quiet_heads), on
 * sequences drawn in law from its reduced representation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phase.h"

enum { CHUNK = 16 }; /* sequences per draw: memory CHUNK H L doubles */

/* A head is quiet on a sequence when its attention sum_l A_hl is under a
 * quarter of the busiest head's (docs/REPRODUCTION.md's definition). */
static int quiet_heads(const double *total, int H) {
  double busiest = 0;
  for (int h = 0; h < H; h++) busiest = fmax(busiest, total[h]);
  int quiet = 0;
  for (int h = 0; h < H; h++) quiet += total[h] < 0.25 * busiest;
  return quiet;
}

/* Per sequence i of A (n x H x L, token 0 relevant), into the sums. */
static void accumulate(const double *A, int n, int H, int L, int sink_of, double lambda,
                       double *total, double *relevant, double *sink, double *quiet,
                       double *head_total) {
  for (int i = 0; i < n; i++) {
    for (int h = 0; h < H; h++) {
      const double *a = A + ((size_t)i * H + h) * L;
      double s = 0;
      for (int l = 0; l < L; l++) s += a[l];
      head_total[h] = s;
      total[h] += s;
      relevant[h] += a[0];
      /* softmax1: A_hl = (lambda / H) q_hl, q0_h = 1 - sum_l q_hl */
      if (sink_of) sink[h] += 1 - s * H / lambda;
    }
    *quiet += quiet_heads(head_total, H);
  }
}

hs_status hs_attention_stats(hs_point_context *ctx, const double *R, const double *shift,
                             const double *b, double lambda, int j, int ode, hs_err *err) {
  const hs_point *p = ctx->p;
  hs_result *res = ctx->res;
  int H = p->H, L = p->L, n = p->attention_samples;
  if (n <= 0) return HS_OK;
  double *total = (ode ? res->ode_attn_total : res->sgd_attn_total) + (size_t)j * H;
  double *relevant = (ode ? res->ode_attn_relevant : res->sgd_attn_relevant) + (size_t)j * H;
  double *sink = (ode ? res->ode_attn_sink : res->sgd_attn_sink) + (size_t)j * H;
  double *quiet = (ode ? res->ode_quiet_heads : res->sgd_quiet_heads) + j;
  int sink_of = ctx->act->trains_lambda; /* the softmax1: its sink is q0 */
  double *A = malloc(sizeof(double) * CHUNK * H * L), *head_total = malloc(sizeof(double) * H);
  if (!A || !head_total) {
    free(A), free(head_total);
    return hs_err_set(err, HS_ENOMEM, "out of memory for the attention statistics");
  }
  for (int h = 0; h < H; h++) total[h] = relevant[h] = sink[h] = 0;
  *quiet = 0;
  int stopped = 0;
  for (int first = 0; first < n && !stopped; first += CHUNK) {
    int k = n - first < CHUNK ? n - first : CHUNK;
    stopped = hs_population_maps_from(&ctx->pop, &ctx->dist, H, R, shift, b, lambda, first, k,
                                      p->job_seed, (uint64_t)p->seed, A);
    if (!stopped) accumulate(A, k, H, L, sink_of, lambda, total, relevant, sink, quiet,
                             head_total);
  }
  for (int h = 0; h < H; h++) {
    total[h] /= n, relevant[h] /= n;
    sink[h] = sink_of ? sink[h] / n : NAN;
  }
  *quiet /= n;
  free(A), free(head_total);
  return stopped ? hs_err_set(err, HS_EINTERRUPT, "interrupted in the attention statistics")
                 : HS_OK;
}
