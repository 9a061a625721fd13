#!/usr/bin/env python3
"""The numbers that decide each paper claim, from the results of
jobs/paper/ (scripts/paper.sh prints them; docs/REPRODUCTION.md quotes them).

    PYTHONPATH=analysis /usr/bin/python3 analysis/scripts/paper_numbers.py FIG [RESULTS_DIR]

FIG is one of fig01 fig02 fig03 fig05 fig06 fig08 fig11; RESULTS_DIR holds
the jobs' results files (default results/paper). Output: Markdown tables.
(Over 400 lines as the report's one source of numbers: a function per
figure, sharing the readers at the top.)
"""
import os
import sys

import numpy as np

# From a checkout: the package beside this folder (analysis/headspec), first,
# as when these scripts sat next to it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import headspec  # noqa: E402
from headspec.derived import learn_times  # noqa: E402


def _open(directory, job):
    path = os.path.join(directory, job + ".h5")
    if not os.path.exists(path):
        sys.exit("paper_numbers: %s is missing: run scripts/paper.sh first" % path)
    return headspec.open_results(path)


def _table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(_cell(v) for v in r) + " |")
    print()


def _cell(v):
    if isinstance(v, (float, np.floating)):
        return "nan" if not np.isfinite(v) else "%.4g" % v
    return str(v)


def _pm(mean, err, digits=4):
    if not np.isfinite(mean):
        return "nan"
    return "%.*f +- %.*f" % (digits, mean, digits, err) if np.isfinite(err) else "%.*f" % (digits, mean)


def _cells(da, *keys):
    """Every combination of the values of the given swept dims of da (keys
    that are not swept there are left out)."""
    combos = [{}]
    for k in (k for k in keys if k in da.dims):
        combos = [dict(c, **{k: v}) for c in combos for v in da.coords[k].values]
    return combos


def _heads(m):
    """Drop the NaN padding of heads beyond this point's H."""
    keep = np.isfinite(m.values.reshape(m.sizes["time"], m.sizes["head"], -1)).all(axis=(0, 2))
    return m.isel(head=np.nonzero(keep)[0])


def first_time(t, x, level):
    """First record time where x >= level (NaN if never)."""
    hit = np.nonzero(np.asarray(x) >= level)[0]
    return float(t[hit[0]]) if hit.size else np.nan


LOSS_TOL = 1e-3  # the default analysis.converged_loss_tol (docs/RESULTS.md, Convergence)


def _conv(r, c=None):
    """Convergence of the points of cell c (all points if None), over the
    dims c leaves free (e.g. the seeds): 'L/S of N', L points whose loss
    had converged (ode/loss_rate below the tolerance), S whose whole state
    had (ode/converged: loss and order-parameter speed); 'yes/no' for one
    point. Padding points of other cells (NaN) are not counted."""
    rate = r.array("ode/loss_rate")
    conv = r.array("ode/converged")
    if c:
        c = {k: v for k, v in c.items() if k in rate.dims}
        rate, conv = rate.sel(c), conv.sel(c)
    ok = np.isfinite(rate.values)
    n_loss = int((rate.values[ok] < LOSS_TOL).sum())
    n_state = int((conv.values[ok] == 1).sum())
    if ok.sum() == 1:
        return "%s/%s" % ("yes" if n_loss else "no", "yes" if n_state else "no")
    return "%d/%d of %d" % (n_loss, n_state, ok.sum())


def _horizon(r):
    """The trajectories' end time (ode/t_stop; t_max unless stopped early)."""
    return "%g" % float(np.nanmax(r.array("ode/t_stop").values))


def learned_times(m, t, frac=0.5, learned=0.5):
    """Per spike k: the first time max_h |m_hk| exceeds frac of its final
    value; NaN where the final value is below `learned` (not learned)."""
    times = learn_times(m, t, frac=frac)
    final = np.nanmax(np.abs(m[-1]), axis=0)
    return np.where(final >= learned, times, np.nan)


