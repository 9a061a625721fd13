"""Learn times that do not depend on a basis of equal-strength features (issue 29 item 1).

Two features of equal strength (beta_k = beta_k') span a plane in which the
problem is symmetric: any rotation of the pair is an equally good basis, so
a learn time per spike k (max_h |m_hk| crossing a threshold) depends on
which basis the spikes happen to be. What does not depend on it are the
singular values of the heads' overlaps with the whole group, m[:, group]
(H x g): a rotation R of the group's features maps m[:, group] to
m[:, group] R, whose singular values are the same. The j-th singular value
sigma_j measures how far the heads have learned the j-th direction of the
group's subspace (for a group of one it is the column's norm over heads).

    groups = equal_strength_groups([3, 1.5, 1.5])     # [[0], [1, 2]]
    sv = group_singular_values(m, groups[1])          # T x 2, descending
    t1, t2 = singular_value_learn_times(sv, t, threshold=0.5)
    table = learn_table(res, "ode", threshold=0.5)    # one row per point

Learn times follow derived.learn_times: the first record time at which the
value exceeds a threshold (a number, or `frac` of its final value); NaN if
it never does.
"""
import numpy as np

from .derived import computed_records, first_crossings

# betas within this relative tolerance count as one strength
BETA_RTOL = 1e-9


def equal_strength_groups(betas, rtol=BETA_RTOL):
    """The spike indices grouped by equal strength, strongest group first,
    each group in index order: [3, 1.5, 1.5] -> [[0], [1, 2]]. betas equal
    within rtol (relative to the larger) share a group."""
    betas = np.asarray(betas, dtype=float).ravel()
    groups = []
    for k in np.argsort(-betas, kind="stable"):
        for g in groups:
            ref = betas[g[0]]
            if abs(betas[k] - ref) <= rtol * max(abs(betas[k]), abs(ref)):
                g.append(int(k))
                break
        else:
            groups.append([int(k)])
    return [sorted(g) for g in groups]


def group_singular_values(m, group):
    """Per record, the singular values (descending) of the heads' overlaps
    with the group's spikes: m is T x H x K (NaN heads, the padding of a
    smaller H, are left out); returns T x len(group), NaN at a record
    without data."""
    m = np.asarray(m, dtype=float)
    if m.ndim != 3:
        raise ValueError("group_singular_values: m must be T x H x K")
    sub = m[:, :, list(group)]
    heads = np.isfinite(sub).any(axis=(0, 2))  # the padding heads are NaN throughout
    out = np.full((m.shape[0], len(group)), np.nan)
    for r in range(m.shape[0]):
        block = sub[r][heads]
        if block.size and np.isfinite(block).all():
            s = np.linalg.svd(block, compute_uv=False)
            out[r, :len(s)] = s
            out[r, len(s):] = 0.0  # fewer heads than directions: those are 0
    return out


def singular_value_learn_times(sv, t, threshold=None, frac=0.5):
    """Per singular value j (columns of sv, T x g), the first time t at
    which it exceeds `threshold` (a number, or one per j) or else `frac`
    times its final value (its last finite record); NaN if never."""
    sv = np.asarray(sv, dtype=float)
    t = np.asarray(t, dtype=float)
    if sv.ndim != 2 or sv.shape[0] != t.shape[0]:
        raise ValueError("singular_value_learn_times: sv must be T x g and t of length T")
    return first_crossings(sv, t, threshold, frac)


def point_betas(res, i, K):
    """The strengths beta_k of point i (length K): the job's model.betas for
    diag_gaussian (a list, so never swept: read from the job the file
    stores), beta repeated for iso_gaussian; None for a distribution
    without per-feature strengths."""
    import yaml
    dist = str(res.column("distribution")[i]) if "distribution" in res.columns else ""
    if dist == "diag_gaussian":
        doc = yaml.safe_load(res.job_text) or {}
        betas = (doc.get("model") or {}).get("betas")
        return None if betas is None else np.asarray(betas, dtype=float).ravel()[:K]
    if dist == "iso_gaussian" and "beta" in res.columns:
        return np.full(K, float(res.column("beta")[i]))
    return None


def learn_table(res, part="ode", threshold=None, frac=0.5, rtol=BETA_RTOL):
    """One row per point with its swept keys and, per equal-strength group
    g (numbered 1.. from the strongest) and singular value j, the learn
    time <part>_sv<g>_<j> and the final value <part>_sv<g>_<j>_final. The
    group's spikes (numbered from 1) are in the table's attrs["groups"] per
    point. Points without per-feature strengths get NaN."""
    from .derived import record_times

    m = res.array(part + "/m", stack=True)
    K = m.sizes["spike"]
    t = record_times(res, part, m)
    df = res.points[list(res.swept)].copy()
    groups_of = []
    for i in range(res.n_points):
        ti, mi = computed_records(t[i], m.values[i])
        have = np.isfinite(mi).any(axis=(0, 1)) if mi.size else np.zeros(K, bool)
        betas = point_betas(res, i, int(have.sum()))
        if betas is None or not np.isfinite(mi).any():
            groups_of.append(None)
            continue
        groups = equal_strength_groups(betas, rtol)
        groups_of.append([[k + 1 for k in g] for g in groups])
        for gi, g in enumerate(groups):
            sv = group_singular_values(mi, g)
            times = singular_value_learn_times(sv, ti, threshold, frac)
            for j in range(len(g)):
                name = "%s_sv%d_%d" % (part, gi + 1, j + 1)
                if name not in df:
                    df[name] = np.nan
                    df[name + "_final"] = np.nan
                df.iloc[i, df.columns.get_loc(name)] = times[j]
                df.iloc[i, df.columns.get_loc(name + "_final")] = sv[-1, j]
    df.attrs["groups"] = groups_of
    df.attrs["threshold"] = threshold
    df.attrs["frac"] = frac
    return df
