"""The plots' first step: what to draw. Pick a quantity from a results
file, select and average it as a figure's layout says, and return plain
xarray arrays: the values, and (mean_se) the mean with its standard error
as a MeanSE, never hidden in attrs. No matplotlib here: every function
answers with data, so a kind's numbers can be checked without a figure.

The bottom of the plotting modules: layout, draw and the kinds import it,
it imports none of them.
"""
import itertools
import warnings
from collections import namedtuple

import numpy as np
import xarray as xr

from . import derived

# Keys that define the data distribution: the Bayes risk depends on these only.
DIST_KEYS = ("distribution", "b1", "b2", "beta", "K", "signed", "bmin", "bmax", "L")


class PlotError(ValueError):
    """The plot cannot be drawn as asked (e.g. a swept key left over)."""


# How a figure's layout reduces an array: the swept values kept
# (select: key -> text), the keys averaged (mean), the keys drawn (keep:
# axes, panels, lines; never squeezed away) and the file's swept keys.
Selection = namedtuple("Selection", "select mean keep swept")

# An averaged quantity: mean, its standard error (an array like mean, NaN
# where unknown; None when nothing was averaged and no SE was given) and n,
# how many values each mean counts (None when nothing was averaged).
MeanSE = namedtuple("MeanSE", "mean se n")


def fmt(v):
    """A swept value as the plots write it (NaN and '' as n/a)."""
    if isinstance(v, (float, np.floating)):
        return "n/a" if np.isnan(v) else "%g" % v
    if isinstance(v, (np.integer,)):
        return str(int(v))
    return str(v) if v != "" else "n/a"


def match(coord, text, key):
    """The value of coord that text names (a number compares as a number)."""
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
        key, text, key, ", ".join(fmt(v) for v in values)))


