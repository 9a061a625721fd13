/* prune.c: greedy head pruning (prune.h). */
#include "headspec/prune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copy the kept heads' rows of R, shift and b into compact arrays. */
static void gather(int n, const int *kept, int W, int K, const double *R,
                   const double *shift, const double *b, double *Rk,
                   double *shk, double *bk) {
  for (int i = 0; i < n; i++) {
    memcpy(Rk + (size_t)i * W, R + (size_t)kept[i] * W, sizeof(double) * W);
    if (shift) memcpy(shk + (size_t)i * K, shift + (size_t)kept[i] * K, sizeof(double) * K);
    bk[i] = b[kept[i]];
  }
}

hs_status hs_prune(hs_population *pop, int H, const double *R,
                   const double *shift, const double *b, double lambda,
                   double *loss, double *order, hs_err *err) {
  int W = pop->K + pop->H, K = pop->K;
  int *kept = malloc(sizeof(int) * H), *trial = malloc(sizeof(int) * H);
  double *Rk = calloc((size_t)H * W, sizeof(double)), *shk = calloc((size_t)H * K, sizeof(double));
  double *bk = calloc((size_t)H, sizeof(double));
  hs_status st = HS_OK;
  if (!kept || !trial || !Rk || !shk || !bk) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory in pruning");
    goto done;
  }
  for (int h = 0; h < H; h++) kept[h] = h;
  gather(H, kept, W, K, R, shift, b, Rk, shk, bk);
  loss[H - 1] = hs_population_loss(pop, H, Rk, shift ? shk : NULL, bk, lambda,
                                   NULL, NULL, NULL, NULL, NULL);
  /* progress: the evaluations cost in proportion to the heads kept */
  double work = H, total = H + (H - 1.0) * H * (H + 1.0) / 3;
  for (int n = H; n > 1 && !hs_progress_stopped(pop->progress); n--) {
    int best = -1;
    double best_loss = INFINITY;
    for (int drop = 0; drop < n && !hs_progress_stopped(pop->progress); drop++) {
      hs_progress_set(pop->progress, work / total);
      for (int i = 0, j = 0; i < n; i++)
        if (i != drop) trial[j++] = kept[i];
      gather(n - 1, trial, W, K, R, shift, b, Rk, shk, bk);
      double l = hs_population_loss(pop, n - 1, Rk, shift ? shk : NULL, bk,
                                    lambda, NULL, NULL, NULL, NULL, NULL);
      if (l < best_loss) best_loss = l, best = drop;
      work += n - 1;
    }
    if (hs_progress_stopped(pop->progress)) break;
    if (best < 0) {
      st = hs_err_set(err, HS_ENUM, "pruning: loss is not finite");
      goto done;
    }
    order[H - n] = kept[best];
    memmove(kept + best, kept + best + 1, sizeof(int) * (n - 1 - best));
    loss[n - 2] = best_loss;
  }
  order[H - 1] = kept[0];
  if (hs_progress_stopped(pop->progress))
    st = hs_err_set(err, HS_EINTERRUPT, "interrupted in pruning");
done:
  free(kept), free(trial), free(Rk), free(shk), free(bk);
  return st;
}

/* order[i] a permutation of 0..H-1: the removal order of a pruned model. */
static int is_permutation(int H, const double *order, int *seen) {
  memset(seen, 0, sizeof(int) * H);
  for (int i = 0; i < H; i++) {
    double o = order[i];
    if (!(o >= 0 && o < H && o == (int)o) || seen[(int)o]++) return 0;
  }
  return 1;
}

hs_status hs_prune_along(hs_population *pop, int H, const double *R, const double *shift,
                         const double *b, double lambda, const double *order, double *loss,
                         double *loss_se, hs_err *err) {
  int W = pop->K + pop->H, K = pop->K;
  int *kept = malloc(sizeof(int) * H);
  double *Rk = calloc((size_t)H * W, sizeof(double)), *shk = calloc((size_t)H * K, sizeof(double));
  double *bk = calloc((size_t)H, sizeof(double));
  hs_status st = HS_OK;
  if (!kept || !Rk || !shk || !bk) {
    st = hs_err_set(err, HS_ENOMEM, "out of memory in pruning");
  } else if (!is_permutation(H, order, kept)) {
    st = hs_err_set(err, HS_EINPUT, "pruning on another set: the removal order is not a "
                    "permutation of the %d heads", H);
  } else {
    /* k heads kept: the last k of the removal order, in head order as
     * hs_prune keeps them (the loss does not depend on the heads' order) */
    for (int k = H; k >= 1 && !hs_progress_stopped(pop->progress); k--) {
      int n = 0;
      for (int h = 0; h < H; h++)
        for (int i = H - k; i < H; i++)
          if ((int)order[i] == h) kept[n++] = h;
      gather(k, kept, W, K, R, shift, b, Rk, shk, bk);
      loss[k - 1] = hs_population_loss(pop, k, Rk, shift ? shk : NULL, bk, lambda, NULL, NULL,
                                       NULL, NULL, loss_se + (k - 1));
    }
    if (hs_progress_stopped(pop->progress))
      st = hs_err_set(err, HS_EINTERRUPT, "interrupted in pruning");
  }
  free(kept), free(Rk), free(shk), free(bk);
  return st;
}
