/* bayes.h: the Bayes risk and the Bayes point of the B-softmax (MODEL.md
 * section 7). */
#ifndef HEADSPEC_BAYES_H
#define HEADSPEC_BAYES_H

#include <stdint.h>

#include "headspec/dist.h"
#include "headspec/error.h"
#include "headspec/progress.h"

/* R* = E[(1 - P_1)^2 + sum_{l>=2} P_l^2] by Monte Carlo over n sequences
 * (stream BAYES), P_l = phi(u_l) / sum phi, u_1 ~ N(c, I_K), u_l ~ N(0, I_K);
 * *se gets the standard error. progress (may be NULL) hears from it every
 * ~0.1 s; HS_EINTERRUPT when it says stop. */
hs_status hs_bayes_risk(const hs_dist *dist, int L, long n, uint64_t job_seed,
                        uint64_t seed, hs_progress *progress, double *risk,
                        double *se, hs_err *err);

/* For a distribution of H atoms c_h with probabilities p_h: R = [C | 0]
 * (H x (K+H)), b_h = log p_h - |c_h|^2/2, at which the B-softmax equals
 * the Bayes estimator. HS_EINPUT if P_c is not H atoms. */
hs_status hs_bayes_point(const hs_dist *dist, int H, double *R, double *b,
                         hs_err *err);

#endif
