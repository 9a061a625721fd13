#!/usr/bin/python3
"""The paper's claims that its figures do not test (issue 29, items 6-7):
prints the Markdown tables docs/REPRODUCTION.md quotes in sections "Beyond
the paper: finite-size scaling" and "Beyond the paper: claims not covered
by the figures", and draws their figures. The measures are
headspec.claims's (tested in analysis/tests/test_claims.py).

usage: claims_study.py PART [RESULTS.h5] [FIGURE_DIR]
  finite-size   jobs/beyond/finite_size_escape.yaml: the escape time of the
                flipping split against ln d (SGD and the ODE), fitted
                slopes against the linearised flow's 1 / (2 mu)
  finite-size-ode  jobs/beyond/finite_size_ode.yaml: the ODE alone, twelve
                seeds, d = 250-64000: the same slopes
  trainset      jobs/beyond/trainset_sizes.yaml: split counts against alpha
                at d = 50, 100, 200, the crossing alpha_c, the test loss
  trainset-long jobs/beyond/trainset_long.yaml: d = 100's small alphas to
                t = 4800: does the test loss stop rising?
  lemmas        jobs/beyond/specialisation_lemmas.yaml: Lemma III.2's
                angles, Lemma A.4's biases and lambda, the paper's start
  large-signal  jobs/beyond/large_signal.yaml: Prop. IV.3 at beta >= 4
(default results file: results/beyond/JOB.h5; figures into docs/figures)
Standalone (h5py, numpy, matplotlib) beside the headspec package.
"""
import math
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# the package beside this folder, as for the other scripts here
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from headspec import claims, stability  # noqa: E402

JOBS = {"finite-size": "finite_size_escape", "finite-size-ode": "finite_size_ode",
        "trainset": "trainset_sizes",
        "trainset-long": "trainset_long",
        "lemmas": "specialisation_lemmas", "large-signal": "large_signal"}
THRESHOLD = 0.1  # the escape: max_h |m_hk| reaches it (analysis.stability_threshold)


def word(x):
    return x.decode() if isinstance(x, bytes) else x


def load(path, fields, keys):
    """One dict per done point: the grid keys asked for and the fields
    (paths inside a results group, e.g. "sgd/m") of its row."""
    rows = []
    with h5py.File(path, "r") as f:
        grid = f["grid"]
        status = grid["status"][:]
        cols = {k: grid[k][:] for k in keys}
        for g in f["results"].values():
            have = [x for x in fields if x in g]
            data = {x: g[x][:] for x in have}
            for r, p in enumerate(g["point"][:]):
                if status[p] != 1:
                    continue
                row = {k: word(cols[k][p]) for k in keys}
                row.update({x: data[x][r] for x in have})
                rows.append(row)
    return rows


def mean_se(vals):
    v = np.asarray([x for x in vals if np.isfinite(x)], float)
    if not len(v):
        return math.nan, math.nan, 0
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
    return float(v.mean()), se, len(v)


def fmt(m, se, digits=2):
    if not np.isfinite(m):
        return "-"
    return f"{m:.{digits}f}" if not np.isfinite(se) else f"{m:.{digits}f} +- {se:.{digits}f}"


# --- finite-size scaling of the escape (Prop. III.4) ------------------------

def escapes(rows):
    """Per point: d, seed, the SGD and ODE escape times of spike 2 (the
    flipping direction), the linearised flow's prediction and growth rate."""
    out = []
    for r in rows:
        out.append(dict(d=int(r["d"]), seed=int(r["seed"]),
                        sgd=stability.escape_times(r["sgd/t"], r["sgd/m"], THRESHOLD)[1],
                        ode=stability.escape_times(r["ode/t"], r["ode/m"], THRESHOLD)[1],
                        pred=float(r["stability/predicted_t"][1]),
                        mu=float(r["stability/growth_rate"][1]),
                        seed_size=claims.split_amplitude(r["ode/m"][0][:, 1])))
    return out


