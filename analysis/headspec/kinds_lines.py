"""Plot kinds drawn as lines: dynamics (loss and m against t), vs (a
final quantity against a swept key), pruning (loss against heads kept)."""
import os

import numpy as np

from .draw import (_bayes_lines, _bayes_vs, _default_q, _flagged, _fresh_se, _grid,
                   _legend_unconverged, _numeric_swept, _other_bayes, _points_quantity, _save,
                   _source, _unconverged)
from .layout import Layout, PlotError, _fmt, _label, _sel


def dynamics(res, out, loss="lpop", **kw):
    """Loss (top) and m_hk (bottom) against t: ODE lines, SGD markers;
    panels (columns) and lines from swept keys; Bayes risk dotted."""
    lay = Layout(res, "dynamics", **kw)
    sgd_loss = lay.reduce(res.array("sgd/" + loss))
    ode_loss = lay.reduce(res.array("ode/loss"))
    sgd_m, ode_m = lay.reduce(res.array("sgd/m")), lay.reduce(res.array("ode/m"))
    bayes = lay.reduce(res.array("bayes_risk"))
    panels = lay.combos(ode_loss, lay.panels, sgd_loss)
    bad = _unconverged(res, lay)
    fig, axes = _grid(2, len(panels))
    for c, panel in enumerate(panels):
        top, bottom = axes[0, c], axes[1, c]
        lines = lay.lines_with_data(panel, ode_loss, sgd_loss)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = dict(panel, **ln)
            o, s = _sel(ode_loss, cell), _sel(sgd_loss, cell)
            flag = bool(_flagged(bad, cell))  # dashed: still moving at its end
            top.plot(o.time, o.values, "--" if flag else "-", color=color,
                     label=_label(ln) or None)
            top.plot(s.time, s.values, "o", ms=3.5, color=color, mfc="none")
        _bayes_lines(lay, bayes, panel, lines, top, colors)
        if any(_flagged(bad, dict(panel, **ln)) for ln in lines):
            _legend_unconverged(top)
        top.set_title(lay.title(_sel(ode_loss, panel), _label(panel)), fontsize=9)
        top.set_ylabel("population loss (ODE -, SGD o: %s)" % loss, fontsize=8)
        top.legend(fontsize=7)
        if lines:
            first = dict(panel, **lines[0])
            om, sm = _sel(ode_m, first), _sel(sgd_m, first)
            first_head = om.coords["head"].values[0]
            for k in om.coords["spike"].values:  # heads and spikes labelled from 1
                for h in om.coords["head"].values:
                    o = om.sel(head=h, spike=k)
                    if not np.isfinite(o.values).any() and not np.isfinite(
                            sm.sel(head=h, spike=k).values).any():
                        continue
                    color = "C%d" % ((3 * (int(k) - 1)) % 10)
                    bottom.plot(o.time, o.values, "-", color=color, lw=1,
                                label="m_h%d" % k if h == first_head else None)
                    s = sm.sel(head=h, spike=k)
                    bottom.plot(s.time, s.values, "o", ms=3, color=color, mfc="none")
            bottom.set_title("m_hk per head, %s" % (_label(lines[0]) or "all heads"), fontsize=9)
            bottom.legend(fontsize=7)
        bottom.set_xlabel("t")
        bottom.set_ylabel("m_hk (ODE -, SGD o)", fontsize=8)
    return _save(fig, out)


def vs(res, out, x=None, q=None, bayes=None, **kw):
    """A final quantity (default: the out-of-sample SGD Lpop, else the
    ODE's, else the SGD test loss, else the ODE loss) against one swept
    key, one line per activation, seeds averaged (error bars: standard
    error over seeds combined with the quantity's own SE when stored),
    with the Bayes risk R* and its SE band (a curve where R* varies with
    x). bayes: another open results file to take R* from."""
    q = q or _default_q(res, "sgd_lpop_fresh", "ode_loss_fresh", "sgd_test_loss", "ode_loss")
    if not x:
        taken = ("seed",) + tuple(kw.get("select") or ()) + tuple(kw.get("mean") or ())
        cands = _numeric_swept(res, exclude=taken)
        x = "H" if "H" in cands else (cands[0] if cands else None)
    if not x:
        raise PlotError("vs needs a numeric swept key for the x axis (--x); %s sweeps %s" % (
            res.path, ", ".join(res.swept) or "none"))
    lay = Layout(res, "vs", axes=(x,), **kw)
    da = lay.reduce(_points_quantity(res, q), se=_fresh_se(res, q))
    src = bayes if bayes is not None else res
    if bayes is not None:
        b_all, b_se = _other_bayes(res, bayes, "bayes_risk"), _other_bayes(
            res, bayes, "bayes_risk_se")
    else:
        b_all, b_se = res.array("bayes_risk"), res.array("bayes_risk_se")
    b_all = lay.reduce(b_all)
    b_se = lay.reduce(b_se)
    panels = lay.combos(da, lay.panels)
    bad = _unconverged(res, lay)
    fig, axes = _grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        marked = False
        for j, ln in enumerate(lines):
            cell = _sel(da, dict(panel, **ln))
            sem = da.attrs.get("sem")
            err = _sel(sem, dict(panel, **ln)).values if sem is not None else None
            ax.errorbar(cell.coords[x].values, cell.values, yerr=err, fmt="o-", ms=4,
                        capsize=3, color="C%d" % (j % 10), label=_label(ln) or q)
            flag = _flagged(bad, dict(panel, **ln), keep=(x,))
            if flag is not False:  # an x over each point still moving at its end
                xs_ = flag.coords[x].values[flag.values]
                ys = [float(cell.sel({x: v})) for v in xs_ if v in cell.coords[x].values]
                ax.plot(xs_[:len(ys)], ys, "x", ms=9, color="k", ls="none", gid="not_converged")
                marked = marked or len(ys) > 0
        if marked:
            _legend_unconverged(ax, "kx")
        _bayes_vs(lay, b_all, b_se, panel, x, da.coords[x].values, ax,
                  "" if bayes is None else " (%s)" % os.path.basename(src.path))
        xs = da.coords[x].values
        if len(xs) <= 12:
            ax.set_xticks(xs, [_fmt(v) for v in xs])
        ax.set_xlabel(x)
        ax.set_ylabel(q)
        n = da.attrs.get("n_mean")
        ax.set_title(lay.title(_sel(da, panel), _label(panel)) +
                     (" (n=%s, bars: s.e.)" % n if n else ""), fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, out)


