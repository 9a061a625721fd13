#!/usr/bin/python3
"""The finite-training-set study (jobs/beyond/trainset_alpha.yaml, issue 21):
plots against alpha = n / d of the final test loss, the generalisation gap
(test loss minus the loss on the whole training set) and the heads'
overlaps, each the mean over seeds with its standard error, beside the
online limit (alpha = 0 in the job: fresh sequences at every step, at the
same time t) and the Bayes risk R*; and the loss on the training set
against t on a log axis, to check that it has stopped moving.

Standalone (h5py, numpy, matplotlib): reads the results file directly.

usage: trainset_study.py [RESULTS.h5] [FIGURE_DIR]
       (defaults: results/beyond/trainset_alpha.h5, docs/figures)
Prints the numbers the figures show (docs/REPRODUCTION.md quotes them in
section "Beyond the paper: finite training sets").
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ACTS = ["softmax", "softmax1", "bsoftmax"]
COLORS = {"softmax": "C0", "softmax1": "C1", "bsoftmax": "C2"}


def word(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def load(path):
    """One record per done point: its keys and final measures."""
    f = h5py.File(path, "r")
    grid = f["grid"]
    status = grid["status"][:]
    keys = {k: grid[k][:] for k in ("distribution", "activation", "seed", "alpha", "d")}
    rows = []
    for g in f["results"].values():
        for r, p in enumerate(g["point"][:]):
            if status[p] != 1:
                continue
            t = g["sgd/t"][r]
            m, Q = g["sgd/m"][r], g["sgd/Q"][r]
            train = g["sgd/train_set_loss"][r]
            q = np.sqrt(np.einsum("thh->th", Q))  # |w_h| / sqrt(d) at each record
            cos = m / q[:, :, None]  # overlap of head h with spike k, normalised
            rows.append(dict(
                dist=word(keys["distribution"][p]), act=word(keys["activation"][p]),
                seed=int(keys["seed"][p]), alpha=float(keys["alpha"][p]), t=t,
                test=g["sgd/test_loss"][r], train=train, lpop=g["sgd/lpop"][r],
                passes=g["sgd/passes"][r], m=m, Q=Q, cos=cos,
                bayes=float(g["bayes_risk"][r]), bayes_se=float(g["bayes_risk_se"][r])))
    return rows


def spread(x):
    """Half the difference of the two heads along spike 2 (the flipping
    direction): 0 when both heads are alike, |m_h2| when they split."""
    return np.abs(x[..., 0, 1] - x[..., 1, 1]) / 2


def spike_plane(x):
    """Mean over heads of the norm of the normalised overlaps: how far the
    heads lie in the spikes' plane (1: inside it)."""
    return np.linalg.norm(x, axis=-1).mean(axis=-1)


def head_cosine(m):
    """Cosine between the two heads' spike projections m_1, m_2 (MODEL.md
    section 8): +1 alike, -1 opposite (split), 0 orthogonal."""
    a, b = m[0], m[1]
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def measures(r):
    """The final values plotted, of one point."""
    gap = r["test"][-1] - r["train"][-1]
    return dict(test=r["test"][-1], train=r["train"][-1], gap=gap, lpop=r["lpop"][-1],
                spread=spread(r["m"][-1]), spread_cos=spread(r["cos"][-1]),
                plane=spike_plane(r["cos"][-1]), norm=np.sqrt(np.diag(r["Q"][-1])).mean(),
                heads=head_cosine(r["m"][-1]))


def table(rows, dist, act, what):
    """alphas (online excluded), means and standard errors over seeds; the
    online limit's mean and SE."""
    sel = [r for r in rows if r["dist"] == dist and r["act"] == act]
    alphas = sorted({r["alpha"] for r in sel if r["alpha"] > 0})

    def stat(vals):
        vals = np.array(vals, dtype=float)
        se = vals.std(ddof=1) / np.sqrt(len(vals)) if len(vals) > 1 else np.nan
        return vals.mean(), se, len(vals)

    per = [stat([measures(r)[what] for r in sel if r["alpha"] == a]) for a in alphas]
    online = stat([measures(r)[what] for r in sel if r["alpha"] == 0])
    return np.array(alphas), np.array([p[0] for p in per]), np.array([p[1] for p in per]), online


