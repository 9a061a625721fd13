/* result.c: the result schema (result.h): the arrays a point produces,
 * their axes and meaning, and their allocation. */
#include "headspec/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "headspec/point.h"

const char *const hs_dim_names[HS_N_DIMS] = {"H", "K", "L", "T", "maps", "replicas"};

const hs_axis_info hs_axes[HS_N_AXES] = {
    [HS_AXIS_TIME] = {"time", HS_DIM_T, 0, "nominal record time t"},
    [HS_AXIS_HEAD] = {"head", HS_DIM_H, 0, "head h"},
    [HS_AXIS_HEAD2] = {"head2", HS_DIM_H, 0, "head h'"},
    [HS_AXIS_SPIKE] = {"spike", HS_DIM_K, 0, "spike k"},
    [HS_AXIS_SPIKE2] = {"spike2", HS_DIM_K, 0, "spike k'"},
    [HS_AXIS_TOKEN] = {"token", HS_DIM_L, 0, "token l"},
    [HS_AXIS_MAP] = {"map", HS_DIM_MAPS, 0, "sampled sequence"},
    [HS_AXIS_KEPT] = {"kept", HS_DIM_H, 1, "heads kept"},
    [HS_AXIS_REMOVAL] = {"removal", HS_DIM_H, 0, "pruning step"},
    [HS_AXIS_REPLICA] = {"replica", HS_DIM_REPLICAS, 0, "Monte Carlo replica of the ODE"},
};

#define TIME HS_AXIS_TIME
#define HEAD HS_AXIS_HEAD
#define HEAD2 HS_AXIS_HEAD2
#define SPIKE HS_AXIS_SPIKE
#define SPIKE2 HS_AXIS_SPIKE2
#define TOKEN HS_AXIS_TOKEN
#define MAP HS_AXIS_MAP
#define KEPT HS_AXIS_KEPT
#define REMOVAL HS_AXIS_REMOVAL
#define REPLICA HS_AXIS_REPLICA
#define F(path, member, long_name, units, doc, rank, ...) \
  {path, long_name, units, doc, rank, {__VA_ARGS__}, offsetof(hs_result, member), 0}
/* stored only by points with replicas (ode.replicas >= 2) */
#define FR(path, member, long_name, units, doc, rank, ...) \
  {path, long_name, units, doc, rank, {__VA_ARGS__}, offsetof(hs_result, member), 1}