def finite_size(path, figdir):
    rows = load(path, ["sgd/t", "sgd/m", "ode/t", "ode/m", "stability/predicted_t",
                       "stability/growth_rate"], ["d", "seed"])
    e = escapes(rows)
    ds = sorted({x["d"] for x in e})
    print("| d | SGD escape | ODE escape | linearised flow's prediction | mu (growth rate) "
          "| seeds |")
    print("|---|---|---|---|---|---|")
    for d in ds:
        sel = [x for x in e if x["d"] == d]
        print(f"| {d} | " + " | ".join(fmt(*mean_se([x[w] for x in sel])[:2]) for w in
                                          ("sgd", "ode", "pred")) +
              f" | {fmt(*mean_se([x['mu'] for x in sel])[:2], digits=4)} | {len(sel)} |")
    mu = np.array([x["mu"] for x in e])
    want = float(np.mean(claims.predicted_log_slope(mu)))
    print()
    print(f"predicted slope 1 / (2 mu): {want:.3f} (mu {mu.mean():.4f}, range "
          f"{mu.min():.4f}-{mu.max():.4f} over the points)")
    fits = {}
    sgd_d = sorted({x["d"] for x in e if np.isfinite(x["sgd"])})
    for w, sel, name in (("sgd", e, "SGD"),
                         ("ode", [x for x in e if x["d"] in sgd_d], "ODE, SGD's d"),
                         ("ode", e, "ODE, every d"), ("pred", e, "linearised flow, every d")):
        s, se, a, n = claims.log_slope([x["d"] for x in sel], [x[w] for x in sel])
        fits[w] = (s, a)
        print(f"fitted slope d t_esc / d ln d, {name}: {s:.3f} +- {se:.3f} ({n} points), "
              f"ratio to 1/(2 mu): {s / want:.2f} +- {se / want:.2f}")
    print()
    print("The start's split seed A = |m_12 - m_22| / 2 at t = 0 (the sum-zero part of m[:, 2]):")
    s, se, a, n = claims.log_slope([x["d"] for x in e], [math.log(x["seed_size"]) for x in e])
    print(f"  d ln A / d ln d: {s:.3f} +- {se:.3f} ({n} points; a seed ~ d^(-1/2): -0.5)")
    for w, name in (("ode", "ODE"), ("sgd", "SGD"), ("pred", "linearised flow")):
        s, se, a, n = claims.log_slope([1 / x["seed_size"] for x in e], [x[w] for x in e])
        print(f"  d t_esc / d ln(1/A), {name}: {s:.3f} +- {se:.3f} ({n} points), times mu: "
              f"{s * mu.mean():.2f} +- {se * mu.mean():.2f} (growth exp(mu t) from A: 1)")
    fig, ax = plt.subplots(figsize=(6, 4.2))
    x = np.log(ds)
    for w, c, lab in (("sgd", "C0", "SGD"), ("ode", "C1", "ODE from the same start"),
                      ("pred", "C2", "linearised flow")):
        ax.plot([math.log(p["d"]) for p in e], [p[w] for p in e], "o", color=c, ms=4, alpha=0.6)
        s, a = fits[w]
        xs = np.log([d for d in ds if any(p["d"] == d and np.isfinite(p[w]) for p in e)])
        ax.plot(xs, a + s * xs, "-", color=c, label=f"{lab}: slope {s:.2f}")
    ode_mid = fits["ode"][1] + fits["ode"][0] * x.mean()
    ax.plot(x, ode_mid + want * (x - x.mean()), "k--", label=f"1 / (2 mu) = {want:.2f}")
    ax.set_xticks(x)
    ax.set_xticklabels([str(d) for d in ds])
    ax.set_xlabel("d (log axis)")
    ax.set_ylabel(f"escape time (max_h |m_h2| = {THRESHOLD})")
    ax.set_title("flipping (1, +-2), H = 2, softmax: escape against ln d")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(figdir, "finite_size_escape.png"), dpi=120)
    plt.close(fig)


