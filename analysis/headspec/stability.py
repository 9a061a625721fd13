"""The linearised flow's predictions beside the ODE's measured escapes (issue 20).

A point run with ``analysis.stability: true`` stores, per spike direction k,
``stability/predicted_t`` (the escape from the head-symmetric trajectory, when
max_h |m_hk| reaches ``analysis.stability_threshold``), ``stability/saddle_t``
(the same from the ODE's last plateau before k's escape) and
``stability/measured_t`` (the ODE's own crossing). The functions here take
plain arrays, so ``numbers`` or a notebook can call them on whatever reader:

    rows = predicted_vs_measured(predicted, measured, saddle=saddle,
                                 half=half_final_times(t, m))
    print(markdown_table(rows))

``python3 -m headspec.stability FILE.h5 ... [--plot OUT.png]`` prints the
table of every point of the given results files (and draws predicted against
measured escape times), with ``ode.replicas`` the prediction and the measured
escape as mean ± se over the replicas (``replicas/predicted_t``, ``escape_t``).
"""
import math

import numpy as np

from .replicas import mean_se


def head_max(m):
    """max_h |m_hk| of records m (time x head x spike): time x spike. Heads
    that are NaN (the padding of a smaller H in a file of several) are left
    out, as the C side's fmax does; NaN where no head has a value (a record
    after an ODE stopped early, a padded spike)."""
    a = np.abs(np.asarray(m, float))
    have = np.isfinite(a).any(axis=1)
    return np.where(have, np.max(np.where(np.isfinite(a), a, -np.inf), axis=1), np.nan)


def final_values(size):
    """Per spike, the last finite value of size (time x spike): a point that
    stopped early (ode.stop_when_converged) has NaN records after its stop."""
    out = np.full(size.shape[1], np.nan)
    for k in range(size.shape[1]):
        ok = np.flatnonzero(np.isfinite(size[:, k]))
        if ok.size:
            out[k] = size[ok[-1], k]
    return out


def escape_times(t, m, threshold=0.1):
    """When max_h |m_hk| of records m (time x head x spike) at times t first
    reaches the threshold, log-linear between records (NaN: never); the same
    rule as the C code's hs_stability_measured_escape."""
    t = np.asarray(t, float)
    size = head_max(m)  # time x spike
    out = np.full(size.shape[1], np.nan)
    for k in range(size.shape[1]):
        above = np.nonzero(size[:, k] >= threshold)[0]
        if not len(above):
            continue
        r = above[0]
        a, b = (size[r - 1, k], size[r, k]) if r else (0.0, size[r, k])
        if r == 0:
            out[k] = t[0]
        elif a > 0 and b > a:
            out[k] = t[r - 1] + (t[r] - t[r - 1]) * math.log(threshold / a) / math.log(b / a)
        else:
            out[k] = t[r]
    return out


def half_final_times(t, m):
    """The 'learn time' of each spike: when max_h |m_hk| first reaches half
    its final value (its last record with data; first record at or past
    it; NaN if the final value is 0)."""
    size = head_max(m)
    final = final_values(size)
    out = np.full(size.shape[1], np.nan)
    for k in range(size.shape[1]):
        if final[k] > 0:
            out[k] = np.asarray(t, float)[np.argmax(size[:, k] >= final[k] / 2)]
    return out


def signs_at(t, m, when):
    """Sign of m_hk (head x spike) at the first record at or after when[k]."""
    t, m = np.asarray(t, float), np.asarray(m, float)
    out = np.zeros(m.shape[1:])
    for k, w in enumerate(when):
        if np.isfinite(w):
            out[:, k] = np.sign(m[np.searchsorted(t, w), :, k])
    return out


