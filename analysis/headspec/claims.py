"""Measures for the paper's claims that its figures do not test (issue 29):
the finite-size scaling of the escape from the unspecialised saddle
(Prop. III.4), the split count of a finite-training-set run, the angle of a
feature's overlaps to the features already learned (Lemma III.2), and the
biases' spread and lambda's rate on the plateau (Lemma A.4).

Plain arrays in, numbers out, so ``analysis/scripts/claims_study.py`` or a notebook
can call them on whatever reader. Each is tested against a closed form in
``analysis/tests/test_claims.py``.
"""
import math

import numpy as np

from .stability import escape_times, head_max  # the escape rule of the C side


def log_slope(d, t):
    """Least-squares fit t = a + s ln d over all (d, t) pairs (one pair per
    seed and d; NaN pairs left out). Returns (s, its standard error from the
    residuals, a, the number of pairs). The standard error is NaN with fewer
    than three pairs."""
    x = np.log(np.asarray(d, float))
    y = np.asarray(t, float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = len(x)
    if n < 2 or np.ptp(x) == 0:
        return math.nan, math.nan, math.nan, n
    xm, ym = x.mean(), y.mean()
    sxx = ((x - xm) ** 2).sum()
    s = ((x - xm) * (y - ym)).sum() / sxx
    a = ym - s * xm
    se = math.sqrt(((y - a - s * x) ** 2).sum() / (n - 2) / sxx) if n > 2 else math.nan
    return float(s), se, float(a), n


def predicted_log_slope(mu):
    """The escape time's slope against ln d when a seed of size d^(-1/2)
    grows like exp(mu t): t_esc = ln(threshold sqrt(d) / c) / mu, so
    d t_esc / d ln d = 1 / (2 mu)."""
    return 1.0 / (2.0 * np.asarray(mu, float))


def head_clusters(m, cos_min=0.9):
    """Number of distinct heads: clusters of the heads' overlaps m_h (rows of
    m, H x K) joined whenever two have cosine above cos_min (single linkage:
    a chain of close pairs is one cluster). A head with m_h = 0 has no
    direction and is a cluster of its own. H = 2 on flipping: 1 when the
    heads have not split, 2 when they have."""
    m = np.asarray(m, float)
    h = m.shape[0]
    norm = np.linalg.norm(m, axis=1)
    parent = list(range(h))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(h):
        for j in range(i + 1, h):
            if norm[i] > 0 and norm[j] > 0 and m[i] @ m[j] / (norm[i] * norm[j]) > cos_min:
                parent[root(i)] = root(j)
    return len({root(i) for i in range(h)})


def column_cosines(m, k, others):
    """|cos| in head space between feature k's column m[:, k] and each of
    the columns m[:, j], j in others (m: H x K). Lemma III.2: a feature not
    yet learned grows orthogonally (cos 0) to those already learned."""
    m = np.asarray(m, float)
    a = m[:, k]
    out = []
    for j in others:
        b = m[:, j]
        den = np.linalg.norm(a) * np.linalg.norm(b)
        out.append(abs(a @ b) / den if den > 0 else math.nan)
    return np.array(out)


def random_abs_cosine(n):
    """E|cos| between a fixed vector and a uniformly random direction in
    R^n: Gamma(n/2) / (sqrt(pi) Gamma((n+1)/2)), the value with no
    preference for or against orthogonality (2/pi at n = 2, 1/2 at n = 3)."""
    return math.exp(math.lgamma(n / 2) - math.lgamma((n + 1) / 2)) / math.sqrt(math.pi)


def at_time(t, x, t0):
    """Records x (time x ...) at time t0, linear between the two records
    around it (NaN outside the records)."""
    t = np.asarray(t, float)
    x = np.asarray(x, float)
    if not (t[0] <= t0 <= t[-1]):
        return np.full(x.shape[1:], np.nan)
    r = int(np.searchsorted(t, t0))
    if t[r] == t0:
        return x[r]
    w = (t0 - t[r - 1]) / (t[r] - t[r - 1])
    return (1 - w) * x[r - 1] + w * x[r]


def log_rate(t, x):
    """Relative rate per unit log-time, d ln|x| / d ln t, between each pair
    of consecutive records with t > 0 (len(t) - 1 values, NaN where t = 0):
    exactly a for x = c t^a; near 0 at a fixed point."""
    t = np.asarray(t, float)
    x = np.abs(np.asarray(x, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t[:-1] > 0, np.diff(np.log(x)) / np.diff(np.log(t)), np.nan)


def crossing(x, y, level=0.5):
    """First x at which y (increasing on the whole, sampled at increasing x)
    reaches level, linear in ln x between the samples around it; NaN if it
    never does, x[0] if it already does at the first sample."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    above = np.flatnonzero(y >= level)
    if not len(above):
        return math.nan
    r = above[0]
    if r == 0:
        return float(x[0])
    w = (level - y[r - 1]) / (y[r] - y[r - 1])
    return float(math.exp((1 - w) * math.log(x[r - 1]) + w * math.log(x[r])))


def learned_angles(t, m, threshold=0.1, at=(0.1, 0.3)):
    """Lemma III.2 on records m (time x head x spike) at times t. The
    features are ranked by their escapes (max_h |m_hk| reaching threshold);
    for each feature k learned after another and each feature j learned
    before it, one dict: k, j, "at": {value: |cos| between m[:, k] and
    m[:, j] at the time max_h |m_hk| reaches value (NaN if never)}, and
    "growth": |cos| between m[:, j] at k's escape and the growth of m[:, k]
    from the bottom of its plateau (the record before the escape where
    max_h |m_hk| is smallest) to the escape: the direction k grows in,
    free of its random seed."""
    t = np.asarray(t, float)
    m = np.asarray(m, float)
    order = escape_times(t, m, threshold)
    ranked = [k for k in np.argsort(order) if np.isfinite(order[k])]
    size = head_max(m)
    out = []
    for i, k in enumerate(ranked[1:], start=1):
        tk = order[k]
        before = np.flatnonzero(t < tk)
        bottom = before[np.argmin(size[before, k])]
        mk = at_time(t, m, tk)
        grow = mk[:, k] - m[bottom][:, k]
        times = {v: escape_times(t, m[:, :, [k]], v)[0] for v in at}
        for j in ranked[:i]:
            cos = {v: (float(column_cosines(at_time(t, m, tv), k, [j])[0])
                       if np.isfinite(tv) else math.nan) for v, tv in times.items()}
            both = np.stack([grow, mk[:, j]], axis=1)
            out.append(dict(k=int(k), j=int(j), at=cos,
                            growth=float(column_cosines(both, 0, [1])[0])))
    return out


def plateau_state(t, m, b, lam, threshold=0.1):
    """Lemma A.4 on records (m: time x head x spike, b: time x head, lam:
    time) before the first escape t1 (max_h |m_hk| reaching threshold): at
    t1/2 the biases' spread over heads (max - min), their mean and lambda;
    the log-rates d ln / d ln t of lambda and of the mean bias over
    [t1/4, t1/2] (near 0 at a fixed point). NaN values if nothing escapes."""
    esc = escape_times(t, m, threshold)
    if not np.isfinite(esc).any():
        return dict(t1=math.nan, spread=math.nan, bmean=math.nan, lam=math.nan,
                    lam_rate=math.nan, b_rate=math.nan)
    t1 = float(np.nanmin(esc))
    when = (t1 / 4, t1 / 2)
    bs = [at_time(t, b, s) for s in when]
    lams = [float(at_time(t, lam, s)) for s in when]
    return dict(t1=t1, spread=float(np.ptp(bs[1])), bmean=float(np.mean(bs[1])), lam=lams[1],
                lam_rate=float(log_rate(when, lams)[0]),
                b_rate=float(log_rate(when, [np.mean(x) for x in bs])[0]))


def split_amplitude(column):
    """The size of a column m[:, k] (over heads) along the sum-zero
    directions, sqrt(mean_h (m_hk - mean_h' m_h'k)^2): the seed of the heads'
    split along feature k, whose growth the escape times (|m_12 - m_22| / 2
    for H = 2)."""
    c = np.asarray(column, float)
    return float(np.sqrt(np.mean((c - c.mean()) ** 2)))