def fig01(d):
    r = _open(d, "fig01_sgd_vs_ode")
    has_conv = "ode/loss_rate" in _names(r)
    sgd, ode = r.array("sgd/lpop"), r.array("ode/loss")
    sm, om = r.array("sgd/m"), r.array("ode/m")
    sq, oq = r.array("sgd/Qperp"), r.array("ode/Qperp")
    bayes = r.array("bayes_risk")
    ode_fresh, ode_se = _fresh(r, "ode")
    sgd_fresh, sgd_se = _fresh(r, "sgd")
    rows = []
    for c in _cells(ode, "distribution", "activation"):
        gap = np.abs(sgd.sel(c) - ode.sel(c)).values
        late = ode.time.values >= 0.75 * ode.time.values[-1]
        rows.append([c["distribution"], c["activation"], float(ode.sel(c)[-1]),
                     float(sgd.sel(c)[-1]), float(np.nanmax(gap)), float(np.nanmax(gap[late])),
                     float(np.nanmax(np.abs(sm.sel(c) - om.sel(c)).values[-1])),
                     float(np.nanmax(np.abs(sq.sel(c) - oq.sel(c)).values[-1])),
                     _pm(float(ode_fresh.sel(c)), float(ode_se.sel(c))),
                     _pm(float(sgd_fresh.sel(c)), float(sgd_se.sel(c))),
                     float(bayes.sel(c))] + ([_conv(r, c)] if has_conv else []))
    print("SGD (d = 1000) against the ODE: Lpop at SGD's order parameters vs the ODE's loss; "
          "the final states' Lpop also out of sample (100000 fresh sequences).\n")
    _table(["P_c", "activation", "ODE loss(t_max)", "SGD Lpop(t_max)", "max abs gap, all t",
            "max abs gap, last quarter", "max abs dm at t_max", "max abs dQperp at t_max",
            "ODE fresh", "SGD fresh", "R*"] + (["ODE conv. loss/state"] if has_conv else []), rows)


def _heads_stats(mm, t):
    """Fig. 2's numbers of one run (time x head x spike): t_align, t_split,
    mean m_h1 and std m_h2 at the end, the final heads' smallest and largest
    angle from the mean direction, the signs of m_h2."""
    mean1 = mm[:, :, 0].mean(axis=1)
    split = mm[:, :, 1].std(axis=1)
    end = mm[-1]
    angle = np.degrees(np.arctan2(np.abs(end[:, 1]), end[:, 0]))
    return (first_time(t, mean1, 0.5 * mean1[-1]), first_time(t, split, 0.5 * split[-1]),
            float(mean1[-1]), float(split[-1]), float(angle.min()), float(angle.max()),
            "%d/%d" % ((end[:, 1] > 0).sum(), (end[:, 1] < 0).sum()))


def _replica_stats(rm, t):
    """_heads_stats over the replicas (replica x time x head x spike): each
    number's mean +- standard error over them (the ODE's Monte Carlo error)."""
    runs = []
    for x in rm:
        ok = np.isfinite(x).all(axis=(1, 2))
        runs.append(_heads_stats(x[ok], t[ok])[:6])
    v = np.array(runs, float)
    return [_pm(m, s, 2) for m, s in zip(v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(len(v)))]


def fig02(d):
    r = _open(d, "fig02_flipping_heads")
    m = r.array("ode/m")
    rep = r.array("replicas/m") if r.points.get("ode_replicas", 1).max() > 1 else None
    t = m.time.values
    rows = []
    for c in _cells(m, "activation", "H"):
        mm = _heads(m.sel(c)).values  # time x head x spike
        if mm.shape[1] == 0:  # not done
            continue
        row = [c["activation"], int(c["H"])] + list(_heads_stats(mm, t)) + [_conv(r, c)]
        if rep is not None:
            row += _replica_stats(rep.sel(c).dropna("head", how="all").values, t)
        rows.append(row)
    print("ODE to t = %s. " % _horizon(r) + "Heads on flipping(1, 2): t_align = first t where mean_h m_h1 reaches half its final "
          "value; t_split = same for the spread std_h m_h2; angles of the final heads from the "
          "mean direction (deg); heads with m_h2 > 0 / < 0; conv. = loss/state converged "
          "at the end" + ("; rep.: the same numbers, mean +- SE over the ODE's replicas "
                          "(independent Monte Carlo sample sets, replica 0 the run above)"
                          if rep is not None else "") + ".\n")
    rep_cols = ["rep. t_align", "rep. t_split", "rep. mean m_h1(end)", "rep. std m_h2(end)",
                "rep. min angle", "rep. max angle"] if rep is not None else []
    _table(["activation", "H", "t_align", "t_split", "mean m_h1(end)", "std m_h2(end)",
            "min angle", "max angle", "m_h2 signs +/-", "conv. loss/state"] + rep_cols, rows)