def same_split(a, b):
    """Whether two sign patterns (one spike, per head) split the heads the
    same way, up to the overall sign (a mode's sign is the seed's)."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all(a == b) or np.all(a == -b))


def order(times):
    """Spike indices by escape time (NaN last); ties within 2 % share a rank
    (features of equal strength escape together)."""
    times = np.asarray(times, float)
    idx = sorted(range(len(times)), key=lambda k: (not np.isfinite(times[k]), times[k]))
    ranks, rank, last = [0] * len(times), 0, None
    for i, k in enumerate(idx):
        if last is not None and not (np.isfinite(times[k]) and np.isfinite(last)
                                     and times[k] <= last * 1.02):
            rank = i
        ranks[k], last = rank, times[k]
    return idx, ranks


def predicted_vs_measured(predicted, measured, saddle=None, saddle_from=None, half=None,
                          labels=None, saddle_first=None, predicted_rep=None,
                          measured_rep=None):
    """One row per point and spike: predicted, saddle-to-saddle and measured
    escape times, their ratios, the saddle prediction's lead (measured -
    plateau time) and its error as a share of the lead, the half-of-final
    time and the saturation time between (half - measured), whether the
    point's predicted order is the measured one, and (saddle_first: the
    predictions from the plateau after the first escape) whether the order of
    the later features predicted from there is. predicted, measured (and
    saddle, saddle_from, half, saddle_first): points x spikes; labels: one
    string per point. A row's "spike" is k = 1..K (column k - 1 of the
    arrays). predicted_rep, measured_rep (may be None, or None per point):
    each point's values per replica (replicas x spikes), shown as mean ± se
    in the rows' "predicted_rep" and "measured_rep" ((nan, nan) without)."""
    predicted, measured = np.atleast_2d(predicted), np.atleast_2d(measured)
    rows = []
    for i in range(predicted.shape[0]):
        pr, me = predicted[i], measured[i]
        _, rank_p = order(pr)
        _, rank_m = order(me)
        # the order counts the features that escaped in the ODE
        seen = np.isfinite(me)
        right = bool(np.all(np.asarray(rank_p)[seen] == np.asarray(rank_m)[seen]))
        first = int(np.nanargmin(me)) if seen.any() else -1
        plateau_right = np.nan
        if saddle_first is not None and seen.any():
            later = [k for k in range(len(me)) if k != first]
            _, rank_s = order(np.atleast_2d(saddle_first)[i][later])
            _, rank_l = order(me[later])
            keep = np.isfinite(me[later])
            if np.isfinite(np.atleast_2d(saddle_first)[i][later][keep]).all():
                plateau_right = bool(np.all(np.asarray(rank_s)[keep] ==
                                            np.asarray(rank_l)[keep]))
        for k in range(predicted.shape[1]):
            row = {
                "point": labels[i] if labels is not None else str(i),
                "spike": k + 1,  # spikes (features) k = 1..K, as in the paper
                "rank": rank_m[k] + 1,
                "predicted": pr[k],
                "measured": me[k],
                "ratio": pr[k] / me[k] if me[k] > 0 else np.nan,
                "saddle": np.nan if saddle is None else np.atleast_2d(saddle)[i, k],
                "half": np.nan if half is None else np.atleast_2d(half)[i, k],
                "order_right": right,
                "plateau_order_right": plateau_right,
                "saddle_first": np.nan if saddle_first is None
                else np.atleast_2d(saddle_first)[i, k],
                "first": k == first,
            }
            for key, per_point in (("predicted_rep", predicted_rep),
                                   ("measured_rep", measured_rep)):
                row[key] = _mean_se_of(None if per_point is None else per_point[i], k)
            row["saddle_ratio"] = row["saddle"] / me[k] if me[k] > 0 else np.nan
            start = np.nan if saddle_from is None else np.atleast_2d(saddle_from)[i, k]
            # no prediction, no lead (files before the saddle fix kept the
            # plateau of a later, failed prediction)
            row["lead"] = me[k] - start if np.isfinite(row["saddle"]) else np.nan
            row["saddle_error"] = (row["saddle"] - me[k]) / row["lead"]
            row["saturation"] = row["half"] - me[k]
            rows.append(row)
    return rows


def _mean_se_of(reps, k):
    """(mean, se = sd / sqrt(R)) over the replicas of column k of reps
    (replicas x spikes); NaN without replicas or where one has no value."""
    if reps is None:
        return (np.nan, np.nan)
    return tuple(float(x) for x in mean_se(np.asarray(reps, float)[:, k], 0))


def summary(rows, tolerance=0.15):
    """Counts over rows: points with the order right, first escapes within
    the tolerance, and the spread of the ratios."""
    # one row per point is its first feature (labels need not be unique)
    firsts = [r for r in rows if r["first"]]
    points = [r["order_right"] for r in firsts]
    plateau = [r["plateau_order_right"] for r in firsts]
    within = [r for r in firsts if abs(r["ratio"] - 1) <= tolerance]
    later = [r for r in rows if not r["first"] and np.isfinite(r["measured"])]
    return {
        "points": len(firsts),
        "order_right": sum(points),
        "plateau_order_right": sum(v is True for v in plateau),
        "first_within": len(within),
        "first_ratio_range": (min(r["ratio"] for r in firsts), max(r["ratio"] for r in firsts))
        if firsts else (np.nan, np.nan),
        "later_ratio_range": (np.nanmin([r["ratio"] for r in later]),
                              np.nanmax([r["ratio"] for r in later])) if later else (np.nan,) * 2,
        "saddle_ratio_range": _range([r["saddle_ratio"] for r in later]),
        "saddle_error_range": _range([r["saddle_error"] for r in later]),
        "lead_range": _range([r["lead"] for r in later]),
    }