def bayes(rows, dist):
    """R*: its points with one seed share their Monte Carlo samples, so one
    value per seed, averaged over the seeds."""
    per_seed = {r["seed"]: (r["bayes"], r["bayes_se"]) for r in rows if r["dist"] == dist}
    vals = np.array(list(per_seed.values()))
    return float(vals[:, 0].mean()), float(np.sqrt((vals[:, 1] ** 2).sum())) / len(vals)


def against_alpha(rows, dists, what, ylabel, path, with_bayes=False, zero_line=False):
    fig, axes = plt.subplots(1, len(dists), figsize=(5.2 * len(dists), 4), squeeze=False)
    for ax, dist in zip(axes[0], dists):
        online_drawn = False
        for act in ACTS:
            a, mean, se, online = table(rows, dist, act, what)
            if not len(a):
                continue
            ax.errorbar(a, mean, yerr=se, marker="o", ms=4, capsize=3, color=COLORS[act],
                        label=act)
            if not np.isnan(online[0]):
                ax.axhline(online[0], color=COLORS[act], ls="--", lw=1)
                online_drawn = True
        if with_bayes:
            rs, _ = bayes(rows, dist)
            ax.axhline(rs, color="k", ls=":", lw=1.2, label="R* (Bayes)")
        if zero_line:
            ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("alpha = n / d")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{dist} (dashed: online SGD, same t)" if online_drawn else dist)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def overlaps(rows, path):
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    panels = [("flipping", "spread", "|m_12 - m_22| / 2: split along the flipping spike"),
              ("flipping", "spread_cos", "the same for m_h2 / |w_h| (cosines)"),
              ("iso_gaussian", "plane", "mean_h |m_h| / |w_h| (1: heads in the spikes' plane)"),
              ("iso_gaussian", "heads", "cos(m_1, m_2): +1 alike, -1 opposite")]
    for ax, (dist, what, label) in zip(axes.flat, panels):
        for act in ACTS:
            a, mean, se, online = table(rows, dist, act, what)
            if not len(a):
                continue
            ax.errorbar(a, mean, yerr=se, marker="o", ms=4, capsize=3, color=COLORS[act],
                        label=act)
            if not np.isnan(online[0]):
                ax.axhline(online[0], color=COLORS[act], ls="--", lw=1)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("alpha = n / d")
        ax.set_ylabel(label)
        ax.set_title(f"{dist}: final heads (dashed: online)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def convergence(rows, dists, path):
    """Loss on the training set (solid) and test loss (dotted) against t,
    seed means, one curve per alpha."""
    fig, axes = plt.subplots(len(dists), 3, figsize=(15, 3.6 * len(dists)), squeeze=False)
    alphas = sorted({r["alpha"] for r in rows if r["alpha"] > 0})
    cmap = plt.get_cmap("viridis")
    for i, dist in enumerate(dists):
        for j, act in enumerate(ACTS):
            ax = axes[i][j]
            for k, a in enumerate(alphas):
                sel = [r for r in rows if r["dist"] == dist and r["act"] == act and r["alpha"] == a]
                if not sel:
                    continue
                t = sel[0]["t"][1:]
                c = cmap(k / max(len(alphas) - 1, 1))
                ax.plot(t, np.mean([r["train"][1:] for r in sel], axis=0), color=c,
                        label=f"alpha {a:g}")
                ax.plot(t, np.mean([r["test"][1:] for r in sel], axis=0), color=c, ls=":")
            on = [r for r in rows if r["dist"] == dist and r["act"] == act and r["alpha"] == 0]
            if on:
                ax.plot(on[0]["t"][1:], np.mean([r["test"][1:] for r in on], axis=0), "k--",
                        label="online (test)")
            ax.set_xscale("log")
            ax.set_xlabel("t")
            ax.set_ylabel("loss: training set (solid), test (dotted)")
            ax.set_title(f"{dist}, {act}")
            if i == 0 and j == 0:
                ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(rows, dists):
    for dist in dists:
        rs, rse = bayes(rows, dist)
        print(f"\n== {dist}: R* = {rs:.4f} +- {rse:.4f}")
        for act in ACTS:
            print(f"-- {act}")
            cols = ["test", "train", "gap", "spread", "spread_cos", "plane", "heads", "norm"]
            data = {w: table(rows, dist, act, w) for w in cols}
            a = data["test"][0]
            print("  alpha  " + "  ".join(f"{w:>15s}" for w in cols))
            for i, al in enumerate(a):
                print(f"  {al:5g}  " + "  ".join(
                    f"{data[w][1][i]:7.3f}+-{data[w][2][i]:5.3f}" for w in cols))
            print("  online " + "  ".join(
                f"{data[w][3][0]:7.3f}+-{data[w][3][1]:5.3f}" for w in cols))
    # convergence: the change of the loss on the set over the last factor
    # of 2 in t (records are log-spaced); online points: the test loss
    print("\n== convergence: L(t_max/2) - L(t_max) of the loss on the set (online: the "
          "test loss), the largest over seeds; and the test loss's change")
    for dist in dists:
        for act in ACTS:
            sel = [r for r in rows if r["dist"] == dist and r["act"] == act]
            out = []
            for a in sorted({r["alpha"] for r in sel}):
                ch, te = [], []
                for r in sel:
                    if r["alpha"] != a:
                        continue
                    loss = r["test"] if a == 0 else r["train"]
                    j = np.argmin(np.abs(r["t"] - r["t"][-1] / 2))
                    ch.append(loss[j] - loss[-1])
                    te.append(r["test"][j] - r["test"][-1])
                out.append(f"{a:g}:{max(ch, key=abs):+.3f}/{max(te, key=abs):+.3f}")
            print(f"  {dist:12s} {act:9s} " + " ".join(out))


def markdown(rows, dists):
    """The key numbers as markdown tables (docs/REPRODUCTION.md, section
    "Beyond the paper: finite training sets")."""
    for dist in dists:
        print(f"\n{dist}: final test loss / generalisation gap / cos(m_1, m_2), "
              "mean +- SE over seeds")
        print("\n| alpha | " + " | ".join(ACTS) + " |")
        print("|---|" + "---|" * len(ACTS))
        data = {(a, w): table(rows, dist, a, w) for a in ACTS for w in ("test", "gap", "heads")}
        alphas = data[(ACTS[0], "test")][0]
        for i, al in enumerate(alphas):
            cells = [" / ".join(f"{data[(a, w)][1][i]:.3f} +- {data[(a, w)][2][i]:.3f}"
                                for w in ("test", "gap", "heads")) for a in ACTS]
            print(f"| {al:g} | " + " | ".join(cells) + " |")
        cells = [f"{data[(a, 'test')][3][0]:.3f} +- {data[(a, 'test')][3][1]:.3f} / - / "
                 f"{data[(a, 'heads')][3][0]:.3f} +- {data[(a, 'heads')][3][1]:.3f}" for a in ACTS]
        print("| online | " + " | ".join(cells) + " |")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "results/beyond/trainset_alpha.h5"
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/figures"
    os.makedirs(out, exist_ok=True)
    rows = load(path)
    dists = [d for d in ("flipping", "iso_gaussian") if any(r["dist"] == d for r in rows)]
    print(f"{len(rows)} done points from {path}")
    against_alpha(rows, dists, "test", "final test loss", f"{out}/trainset_test_loss.png",
                  with_bayes=True)
    against_alpha(rows, dists, "gap", "generalisation gap: test - training-set loss",
                  f"{out}/trainset_gap.png", zero_line=True)
    overlaps(rows, f"{out}/trainset_overlap.png")
    convergence(rows, dists, f"{out}/trainset_convergence.png")
    report(rows, dists)
    markdown(rows, dists)


if __name__ == "__main__":
    main()