def _purity(end):
    """Mean over learned heads of max_k m_hk^2 / |m_h|^2 (1: each head on
    one direction; 1/K: equal mixtures)."""
    norm2 = (end ** 2).sum(axis=1)
    on = norm2 > 0.25
    return float(np.mean((end[on] ** 2).max(axis=1) / norm2[on])) if on.any() else np.nan


def _left_side(mm, level, below):
    """Head-feature pairs where m_hk, once past +-level, later falls below
    `below` on its first side's scale (m_hk times that side's sign)."""
    count = 0
    for h in range(mm.shape[1]):
        for k in range(mm.shape[2]):
            x = mm[:, h, k]
            past = np.nonzero(np.abs(x) > level)[0]
            if past.size:
                after = x[past[0]:] * np.sign(x[past[0]])
                count += bool((after < below).any())
    return count


def _excursions(mm, level=0.5):
    """A head leaving the place it first took: past +-level, later back
    below level/2 in size or across to the other side (the broad count)."""
    return _left_side(mm, level, level / 2)


def _side_changes(mm, level=0.5):
    """The paper's excursions (Sec. III.2: a misplaced head rearranges, so
    that the split ends even): past +-level, later at -+level, the other
    side of the feature."""
    return _left_side(mm, level, -level)


def _features_rows(r):
    m = r.array("ode/m")
    t = m.time.values
    rows = []
    for c in _cells(m, "activation", "H", "seed"):
        mm = _heads(m.sel(c)).values
        if mm.shape[1] == 0:  # not done
            continue
        times = learned_times(mm, t)
        # the first time max_h |m_hk| reaches the learned level 0.5 itself:
        # unlike half the final value, it does not move when a learned
        # feature's overlaps keep growing long after (softmax-1)
        level = [first_time(t, np.nanmax(np.abs(mm[:, :, k]), axis=1), 0.5)
                 for k in range(mm.shape[2])]
        end = mm[-1]
        signs = " ".join("%d/%d" % ((end[:, k] > 0.25).sum(), (end[:, k] < -0.25).sum())
                         for k in range(end.shape[1]))
        rows.append([c["activation"], mm.shape[1], int(c.get("seed", r.column("seed")[0]))] +
                    ["%.0f" % x if np.isfinite(x) else "-" for x in times] +
                    [" ".join("%.0f" % x if np.isfinite(x) else "-" for x in level)] +
                    [signs, _purity(end), "%d / %d" % (_side_changes(mm), _excursions(mm)),
                     float(r.array("ode/loss").sel(c).values[-1]), _conv(r, c)])
    return rows


def fig03(d):
    for job, betas in (("fig03_features", "(3, 2, 1.5)"), ("fig03_equal_strengths", "(3, 1.5, 1.5)")):
        r = _open(d, job)
        K = r.array("ode/m").sizes["spike"]
        print("%s, beta = %s, ODE to t = %s: t_k = first t where max_h |m_hk| reaches half its final value "
              "(- : not learned, final < 0.5); heads with m_hk > 0.25 / < -0.25 per k; purity = "
              "mean max_k m_hk^2/|m_h|^2 over learned heads (1: one direction per head); "
              "excursions = head-feature pairs where m_hk passed +-0.5 and later reached "
              "-+0.5 (a head changing side: the paper's) / broad: later fell back below 0.25 "
              "or changed sign; t(0.5) = first t where max_h |m_hk| reaches "
              "0.5, per k; conv. = loss/state converged at the end.\n"
              % (job, betas, _horizon(r)))
        _table(["activation", "H", "seed"] + ["t_%d" % (k + 1) for k in range(K)] +
               ["t_k(0.5) per k", "signs per k", "purity", "excursions (side / broad)",
                "loss(t_max)", "conv. loss/state"], _features_rows(r))
    _basis_free(_open(d, "fig03_equal_strengths"))


