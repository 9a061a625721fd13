"""Plot kinds drawn as lines: dynamics (loss and m against t), vs (a
final quantity against a swept key), pruning (loss against heads kept)."""
import os

import numpy as np

from . import draw
from .layout import Layout, count_text, grid, label, legend_unconverged, quantity_text, save
from .query import (PlotError, at, bayes_against, bayes_from, bayes_levels, combos,
                    default_quantity, final_quantity, flagged, fmt, mean_se, numeric_swept, pick,
                    source_part, stored_se, unconverged)
from .replicas import band, curve_mean_se


def dynamics(res, out, loss="lpop", **kw):
    """Loss (top) and m_hk (bottom) against t: ODE lines, SGD markers;
    panels (columns) and lines from swept keys; Bayes risk dotted. Where
    the ODE has replicas, bands of mean ± se over them: of the loss, and
    of max_h |m_hk| per spike (the lines are replica 0, ode/)."""
    lay = Layout(res, "dynamics", **kw)
    sel = lay.selection
    bands = {name: tuple(pick(x, sel) for x in both)
             for name in ("loss", "m") for both in [curve_mean_se(res, name)] if both}
    sgd_loss = pick(res.array("sgd/" + loss), sel)
    ode_loss = pick(res.array("ode/loss"), sel)
    sgd_m, ode_m = pick(res.array("sgd/m"), sel), pick(res.array("ode/m"), sel)
    bayes = pick(res.array("bayes_risk"), sel)
    panels = combos(ode_loss, lay.panels, sgd_loss)
    bad = unconverged(res, lay.selection)
    fig, axes = grid(2, len(panels))
    for c, panel in enumerate(panels):
        top, bottom = axes[0, c], axes[1, c]
        lines = lay.lines_with_data(panel, ode_loss, sgd_loss)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = dict(panel, **ln)
            o, s = at(ode_loss, cell), at(sgd_loss, cell)
            flag = bool(flagged(bad, cell))  # dashed: still moving at its end
            top.plot(o.time, o.values, "--" if flag else "-", color=color,
                     label=label(ln) or None)
            if "loss" in bands:
                band(top, o.time, *(at(x, cell).values for x in bands["loss"]), color)
            top.plot(s.time, s.values, "o", ms=3.5, color=color, mfc="none")
        _bayes_levels(top, lay, bayes, panel, lines, colors)
        if any(flagged(bad, dict(panel, **ln)) for ln in lines):
            legend_unconverged(top)
        top.set_title(lay.title(at(ode_loss, panel), label(panel)), fontsize=9)
        top.set_ylabel("population loss (ODE -, SGD o: %s)" % loss, fontsize=8)
        top.legend(fontsize=7)
        if lines:
            first = dict(panel, **lines[0])
            om, sm = at(ode_m, first), at(sgd_m, first)
            first_head = om.coords["head"].values[0]
            for k in om.coords["spike"].values:  # heads and spikes labelled from 1
                color = "C%d" % ((3 * (int(k) - 1)) % 10)
                for h in om.coords["head"].values:
                    o = om.sel(head=h, spike=k)
                    if not np.isfinite(o.values).any() and not np.isfinite(
                            sm.sel(head=h, spike=k).values).any():
                        continue
                    bottom.plot(o.time, o.values, "-", color=color, lw=1,
                                label="m_h%d" % k if h == first_head else None)
                    s = sm.sel(head=h, spike=k)
                    bottom.plot(s.time, s.values, "o", ms=3, color=color, mfc="none")
                if "m" in bands:  # max_h |m_hk|: heads differ between replicas
                    band(bottom, om.time, *(at(x, first).sel(spike=k).values
                                            for x in bands["m"]), color)
            bottom.set_title("m_hk per head, %s%s" % (label(lines[0]) or "all heads", (
                "; bands: max_h |m_hk| over replicas" if "m" in bands else "")), fontsize=9)
            bottom.legend(fontsize=7)
        bottom.set_xlabel("t")
        bottom.set_ylabel("m_hk (ODE -, SGD o)", fontsize=8)
    return save(fig, out)