def finite_size_ode(path, figdir, mu=None):
    """The ODE alone from each d's start, many seeds: the escape time of
    spike 2 against ln d and against ln(1/A) (A the start's split seed),
    with the growth rate mu of finite_size_escape's stability phase
    (mu: its mean, read from that file unless given)."""
    rows = load(path, ["ode/t", "ode/m"], ["d", "seed"])
    if mu is None:
        other = os.path.join(os.path.dirname(path), "finite_size_escape.h5")
        mu = float(np.mean([x["mu"] for x in escapes(load(
            other, ["sgd/t", "sgd/m", "ode/t", "ode/m", "stability/predicted_t",
                    "stability/growth_rate"], ["d", "seed"]))]))
    e = [dict(d=int(r["d"]), t=stability.escape_times(r["ode/t"], r["ode/m"], THRESHOLD)[1],
              A=claims.split_amplitude(r["ode/m"][0][:, 1])) for r in rows]
    ds = sorted({x["d"] for x in e})
    print("| d | ODE escape (mean +- SE) | ln A (mean +- SE) | seeds | not escaped by t_max |")
    print("|---|---|---|---|---|")
    for d in ds:
        sel = [x for x in e if x["d"] == d]
        print(f"| {d} | {fmt(*mean_se([x['t'] for x in sel])[:2])} | "
              f"{fmt(*mean_se([math.log(x['A']) for x in sel])[:2])} | {len(sel)} | "
              f"{sum(not np.isfinite(x['t']) for x in sel)} |")
    want = float(claims.predicted_log_slope(mu))
    print()
    s, se, a, n = claims.log_slope([x["d"] for x in e], [x["t"] for x in e])
    print(f"d t_esc / d ln d: {s:.3f} +- {se:.3f} ({n} points); 1 / (2 mu) = {want:.3f} "
          f"(mu {mu:.4f}); ratio {s / want:.2f} +- {se / want:.2f}")
    s, se, a, n = claims.log_slope([x["d"] for x in e], [math.log(x["A"]) for x in e])
    print(f"d ln A / d ln d: {s:.3f} +- {se:.3f} ({n} points; -0.5 expected)")
    s, se, a, n = claims.log_slope([1 / x["A"] for x in e], [x["t"] for x in e])
    print(f"d t_esc / d ln(1/A): {s:.3f} +- {se:.3f}; 1 / mu = {1 / mu:.3f}; "
          f"effective rate 1 / slope = {1 / s:.3f}")


# --- the finite-training-set transition at several d ------------------------

def trainset_points(rows):
    out = []
    for r in rows:
        t, test = r["sgd/t"], r["sgd/test_loss"]
        half = claims.at_time(t, test, t[-1] / 2)
        rise = claims.log_rate([t[-1] / 2, t[-1]], [half, test[-1]])[0]
        out.append(dict(act=r["activation"], d=int(r["d"]), alpha=float(r["alpha"]),
                        seed=int(r["seed"]), heads=claims.head_clusters(r["sgd/m"][-1]),
                        test=float(test[-1]), rise=float(rise)))
    return out