def _basis_free(r):
    """The equal-strength pair measured without a basis (headspec.basis_free):
    per point the learn times of the pair's two singular values."""
    from headspec import basis_free
    rows = []
    for thr, what in ((0.5, "0.5"), (None, "half final")):
        tab = basis_free.learn_table(r, "ode", threshold=thr)
        for i in range(r.n_points):
            if tab.attrs["groups"][i] is None:
                continue
            first, second = tab["ode_sv2_1"].iloc[i], tab["ode_sv2_2"].iloc[i]
            rows.append([r.column("activation")[i], int(r.column("seed")[i]), what,
                         tab["ode_sv1_1"].iloc[i], first, second, second / first,
                         tab["ode_sv2_1_final"].iloc[i], tab["ode_sv2_2_final"].iloc[i]])
    print("Equal strengths, basis-free (issue 29): per point the singular values sigma_1 >= "
          "sigma_2 of the heads' overlaps with the equal pair, m[:, (2, 3)], and the first "
          "time each exceeds the threshold (0.5, or half its final value); sigma of the "
          "strong feature (its norm over heads) for comparison.\n")
    _table(["activation", "seed", "threshold", "t strong", "t sigma_1", "t sigma_2",
            "ratio", "sigma_1 final", "sigma_2 final"], rows)


def _fresh(r, prefix):
    """Final out-of-sample loss and its SE per point (NaN-filled if absent)."""
    names = {"ode": ("ode/loss_fresh", "ode/loss_fresh_se"),
             "sgd": ("sgd/lpop_fresh", "sgd/lpop_fresh_se")}[prefix]
    return r.array(names[0]), r.array(names[1])


def _seed_mean(x, se):
    n = x.count("seed")
    mean = x.mean("seed")
    spread = x.std("seed", ddof=1) / np.sqrt(n)
    err = np.sqrt(spread.fillna(0) ** 2 + (se ** 2).mean("seed") / n)
    return mean, err


def fig05(d):
    r = _open(d, "fig05_loss_vs_heads")
    loss, se = _fresh(r, "ode")
    inside = r.array("ode/loss").isel(time=-1)
    bayes, bse = r.array("bayes_risk"), r.array("bayes_risk_se")
    mean, err = _seed_mean(loss, se)
    rows = []
    for c in _cells(mean, "distribution", "activation", "H"):
        rstar = float(bayes.sel(c).mean("seed"))
        rse = float(np.sqrt((bse.sel(c) ** 2).mean("seed") / bse.sel(c).count("seed")))
        gap = float(mean.sel(c)) - rstar
        rows.append([c["distribution"], c["activation"], int(c["H"]),
                     _pm(float(mean.sel(c)), float(err.sel(c))),
                     float(inside.sel(c).mean("seed")), _pm(rstar, rse),
                     _pm(gap, float(np.hypot(err.sel(c), rse))),
                     "%.1f" % (gap / float(np.hypot(err.sel(c), rse))), _conv(r, c)])
    print("Final loss against H (ODE, t = %s): out" % _horizon(r) + " of sample on 100000 fresh sequences, mean "
          "over seeds +- (seed spread and Monte Carlo SE); in-sample = the ODE's own samples; "
          "gap to R* in units of its error; conv. = seeds whose loss / whole state had "
          "converged.\n")
    _table(["P_c", "activation", "H", "loss (fresh)", "loss (in-sample)", "R*", "gap", "gap/err",
            "conv. loss/state"], rows)
    r = _open(d, "fig05_loss_vs_signal")
    b = _open(d, "fig05_bayes")
    loss, se = _fresh(r, "ode")
    mean, err = _seed_mean(loss, se)
    rows = []
    keys = {"flipping": "b2", "iso_gaussian": "beta"}
    bayes = b.array("bayes_risk")
    for dist, key in keys.items():
        # the other distribution's key has no value here (NaN): average it out
        other = [k for k in keys.values() if k != key]
        part, perr = (x.sel(distribution=dist).mean(other) for x in (mean, err))
        rpart = bayes.sel(distribution=dist).mean(other)
        for v in part.coords[key].values:
            vals = {a: float(part.sel({key: v, "activation": a})) for a in part.activation.values}
            if not np.isfinite(v) or not all(np.isfinite(x) for x in vals.values()):
                continue
            rows.append([dist, "%s = %g" % (key, v)] +
                        [_pm(vals[a], float(perr.sel({key: v, "activation": a})))
                         for a in ("softmax", "softmax1", "bsoftmax")] +
                        [vals["softmax"] - vals["softmax1"], float(rpart.sel({key: v})),
                         ", ".join(_conv(r, {"distribution": dist, key: v, "activation": a})
                                   for a in ("softmax", "softmax1", "bsoftmax"))])
    print("Final loss (fresh samples) against the signal strength, H = 4, ODE to t = %s; R* "
          "from the Bayes-only job; conv. = seeds whose loss / whole state had converged, "
          "per activation (softmax, softmax1, bsoftmax).\n" % _horizon(r))
    _table(["P_c", "strength", "softmax", "softmax1", "bsoftmax", "softmax - softmax1", "R*",
            "conv. loss/state"], rows)
    _whole_signal(d)
    path = os.path.join(d, "fig11_cosine_heatmaps.h5")
    if not os.path.exists(path):
        print("(run scripts/paper.sh fig11 for flipping with b1 = b2 at H = 2)\n")
        return
    r = headspec.open_results(path)
    loss, se = _fresh(r, "ode")
    if not np.isfinite(loss.values).any():  # a file from before the fresh fields
        loss, se = r.array("ode/loss").isel(time=-1), xr_nan_like(loss)
    rows = []
    for v in loss.b1.values:
        if v not in loss.b2.values:
            continue
        vals = {a: float(loss.sel(b1=v, b2=v, activation=a)) for a in loss.activation.values}
        errs = {a: float(se.sel(b1=v, b2=v, activation=a)) for a in loss.activation.values}
        rows.append(["b1 = b2 = %g" % v] + [_pm(vals[a], errs[a]) for a in
                                             ("softmax", "softmax1", "bsoftmax")] +
                    [vals["softmax"] - vals["softmax1"],
                     ", ".join(_conv(r, {"b1": v, "b2": v, "activation": a})
                               for a in ("softmax", "softmax1", "bsoftmax"))])
    print("Flipping with the whole signal scaled, b1 = b2 (the Figs. 11-14 job: H = 2, t = %s, "
          "one seed), final loss on fresh samples; conv. = loss/state converged per activation."
          "\n" % _horizon(r))
    _table(["flipping", "softmax", "softmax1", "bsoftmax", "softmax - softmax1",
            "conv. loss/state"], rows)


