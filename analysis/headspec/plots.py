"""The paper's figure kinds, drawn from a results file.

Every swept key that a plot does not draw on an axis must become a panel
or a line, be fixed with select={key: value}, or be averaged with
mean=[key]; keys left over are filled into free panel and line slots in
key-table order, and if none is free the plot refuses and names the key
(PlotError). Titles say the values shown; legends the lines.
"""
import itertools
import os
import warnings

import numpy as np
# Figures without pyplot: no global state, no change of the backend of a
# notebook that imports this module; savefig picks the writer from the suffix.
from matplotlib.figure import Figure
import xarray as xr

KINDS = ("dynamics", "heatmap", "vs", "pruning", "maps", "heads", "features")
# Keys that define the data distribution: the Bayes risk depends on these only.
DIST_KEYS = ("distribution", "b1", "b2", "beta", "K", "signed", "bmin", "bmax", "L")

# Per kind: how many swept keys become panels and lines, which keys go
# where first, which are averaged unless said otherwise, and which are never
# put on a panel or line automatically (seeds: average or select them).
SLOTS = {
    "dynamics": dict(panels=1, lines=2, prefer_panels=("activation",), prefer_lines=(),
                     auto_mean=(), no_auto=()),
    "heatmap": dict(panels=2, lines=0, prefer_panels=("activation",), prefer_lines=(),
                    auto_mean=(), no_auto=("seed",)),
    "vs": dict(panels=1, lines=1, prefer_panels=(), prefer_lines=("activation",),
               auto_mean=("seed",), no_auto=("seed",)),
    "pruning": dict(panels=1, lines=2, prefer_panels=(), prefer_lines=("activation", "H"),
                    auto_mean=(), no_auto=("seed",)),
    "maps": dict(panels=2, lines=0, prefer_panels=("activation", "H"), prefer_lines=(),
                 auto_mean=(), no_auto=("seed",)),
    "heads": dict(panels=2, lines=0, prefer_panels=("H", "activation", "seed"), prefer_lines=(),
                  auto_mean=(), no_auto=()),
    "features": dict(panels=1, lines=0, prefer_panels=("seed", "activation"), prefer_lines=(),
                     auto_mean=(), no_auto=()),
}


class PlotError(ValueError):
    """The plot cannot be drawn as asked (e.g. a swept key left over)."""


def _fmt(v):
    if isinstance(v, (float, np.floating)):
        return "n/a" if np.isnan(v) else "%g" % v
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v) if v != "" else "n/a"


def _split(values):
    out = []
    for v in values or ():
        out += [x for x in str(v).split(",") if x]
    return out


def parse_select(items):
    """['b2=1', 'activation=softmax,seed=2'] -> {'b2': '1', ...}."""
    out = {}
    for item in _split(items):
        if "=" not in item:
            raise PlotError("--select %s: write KEY=VALUE" % item)
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _match(coord, text, key):
    values = list(coord.values)
    for v in values:
        if isinstance(v, str) or isinstance(text, str) and not _numeric(text):
            if str(v) == str(text):
                return v
        elif _numeric(text) and float(v) == float(text):
            return v
        elif not isinstance(text, str) and v == text:
            return v
    raise PlotError("%s=%s is not a value of %s (values: %s)" % (
        key, text, key, ", ".join(_fmt(v) for v in values)))


