"""The ODE's Monte Carlo error bars: mean ± se over a point's replicas
(ode.replicas >= 2; docs/MODEL.md, "Error bars and convergence in N").

A point with replicas stores under replicas/ the ODE's records on each of
its R sample sets (replica 0 is ode/ itself), and the verdict of the
convergence rule in N. Here each number is computed per replica as the
package computes it for ode/ (the last computed record, escape and learn
times), then summarised over the replicas as mean and standard error
se = sd / sqrt(R) (NaN where a point has no replicas, or where not every
replica gives a number: a feature learned on some replicas only)."""
import numpy as np

# the points table's columns (docs/RESULTS.md, "Reading in Python")
POINT_COLUMNS = ("ode_replicas", "ode_loss_rep", "ode_loss_rep_se", "ode_loss_fresh_rep",
                 "ode_loss_fresh_rep_se", "ode_n_converged")
DESCRIPTIONS = {
    "ode_replicas": "number of Monte Carlo replicas of the ODE (ode.replicas; NaN: none)",
    "ode_loss_rep": "final ODE loss, mean over the replicas (each on its own sample set)",
    "ode_loss_rep_se": "standard error of ode_loss_rep: sd over the replicas / sqrt(R)",
    "ode_loss_fresh_rep": "out-of-sample final ODE loss, mean over the replicas",
    "ode_loss_fresh_rep_se": "standard error of ode_loss_fresh_rep over the replicas",
    "ode_n_converged": "1: converged in the sample size N, 0: a final loss or escape time "
                       "would move by more than its error bar at 4N (replicas/n_converged)",
}


def has_replicas(res):
    return "replicas/loss" in res.fields()


def mean_se(x, axis):
    """Mean and standard error (sd with ddof 1 over sqrt(n)) along axis;
    NaN where any entry is NaN or there are fewer than two."""
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    if n < 2:
        shape = np.delete(np.array(x.shape), axis)
        return np.full(shape, np.nan), np.full(shape, np.nan)
    with np.errstate(invalid="ignore"):
        return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(n)


def _last_computed(values):
    """Each row's last finite entry along the last axis (rows x T -> rows)."""
    ok = np.isfinite(values)
    last = values.shape[-1] - 1 - np.argmax(ok[..., ::-1], axis=-1)
    out = np.take_along_axis(values, last[..., None], axis=-1)[..., 0]
    return np.where(ok.any(axis=-1), out, np.nan)


def point_columns(res):
    """{column: per-point values} of POINT_COLUMNS (all NaN without replicas)."""
    n = res.n_points
    out = {c: np.full(n, np.nan) for c in POINT_COLUMNS}
    if not has_replicas(res):
        return out
    loss = res.array("replicas/loss", stack=True).values  # point x replica x time
    final = _last_computed(loss)                           # point x replica
    R = np.isfinite(final).sum(axis=1)
    out["ode_replicas"] = np.where(R > 0, R, np.nan)
    out["ode_loss_rep"], out["ode_loss_rep_se"] = mean_se(final, 1)
    fresh = res.array("replicas/loss_fresh", stack=True).values
    out["ode_loss_fresh_rep"], out["ode_loss_fresh_rep_se"] = mean_se(fresh, 1)
    out["ode_n_converged"] = res.array("replicas/n_converged", stack=True).values
    return out


def number_columns(res, df, times_of):
    """Per spike k the escape and learn times of every replica (as numbers'
    ode_esc<k>, ode_t<k>), as ode_esc<k>_rep, ode_t<k>_rep and their _se,
    and the moves of the convergence rule in N (ode_esc<k>_move and its
    _se). times_of(i, m) gives (escapes, learn times) of point i's
    trajectory m (T x H x K; None where it has no data), as numbers
    computes them for ode/m. Nothing without replicas."""
    if not has_replicas(res):
        return
    for c in POINT_COLUMNS:
        df[c] = res.points[c]
    m = res.array("replicas/m", stack=True)       # point x replica x time x head x spike
    P, R, K = m.sizes["point"], m.sizes["replica"], m.sizes["spike"]
    esc = np.full((P, R, K), np.nan)
    learn = np.full((P, R, K), np.nan)
    for i in range(P):
        for r in range(R):
            times = times_of(i, m.values[i, r])
            if times is not None:
                esc[i, r], learn[i, r] = times
    esc_mean, esc_se = mean_se(esc, 1)
    learn_mean, learn_se = mean_se(learn, 1)
    move = res.array("replicas/escape_move", stack=True).values
    move_se = res.array("replicas/escape_move_se", stack=True).values
    for k in range(K):
        df["ode_esc%d_rep" % (k + 1)] = esc_mean[:, k]
        df["ode_esc%d_rep_se" % (k + 1)] = esc_se[:, k]
    for k in range(K):
        df["ode_t%d_rep" % (k + 1)] = learn_mean[:, k]
        df["ode_t%d_rep_se" % (k + 1)] = learn_se[:, k]
    for k in range(K):
        df["ode_esc%d_move" % (k + 1)] = move[:, k]
        df["ode_esc%d_move_se" % (k + 1)] = move_se[:, k]
    df["ode_loss_move"] = res.array("replicas/loss_move", stack=True).values
    df["ode_loss_move_se"] = res.array("replicas/loss_move_se", stack=True).values


def prediction_columns(res, df, K):
    """Per spike k the linearised flow's head-symmetric prediction
    (stability/predicted_t) over the replicas, each computed on its own
    sample set (replicas/predicted_t, analysis.stability), as
    stab_pred<k>_rep and its _se (NaN where not every replica predicts an
    escape before t_max). Nothing without replicas, or in a file from
    before the field (layout revision 7 and earlier)."""
    if "replicas/predicted_t" not in res.fields():
        return
    pred = res.array("replicas/predicted_t", stack=True).values  # point x replica x spike
    mean, se = mean_se(pred, 1)
    for k in range(min(K, pred.shape[2])):
        df["stab_pred%d_rep" % (k + 1)] = mean[:, k]
        df["stab_pred%d_rep_se" % (k + 1)] = se[:, k]


def curve_mean_se(res, name):
    """(mean, se) over the replicas of the replicas/ field `name`, each a
    DataArray without the replica axis (NaN where a point has no
    replicas); None without replicas. For 'm' the quantity is max_h |m_hk|
    (dims ..., time, spike): the heads are exchangeable, and which head
    learns a feature, with which sign, differs between replicas."""
    if "replicas/" + name not in res.fields():
        return None
    da = res.array("replicas/" + name)
    if name == "m":
        da = abs(da).max("head", skipna=True)
    n = da.count("replica")
    mean = da.mean("replica", skipna=False)
    se = da.std("replica", ddof=1, skipna=False) / np.sqrt(n.where(n > 1))
    return mean, se


def band(ax, t, mean, se, color, alpha=0.25):
    """Shade mean ± se (the replicas' error bar) along t; nothing where se
    is NaN (a point without replicas)."""
    t, mean, se = (np.asarray(x, dtype=float) for x in (t, mean, se))
    ok = np.isfinite(mean) & np.isfinite(se)
    if ok.any():
        ax.fill_between(t, np.where(ok, mean - se, np.nan), np.where(ok, mean + se, np.nan),
                        color=color, alpha=alpha, lw=0, gid="replica_band")