def _whole_signal(d):
    """Flipping with b1 = b2 = b (the paper's premise), H = 4: final loss on
    fresh samples, mean over seeds, against R* of the same points."""
    r = _open(d, "fig05_whole_signal")
    loss, se = _fresh(r, "ode")
    mean, err = _seed_mean(loss, se)
    rstar = r.array("bayes_risk").mean("seed")
    rows = []
    for v in mean.b1.values:
        at = {"b1": v, "b2": v}  # the zipped keys are two dims, NaN off the diagonal
        vals = {a: float(mean.sel(dict(at, activation=a))) for a in mean.activation.values}
        errs = {a: float(err.sel(dict(at, activation=a))) for a in mean.activation.values}
        gap_err = np.hypot(errs["softmax"], errs["softmax1"])
        rows.append(["b1 = b2 = %g" % v] +
                    [_pm(vals[a], errs[a]) for a in ("softmax", "softmax1", "bsoftmax")] +
                    [_pm(vals["softmax"] - vals["softmax1"], gap_err, 3),
                     float(rstar.sel(at).mean("activation")),
                     ", ".join(_conv(r, dict(at, activation=a))
                               for a in ("softmax", "softmax1", "bsoftmax"))])
    print("Flipping with the whole signal scaled, b1 = b2 (fig05_whole_signal: H = 4, ODE to "
          "t = %s, two seeds), final loss on fresh samples, mean over seeds +- (seed spread and "
          "Monte Carlo SE); conv. = seeds whose loss / whole state had converged.\n"
          % _horizon(r))
    _table(["flipping", "softmax", "softmax1", "bsoftmax", "softmax - softmax1", "R*",
            "conv. loss/state"], rows)


def _names(r):
    """The dataset names of a results file (older files lack the convergence ones)."""
    try:
        r.array("ode/loss_rate")
        return {"ode/loss_rate"}
    except Exception:  # a file from before convergence was stored
        return set()


def xr_nan_like(da):
    return da * np.nan