const hs_result_field hs_result_fields[] = {
    F("sgd/t", t, "SGD time t", "1", "time t = steps * eta / d of each record", 1, TIME),
    F("sgd/step", step, "SGD steps", "1", "SGD steps taken at each record", 1, TIME),
    F("sgd/m", m, "SGD m", "1", "m_hk = <w_h, xi_k>/d", 3, TIME, HEAD, SPIKE),
    F("sgd/Q", Q, "SGD Q", "1", "Q_hh' = <w_h, w_h'>/d", 3, TIME, HEAD, HEAD2),
    F("sgd/Qperp", Qperp, "SGD Q_perp", "1",
      "Q - m M^-1 m^T: the heads' Gram orthogonal to the spikes", 3, TIME, HEAD, HEAD2),
    F("sgd/b", b, "SGD bias b", "1", "biases b_h", 2, TIME, HEAD),
    F("sgd/lambda", lambda, "SGD lambda", "1", "softmax1 output scale", 1, TIME),
    F("sgd/test_loss", test_loss, "SGD test loss", "1",
      "mean loss |y - f(X)|^2/d on the fixed test set", 1, TIME),
    F("sgd/train_loss", train_loss, "SGD training loss", "1",
      "mean batch loss over the steps since the last record", 1, TIME),
    F("sgd/lpop", lpop, "Lpop at SGD's order parameters", "1",
      "population loss Lpop at the measured (m, Q, b, lambda)", 1, TIME),
    F("sgd/lpop_fresh", lpop_fresh, "out-of-sample Lpop of the final SGD model", "1",
      "Lpop at the final measured (m, Q, b, lambda) on an independent Monte Carlo set "
      "(analysis.fresh_samples)", 0, HS_AXIS_TIME),
    F("sgd/lpop_fresh_se", lpop_fresh_se, "standard error of sgd/lpop_fresh", "1",
      "Monte Carlo standard error of sgd/lpop_fresh", 0, HS_AXIS_TIME),
    F("sgd/M", M, "spike Gram M", "1", "spike Gram M_kk' = <xi_k, xi_k'>/d", 2, SPIKE, SPIKE2),
    F("sgd/prune_loss", sgd_prune_loss, "SGD pruned Lpop", "1",
      "Lpop of the final SGD model with k heads kept", 1, KEPT),
    F("sgd/prune_order", sgd_prune_order, "SGD pruned head", "1",
      "heads in the order greedy pruning removes them", 1, REMOVAL),
    F("sgd/maps", sgd_maps, "SGD attention A", "1",
      "attention weights A_hl of the final SGD model on sampled sequences", 3, MAP, HEAD, TOKEN),
    F("sgd/maps_eps", sgd_maps_eps, "relevant token", "1",
      "relevant token of each map's sequence", 1, MAP),
    F("ode/t", ode_t, "ODE time t", "1", "time t of each record", 1, TIME),
    F("ode/m", ode_m, "ODE m", "1", "m of the ODE", 3, TIME, HEAD, SPIKE),
    F("ode/Q", ode_Q, "ODE Q", "1", "Q of the ODE", 3, TIME, HEAD, HEAD2),
    F("ode/Qperp", ode_Qperp, "ODE Q_perp", "1", "Q_perp = V V^T of the ODE", 3, TIME, HEAD, HEAD2),
    F("ode/b", ode_b, "ODE bias b", "1", "biases of the ODE", 2, TIME, HEAD),
    F("ode/lambda", ode_lambda, "ODE lambda", "1", "softmax1 output scale of the ODE", 1, TIME),
    F("ode/loss", ode_loss, "ODE loss Lpop", "1", "population loss Lpop along the ODE", 1, TIME),
    F("ode/loss_fresh", ode_loss_fresh, "out-of-sample Lpop of the final ODE state", "1",
      "Lpop at the final ODE state on an independent Monte Carlo set (analysis.fresh_samples): "
      "ode/loss follows the ODE's own samples and is biased low", 0, HS_AXIS_TIME),
    F("ode/loss_fresh_se", ode_loss_fresh_se, "standard error of ode/loss_fresh", "1",
      "Monte Carlo standard error of ode/loss_fresh", 0, HS_AXIS_TIME),
    F("ode/prune_loss", ode_prune_loss, "ODE pruned Lpop", "1",
      "Lpop of the final ODE model with k heads kept", 1, KEPT),
    F("ode/prune_order", ode_prune_order, "ODE pruned head", "1",
      "heads in the order greedy pruning removes them", 1, REMOVAL),
    F("ode/maps", ode_maps, "ODE attention A", "1",
      "attention weights A_hl of the final ODE model (token 0 relevant)", 3, MAP, HEAD, TOKEN),
    F("bayes_risk", bayes_risk, "Bayes risk R*", "1", "Bayes risk R* (Monte Carlo)", 0, HS_AXIS_TIME),
    F("bayes_risk_se", bayes_risk_se, "standard error of R*", "1",
      "standard error of bayes_risk", 0, HS_AXIS_TIME),
    F("seconds", seconds, "wall time", "s", "wall-clock seconds spent on the point", 0, HS_AXIS_TIME),
    F("mean_c", mean_c, "mean feature weights E[c]", "1",
      "E[c] of the point's distribution P_c (the direction every head learns first)", 1,
      SPIKE),
    F("sgd/passes", passes, "passes over the training set", "1",
      "steps * B / n_train at each record (NaN for online SGD)", 1, TIME),
    F("sgd/train_set_loss", train_set_loss, "SGD loss on the training set", "1",
      "mean loss |y - f(X)|^2/d on the whole fixed training set, exact, at each record "
      "(NaN for online SGD)", 1, TIME),
    F("sgd/loss_rate", sgd_loss_rate, "SGD loss rate", "1",
      "relative change of sgd/lpop per unit log-time over the last stretch (the record "
      "nearest t/2 to the last): |L(t) - L(t_a)| / (|L(t)| ln(t / t_a))", 0, HS_AXIS_TIME),
    F("sgd/speed", sgd_speed, "SGD order-parameter speed", "1",
      "|theta(t) - theta(t_a)| / (ln(t / t_a) max(|theta(t)|, 1)) over the last stretch, "
      "theta = (m, Q, b, lambda) of the records", 0, HS_AXIS_TIME),
    F("sgd/converged", sgd_converged, "SGD converged", "1",
      "1 if sgd/loss_rate < analysis.converged_loss_tol and sgd/speed < "
      "analysis.converged_speed_tol, else 0 "
      "(NaN: too few records)", 0, HS_AXIS_TIME),
    F("ode/loss_rate", ode_loss_rate, "ODE loss rate", "1",
      "relative change of ode/loss per unit log-time over the last stretch (the record "
      "nearest t/2 to the last): |L(t) - L(t_a)| / (|L(t)| ln(t / t_a))", 0, HS_AXIS_TIME),
    F("ode/speed", ode_speed, "ODE order-parameter speed", "1",
      "t |d theta / dt| / max(|theta|, 1) at the final state, from the ODE's right-hand "
      "side, theta = (m, Q, b, lambda): the relative speed per unit log-time", 0,
      HS_AXIS_TIME),
    F("ode/converged", ode_converged, "ODE converged", "1",
      "1 if ode/loss_rate < analysis.converged_loss_tol and ode/speed < "
      "analysis.converged_speed_tol and the state is no saddle (the linearised flow's m "
      "block has no growing direction), else 0 (NaN: too few records)", 0, HS_AXIS_TIME),
    F("ode/t_stop", ode_t_stop, "ODE final time", "1",
      "time of the ODE's final state: t_max, or the first converged record with "
      "ode.stop_when_converged (later records are NaN)", 0, HS_AXIS_TIME),
    F("ode/method", ode_method, "ODE stepper", "1",
      "the stepper that integrated the ODE: 0 rkf45, 1 bdf (ode.method, with auto "
      "resolved for this point), 2 Euler steps on fresh samples (ode.resample_dt > 0)", 0,
      HS_AXIS_TIME),
    F("sgd/attn_total", sgd_attn_total, "SGD attention given out", "1",
      "per head, the mean over sequences of sum_l A_hl of the SGD model (scores drawn in law from its measured m, Q)", 2, TIME, HEAD),
    F("sgd/attn_relevant", sgd_attn_relevant, "SGD attention on the relevant token", "1",
      "per head, the mean over sequences of A_h,eps", 2, TIME, HEAD),
    F("sgd/attn_sink", sgd_attn_sink, "SGD sink weight q0", "1",
      "softmax1: per head, the mean of q0_h = 1 - sum_l q_hl (NaN for other activations)", 2,
      TIME, HEAD),
    F("sgd/quiet_heads", sgd_quiet_heads, "SGD quiet heads", "1",
      "mean over sequences of the heads whose attention sum_l A_hl is under a quarter of "
      "the busiest head's", 1, TIME),
    F("ode/attn_total", ode_attn_total, "ODE attention given out", "1",
      "per head, the mean over sequences of sum_l A_hl of the ODE state", 2, TIME, HEAD),
    F("ode/attn_relevant", ode_attn_relevant, "ODE attention on the relevant token", "1",
      "per head, the mean over sequences of A_h,eps", 2, TIME, HEAD),
    F("ode/attn_sink", ode_attn_sink, "ODE sink weight q0", "1",
      "softmax1: per head, the mean of q0_h = 1 - sum_l q_hl (NaN for other activations)", 2,
      TIME, HEAD),
    F("ode/quiet_heads", ode_quiet_heads, "ODE quiet heads", "1",
      "mean over sequences of the heads whose attention sum_l A_hl is under a quarter of "
      "the busiest head's", 1, TIME),
    F("stability/growth_rate", stab_growth, "growth rate", "1",
      "largest eigenvalue of the ODE's Jacobian among the m-modes on spike k, on the "
      "head-symmetric trajectory when k is predicted to escape (t_max if never)", 1, SPIKE),
    F("stability/predicted_t", stab_predicted_t, "predicted escape time", "1",
      "time the linearised flow about the head-symmetric trajectory predicts max_h |m_hk| "
      "to reach analysis.stability_threshold (NaN: not before t_max)", 1, SPIKE),
    F("stability/measured_t", stab_measured_t, "measured escape time", "1",
      "time max_h |m_hk| of the ODE's records reaches analysis.stability_threshold "
      "(log-linear between records; NaN: never)", 1, SPIKE),
    F("stability/unstable_modes", stab_unstable, "unstable modes", "1",
      "number of unstable m-modes on spike k at the time of growth_rate (H-1: the sum-zero "
      "split)", 1, SPIKE),
    F("stability/together", stab_together, "head pattern of the top mode", "1",
      "|sum_h v_hk|^2 / (H sum_h v_hk^2) of the top m-mode on k: 1 all heads together, "
      "0 a sum-zero split", 1, SPIKE),
    F("stability/split", stab_split, "predicted sign of m_hk", "1",
      "sign of m_hk at the predicted escape of k (0: no escape)", 2, HEAD, SPIKE),
    F("stability/saddle_t", stab_saddle_t, "saddle-to-saddle escape time", "1",
      "escape time of k predicted from the last plateau of the ODE before k's measured "
      "escape, with the features learned by then kept (NaN: k learned first, or none)", 1,
      SPIKE),
    F("stability/saddle_from", stab_saddle_from, "plateau time", "1",
      "time of the plateau saddle_t starts from", 1, SPIKE),
    F("stability/saddle_first_t", stab_saddle_first_t, "escape time from the first plateau",
      "1",
      "escape time of k predicted from the plateau after the first measured escape (the "
      "first feature learned, the others not yet): their predicted order (NaN: k learned "
      "first)", 1, SPIKE),
    F("stability/asymmetry", stab_asymmetry, "asymmetry of the Jacobian", "1",
      "max |J - J^T| / max |J| of the Jacobian at the symmetric start (~1e-11 for "
      "gradient flow)", 0, HS_AXIS_TIME),
    FR("replicas/m", rep_m, "ODE m per replica", "1",
       "m of the ODE on each replica's Monte Carlo set (replica 0: ode/m)", 4, REPLICA, TIME,
       HEAD, SPIKE),
    FR("replicas/Q", rep_Q, "ODE Q per replica", "1", "Q of the ODE on each replica's set", 4,
       REPLICA, TIME, HEAD, HEAD2),
    FR("replicas/b", rep_b, "ODE bias b per replica", "1", "biases of the ODE on each replica's set",
       3, REPLICA, TIME, HEAD),
    FR("replicas/lambda", rep_lambda, "ODE lambda per replica", "1",
       "softmax1 output scale of the ODE on each replica's set", 2, REPLICA, TIME),
    FR("replicas/loss", rep_loss, "ODE loss per replica", "1",
       "Lpop along the ODE on each replica's own set (replica 0: ode/loss)", 2, REPLICA, TIME),
    FR("replicas/loss_fresh", rep_loss_fresh, "out-of-sample Lpop per replica", "1",
       "Lpop at each replica's final state on the independent set of ode/loss_fresh", 1,
       REPLICA),
    FR("replicas/escape_t", rep_escape_t, "ODE escape time per replica", "1",
       "time max_h |m_hk| of each replica's records reaches analysis.stability_threshold "
       "(log-linear between records; NaN: never)", 2, REPLICA, SPIKE),
    FR("replicas/predicted_t", rep_predicted_t, "predicted escape time per replica", "1",
       "stability/predicted_t computed on each replica's set: the escape the linearised flow "
       "about the head-symmetric trajectory predicts from the same start (replica 0: "
       "stability/predicted_t; NaN: not before t_max, or without analysis.stability)", 2,
       REPLICA, SPIKE),
    FR("replicas/quarter_loss", quarter_loss, "final ODE loss on N/4 samples", "1",
       "final Lpop of the ODE integrated on a set of a quarter of ode.samples (its own "
       "stream), for the convergence in N", 0, HS_AXIS_TIME),
    FR("replicas/quarter_escape_t", quarter_escape_t, "ODE escape time on N/4 samples", "1",
       "escape times of the ODE on the quarter set (NaN: never)", 1, SPIKE),
    FR("replicas/loss_move", loss_move, "final loss's move from N to 4N", "1",
       "(x(N) - x(N/4)) / 4 for x the final ODE loss (x(N) its mean over the replicas): the "
       "move a 1/N bias makes from N to 4N samples", 0, HS_AXIS_TIME),
    FR("replicas/loss_move_se", loss_move_se, "standard error of loss_move", "1",
       "Monte Carlo standard error of replicas/loss_move (the replicas' spread, scaled to N/4)",
       0, HS_AXIS_TIME),
    FR("replicas/escape_move", escape_move, "escape time's move from N to 4N", "1",
       "(x(N) - x(N/4)) / 4 for x the escape time of spike k (0 where no run escapes, NaN "
       "where some do and some not)", 1, SPIKE),
    FR("replicas/escape_move_se", escape_move_se, "standard error of escape_move", "1",
       "Monte Carlo standard error of replicas/escape_move", 1, SPIKE),
    FR("replicas/n_converged", n_converged, "converged in N", "1",
       "0 if the final loss or an escape time would move by more than its error bar at 4N "
       "samples (by more than Student's t quantile at 1 % times the move's standard error), "
       "or a feature escapes on some replicas and not others, or on N samples but not on "
       "N/4; else 1 (docs/MODEL.md)", 0,
       HS_AXIS_TIME),
    /* pruning on the independent set (issue 29) */
    F("sgd/prune_loss_fresh", sgd_prune_loss_fresh, "SGD pruned Lpop, out of sample", "1",
      "Lpop of the final SGD model with k heads kept, removed in sgd/prune_order (chosen on "
      "the fit set), on the independent set of sgd/lpop_fresh", 1, KEPT),
    F("sgd/prune_loss_fresh_se", sgd_prune_loss_fresh_se,
      "standard error of sgd/prune_loss_fresh", "1",
      "Monte Carlo standard error of sgd/prune_loss_fresh", 1, KEPT),
    F("ode/prune_loss_fresh", ode_prune_loss_fresh, "ODE pruned Lpop, out of sample", "1",
      "Lpop of the final ODE model with k heads kept, removed in ode/prune_order (chosen on "
      "the ODE's own samples), on the independent set of ode/loss_fresh", 1, KEPT),
    F("ode/prune_loss_fresh_se", ode_prune_loss_fresh_se,
      "standard error of ode/prune_loss_fresh", "1",
      "Monte Carlo standard error of ode/prune_loss_fresh", 1, KEPT),
};
#undef F
#undef FR
#undef REPLICA
#undef TIME
#undef HEAD
#undef HEAD2
#undef SPIKE
#undef SPIKE2
#undef TOKEN
#undef MAP
#undef KEPT
#undef REMOVAL
const int hs_n_result_fields = sizeof hs_result_fields / sizeof *hs_result_fields;

int hs_shape_dim(const hs_shape *s, hs_dim d) {
  switch (d) {
    case HS_DIM_T: return s->T;
    case HS_DIM_H: return s->H;
    case HS_DIM_K: return s->K;
    case HS_DIM_L: return s->L;
    case HS_DIM_MAPS: return s->maps;
    case HS_DIM_REPLICAS: return s->replicas;
    case HS_N_DIMS: break;
  }
  return 0;
}

size_t hs_result_field_size(const hs_result_field *f, const hs_shape *s) {
  if (f->with_replicas && s->replicas == 0) return 0;
  size_t n = 1;
  for (int i = 0; i < f->rank; i++) n *= (size_t)hs_shape_dim(s, hs_axes[f->axes[i]].dim);
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
  shape->maps = p->maps;
  shape->replicas = p->run_ode && p->ode_replicas >= 2 ? p->ode_replicas : 0;
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
    if (!(*slot = malloc((n ? n : 1) * sizeof(double)))) {
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