def trainset(path, figdir):
    rows = load(path, ["sgd/t", "sgd/m", "sgd/test_loss"], ["activation", "d", "alpha", "seed"])
    pts = trainset_points(rows)
    acts = [a for a in ("softmax", "softmax1", "bsoftmax") if any(p["act"] == a for p in pts)]
    alphas = sorted({p["alpha"] for p in pts})
    ds = sorted({p["d"] for p in pts})
    print("Runs whose heads split (2 clusters at cosine 0.9) of the seeds, and alpha_c "
          "(split fraction 1/2, log-linear):")
    print()
    print("| activation | d | " + " | ".join(f"alpha {a:g}" for a in alphas) + " | alpha_c |")
    print("|---|---|" + "---|" * (len(alphas) + 1))
    frac = {}
    for act in acts:
        for d in ds:
            cells, fr = [], []
            for a in alphas:
                sel = [p for p in pts if p["act"] == act and p["d"] == d and p["alpha"] == a]
                k = sum(p["heads"] == 2 for p in sel)
                cells.append(f"{k}/{len(sel)}" if sel else "-")
                fr.append(k / len(sel) if sel else math.nan)
            frac[act, d] = np.array(fr)
            ac = claims.crossing(alphas, fr)
            where = (f"<= {alphas[0]:g}" if fr[0] >= 0.5 else
                     f"> {alphas[-1]:g}" if not np.isfinite(ac) else f"{ac:.2f}")
            print(f"| {act} | {d} | " + " | ".join(cells) + f" | {where} |")
    print()
    print("Final test loss (mean +- SE over seeds) and its log-rate from t/2 to t (> 0: rising):")
    print()
    print("| activation | d | " + " | ".join(f"alpha {a:g}" for a in alphas) + " |")
    print("|---|---|" + "---|" * len(alphas))
    for act in acts:
        for d in ds:
            cells = []
            for a in alphas:
                sel = [p for p in pts if p["act"] == act and p["d"] == d and p["alpha"] == a]
                m, se, _ = mean_se([p["test"] for p in sel])
                rise = max((p["rise"] for p in sel), default=math.nan)
                cells.append(f"{fmt(m, se, 3)} ({rise:+.3f})")
            print(f"| {act} | {d} | " + " | ".join(cells) + " |")
    fig, grid = plt.subplots(len(acts), 2, figsize=(10, 3.8 * len(acts)), squeeze=False)
    axes = [grid.ravel()]  # the panels in reading order, two per activation
    for i, act in enumerate(acts):
        for j, d in enumerate(ds):
            c = f"C{j}"
            axes[0][2 * i].plot(alphas, frac[act, d], "o-", color=c, label=f"d = {d}")
            m = [mean_se([p["test"] for p in pts if p["act"] == act and p["d"] == d and
                          p["alpha"] == a]) for a in alphas]
            axes[0][2 * i + 1].errorbar(alphas, [x[0] for x in m], yerr=[x[1] for x in m],
                                        marker="o", ms=4, capsize=3, color=c, label=f"d = {d}")
        axes[0][2 * i].set_ylabel("fraction of seeds with 2 distinct heads")
        axes[0][2 * i].set_ylim(-0.05, 1.05)
        axes[0][2 * i + 1].set_ylabel("final test loss")
        for ax in axes[0][2 * i:2 * i + 2]:
            ax.set_xscale("log", base=2)
            ax.set_xlabel("alpha = n / d")
            ax.set_title(f"flipping (1, +-2), H = 2, {act}")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(figdir, "trainset_sizes.png"), dpi=110)
    plt.close(fig)