def vs(res, out, x=None, q=None, bayes=None, **kw):
    """A final quantity (default: the out-of-sample SGD Lpop, else the
    ODE's, else the SGD test loss, else the ODE loss) against one swept
    key, one line per activation, seeds averaged (error bars: standard
    error over seeds combined with the quantity's own SE when stored),
    with the Bayes risk R* and its SE band (a curve where R* varies with
    x). bayes: another open results file to take R* from."""
    q = q or default_quantity(res, "sgd_lpop_fresh", "ode_loss_fresh", "sgd_test_loss", "ode_loss")
    if not x:
        taken = ("seed",) + tuple(kw.get("select") or ()) + tuple(kw.get("mean") or ())
        cands = numeric_swept(res, exclude=taken)
        x = "H" if "H" in cands else (cands[0] if cands else None)
    if not x:
        raise PlotError("vs needs a numeric swept key for the x axis (--x); %s sweeps %s" % (
            res.path, ", ".join(res.swept) or "none"))
    lay = Layout(res, "vs", axes=(x,), **kw)
    sel = lay.selection
    da, sem, n = mean_se(final_quantity(res, q), sel, se=stored_se(res, q))
    src = bayes if bayes is not None else res
    if bayes is not None:
        b_all, b_se = bayes_from(res, bayes, "bayes_risk"), bayes_from(
            res, bayes, "bayes_risk_se")
    else:
        b_all, b_se = res.array("bayes_risk"), res.array("bayes_risk_se")
    b_all = pick(b_all, sel)
    b_se = pick(b_se, sel)
    panels = combos(da, lay.panels)
    bad = unconverged(res, lay.selection)
    fig, axes = grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        marked = False
        for j, ln in enumerate(lines):
            cell = at(da, dict(panel, **ln))
            err = at(sem, dict(panel, **ln)).values if sem is not None else None
            draw.bars(ax, cell.coords[x].values, cell.values, err, color="C%d" % (j % 10),
                      label=label(ln) or quantity_text(q))
            flag = flagged(bad, dict(panel, **ln), keep=(x,))
            if flag is not False:  # an x over each point still moving at its end
                xs_ = flag.coords[x].values[flag.values]
                ys = [float(cell.sel({x: v})) for v in xs_ if v in cell.coords[x].values]
                draw.crosses(ax, xs_[:len(ys)], ys)
                marked = marked or len(ys) > 0
        if marked:
            legend_unconverged(ax, "kx")
        _bayes_curves(ax, lay, b_all, b_se, panel, x, da.coords[x].values,
                      "" if bayes is None else " (%s)" % os.path.basename(src.path))
        xs = da.coords[x].values
        if len(xs) <= 12:
            ax.set_xticks(xs, [fmt(v) for v in xs])
        ax.set_xlabel(x)
        ax.set_ylabel(q)
        counted = count_text(n)
        ax.set_title(lay.title(at(da, panel), label(panel)) +
                     (" (n=%s, bars: s.e.)" % counted if counted else ""), fontsize=9)
        ax.legend(fontsize=7)
    return save(fig, out)


def pruning(res, out, source=None, **kw):
    """Lpop of the final model against the heads kept (greedy pruning),
    one line per (activation, H), with the Bayes risk; averaged over a
    --mean key (e.g. seed) with error bars of the mean's standard error
    (the spread over runs). Where stored, the same pruned models on the
    independent set (<part>/prune_loss_fresh: squares, dotted; bars
    counting its Monte Carlo SE too)."""
    lay = Layout(res, "pruning", **kw)
    part = source_part(res, source, "prune_loss")
    da, sem, _ = mean_se(res.array(part + "/prune_loss"), lay.selection)
    fresh = _fresh_pruning(res, lay, part)
    bayes = pick(res.array("bayes_risk"), lay.selection)
    panels = combos(da, lay.panels)
    bad = unconverged(res, lay.selection)
    fig, axes = grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = dict(panel, **ln)
            m, e = at(da, cell), at(sem, cell) if sem is not None else None
            ok = np.isfinite(m.values)
            ax.errorbar(m.kept.values[ok], m.values[ok],
                        yerr=None if e is None else e.values[ok], capsize=2,
                        fmt="o--" if flagged(bad, cell) else "o-", ms=4, color=color,
                        label=label(ln) or part)
            if fresh is not None:
                f, fe = at(fresh[0], cell), at(fresh[1], cell)
                ok = np.isfinite(f.values)
                ax.errorbar(f.kept.values[ok], f.values[ok], yerr=fe.values[ok], fmt="s:",
                            ms=3.5, mfc="none", color=color, capsize=2)
        if fresh is not None:
            ax.plot([], [], "ks:", mfc="none", label="out of sample (fresh set)")
        _bayes_levels(ax, lay, bayes, panel, lines, colors)
        if any(flagged(bad, dict(panel, **ln)) for ln in lines):
            legend_unconverged(ax)
        ax.set_xlabel("heads kept")
        ax.set_ylabel("population loss (%s, pruned)" % part)
        ax.set_title(lay.title(at(da, panel), label(panel)), fontsize=9)
        ax.legend(fontsize=7)
    return save(fig, out)