def _numeric(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def at(da, combo):
    """da at the combo's values; all NaN where da has none of them (its
    values there were dropped as NaN)."""
    sub = {k: v for k, v in combo.items() if k in da.dims}
    if any(v not in da.coords[k].values for k, v in sub.items()):
        return da.reindex({k: [v] for k, v in sub.items()}).squeeze(list(sub))
    return da.sel(sub) if sub else da


def combos(da, keys, *more):
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


def pick(da, selection):
    """da selected, its swept values without data dropped, averaged over
    the selection's mean keys, the rest of size 1 squeezed."""
    return _reduce(da, selection, None, want_se=False).mean


def mean_se(da, selection, se=None):
    """As pick, with the standard error of each mean: std/sqrt(n) over the
    averaged keys (NaN where n = 1). With se (the standard errors of da's
    values, same dims) the error of the mean counting both:
    sqrt(s^2/n + sum se_i^2 / n^2) (se alone where n = 1); nothing
    averaged: se as selected."""
    return _reduce(da, selection, se, want_se=True)


def _reduce(da, selection, se, want_se):
    select, mean_keys, keep, swept = selection
    for k, text in select.items():
        if k in da.dims:
            da = da.sel({k: match(da.coords[k], text, k)})
            if se is not None and k in se.dims:
                se = se.sel({k: da.coords[k].values})
    stored = bool(da.notnull().any())
    if not stored:
        # nothing stored (SGD not run): NaN over the axes', panels' and
        # lines' keys, not every swept value dropped (empty dimensions)
        first = {k: 0 for k in swept if k in da.dims and k not in keep}
        da = da.isel(first)
        if se is not None:
            se = se.isel({k: 0 for k in first if k in se.dims})
    for k in swept:
        if k in da.dims and stored:
            da = da.dropna(k, how="all")
            if se is not None and k in se.dims:
                se = se.sel({k: da.coords[k].values})
    means = [k for k in mean_keys if k in da.dims]
    n = None
    if means:
        n = da.count(means)
        mean = da.mean(means, skipna=True, keep_attrs=True)
        if want_se:
            se = _se_of_mean(da, means, n, se)
        da = mean
    for k in swept:
        if k in da.dims and da.sizes[k] == 1 and k not in keep:
            da = da.squeeze(k)
            if want_se and se is not None and k in se.dims:
                se = se.squeeze(k)
            if n is not None and k in n.dims:
                n = n.squeeze(k)
    return MeanSE(da, se if want_se else None, n)


def _se_of_mean(da, means, n, se):
    with warnings.catch_warnings():  # one value left: no spread, NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        spread = da.std(means, ddof=1, skipna=True) / np.sqrt(n)
    spread = spread.where(n > 1)
    if se is None:
        return spread
    own = (se.where(np.isfinite(da)) ** 2).sum(means, skipna=True, min_count=1) / n ** 2
    return np.sqrt(spread.fillna(0) ** 2 + own).where(np.isfinite(own), spread)


def final_quantity(res, q):
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


def stored_se(res, q):
    """The standard error column of a quantity (q + '_se'), if stored."""
    name = q + "_se"
    if name in res.points.columns and np.isfinite(res.points[name].to_numpy(dtype=float)).any():
        return res.array(name)
    return None


def default_quantity(res, *names):
    """The first of the points columns with any finite value (else the first)."""
    for n in names:
        if n in res.points.columns and np.isfinite(res.points[n].to_numpy(dtype=float)).any():
            return n
    return names[0]


def numeric_swept(res, exclude=()):
    """The swept keys with numbers for values and more than one of them."""
    out = []
    for k in res.swept:
        col = res.grid[k]
        numeric = str(col.dtype) == "Int64" or col.dtype.kind in "iuf"
        if k not in exclude and numeric and col.nunique() > 1:
            out.append(k)
    return out


def source_part(res, source, field):
    """'ode' or 'sgd': the part that ran (ODE first), or the one asked for."""
    if source:
        return source
    return parts_with(res, None, field)[0]


def parts_with(res, source, field="m"):
    """The parts to draw: 'ode' and/or 'sgd' (those with data), or the one asked for."""
    if source:
        return [source]
    fields = res.fields()
    parts = [p for p in ("ode", "sgd") if p + "/" + field in fields
             and np.isfinite(res.array(p + "/" + field).values).any()]
    if not parts:
        raise PlotError("no %s stored in %s (neither ODE nor SGD)" % (field, res.path))
    return parts


def heads_with_data(cell):
    """Head indices of a (time, head, spike) array with any data (H < max H is padded)."""
    return [h for h in cell.coords["head"].values
            if np.isfinite(cell.sel(head=h).values).any()]


def unconverged(res, selection):
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
    for k, text in selection.select.items():
        if k in bad.dims:
            bad = bad.sel({k: match(bad.coords[k], text, k)})
    means = [k for k in selection.mean if k in bad.dims]
    return bad.any(means) if means else bad


def flagged(bad, cell, keep=()):
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


def bayes_levels(bayes, panel, line_keys, line_combos):
    """R* per distinct distribution among a panel's lines, averaged over
    everything else: [(distribution combo, index of its first line, R*)],
    finite values only."""
    b = at(bayes, panel)
    dist_line_keys = [k for k in line_keys if k in DIST_KEYS and k in b.dims]
    others = [k for k in b.dims if k not in dist_line_keys]
    b = b.mean(others, skipna=True) if others else b
    out, seen = [], set()
    for j, combo in enumerate(line_combos):
        key = tuple((k, combo[k]) for k in dist_line_keys)
        if key in seen:
            continue
        seen.add(key)
        value = float(at(b, dict(key)).values)
        if np.isfinite(value):
            out.append((dict(key), j, value))
    return out


def bayes_against(bayes, se, panel, x, xs, line_keys):
    """R* and its SE against x, one (line combo, x, R*, SE) per
    distribution among the lines; what
    else varies is averaged (values and SEs). Where R* does not vary with x:
    a flat line over [min xs, max xs]. Nothing where R* is not known."""
    if any(k in bayes.dims and v not in bayes.coords[k].values for k, v in panel.items()):
        return []
    b, s = at(bayes, panel), at(se, panel)
    dist_lines = [k for k in line_keys if k in DIST_KEYS and k in b.dims]
    other = [k for k in b.dims if k != x and k not in dist_lines]
    b = b.mean(other, skipna=True) if other else b
    s = s.mean([k for k in other if k in s.dims], skipna=True) if other else s
    out = []
    for ln in combos(b, dist_lines):
        bb, ss = at(b, ln), at(s, ln)
        if x in bb.dims:
            bx, y, e = bb.coords[x].values, bb.values, ss.sel({x: bb.coords[x]}).values
        else:
            bx = np.array([np.min(xs), np.max(xs)])
            y, e = np.full(2, float(bb.values)), np.full(2, float(ss.values))
        if np.isfinite(y).any():
            out.append((ln, bx, y, e))
    return out


def bayes_from(res, other, field):
    """R* (or its SE) from another results file (e.g. a Bayes-only job),
    on the dims of res's swept keys they share. A key res sweeps that the
    other fixes matches only at the other's value (NaN elsewhere); a key
    the other sweeps and res fixes is selected at res's value; other keys
    of the other file are averaged."""
    ob = other.array(field)
    for k in DIST_KEYS:
        mine, theirs = res.fixed.get(k), other.fixed.get(k)
        if (k not in res.swept and k not in other.swept and mine is not None
                and theirs is not None and fmt(mine) != fmt(theirs)):
            raise PlotError("--bayes %s: its %s=%s differs from %s's %s=%s" % (
                other.path, k, fmt(theirs), res.path, k, fmt(mine)))
    for k in other.swept:
        if k in res.swept:
            continue
        if k in res.fixed and not isinstance(res.fixed[k], list):
            try:
                ob = ob.sel({k: match(ob.coords[k], res.fixed[k], k)})
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
            same = np.array([fmt(v) == fmt(other.fixed[k]) for v in values])
            ob = ob.where(xr.DataArray(same, dims=(k,), coords={k: values}))
    return ob.transpose(*[k for k in res.swept if k in ob.dims])
