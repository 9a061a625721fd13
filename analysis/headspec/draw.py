"""Drawing helpers the plot kinds share: the figure grid, the Bayes risk
lines and bands, the quantities a kind draws."""
import numpy as np
# Figures without pyplot: no global state, no change of the backend of a
# notebook that imports this module; savefig picks the writer from the suffix.
from matplotlib.figure import Figure
import xarray as xr

from . import derived
from .layout import DIST_KEYS, PlotError, _fmt, _label, _match, _sel


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


def _points_quantity(res, q):
    """A final-time quantity: a points column, or a field at its last record."""
    if q in res.points.columns:
        return res.array(q)
    da = res.array(q)
    if "time" in da.dims:
        da = derived.at_final_record(da)
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


NOT_CONVERGED = "not converged at t_max"


def _unconverged(res, lay):
    """Per swept value: True where the point had not converged at its end
    (its ode/converged or sgd/converged is 0; averaged keys: any of them),
    selected as the layout selects; None when no point is flagged (older
    files store no flags: nothing is marked)."""
    cols = [c for c in ("ode_converged", "sgd_converged") if c in res.points.columns
            and (res.points[c] == 0).any()]
    if not cols:
        return None
    bad = res.array(cols[0]) == 0
    for c in cols[1:]:
        bad = bad | (res.array(c) == 0)
    for k, text in lay.select.items():
        if k in bad.dims:
            bad = bad.sel({k: _match(bad.coords[k], text, k)})
    means = [k for k in lay.mean if k in bad.dims]
    return bad.any(means) if means else bad


def _flagged(bad, cell, keep=()):
    """Whether the cell (a dict of swept values) holds an unconverged point;
    keep: dims left as they are (e.g. the x axis of vs)."""
    if bad is None:
        return False
    sub = {k: v for k, v in cell.items() if k in bad.dims}
    if any(v not in bad.coords[k].values for k, v in sub.items()):
        return False
    da = bad.sel(sub) if sub else bad
    rest = [d for d in da.dims if d not in keep]
    return da.any(rest) if rest else da


def _legend_unconverged(ax, style="k--"):
    """A legend entry saying what the not-converged mark is (style 'kx': an
    x, else a dashed line): an empty collection, so that the axes' lines
    stay the data's."""
    if style == "kx":
        ax.scatter([], [], marker="x", color="k", label=NOT_CONVERGED, gid="not_converged")
    else:
        from matplotlib.collections import LineCollection
        ax.add_collection(LineCollection([], colors="k", linestyles="--", label=NOT_CONVERGED,
                                         gid="not_converged"))