def _numeric(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


class Layout:
    """Which swept keys are axes, panels, lines, selected or averaged."""

    def __init__(self, res, kind, axes=(), panels=None, lines=None, select=None, mean=None):
        if kind not in SLOTS:
            raise PlotError("unknown plot kind %r (kinds: %s)" % (kind, ", ".join(KINDS)))
        slots = SLOTS[kind]
        self.res, self.kind = res, kind
        self.select = dict(select or {})
        self.mean = list(mean or [])
        self.axes = [a for a in axes if a]
        self.panels = list(panels or [])
        self.lines = list(lines or [])
        for k in list(self.select) + self.mean + self.axes + self.panels + self.lines:
            if k not in res.swept:
                raise PlotError("%s is not a swept key of %s (swept: %s)" % (
                    k, res.path, ", ".join(res.swept) or "none"))
        if len(self.panels) > slots["panels"] or len(self.lines) > max(slots["lines"], 0):
            raise PlotError("%s draws at most %d panel key(s) and %d line key(s)" % (
                kind, slots["panels"], slots["lines"]))
        # the done points decide the layout (seconds: finite wherever a point ran)
        probe = self.reduce(res.array("seconds"), auto=False)
        taken = set(self.select) | set(self.mean) | set(self.axes) | set(self.panels) | set(
            self.lines)
        free = [k for k in res.swept if k not in taken and k in probe.dims and probe.sizes[k] > 1]
        for k in free:
            if k in slots["auto_mean"] and k not in taken:
                self.mean.append(k)
            elif k in slots["prefer_lines"] and len(self.lines) < slots["lines"]:
                self.lines.append(k)
            elif k in slots["prefer_panels"] and len(self.panels) < slots["panels"]:
                self.panels.append(k)
        for k in free:
            if k in self.mean or k in self.lines or k in self.panels or k in slots["no_auto"]:
                continue
            if len(self.lines) < slots["lines"]:
                self.lines.append(k)
            elif len(self.panels) < slots["panels"]:
                self.panels.append(k)
        left = [k for k in free if k not in self.mean + self.lines + self.panels]
        if left:
            k = left[0]
            values = ", ".join(_fmt(v) for v in probe.coords[k].values)
            raise PlotError(
                "%s plot of %s: the swept key %s (values %s) is not drawn (%s taken: %s); "
                "choose with --select %s=VALUE, --mean %s, or give it a panel/line "
                "(--panels/--lines) in place of another" % (
                    kind, res.path, k, values, "panels and lines" if slots["lines"] else "panels",
                    ", ".join(self.panels + self.lines) or "none", k, k))

    def reduce(self, da, auto=True, se=None):
        """Select, drop swept values without data, average; squeeze the rest.
        Averaged: attrs['sem'] = std/sqrt(n) over the averaged keys (NaN
        where n = 1). With se (the standard errors of da's values, same
        dims) attrs['sem'] is the error of the mean counting both:
        sqrt(sem^2 + sum se_i^2 / n^2) (se alone where n = 1); not
        averaged, attrs['sem'] = se."""
        for k, text in self.select.items():
            if k in da.dims:
                da = da.sel({k: _match(da.coords[k], text, k)})
                if se is not None and k in se.dims:
                    se = se.sel({k: da.coords[k].values})
        for k in self.res.swept:
            if k in da.dims:
                da = da.dropna(k, how="all")
                if se is not None and k in se.dims:
                    se = se.sel({k: da.coords[k].values})
        means = [k for k in self.mean if k in da.dims]
        if means:
            n = da.count(means)
            mean = da.mean(means, skipna=True, keep_attrs=True)
            with warnings.catch_warnings():  # one value left: no spread, NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                sem = da.std(means, ddof=1, skipna=True) / np.sqrt(n)
            sem = sem.where(n > 1)
            if se is not None:
                own = (se.where(np.isfinite(da)) ** 2).sum(means, skipna=True, min_count=1)
                own = own / n ** 2
                sem = np.sqrt(sem.fillna(0) ** 2 + own).where(np.isfinite(own), sem)
            mean.attrs["sem"] = sem
            counts = n.values[n.values > 0]
            mean.attrs["n_mean"] = ("%d" % counts.max() if counts.min() == counts.max() else
                                    "%d-%d" % (counts.min(), counts.max())) if counts.size else ""
            da = mean
        elif se is not None:
            da = da.copy()
            da.attrs["sem"] = se
        for k in self.res.swept:
            if k in da.dims and da.sizes[k] == 1 and k not in self.axes + self.panels + self.lines:
                da = da.squeeze(k)
                if "sem" in da.attrs and k in da.attrs["sem"].dims:
                    da.attrs["sem"] = da.attrs["sem"].squeeze(k)
        return da

    def combos(self, da, keys, *more):
        """Every combination of the keys' values in da (and in the arrays
        `more`, in order of first appearance): a key whose values were all
        dropped (NaN everywhere, e.g. ODE fields of a job without the ODE)
        gives no combination."""
        keys = [k for k in keys if k in da.dims]
        if not keys:
            return [{}]
        out = []
        for a in (da,) + more:
            if not all(k in a.dims for k in keys):
                continue
            values = [list(a.coords[k].values) for k in keys]
            out += [c for c in (dict(zip(keys, v)) for v in itertools.product(*values))
                    if c not in out]
        return out

    def lines_with_data(self, panel, *arrays):
        """The line combinations of a panel where any of the arrays has a
        finite value."""
        return [ln for ln in self.combos(arrays[0], self.lines, *arrays[1:])
                if any(np.isfinite(_sel(a, dict(panel, **ln)).values).any() for a in arrays)]

    def title(self, da, extra=""):
        """The values of the swept keys fixed in da, and what was averaged."""
        parts = []
        for k in self.res.swept:
            if k in self.panels or k in self.lines:
                continue  # said by the panel's own label or the legend
            if k in da.coords and da.coords[k].ndim == 0:
                parts.append("%s=%s" % (k, _fmt(da.coords[k].item())))
        for k in self.mean:
            parts.append("mean over %s" % k)
        return ", ".join(p for p in [extra] + parts if p)


def _label(combo):
    return " ".join("%s=%s" % (k, _fmt(v)) for k, v in combo.items())


def _sel(da, combo):
    """da at the combo's values; all NaN where da has none of them (its
    values there were dropped as NaN)."""
    sub = {k: v for k, v in combo.items() if k in da.dims}
    if any(v not in da.coords[k].values for k, v in sub.items()):
        return da.reindex({k: [v] for k, v in sub.items()}).squeeze(list(sub))
    return da.sel(sub) if sub else da


def _grid(n_rows, n_cols, w=4.2, h=3.4):
    fig = Figure(figsize=(w * n_cols, h * n_rows))
    return fig, fig.subplots(n_rows, n_cols, squeeze=False)


def _bayes_lines(layout, bayes, panel, line_combos, ax, colors):
    """R* as dotted horizontal lines: one per distinct distribution among
    the panel's lines (averaged over everything else)."""
    b = _sel(bayes, panel)
    dist_line_keys = [k for k in layout.lines if k in DIST_KEYS and k in b.dims]
    others = [k for k in b.dims if k not in dist_line_keys]
    b = b.mean(others, skipna=True) if others else b
    seen = set()
    for combo, color in zip(line_combos, colors):
        key = tuple((k, combo[k]) for k in dist_line_keys)
        if key in seen:
            continue
        seen.add(key)
        value = float(_sel(b, dict(key)).values)
        if np.isfinite(value):
            label = "Bayes risk R*" + (" (%s)" % _label(dict(key)) if key else "")
            ax.axhline(value, color=color if key else "k", ls=":", lw=1.2, label=label)


def _save(fig, out):
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    return fig


def _source(res, source, field):
    """'ode' or 'sgd': the part that ran (ODE first), or the one asked for."""
    if source:
        return source
    fields = res.fields()
    for part in ("ode", "sgd"):
        if part + "/" + field in fields and np.isfinite(res.array(part + "/" + field).values).any():
            return part
    raise PlotError("no %s stored in %s (neither ODE nor SGD)" % (field, res.path))


def dynamics(res, out, loss="lpop", **kw):
    """Loss (top) and m_hk (bottom) against t: ODE lines, SGD markers;
    panels (columns) and lines from swept keys; Bayes risk dotted."""
    lay = Layout(res, "dynamics", **kw)
    sgd_loss = lay.reduce(res.array("sgd/" + loss))
    ode_loss = lay.reduce(res.array("ode/loss"))
    sgd_m, ode_m = lay.reduce(res.array("sgd/m")), lay.reduce(res.array("ode/m"))
    bayes = lay.reduce(res.array("bayes_risk"))
    panels = lay.combos(ode_loss, lay.panels, sgd_loss)
    fig, axes = _grid(2, len(panels))
    for c, panel in enumerate(panels):
        top, bottom = axes[0, c], axes[1, c]
        lines = lay.lines_with_data(panel, ode_loss, sgd_loss)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = dict(panel, **ln)
            o, s = _sel(ode_loss, cell), _sel(sgd_loss, cell)
            top.plot(o.time, o.values, "-", color=color, label=_label(ln) or None)
            top.plot(s.time, s.values, "o", ms=3.5, color=color, mfc="none")
        _bayes_lines(lay, bayes, panel, lines, top, colors)
        top.set_title(lay.title(_sel(ode_loss, panel), _label(panel)), fontsize=9)
        top.set_ylabel("population loss (ODE -, SGD o: %s)" % loss, fontsize=8)
        top.legend(fontsize=7)
        if lines:
            first = dict(panel, **lines[0])
            om, sm = _sel(ode_m, first), _sel(sgd_m, first)
            for k in om.coords["spike"].values:
                for h in om.coords["head"].values:
                    o = om.sel(head=h, spike=k)
                    if not np.isfinite(o.values).any() and not np.isfinite(
                            sm.sel(head=h, spike=k).values).any():
                        continue
                    color = "C%d" % ((3 * int(k)) % 10)
                    bottom.plot(o.time, o.values, "-", color=color, lw=1,
                                label="m_h%d" % (k + 1) if h == 0 else None)
                    s = sm.sel(head=h, spike=k)
                    bottom.plot(s.time, s.values, "o", ms=3, color=color, mfc="none")
            bottom.set_title("m_hk per head, %s" % (_label(lines[0]) or "all heads"), fontsize=9)
            bottom.legend(fontsize=7)
        bottom.set_xlabel("t")
        bottom.set_ylabel("m_hk (ODE -, SGD o)", fontsize=8)
    return _save(fig, out)


def _points_quantity(res, q):
    """A final-time quantity: a points column, or a field at its last record."""
    if q in res.points.columns:
        return res.array(q)
    da = res.array(q)
    if "time" in da.dims:
        da = da.isel(time=-1)
    extra = [d for d in da.dims if d not in res.swept]
    if extra:
        raise PlotError("%s has dimensions %s besides the swept keys; choose a scalar "
                        "quantity (a points column such as ode_cosine)" % (q, extra))
    return da


def _default_q(res, *names):
    for n in names:
        if n in res.points.columns and np.isfinite(res.points[n].to_numpy(dtype=float)).any():
            return n
    return names[0]


def _numeric_swept(res, exclude=()):
    out = []
    for k in res.swept:
        col = res.grid[k]
        numeric = str(col.dtype) == "Int64" or col.dtype.kind in "iuf"
        if k not in exclude and numeric and col.nunique() > 1:
            out.append(k)
    return out


def heatmap(res, out, x=None, y=None, q=None, **kw):
    """A final quantity (default: the heads' cosine, ODE if run) over two
    swept keys, one panel per value of the others."""
    q = q or _default_q(res, "ode_cosine", "sgd_cosine")
    if not x or not y:
        taken = ("seed", x, y) + tuple(kw.get("select") or ()) + tuple(kw.get("mean") or ())
        cands = _numeric_swept(res, exclude=taken)
        x = x or (cands.pop(0) if cands else None)
        y = y or (cands.pop(0) if cands else None)
    if not x or not y:
        raise PlotError("heatmap needs two swept keys (--x, --y); %s sweeps %s" % (
            res.path, ", ".join(res.swept) or "none"))
    lay = Layout(res, "heatmap", axes=(x, y), **kw)
    da = lay.reduce(_points_quantity(res, q))
    panels = lay.combos(da, lay.panels)
    rows_key = lay.panels[1] if len(lay.panels) > 1 else None
    n_rows = da.sizes[rows_key] if rows_key in da.dims else 1
    n_cols = len(panels) // n_rows
    fig, axes = _grid(n_rows, n_cols, 4.4, 3.6)
    finite = da.values[np.isfinite(da.values)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0, 1)
    cmap = "viridis"
    if q.endswith("cosine"):  # a cosine: the whole [-1, 1], 0 in the middle
        vmin, vmax, cmap = -1.0, 1.0, "coolwarm"
    for j, panel in enumerate(panels):
        ax = axes[j % n_rows, j // n_rows] if rows_key else axes[0, j]
        cell = _sel(da, panel).transpose(y, x)
        im = ax.imshow(cell.values, origin="lower", aspect="auto", cmap=cmap,
                       vmin=vmin, vmax=vmax)
        _annotate(ax, cell.values, im)
        ax.set_xticks(range(cell.sizes[x]), [_fmt(v) for v in cell.coords[x].values])
        ax.set_yticks(range(cell.sizes[y]), [_fmt(v) for v in cell.coords[y].values])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(lay.title(cell, _label(panel)), fontsize=9)
        fig.colorbar(im, ax=ax, label=q)
    return _save(fig, out)


def _annotate(ax, values, im):
    """Each cell's value written in it (black or white, whichever reads)."""
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):
            continue
        r, g, b, _ = im.cmap(im.norm(v))
        ax.text(j, i, "%.2f" % v, ha="center", va="center", fontsize=7,
                color="k" if 0.3 * r + 0.6 * g + 0.1 * b > 0.5 else "w", gid="cell")


def _other_bayes(res, other, field):
    """R* (or its SE) from another results file (e.g. a Bayes-only job),
    on the dims of res's swept keys they share. A key res sweeps that the
    other fixes matches only at the other's value (NaN elsewhere); a key
    the other sweeps and res fixes is selected at res's value; other keys
    of the other file are averaged."""
    ob = other.array(field)
    for k in DIST_KEYS:
        mine, theirs = res.fixed.get(k), other.fixed.get(k)
        if (k not in res.swept and k not in other.swept and mine is not None
                and theirs is not None and _fmt(mine) != _fmt(theirs)):
            raise PlotError("--bayes %s: its %s=%s differs from %s's %s=%s" % (
                other.path, k, _fmt(theirs), res.path, k, _fmt(mine)))
    for k in other.swept:
        if k in res.swept:
            continue
        if k in res.fixed and not isinstance(res.fixed[k], list):
            try:
                ob = ob.sel({k: _match(ob.coords[k], res.fixed[k], k)})
                continue
            except PlotError:
                pass  # the other file lacks res's value: average
        ob = ob.mean(k, skipna=True)
    for k in res.swept:
        if k in ob.dims:
            continue
        values = np.asarray(res.grid[k].dropna().unique())
        ob = ob.expand_dims({k: values})
        if k in other.fixed and not isinstance(other.fixed[k], list):
            same = np.array([_fmt(v) == _fmt(other.fixed[k]) for v in values])
            ob = ob.where(xr.DataArray(same, dims=(k,), coords={k: values}))
    return ob.transpose(*[k for k in res.swept if k in ob.dims])


def _fresh_se(res, q):
    """The standard error column of a quantity (q + '_se'), if stored."""
    name = q + "_se"
    if name in res.points.columns and np.isfinite(res.points[name].to_numpy(dtype=float)).any():
        return res.array(name)
    return None


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
    fig, axes = _grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        for j, ln in enumerate(lines):
            cell = _sel(da, dict(panel, **ln))
            sem = da.attrs.get("sem")
            err = _sel(sem, dict(panel, **ln)).values if sem is not None else None
            ax.errorbar(cell.coords[x].values, cell.values, yerr=err, fmt="o-", ms=4,
                        capsize=3, color="C%d" % (j % 10), label=_label(ln) or q)
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


def _bayes_vs(lay, bayes, se, panel, x, xs, ax, source=""):
    """R* against x (a flat line where it does not vary with x) with a band
    of +- its SE, one per distribution among the lines; what else varies
    is averaged (values and SEs). Nothing where R* is not known."""
    if any(k in bayes.dims and v not in bayes.coords[k].values for k, v in panel.items()):
        return
    b, s = _sel(bayes, panel), _sel(se, panel)
    dist_lines = [k for k in lay.lines if k in DIST_KEYS and k in b.dims]
    other = [k for k in b.dims if k != x and k not in dist_lines]
    b = b.mean(other, skipna=True) if other else b
    s = s.mean([k for k in other if k in s.dims], skipna=True) if other else s
    for j, ln in enumerate(lay.combos(b, dist_lines)):
        bb, ss = _sel(b, ln), _sel(s, ln)
        if x in bb.dims:
            bx, y, e = bb.coords[x].values, bb.values, ss.sel({x: bb.coords[x]}).values
        else:
            bx = np.array([np.min(xs), np.max(xs)])
            y, e = np.full(2, float(bb.values)), np.full(2, float(ss.values))
        ok = np.isfinite(y)
        if not ok.any():
            continue
        label = "Bayes risk R*" + (" (%s)" % _label(ln) if ln else "") + source
        ax.plot(bx[ok], y[ok], ":", color="k", label=label, gid="bayes",
                marker="_" if ok.sum() == 1 else None, ms=14)
        e = np.where(np.isfinite(e), e, 0)
        ax.fill_between(bx[ok], (y - e)[ok], (y + e)[ok], color="0.5", alpha=0.25, lw=0,
                        gid="bayes_band")


def pruning(res, out, source=None, **kw):
    """Lpop of the final model against the heads kept (greedy pruning),
    one line per (activation, H), with the Bayes risk."""
    lay = Layout(res, "pruning", **kw)
    part = _source(res, source, "prune_loss")
    da = lay.reduce(res.array(part + "/prune_loss"))
    bayes = lay.reduce(res.array("bayes_risk"))
    panels = lay.combos(da, lay.panels)
    fig, axes = _grid(1, len(panels), 4.6, 3.8)
    for c, panel in enumerate(panels):
        ax = axes[0, c]
        lines = lay.lines_with_data(panel, da)
        colors = ["C%d" % (j % 10) for j in range(len(lines))]
        for ln, color in zip(lines, colors):
            cell = _sel(da, dict(panel, **ln))
            ok = np.isfinite(cell.values)
            ax.plot(cell.kept.values[ok], cell.values[ok], "o-", color=color,
                    label=_label(ln) or part)
        _bayes_lines(lay, bayes, panel, lines, ax, colors)
        ax.set_xlabel("heads kept")
        ax.set_ylabel("population loss (%s, pruned)" % part)
        ax.set_title(lay.title(_sel(da, panel), _label(panel)), fontsize=9)
        ax.legend(fontsize=7)
    return _save(fig, out)


def maps(res, out, source=None, map_index=0, **kw):
    """Attention weights A_hl (head x token) of the final model on one
    sampled sequence, one panel per combination of swept values."""
    lay = Layout(res, "maps", **kw)
    part = _source(res, source, "maps")
    da = lay.reduce(res.array(part + "/maps"))
    if map_index >= da.sizes["map"]:
        raise PlotError("--map %d: the file has %d maps per point" % (map_index, da.sizes["map"]))
    da = da.isel(map=map_index)
    panels = lay.combos(da, lay.panels)
    rows_key = lay.panels[1] if len(lay.panels) > 1 else None
    n_rows = da.sizes[rows_key] if rows_key in da.dims else 1
    n_cols = len(panels) // n_rows
    fig, axes = _grid(n_rows, n_cols, 4.0, 2.8)
    for j, panel in enumerate(panels):
        ax = axes[j % n_rows, j // n_rows] if rows_key else axes[0, j]
        cell = _sel(da, panel).transpose("head", "token")
        keep = np.isfinite(cell.values).any(axis=1)
        if not keep.any():
            ax.set_axis_off()
            ax.set_title("%s: no data" % _label(panel), fontsize=9)
            continue
        im = ax.imshow(cell.values[keep], aspect="auto", cmap="viridis", vmin=0)
        heads = cell.coords["head"].values[keep]
        ax.set_yticks(range(len(heads)), [str(h) for h in heads])
        ax.set_xlabel("token l")
        ax.set_ylabel("head h")
        # two lines: the panel, then what else is fixed (long in one line)
        ax.set_title("%s A_hl (%s, map %d)\n%s" % (_label(panel), part, map_index,
                                                   lay.title(cell)), fontsize=8)
        fig.colorbar(im, ax=ax)
    return _save(fig, out)


def _parts(res, source, field="m"):
    """The parts to draw: 'ode' and/or 'sgd' (those with data), or the one asked for."""
    if source:
        return [source]
    fields = res.fields()
    parts = [p for p in ("ode", "sgd") if p + "/" + field in fields
             and np.isfinite(res.array(p + "/" + field).values).any()]
    if not parts:
        raise PlotError("no %s stored in %s (neither ODE nor SGD)" % (field, res.path))
    return parts


def _panel_grid(lay, da, scale=(4.2, 3.6)):
    """Panels of up to two keys: columns by the first, rows by the second."""
    panels = lay.combos(da, lay.panels)
    rows_key = lay.panels[1] if len(lay.panels) > 1 else None
    n_rows = da.sizes[rows_key] if rows_key in da.dims else 1
    n_cols = len(panels) // n_rows
    fig, axes = _grid(n_rows, n_cols, *scale)
    cells = [(panel, axes[j % n_rows, j // n_rows] if rows_key else axes[0, j])
             for j, panel in enumerate(panels)]
    return fig, cells


def _finite_heads(cell):
    """Head indices of a (time, head, spike) array with any data (H < max H is padded)."""
    return [h for h in cell.coords["head"].values
            if np.isfinite(cell.sel(head=h).values).any()]


def heads(res, out, source=None, vs_time=False, **kw):
    """Each head's trajectory in the plane (m_h1, m_h2) (flipping: the
    mean direction against the flipping direction), ODE lines and SGD dots,
    start (square) and end (star) marked; or with vs_time m_h1(t) (solid)
    and m_h2(t) (dashed) per head. One panel per swept value (e.g. H)."""
    lay = Layout(res, "heads", **kw)
    parts = _parts(res, source)
    ms = {p: lay.reduce(res.array(p + "/m")) for p in parts}
    first = ms[parts[0]]
    if first.sizes["spike"] < 2:
        raise PlotError("heads draws m_h1 against m_h2: %s has K = 1" % res.path)
    fig, cells = _panel_grid(lay, first)
    style = {"ode": dict(ls="-", marker=None, lw=1.3), "sgd": dict(ls="none", marker="o", ms=3,
                                                                    mfc="none")}
    for panel, ax in cells:
        for part in parts:
            cell = _sel(ms[part], panel)
            for h in _finite_heads(cell):
                mh = cell.sel(head=h).isel(spike=[0, 1])  # padded spikes (K > 2 elsewhere) out
                ok = np.isfinite(mh.values).all(axis=1)
                x, y, t = mh.values[ok, 0], mh.values[ok, 1], mh.time.values[ok]
                color = "C%d" % (int(h) % 10)
                label = "head %d (%s)" % (int(h) + 1, part)
                if vs_time:
                    ax.plot(t, x, color=color, label=label + " m_h1", **style[part])
                    ax.plot(t, y, color=color, **dict(style[part], ls="--" if part == "ode"
                                                      else "none", marker="x" if part == "sgd"
                                                      else None))
                    continue
                ax.plot(x, y, color=color, label=label, **style[part])
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
        ax.set_title(lay.title(_sel(first, panel), _label(panel)), fontsize=8)
        ax.legend(fontsize=6, title=None if vs_time else "start: square, end: star",
                  title_fontsize=6)
    return _save(fig, out)


def features(res, out, source=None, overlay=False, logx=False, **kw):
    """m_hk(t) against t for every spike k: one row of subplots per spike
    (overlay: one subplot per point, one colour per spike), one line per
    head, ODE lines and SGD dots; columns over one swept key (e.g. seed or
    activation). Non-isotropic Gaussian (Figs. 3-4, 16-20): the spikes are
    learned in order of strength."""
    lay = Layout(res, "features", **kw)
    parts = _parts(res, source)
    ms = {p: lay.reduce(res.array(p + "/m")) for p in parts}
    first = ms[parts[0]]
    panels = lay.combos(first, lay.panels)
    spikes = [k for k in first.coords["spike"].values
              if np.isfinite(first.sel(spike=k).values).any()]
    n_rows = 1 if overlay else len(spikes)
    fig, axes = _grid(n_rows, len(panels), 4.0, 2.6 if n_rows > 1 else 3.4)
    style = {"ode": dict(ls="-", lw=1.1), "sgd": dict(ls="none", marker="o", ms=2.5, mfc="none")}
    for c, panel in enumerate(panels):
        for r_, k in enumerate(spikes):
            ax = axes[0 if overlay else r_, c]
            for part in parts:
                cell = _sel(ms[part], panel).sel(spike=k)
                for h in [h for h in cell.coords["head"].values
                          if np.isfinite(cell.sel(head=h).values).any()]:
                    mh = cell.sel(head=h)
                    ok = np.isfinite(mh.values) & (mh.time.values > 0 if logx else True)
                    color = "C%d" % ((int(k) if overlay else int(h)) % 10)
                    label = ("m_h%d" % (int(k) + 1) if overlay and h == 0 and part == parts[0]
                             else None if overlay else
                             "head %d" % (int(h) + 1) if part == parts[0] else None)
                    ax.plot(mh.time.values[ok], mh.values[ok], color=color, label=label,
                            gid="%s h%d k%d" % (part, int(h), int(k)), **style[part])
            if logx:
                ax.set_xscale("log")
            ax.axhline(0, color="0.7", lw=0.6)
            if overlay or r_ == 0:
                ax.set_title(lay.title(_sel(first, panel), _label(panel)), fontsize=9)
            if overlay or r_ == len(spikes) - 1:
                ax.set_xlabel("t")
            ax.set_ylabel("m_hk" if overlay else "m_h%d" % (int(k) + 1), fontsize=8)
            if c == 0 and (overlay or r_ == 0):
                ax.legend(fontsize=6, title=" ".join(
                    "%s %s" % (p, "-" if p == "ode" else "o") for p in parts), title_fontsize=6)
    return _save(fig, out)


def plot(res, kind, out, **kw):
    """Draw one kind (dynamics, heatmap, vs, pruning, maps, heads, features)
    into out (.png, .pdf); returns the matplotlib Figure."""
    fn = {"dynamics": dynamics, "heatmap": heatmap, "vs": vs, "pruning": pruning,
          "maps": maps, "heads": heads, "features": features}.get(kind)
    if fn is None:
        raise PlotError("unknown plot kind %r (kinds: %s)" % (kind, ", ".join(KINDS)))
    return fn(res, out, **{k: v for k, v in kw.items() if v is not None})