def fig06(d):
    r = _open(d, "fig06_maps_pruning")
    prune = r.array("ode/prune_loss")
    rows = []
    for c in _cells(prune, "distribution", "activation"):
        p = prune.sel(c)
        full = p.sel(kept=p.kept.max()).values
        row = [c["distribution"], c["activation"]]
        for k in (8, 4, 3, 2, 1):
            v = p.sel(kept=k).values
            row.append("%.3f +- %.3f" % (np.nanmean(v), np.nanstd(v, ddof=1)))
        rel = p.values / full[:, None] if p.dims[0] == "seed" else p.values / full
        ok = (rel <= 1.05).all(axis=0) if rel.ndim > 1 else rel <= 1.05
        kept = p.kept.values
        row.append(int(kept[ok].min()))
        row.append(_conv(r, c))
        rows.append(row)
    _prune_fresh(r)
    print("Greedy pruning (ODE to t = %s, H = 8, three seeds): Lpop" % _horizon(r) + " with k heads kept, mean +- std over "
          "seeds; k_min = fewest heads kept with every seed within 5% of the full model; conv. = "
          "seeds whose loss / whole state had converged.\n")
    _table(["P_c", "activation", "k = 8", "k = 4", "k = 3", "k = 2", "k = 1", "k_min",
            "conv. loss/state"], rows)
    maps = r.array("ode/maps")
    rows = []
    for c in _cells(maps, "distribution", "activation"):
        a = maps.sel(c).values  # seed x map x head x token (the first, l = 1, relevant)
        per_head = a.sum(axis=-1)  # attention mass of each head
        relevant = a[..., 0].sum(axis=-1)
        rows.append([c["distribution"], c["activation"], float(np.nanmean(relevant)),
                     float(np.nanmean(a[..., 1:].sum(axis=(-1, -2)))),
                     float(np.nanmean((per_head < 0.25 * per_head.max(axis=-1, keepdims=True))
                                      .sum(axis=-1))), _conv(r, c)])
    print("Attention maps (final ODE model, 4 sequences x 3 seeds, H = 8): attention on the "
          "relevant token and on the others (summed over heads; softmax-1's lambda can make the "
          "total exceed 1), and quiet heads per sequence (total weight under a quarter of the "
          "busiest head's); conv. = seeds whose loss / whole state had converged.\n")
    _table(["P_c", "activation", "alpha_relevant", "alpha_irrelevant", "quiet heads",
            "conv. loss/state"], rows)
    _heads_off(r)


def _prune_fresh(r):
    """The pruning curve on fresh samples (ode/prune_loss_fresh: the order
    chosen on the ODE's own samples, the losses on the independent set)
    beside the one on the fit set, per point."""
    try:
        fresh, se = r.array("ode/prune_loss_fresh"), r.array("ode/prune_loss_fresh_se")
    except Exception:  # a file from before it was stored
        return
    fit = r.array("ode/prune_loss")
    rows = []
    for c in _cells(fit, "distribution", "activation", "seed"):
        f, e, p = fresh.sel(c).values, se.sel(c).values, fit.sel(c).values
        if not np.isfinite(f).any():  # not done (or an older file's point)
            continue
        full = f[-1]
        kept = fit.kept.values
        ok = f <= 1.05 * full
        row = [c.get("distribution", ""), c["activation"], c.get("seed", r.column("seed")[0])]
        for k in (8, 4, 3, 2, 1):
            i = int(np.nonzero(kept == k)[0][0])
            row.append("%.3f +- %.3f (%.3f)" % (f[i], e[i], p[i]))
        row += [int(kept[ok].min()), _conv(r, c)]
        rows.append(row)
    print("Pruning out of sample: Lpop of the pruned models on 100000 fresh sequences "
          "(ode/prune_loss_fresh +- its SE; in brackets: on the ODE's own samples, "
          "ode/prune_loss); k_min = fewest heads kept within 5% of the full model's fresh loss.\n")
    _table(["P_c", "activation", "seed", "k = 8", "k = 4", "k = 3", "k = 2", "k = 1", "k_min",
            "conv. loss/state"], rows)


