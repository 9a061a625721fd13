"""Plot kinds that follow the heads: heads (paths in the (m_h1, m_h2)
plane) and features (m_hk against t per spike)."""
import numpy as np

from .layout import Layout, grid, label, legend_unconverged, panel_grid, save
from .query import (PlotError, at, combos, flagged, heads_with_data, parts_with, pick,
                    unconverged)

# What each part's line style is, in words for a legend's title.
PART_WORDS = {"ode": "ODE: lines", "sgd": "SGD: circles"}


def heads(res, out, source=None, vs_time=False, **kw):
    """Each head's trajectory in the plane (m_h1, m_h2) (flipping: the
    mean direction against the flipping direction), ODE lines and SGD dots,
    start (square) and end (star) marked; or with vs_time m_h1(t) (solid)
    and m_h2(t) (dashed) per head. One panel per swept value (e.g. H)."""
    lay = Layout(res, "heads", **kw)
    parts = parts_with(res, source)
    ms = {p: pick(res.array(p + "/m"), lay.selection) for p in parts}
    first = ms[parts[0]]
    if first.sizes["spike"] < 2:
        raise PlotError("heads draws m_h1 against m_h2: %s has K = 1" % res.path)
    fig, cells = panel_grid(lay, first)
    bad = unconverged(res, lay.selection)
    style = {"ode": dict(ls="-", marker=None, lw=1.3), "sgd": dict(ls="none", marker="o", ms=3,
                                                                    mfc="none")}
    for panel, ax in cells:
        for part in parts:
            cell = at(ms[part], panel)
            for h in heads_with_data(cell):
                mh = cell.sel(head=h).isel(spike=[0, 1])  # padded spikes (K > 2 elsewhere) out
                ok = np.isfinite(mh.values).all(axis=1)
                x, y, t = mh.values[ok, 0], mh.values[ok, 1], mh.time.values[ok]
                color = "C%d" % ((int(h) - 1) % 10)  # heads labelled from 1
                name = "head %d (%s)" % (int(h), part)
                if vs_time:
                    ax.plot(t, x, color=color, label=name + " m_h1", **style[part])
                    ax.plot(t, y, color=color, **dict(style[part], ls="--" if part == "ode"
                                                      else "none", marker="x" if part == "sgd"
                                                      else None))
                    continue
                ax.plot(x, y, color=color, label=name, **style[part])
                if part == parts[0] and len(x):
                    ax.plot(x[0], y[0], "s", color=color, ms=6, mfc="none")
                    ax.plot(x[-1], y[-1], "*", color=color, ms=10)
        if vs_time:
            ax.axhline(0, color="0.7", lw=0.6)
            ax.set_xlabel("t")
            ax.set_ylabel("m_h1 (solid), m_h2 (dashed)" + (", SGD o/x" if "sgd" in parts
                                                           else ""), fontsize=8)
        else:
            ax.axhline(0, color="0.7", lw=0.6)
            ax.axvline(0, color="0.7", lw=0.6)
            ax.set_xlabel("m_h1 (mean direction)")
            ax.set_ylabel("m_h2 (flipping direction)")
        ax.set_title(lay.title(at(first, panel), label(panel)), fontsize=8)
        if flagged(bad, panel):
            legend_unconverged(ax)
        ax.legend(fontsize=6, title=None if vs_time else "start: square, end: star",
                  title_fontsize=6)
    return save(fig, out)


def features(res, out, source=None, overlay=False, logx=False, **kw):
    """m_hk(t) against t for every spike k: one row of subplots per spike
    (overlay: one subplot per point, one colour per spike), one line per
    head, ODE lines and SGD dots; columns over one swept key (e.g. seed or
    activation). Non-isotropic Gaussian (Figs. 3-4, 16-20): the spikes are
    learned in order of strength."""
    lay = Layout(res, "features", **kw)
    parts = parts_with(res, source)
    ms = {p: pick(res.array(p + "/m"), lay.selection) for p in parts}
    first = ms[parts[0]]
    panels = combos(first, lay.panels)
    spikes = [k for k in first.coords["spike"].values
              if np.isfinite(first.sel(spike=k).values).any()]
    n_rows = 1 if overlay else len(spikes)
    bad = unconverged(res, lay.selection)
    fig, axes = grid(n_rows, len(panels), 4.0, 2.6 if n_rows > 1 else 3.4)
    style = {"ode": dict(ls="-", lw=1.1), "sgd": dict(ls="none", marker="o", ms=2.5, mfc="none")}
    for c, panel in enumerate(panels):
        for r_, k in enumerate(spikes):
            ax = axes[0 if overlay else r_, c]
            for part in parts:
                cell = at(ms[part], panel).sel(spike=k)
                heads = heads_with_data(cell)
                for h in heads:  # heads and spikes labelled from 1
                    mh = cell.sel(head=h)
                    ok = np.isfinite(mh.values) & (mh.time.values > 0 if logx else True)
                    color = "C%d" % (((int(k) if overlay else int(h)) - 1) % 10)
                    name = ("m_h%d" % int(k) if overlay and h == heads[0] and part == parts[0]
                             else None if overlay else
                             "head %d" % int(h) if part == parts[0] else None)
                    ax.plot(mh.time.values[ok], mh.values[ok], color=color, label=name,
                            gid="%s h%d k%d" % (part, int(h), int(k)), **style[part])
            if logx:
                ax.set_xscale("log")
            ax.axhline(0, color="0.7", lw=0.6)
            if overlay or r_ == 0:
                ax.set_title(lay.title(at(first, panel), label(panel)), fontsize=9)
            if overlay or r_ == len(spikes) - 1:
                ax.set_xlabel("t")
            ax.set_ylabel("m_hk" if overlay else "m_h%d" % int(k), fontsize=8)
            if r_ == 0 and flagged(bad, panel):
                legend_unconverged(ax)
            if (c == 0 or flagged(bad, panel)) and (overlay or r_ == 0):
                ax.legend(fontsize=6, title=", ".join(PART_WORDS[p] for p in parts),
                          title_fontsize=6)
    return save(fig, out)
