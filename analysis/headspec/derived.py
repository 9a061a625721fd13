"""Per-point measures derived from the stored results (MODEL.md section 8)."""
import numpy as np

from . import replicas

DESCRIPTIONS = {
    "sgd_test_loss": "SGD test loss (fixed test set) at the last record",
    "sgd_lpop": "Lpop at the SGD's measured order parameters, last record",
    "ode_loss": "Lpop along the ODE at the last record",
    "sgd_lpop_fresh": "Lpop of the final SGD state on fresh samples (out of sample)",
    "sgd_lpop_fresh_se": "standard error of sgd_lpop_fresh",
    "ode_loss_fresh": "Lpop of the final ODE state on fresh samples (out of sample)",
    "ode_loss_fresh_se": "standard error of ode_loss_fresh",
    "bayes_risk": "Bayes risk R* (Monte Carlo)",
    "bayes_risk_se": "Monte Carlo standard error of R*",
    "sgd_gap": "sgd_test_loss - bayes_risk",
    "ode_gap": "ode_loss - bayes_risk",
    "sgd_cosine": "mean over head pairs h < h' of cos(m_h, m_h'), final SGD m",
    "ode_cosine": "mean over head pairs h < h' of cos(m_h, m_h'), final ODE m",
    "sgd_spec": "mean over heads of |m_h orthogonal to mu|, final SGD m",
    "ode_spec": "mean over heads of |m_h orthogonal to mu|, final ODE m",
    "seconds": "wall time of the point",
    "ode_converged": "1: the ODE had stopped moving at its end, 0: still moving, NaN: not judged",
    "sgd_converged": "1: SGD had stopped moving at its end, 0: still moving, NaN: not judged",
    "ode_loss_rate": "the ODE loss's relative change per unit log-time at the end",
    "sgd_loss_rate": "SGD Lpop's relative change per unit log-time at the end",
    "ode_speed": "the ODE order parameters' relative speed per unit log-time at the end",
    "sgd_speed": "SGD order parameters' relative speed per unit log-time at the end",
    "ode_t_stop": "time of the ODE's final state (t_max, or its stop with ode.stop_when_converged)",
    "ode_method": "the stepper that integrated the ODE (ode.method, auto resolved per point)",
}
DESCRIPTIONS.update(replicas.DESCRIPTIONS)