def pruning(res, out, source=None, **kw):
    """Lpop of the final model against the heads kept (greedy pruning),
    one line per (activation, H), with the Bayes risk; where stored, the
    same pruned models on the independent set (<part>/prune_loss_fresh,
    squares, bars: its s.e.)."""
    lay = Layout(res, "pruning", **kw)
    part = _source(res, source, "prune_loss")
    da = lay.reduce(res.array(part + "/prune_loss"))
    fresh = _fresh_pruning(res, lay, part)
    bayes = lay.reduce(res.array("bayes_risk"))
    panels = lay.combos(da, lay.panels)
    bad = _unconverged(res, lay)
    fig, axes = _grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = _sel(da, dict(panel, **ln))
            ok = np.isfinite(cell.values)
            ax.plot(cell.kept.values[ok], cell.values[ok],
                    "o--" if _flagged(bad, dict(panel, **ln)) else "o-", color=color,
                    label=_label(ln) or part)
            if fresh is not None:
                f, se = (_sel(x, dict(panel, **ln)) for x in fresh)
                ok = np.isfinite(f.values)
                ax.errorbar(f.kept.values[ok], f.values[ok], yerr=se.values[ok], fmt="s:",
                            ms=3.5, mfc="none", color=color, capsize=2)
        if fresh is not None:
            ax.plot([], [], "ks:", mfc="none", label="out of sample (fresh set)")
        _bayes_lines(lay, bayes, panel, lines, ax, colors)
        if any(_flagged(bad, dict(panel, **ln)) for ln in lines):
            _legend_unconverged(ax)
        ax.set_xlabel("heads kept")
        ax.set_ylabel("population loss (%s, pruned)" % part)
        ax.set_title(lay.title(_sel(da, panel), _label(panel)), fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, out)


def _fresh_pruning(res, lay, part):
    """(loss, s.e.) of the pruned models on the independent set, reduced
    as the plot's other arrays; None where the file has none."""
    name = part + "/prune_loss_fresh"
    if name not in res.fields():
        return None
    loss = lay.reduce(res.array(name))
    if not np.isfinite(loss.values).any():
        return None
    return loss, lay.reduce(res.array(name + "_se"))


def attention(res, out, source=None, **kw):
    """Heads switching off over time: the mean number of quiet heads (top)
    and the mean softmax1 sink weight q0 over heads (bottom) against t on a
    log axis, one line per activation (ODE if run, else SGD; --source);
    panels from another swept key."""
    lay = Layout(res, "attention", **kw)
    part = _source(res, source, "quiet_heads")
    quiet = lay.reduce(res.array(part + "/quiet_heads"))
    sink = lay.reduce(res.array(part + "/attn_sink").mean("head", skipna=True))
    panels = lay.combos(quiet, lay.panels)
    bad = _unconverged(res, lay)
    fig, axes = _grid(2, len(panels))
    for c, panel in enumerate(panels):
        top, bottom = axes[0, c], axes[1, c]
        lines = lay.lines_with_data(panel, quiet)
        for j, ln in enumerate(lines):
            cell = dict(panel, **ln)
            style = "--" if _flagged(bad, cell) else "-"
            for ax, da in ((top, quiet), (bottom, sink)):
                v = _sel(da, cell)
                ok = np.isfinite(v.values) & (v.time.values > 0)
                if ok.any():
                    ax.plot(v.time.values[ok], v.values[ok], style, color="C%d" % (j % 10),
                            label=_label(ln) or part)
        if any(_flagged(bad, dict(panel, **ln)) for ln in lines):
            _legend_unconverged(top)
        top.set_title(lay.title(_sel(quiet, panel), _label(panel)), fontsize=9)
        top.set_ylabel("quiet heads (%s)" % part, fontsize=8)
        bottom.set_ylabel("sink weight q0, mean over heads", fontsize=8)
        bottom.set_xlabel("t")
        for ax in (top, bottom):
            ax.set_xscale("log")
            if ax.lines:
                ax.legend(fontsize=7)
    return _save(fig, out)