def _range(values):
    values = np.asarray(values, float)
    if not np.isfinite(values).any():
        return (np.nan, np.nan)
    return (np.nanmin(values), np.nanmax(values))


def _fmt(x, digits=3):
    if isinstance(x, tuple):  # (mean, se) over the replicas
        return "-" if not np.isfinite(x[0]) else f"{_fmt(x[0], digits)} ± {_fmt(x[1], 2)}"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        return "-" if not np.isfinite(x) else f"{x:.{digits}g}"
    return str(x)


COLUMNS = (("point", "point"), ("spike", "k"), ("rank", "measured rank"),
           ("predicted", "predicted t"), ("measured", "measured t"), ("ratio", "pred/meas"),
           ("saddle", "saddle t"), ("lead", "saddle lead"), ("saddle_error", "saddle err/lead"),
           ("saddle_first", "from 1st plateau t"), ("half", "half-final t"),
           ("order_right", "order right"), ("plateau_order_right", "order right from 1st plateau"))


REPLICA_COLUMNS = (("predicted_rep", "predicted t, replicas"),  # mean ± se
                   ("measured_rep", "measured t, replicas"))


def columns_for(rows):
    """COLUMNS, with REPLICA_COLUMNS after "measured t" where some row has
    replicas."""
    if not any(np.isfinite(r.get(key, (np.nan,))[0]) for r in rows for key, _ in REPLICA_COLUMNS):
        return COLUMNS
    at = [c[0] for c in COLUMNS].index("measured") + 1
    return COLUMNS[:at] + REPLICA_COLUMNS + COLUMNS[at:]


def markdown_table(rows, columns=COLUMNS):
    """The rows as a markdown table."""
    head = "| " + " | ".join(c[1] for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r[c[0]]) for c in columns) + " |" for r in rows]
    return "\n".join([head, rule] + body)


def plot(rows, path, title="linearised flow: predicted against measured escape"):
    """Predicted (head-symmetric and saddle-to-saddle) against measured
    escape times, log-log, with the diagonal and a +-15 % band."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    me = np.array([r["measured"] for r in rows])
    for key, style, label in (("predicted", "o", "from the head-symmetric trajectory"),
                              ("saddle_first", "^", "from the plateau after the first escape"),
                              ("saddle", "x", "from the last plateau before the escape")):
        pr = np.array([r.get(key, np.nan) for r in rows])
        first = np.array([r["first"] for r in rows])
        ok = np.isfinite(pr) & np.isfinite(me)
        if key == "predicted":
            ax.plot(me[ok & first], pr[ok & first], "o", color="C0",
                    label=label + ", first feature")
            ax.plot(me[ok & ~first], pr[ok & ~first], "o", mfc="none", color="C1",
                    label=label + ", later features")
        elif ok.any():
            ax.plot(me[ok], pr[ok], style, color="C2" if key == "saddle" else "C3",
                    mfc="none" if key == "saddle_first" else None, label=label)
    good = me[np.isfinite(me) & (me > 0)]
    lo, hi = good.min() / 1.5, good.max() * 1.5
    x = np.array([lo, hi])
    ax.plot(x, x, "k-", lw=0.8)
    ax.fill_between(x, 0.85 * x, 1.15 * x, color="k", alpha=0.1, label="+-15 %")
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlim(lo, hi), ax.set_ylim(lo, hi)
    ax.set_xlabel("measured escape time (ODE, max_h |m_hk| = threshold)")
    ax.set_ylabel("predicted escape time")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def read_points(path):
    """Every done point of a results file with stability predictions: a list
    of dicts (label, predicted, measured, saddle, half, split, measured split,
    t, m), read with h5py from the file's layout (docs/RESULTS.md)."""
    import h5py

    out = []
    with h5py.File(path, "r") as f:
        grid = f["grid"]
        # the label: the usual sweeps, and any other swept numerics
        cols = [c for c in ("activation", "H", "seed", "samples", "rtol") if c in grid
                and (c in ("activation", "H", "seed") or len(set(grid[c][()])) > 1)]
        for name, g in f["results"].items():
            if "stability" not in g:
                continue
            s = g["stability"]
            for row, point in enumerate(g["point"][()]):
                if grid["status"][point] != 1:
                    continue
                label = " ".join(
                    f"{c}={grid[c][point].decode() if isinstance(grid[c][point], bytes) else grid[c][point]}"
                    for c in cols)
                t, m = g["ode/t"][row], g["ode/m"][row]
                measured = s["measured_t"][row]
                reps = g["replicas"] if "replicas" in g else {}
                out.append({
                    "label": label, "t": t, "m": m,
                    "predicted": s["predicted_t"][row], "measured": measured,
                    "saddle": s["saddle_t"][row], "saddle_from": s["saddle_from"][row],
                    "saddle_first": s["saddle_first_t"][row] if "saddle_first_t" in s
                    else np.full(len(measured), np.nan),
                    "half": half_final_times(t, m),
                    "split": s["split"][row], "measured_split": signs_at(t, m, measured),
                    "growth": s["growth_rate"][row], "unstable": s["unstable_modes"][row],
                    "asymmetry": float(s["asymmetry"][row]),
                    "threshold": float(grid["stability_threshold"][point]),
                    # replicas x spikes (ode.replicas; predicted_t: revision 8 on)
                    "predicted_rep": reps["predicted_t"][row] if "predicted_t" in reps else None,
                    "measured_rep": reps["escape_t"][row] if "escape_t" in reps else None,
                })
    return out