def head_cosine(m):
    """Head similarity of an H x K overlap matrix m (rows m_h = the head's
    projections on the spikes): the mean over the H(H-1)/2 pairs h < h' of
    cos(m_h, m_h') = <m_h, m_h'> / (|m_h| |m_h'|). 1: the heads point the
    same way in spike space; -1 (for H = 2): opposite (specialised heads
    of flipping). NaN for H = 1 or when a head has m_h = 0."""
    m = np.asarray(m, dtype=float)
    if m.ndim != 2 or m.shape[0] < 2:
        return np.nan
    norms = np.linalg.norm(m, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = (m @ m.T) / np.outer(norms, norms)
    h, hp = np.triu_indices(m.shape[0], k=1)
    return float(np.mean(cos[h, hp]))


def specialisation(m, mu):
    """Specialisation of an H x K overlap matrix m: the mean over heads of
    the norm of m_h's component orthogonal to mu = E[c]:
    |m_h - (<m_h, mu>/|mu|^2) mu|. For flipping (mu = (b1, 0)) this is
    |m_h2|; where mu = 0 (signed onehot, gaussian) it is |m_h|."""
    m = np.asarray(m, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if m.ndim != 2 or mu.shape != (m.shape[1],) or not np.all(np.isfinite(mu)):
        return np.nan
    nmu = mu @ mu
    perp = m - np.outer(m @ mu / nmu, mu) if nmu > 0 else m
    return float(np.mean(np.linalg.norm(perp, axis=1)))


def head_cosines(m):
    """head_cosine of each of N overlap matrices m (N x H x K) at once
    (in blocks of points: the N x H x H cosines of a large H are big)."""
    m = np.asarray(m, dtype=float)
    if m.ndim != 3 or m.shape[1] < 2:
        return np.full(m.shape[0], np.nan)
    n, H = m.shape[0], m.shape[1]
    h, hp = np.triu_indices(H, k=1)
    out = np.empty(n)
    block = max(1, (1 << 22) // (H * H))
    for a in range(0, n, block):
        mb = m[a:a + block]
        norms = np.linalg.norm(mb, axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = (mb @ mb.transpose(0, 2, 1)) / (norms[:, :, None] * norms[:, None, :])
        out[a:a + block] = np.mean(cos[:, h, hp], axis=1)
    return out


def specialisations(m, mu):
    """specialisation of each of N overlap matrices m (N x H x K) against
    its own mu (N x K) at once."""
    m = np.asarray(m, dtype=float)
    mu = np.asarray(mu, dtype=float)
    if m.ndim != 3 or mu.shape != (m.shape[0], m.shape[2]):
        return np.full(m.shape[0], np.nan)
    nmu = np.einsum("nk,nk->n", mu, mu)
    proj = np.einsum("nhk,nk->nh", m, mu)
    coef = np.divide(proj, nmu[:, None], out=np.zeros_like(proj),
                     where=(nmu > 0)[:, None])                          # 0 where mu = 0
    perp = m - coef[:, :, None] * mu[:, None, :]
    out = np.mean(np.linalg.norm(perp, axis=2), axis=1)
    out[~np.isfinite(mu).all(axis=1)] = np.nan
    return out


# mu = E[c] is written into the results file (mean_c) by the C side; only
# files written before it (headspec.legacy) derive it.
from .legacy import mean_feature  # noqa: E402  (kept importable from here)


def computed_records(t, m):
    """t and m (T x ...) up to their last record with a finite value: an
    ODE stopped at ode/t_stop (ode.stop_when_converged) has NaN records
    after it, and its final state is the one at t_stop."""
    m = np.asarray(m, dtype=float)
    some = np.isfinite(m.reshape(len(m), -1)).any(axis=1)
    end = len(m) - int(np.argmax(some[::-1])) if some.any() else len(m)
    return np.asarray(t)[:end], m[:end]


def at_final_record(da):
    """An xarray array with a time dimension at each cell's final record:
    its last with a finite value (a stopped ODE's later records are NaN)."""
    import xarray as xr
    record = xr.DataArray(np.arange(da.sizes["time"]), dims=("time",))
    index = (np.isfinite(da) * record).max("time")
    return da.isel(time=index).drop_vars("time", errors="ignore")


def learn_times(m, t, threshold=None, frac=0.5):
    """Per spike k, the first time at which max_h |m_hk(t)| exceeds a
    threshold: `threshold` (a number, or one per spike) or else `frac`
    times its value at the last record. m: T x H x K (NaN heads or spikes,
    the padding of a smaller H or K, are ignored); t: the T times. NaN for
    a spike never above its threshold or without data. Features learned
    strongest first show as learn times rising with k's weakness; a spike
    already above its threshold at the start gets t[0]."""
    from .stability import head_max
    m = np.asarray(m, dtype=float)
    t = np.asarray(t, dtype=float)
    if m.ndim != 3 or m.shape[0] != t.shape[0]:
        raise ValueError("learn_times: m must be T x H x K and t of length T")
    return first_crossings(head_max(m), t, threshold, frac)


def first_crossings(size, t, threshold=None, frac=0.5):
    """Per column j of size (T x n), the first time t at which it exceeds
    `threshold` (a number, or one per column) or else `frac` times its
    value at its last finite record (an ODE may stop early); NaN if never
    or without data."""
    from .stability import final_values
    size = np.asarray(size, dtype=float)
    if threshold is None:
        thr = frac * final_values(size)
    else:
        thr = np.broadcast_to(np.asarray(threshold, dtype=float), (size.shape[1],))
    out = np.full(size.shape[1], np.nan)
    for j in range(size.shape[1]):
        above = np.flatnonzero(size[:, j] > thr[j])
        if above.size and np.isfinite(thr[j]):
            out[j] = t[above[0]]
    return out


def sign_split(m_final, k):
    """(heads with m_hk > 0, heads with m_hk < 0) in an H x K final m
    (NaN heads, the padding of a smaller H, not counted; m_hk = 0 in
    neither): with signed features, heads splitting their signs share a
    spike between them."""
    col = np.asarray(m_final, dtype=float)[:, k]
    return int(np.sum(col > 0)), int(np.sum(col < 0))


NUMBER_COLUMNS = ("ode_loss", "sgd_lpop", "sgd_test_loss", "ode_loss_fresh", "ode_loss_fresh_se",
                  "sgd_lpop_fresh", "sgd_lpop_fresh_se", "bayes_risk", "bayes_risk_se",
                  "ode_converged", "sgd_converged", "ode_loss_rate", "sgd_loss_rate",
                  "ode_speed", "sgd_speed", "ode_t_stop")
# analysis.stability_threshold's default (docs/JOBS.md): the escape threshold
# of points that do not read the key (SGD only) and of files without it
ESCAPE_THRESHOLD = 0.1
NOT_LEARNED = "not learned"


def escape_thresholds(res):
    """Per point, the value of max_h |m_hk| that marks a feature's escape:
    its analysis.stability_threshold (ESCAPE_THRESHOLD where not read)."""
    if "stability_threshold" not in res.columns:
        return np.full(res.n_points, ESCAPE_THRESHOLD)
    thr = np.asarray(res.column("stability_threshold"), dtype=float)
    return np.where(np.isfinite(thr), thr, ESCAPE_THRESHOLD)


def learn_order(times, learned, have):
    """The spikes k = 1..K in order of learning (times, first first; ties
    by k), then those not learned: '2 1', '1; 3 not learned', '1 2 not
    learned'. have: the point's spikes (False: the padding of a smaller K)."""
    first = [k for k in np.argsort(times, kind="stable") if learned[k]]
    never = [k for k in range(len(times)) if have[k] and not learned[k]]
    text = " ".join(str(k + 1) for k in first)
    if never:
        text += ("; " if first else "") + " ".join(str(k + 1) for k in never) + " " + NOT_LEARNED
    return text


def record_times(res, part, m):
    """Each point's record times (points x T): its own <part>/t where
    stored (with t_max swept the time coordinate is the record index),
    else the time coordinate of m (<part>/m, stacked)."""
    t = np.broadcast_to(m.coords["time"].values, (res.n_points, m.sizes["time"]))
    if part + "/t" not in res.fields():
        return t
    own = res.array(part + "/t", stack=True).values
    return np.where(np.isfinite(own).any(axis=1)[:, None], own, t)


def numbers(res, source=None, frac=0.5):
    """The reproduction report's numbers, one row per point: the swept
    keys, status, final losses (in sample and, when stored, out of sample
    with their SE), R* and its SE; per part (ODE, SGD, or `source`) and
    spike k = 1..K: the escape time <part>_esc<k> (stability.escape_times:
    when max_h |m_hk| first reaches the point's analysis.stability_threshold,
    the ODE's rule for stability/measured_t, applied alike to SGD), the
    learn time <part>_t<k> (learn_times with frac; NaN for a spike not
    learned: max_h |m_hk| below the threshold at its last record), the
    spikes in order of learning <part>_order (learn_order) and the heads'
    signs <part>_sign<k> as 'P+/N-' (sign_split)."""
    import pandas as pd

    from .stability import escape_times, final_values, head_max
    p = res.points
    df = p[list(res.swept) + ["status"]].copy()
    for c in NUMBER_COLUMNS:
        df[c] = p[c]
    fields = res.fields()
    parts = [source] if source else [x for x in ("ode", "sgd") if x + "/m" in fields]
    threshold = escape_thresholds(res)

    def times_of(ti, mi, thr):
        """A trajectory's escape times and learn times (NaN: not learned)."""
        have = np.isfinite(mi).any(axis=(0, 1))
        learned = have & (final_values(head_max(mi)) >= thr)
        return escape_times(ti, mi, thr), np.where(learned, learn_times(mi, ti, frac=frac), np.nan)

    for part in parts:
        m = res.array(part + "/m", stack=True)
        if not np.isfinite(m.values).any():
            continue
        K = m.sizes["spike"]
        times = np.full((res.n_points, K), np.nan)
        escapes = np.full((res.n_points, K), np.nan)
        order, signs = [""] * res.n_points, [[""] * res.n_points for _ in range(K)]
        t = record_times(res, part, m)
        for i in range(res.n_points):
            ti, mi = computed_records(t[i], m.values[i])
            if not np.isfinite(mi).any():
                continue
            have = np.isfinite(mi).any(axis=(0, 1))
            learned = have & (final_values(head_max(mi)) >= threshold[i])
            times[i] = np.where(learned, learn_times(mi, ti, frac=frac), np.nan)
            escapes[i] = escape_times(ti, mi, threshold[i])
            order[i] = learn_order(times[i], learned, have)
            final = mi[-1]
            for k in range(K):
                if have[k]:
                    pos, neg = sign_split(final, k)
                    signs[k][i] = "%d+/%d-" % (pos, neg)
        for k in range(K):
            df["%s_esc%d" % (part, k + 1)] = escapes[:, k]
        for k in range(K):
            df["%s_t%d" % (part, k + 1)] = times[:, k]
        df[part + "_order"] = order
        for k in range(K):
            df["%s_sign%d" % (part, k + 1)] = signs[k]
    if "ode" in parts:  # mean ± se over the ODE's replicas
        t_ode = record_times(res, "ode", res.array("ode/m", stack=True))

        def replica_times(i, m):
            ti, mi = computed_records(t_ode[i], m)
            return times_of(ti, mi, threshold[i]) if np.isfinite(mi).any() else None
        replicas.number_columns(res, df, replica_times)
    _stability_columns(res, df)
    df["ode_method"] = ode_methods(res)
    df.attrs["frac"] = frac
    return pd.DataFrame(df)


ODE_METHODS = {0: "rkf45", 1: "bdf", 2: "euler"}


def ode_methods(res):
    """Per point the stepper that integrated its ODE (ode/method: ode.method
    with auto resolved; 'euler' with ode.resample_dt > 0); '' where the ODE
    did not run or the file predates the field."""
    if "ode/method" not in res.fields():
        return [""] * res.n_points
    codes = res.array("ode/method", stack=True).values
    return [ODE_METHODS.get(int(c), "") if np.isfinite(c) else "" for c in codes]


def _stability_columns(res, df):
    """Files run with analysis.stability: per spike k the linearised flow's
    predicted escape time stab_pred<k> beside the ODE's measured one
    stab_meas<k> and its half-of-final learn time stab_half<k>
    (headspec.stability's table, one row per point and spike); with
    replicas, the prediction's mean ± se over them (stab_pred<k>_rep,
    _rep_se)."""
    from . import stability
    fields = res.fields()
    if "stability/predicted_t" not in fields or "ode/m" not in fields:
        return
    pred = res.array("stability/predicted_t", stack=True).values
    if not np.isfinite(pred).any():  # the group is there, the analysis was not run
        return
    meas = res.array("stability/measured_t", stack=True).values
    m = res.array("ode/m", stack=True)
    t, K = record_times(res, "ode", m), pred.shape[1]
    half = np.full(pred.shape, np.nan)
    for i in range(res.n_points):
        if np.isfinite(m.values[i]).any():
            half[i] = stability.half_final_times(*computed_records(t[i], m.values[i]))[:K]
    rows = stability.predicted_vs_measured(pred, meas, half=half)
    for col, key in (("stab_pred", "predicted"), ("stab_meas", "measured"), ("stab_half", "half")):
        for k in range(1, K + 1):
            df["%s%d" % (col, k)] = [r[key] for r in rows if r["spike"] == k]
    replicas.prediction_columns(res, df, K)