def trainset_long(path, figdir):
    """The small-alpha points run 8x longer: test loss and split count at
    t = 600 and at the end, the test loss's log-rate over each of the last
    three doublings of t."""
    rows = load(path, ["sgd/t", "sgd/m", "sgd/test_loss"], ["d", "alpha", "seed"])
    print("| alpha | seed | test loss at 600 | at 4800 | log-rate 600-1200 | 1200-2400 | "
          "2400-4800 | heads at 600 | heads at 4800 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (float(r["alpha"]), int(r["seed"]))):
        t, test, m = r["sgd/t"], r["sgd/test_loss"], r["sgd/m"]
        end = t[-1]
        at = [float(claims.at_time(t, test, end / 2 ** i)) for i in (3, 2, 1, 0)]
        rates = claims.log_rate([end / 8, end / 4, end / 2, end], at)
        print(f"| {float(r['alpha']):g} | {r['seed']} | {at[0]:.4f} | {at[3]:.4f} | " +
              " | ".join(f"{x:+.4f}" for x in rates) +
              f" | {claims.head_clusters(claims.at_time(t, m, end / 8))} | "
              f"{claims.head_clusters(m[-1])} |")


# --- Lemma III.2, Lemma A.4, the paper's start ------------------------------

def lemmas(path, figdir):
    rows = load(path, ["ode/t", "ode/m", "ode/b", "ode/lambda", "ode/loss"],
                ["activation", "seed", "start", "start_noise", "H"])
    H = int(rows[0]["H"])
    print(f"Lemma III.2: |cos| in head space between the escaping column m[:, k] and each "
          f"column m[:, j] learned before it, at max_h |m_hk| = 0.1 (the escape) and 0.3, and "
          f"between m[:, j] and m[:, k]'s growth from its plateau to its escape (random "
          f"directions in R^{H}: E|cos| = {claims.random_abs_cosine(H):.3f}); start: SGD")
    print()
    print("| activation | seed | feature k, against j | at escape | at 0.3 | growth |")
    print("|---|---|---|---|---|---|")
    growth = {}
    for r in rows:
        if r["start"] != "sgd":
            continue
        for g in claims.learned_angles(r["ode/t"], r["ode/m"], THRESHOLD, at=(0.1, 0.3)):
            growth.setdefault(r["activation"], []).append(g["growth"])
            print(f"| {r['activation']} | {r['seed']} | {g['k'] + 1}, {g['j'] + 1} | "
                  f"{g['at'][0.1]:.3f} | {g['at'][0.3]:.3f} | {g['growth']:.3f} |")
    print()
    for act, v in growth.items():
        m, se, n = mean_se(v)
        print(f"{act}: growth |cos| mean {fmt(m, se, 3)} over {n} pairs, "
              f"{sum(x < 0.1 for x in v)} below 0.1, {sum(x > 0.5 for x in v)} above 0.5")
    print()
    print("Lemma A.4: on the plateau (t1/2, t1 the first escape): biases' spread over heads, "
          "mean bias, lambda, log-rates d ln / d ln t over [t1/4, t1/2]; at t = 300: spread "
          "and lambda's log-rate")
    print()
    print("| activation | seed | t1 | b spread | mean b | lambda | lambda rate | mean-b rate | "
          "b spread at 300 | lambda rate at 300 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["start"] != "sgd" or r["activation"] == "softmax":
            continue
        s = claims.plateau_state(r["ode/t"], r["ode/m"], r["ode/b"], r["ode/lambda"], THRESHOLD)
        s["end_spread"] = float(np.ptp(r["ode/b"][-1]))
        s["end_lam_rate"] = float(claims.log_rate(r["ode/t"][-2:], r["ode/lambda"][-2:])[0])
        lam = (f"{s['lam']:.4f} | {s['lam_rate']:.1e}" if r["activation"] == "softmax1"
               else "- | -")
        end = f"{s['end_lam_rate']:.1e}" if r["activation"] == "softmax1" else "-"
        # the B-softmax's mean bias does not move (a common shift of b changes nothing)
        brate = f"{s['b_rate']:.1e}" if r["activation"] == "softmax1" else "-"
        print(f"| {r['activation']} | {r['seed']} | {s['t1']:.1f} | {s['spread']:.2e} | "
              f"{s['bmean']:.4f} | {lam} | {brate} | {s['end_spread']:.3f} | {end} |")
    print()
    print("The paper's start (m = 0, Q = sigma0^2 I plus start_noise) against the SGD start: "
          "escape times of features 1-3 and the loss at t = 300, mean +- SE over seeds")
    print()
    print("| activation | start | t_esc 1 | t_esc 2 | t_esc 3 | loss at 300 |")
    print("|---|---|---|---|---|---|")
    for act in ("softmax", "softmax1", "bsoftmax"):
        for start, noise in (("sgd", 0.0), ("given", 0.016), ("given", 0.0016)):
            sel = [r for r in rows if r["activation"] == act and r["start"] == start and
                   abs(float(r["start_noise"]) - noise) < 1e-12]
            if not sel:
                continue
            esc = np.array([stability.escape_times(r["ode/t"], r["ode/m"], THRESHOLD) for r in sel])
            cells = [fmt(*mean_se(esc[:, k])[:2], digits=1) for k in range(esc.shape[1])]
            loss = fmt(*mean_se([r["ode/loss"][-1] for r in sel])[:2], digits=4)
            label = "SGD draw (d = 1000)" if start == "sgd" else f"m = 0 + noise {noise:g}"
            print(f"| {act} | {label} | " + " | ".join(cells) + f" | {loss} |")


# --- Prop. IV.3's large-signal limit ----------------------------------------

def large_signal(path, figdir):
    rows = load(path, ["ode/loss_fresh", "ode/loss_fresh_se", "bayes_risk", "bayes_risk_se",
                       "ode/converged", "ode/t_stop", "ode/loss_rate"],
                ["activation", "beta", "seed"])
    betas = sorted({float(r["beta"]) for r in rows})
    acts = [a for a in ("softmax", "softmax1", "bsoftmax") if any(r["activation"] == a
                                                                 for r in rows)]
    print("Out-of-sample loss (mean over seeds +- SE where several) against R*; the points "
          "whose loss converged (loss rate < 1e-3) / whose state did too, and the stop times")
    print()
    print("| beta | " + " | ".join(acts) + " | R* | softmax1 / R* | softmax - R* | "
          "conv. loss/state: " + ", ".join(acts) + " | t_stop (max) |")
    print("|---|" + "---|" * (len(acts) + 5))
    for beta in betas:
        sel = {a: [r for r in rows if r["activation"] == a and float(r["beta"]) == beta]
               for a in acts}
        loss = {a: mean_se([r["ode/loss_fresh"] for r in sel[a]]) for a in acts}
        rs = mean_se([r["bayes_risk"] for r in rows if float(r["beta"]) == beta])[0]
        conv = ", ".join(f"{sum(float(r['ode/loss_rate']) < 1e-3 for r in sel[a])}/"
                         f"{sum(int(r['ode/converged']) for r in sel[a])} of {len(sel[a])}"
                         for a in acts)
        stop = max((float(r["ode/t_stop"]) for a in acts for r in sel[a]), default=math.nan)
        print(f"| {beta:g} | " + " | ".join(fmt(loss[a][0], loss[a][1], 4) for a in acts) +
              f" | {rs:.4f} | {loss['softmax1'][0] / rs:.2f} | {loss['softmax'][0] - rs:.4f} | "
              f"{conv} | {stop:.0f} |")
    print()
    print("Power of beta between neighbouring betas, d ln loss / d ln beta:")
    for a in ("softmax", "softmax1"):
        loss = [mean_se([r["ode/loss_fresh"] for r in rows if r["activation"] == a and
                         float(r["beta"]) == b])[0] for b in betas]
        print(f"  {a}: " + ", ".join(f"{x:.2f}" for x in claims.log_rate(betas, loss)))
    rs = [mean_se([r["bayes_risk"] for r in rows if float(r["beta"]) == b])[0] for b in betas]
    print("  R*: " + ", ".join(f"{x:.2f}" for x in claims.log_rate(betas, rs)))


def main(argv):
    if len(argv) < 2 or argv[1] not in JOBS:
        sys.exit(__doc__)
    part = argv[1]
    path = argv[2] if len(argv) > 2 else f"results/beyond/{JOBS[part]}.h5"
    figdir = argv[3] if len(argv) > 3 else "docs/figures"
    parts = {"finite-size": finite_size, "finite-size-ode": finite_size_ode,
             "trainset": trainset, "trainset-long": trainset_long, "lemmas": lemmas,
             "large-signal": large_signal}
    parts[part](path, figdir)


if __name__ == "__main__":
    main(sys.argv)