def _heads_off(r):
    """When the heads switch off: per record the quiet heads (on the ODE's
    samples), the softmax-1's mean bias b_h and lambda, and the loss, mean
    over seeds, at a few times on the log grid."""
    quiet, loss = r.array("ode/quiet_heads"), r.array("ode/loss")
    b, lam = r.array("ode/b"), r.array("ode/lambda")
    t = quiet.time.values
    rows = []
    for c in _cells(quiet, "distribution", "activation"):
        for want in (200, 1000, 2000, 5000, 20000):
            i = int(np.argmin(np.abs(t - want)))
            row = [c["distribution"], c["activation"], "%.0f" % t[i],
                   float(quiet.sel(c).isel(time=i).mean()), float(loss.sel(c).isel(time=i).mean())]
            if c["activation"] == "softmax1":
                bb = b.sel(c).isel(time=i).values
                row += ["%.2f (%.2f-%.2f)" % (np.nanmean(bb), np.nanmin(bb), np.nanmax(bb)),
                        float(lam.sel(c).isel(time=i).mean())]
            else:
                row += ["", ""]
            rows.append(row)
    print("Heads switching off over time (ODE records, on its samples, mean over seeds): quiet "
          "heads per sequence, loss, and for the softmax-1 its biases b_h (mean, range over "
          "heads and seeds) and lambda.\n")
    _table(["P_c", "activation", "t", "quiet heads", "loss", "b_h", "lambda"], rows)


def fig08(d):
    r = _open(d, "fig08_same_samples")
    has_conv = "ode/loss_rate" in _names(r)
    loss, m = r.array("ode/loss"), r.array("ode/m")
    sgd = r.array("sgd/lpop")
    rows = []
    for c in _cells(loss, "activation", "samples"):
        fixed, fresh = dict(c, resample_dt=0.0), dict(c, resample_dt=0.05)
        dl = np.abs(loss.sel(fixed) - loss.sel(fresh)).values
        dm = np.abs(m.sel(fixed) - m.sel(fresh)).values
        ds = np.abs(loss.sel(fixed) - sgd.sel(fixed)).values
        rows.append([c["activation"], int(c["samples"]), float(np.nanmax(dl)),
                     float(np.nanmax(dm)), float(np.nanmax(ds)),
                     float(loss.sel(fixed)[-1]), float(loss.sel(fresh)[-1])] +
                    ([_conv(r, fixed) + ", " + _conv(r, fresh)] if has_conv else []))
    print("Fixed samples (adaptive stepper) against fresh samples at every Euler step of 0.05, "
          "and against SGD at d = 1000 (its own fresh samples).\n")
    _table(["activation", "samples", "max abs dloss, fixed-fresh", "max abs dm, fixed-fresh",
            "max abs dloss, fixed-SGD", "loss fixed (t_max)", "loss fresh (t_max)"] +
           (["conv. loss/state fixed, fresh"] if has_conv else []), rows)


def fig11(d):
    r = _open(d, "fig11_cosine_heatmaps")
    cos = r.array("ode_cosine")
    b1, b2 = cos.b1.values, cos.b2.values
    for a in cos.activation.values:
        c = cos.sel(activation=a)
        print("%s: cos(m_1, m_2) at t = %s, rows b1, columns b2\n" % (a, _horizon(r)))
        _table(["b1 \\ b2"] + ["%g" % v for v in b2],
               [["%g" % x] + [float(c.sel(b1=x, b2=y)) for y in b2] for x in b1])
        v = c.transpose("b1", "b2").values
        down_b2 = np.mean(np.diff(v, axis=1) <= 0.01)
        up_b1 = np.mean(np.diff(v, axis=0) >= -0.01)
        print("cosine falls (or stays within 0.01) with b2 in %.0f%% of neighbouring cells, rises "
              "with b1 in %.0f%%\n" % (100 * down_b2, 100 * up_b1))
        sel = {"activation": a}
        rate = r.array("ode/loss_rate").sel(sel)
        conv = r.array("ode/converged").sel(sel)
        moving = lambda ok: ", ".join("(%g, %g)" % (x, y) for x in b1 for y in b2
                                      if not ok(x, y)) or "none"
        print("converged (loss/state): %s; loss still moving at (b1, b2) = %s; state still "
              "moving at %s\n" % (_conv(r, sel),
                                   moving(lambda x, y: float(rate.sel(b1=x, b2=y)) < LOSS_TOL),
                                   moving(lambda x, y: float(conv.sel(b1=x, b2=y)) == 1)))


FIGURES = {"fig01": fig01, "fig02": fig02, "fig03": fig03, "fig05": fig05, "fig06": fig06,
           "fig08": fig08, "fig11": fig11}


def main(argv):
    if len(argv) < 2 or argv[1] not in FIGURES:
        sys.exit("usage: paper_numbers.py {%s} [RESULTS_DIR]" % "|".join(FIGURES))
    FIGURES[argv[1]](argv[2] if len(argv) > 2 else "results/paper")


if __name__ == "__main__":
    main(sys.argv)