def settled(t, m, fraction=0.5):
    """How much max_h |m_hk| still moved at the end: the largest change
    between the record nearest fraction * t_max and the last, relative to
    the last value (small: the run had converged past its escapes)."""
    size = np.max(np.abs(np.asarray(m, float)), axis=1)
    r = int(np.argmin(np.abs(np.asarray(t) - fraction * t[-1])))
    return float(np.max(np.abs(size[-1] - size[r]) / np.maximum(size[-1], 1e-12)))


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python3 -m headspec.stability",
                                 description="predicted against measured escape times "
                                             "of results files run with analysis.stability")
    ap.add_argument("files", nargs="+", help="results files (.h5)")
    ap.add_argument("--plot", help="draw predicted against measured times into this PNG")
    args = ap.parse_args(argv)
    all_rows = []
    for path in args.files:
        points = read_points(path)
        if not points:
            print(f"{path}: no points with stability predictions")
            continue
        rows = predicted_vs_measured([p["predicted"] for p in points],
                                     [p["measured"] for p in points],
                                     saddle=[p["saddle"] for p in points],
                                     saddle_from=[p["saddle_from"] for p in points],
                                     saddle_first=[p["saddle_first"] for p in points],
                                     half=[p["half"] for p in points],
                                     labels=[p["label"] for p in points],
                                     predicted_rep=[p["predicted_rep"] for p in points],
                                     measured_rep=[p["measured_rep"] for p in points])
        all_rows += rows
        print(f"## {path}\n")
        print(markdown_table(rows, columns_for(rows)))
        s = summary(rows)
        splits = {True: [], False: []}  # first feature, later ones
        for p in points:
            first = int(np.nanargmin(p["measured"]))
            for k in range(p["m"].shape[2]):
                if np.isfinite(p["measured"][k]) and np.any(p["split"][:, k]):
                    splits[k == first].append(
                        same_split(p["split"][:, k], p["measured_split"][:, k]))
        print(f"\norder right in {s['order_right']}/{s['points']} points (the later features' "
              f"order from the first plateau in {s['plateau_order_right']}/{s['points']}); first escape "
              f"within 15 % in {s['first_within']}/{s['points']} (ratios "
              f"{_fmt(s['first_ratio_range'][0])}-{_fmt(s['first_ratio_range'][1])}); later "
              f"features {_fmt(s['later_ratio_range'][0])}-{_fmt(s['later_ratio_range'][1])}, "
              f"saddle to saddle {_fmt(s['saddle_ratio_range'][0])}-"
              f"{_fmt(s['saddle_ratio_range'][1])} (error {_fmt(s['saddle_error_range'][0])} to "
              f"{_fmt(s['saddle_error_range'][1])} of leads {_fmt(s['lead_range'][0])}-"
              f"{_fmt(s['lead_range'][1])}); predicted head split = ODE's at the escape in "
              f"{sum(splits[True])}/{len(splits[True])} first features, "
              f"{sum(splits[False])}/{len(splits[False])} later ones; Jacobian asymmetry up to "
              f"{max(p['asymmetry'] for p in points):.2g}; max_h |m_hk| moved by up to "
              f"{max(settled(p['t'], p['m']) for p in points):.2g} over the second half\n")
    if args.plot and all_rows:
        plot(all_rows, args.plot)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