def _fresh_pruning(res, lay, part):
    """(mean, its SE) of the pruned models' losses on the independent set,
    selected and averaged as the plot's other arrays (the SE counting the
    spread over the averaged runs and each run's Monte Carlo SE); None
    where the file has none."""
    name = part + "/prune_loss_fresh"
    if name not in res.fields():
        return None
    loss = res.array(name)
    if not np.isfinite(loss.values).any():
        return None
    mean, se, _ = mean_se(loss, lay.selection, se=res.array(name + "_se"))
    return mean, se


def attention(res, out, source=None, **kw):
    """Heads switching off over time: the mean number of quiet heads (top)
    and the mean softmax1 sink weight q0 over heads (bottom) against t on a
    log axis, one line per activation (ODE if run, else SGD; --source);
    panels from another swept key."""
    lay = Layout(res, "attention", **kw)
    part = source_part(res, source, "quiet_heads")
    quiet = pick(res.array(part + "/quiet_heads"), lay.selection)
    sink = pick(res.array(part + "/attn_sink").mean("head", skipna=True), lay.selection)
    panels = combos(quiet, lay.panels)
    bad = unconverged(res, lay.selection)
    fig, axes = grid(2, len(panels))
    for c, panel in enumerate(panels):
        top, bottom = axes[0, c], axes[1, c]
        lines = lay.lines_with_data(panel, quiet)
        for j, ln in enumerate(lines):
            cell = dict(panel, **ln)
            style = "--" if flagged(bad, cell) else "-"
            for ax, da in ((top, quiet), (bottom, sink)):
                v = at(da, cell)
                ok = np.isfinite(v.values) & (v.time.values > 0)
                if ok.any():
                    ax.plot(v.time.values[ok], v.values[ok], style, color="C%d" % (j % 10),
                            label=label(ln) or part)
        if any(flagged(bad, dict(panel, **ln)) for ln in lines):
            legend_unconverged(top)
        top.set_title(lay.title(at(quiet, panel), label(panel)), fontsize=9)
        top.set_ylabel("quiet heads (%s)" % part, fontsize=8)
        bottom.set_ylabel("sink weight q0, mean over heads", fontsize=8)
        bottom.set_xlabel("t")
        for ax in (top, bottom):
            ax.set_xscale("log")
            if ax.lines:
                ax.legend(fontsize=7)
    return save(fig, out)


def _bayes_levels(ax, lay, bayes, panel, lines, colors):
    """R* as dotted horizontal lines: one per distinct distribution among
    the panel's lines (in its first line's colour), averaged over the rest."""
    for dist, j, value in bayes_levels(bayes, panel, lay.lines, lines):
        draw.level(ax, value, colors[j] if dist else "k",
                   "Bayes risk R*" + (" (%s)" % label(dist) if dist else ""))


def _bayes_curves(ax, lay, bayes, se, panel, x, xs, source=""):
    """R* against x with a band of +- its SE, one per distribution among
    the lines."""
    for ln, bx, y, e in bayes_against(bayes, se, panel, x, xs, lay.lines):
        draw.curve(ax, bx, y, "Bayes risk R*" + (" (%s)" % label(ln) if ln else "") + source,
                   gid="bayes")
        draw.band(ax, bx, y, e, gid="bayes_band")
