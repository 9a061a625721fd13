"""Which swept keys a figure draws where.

The paper's figure kinds, drawn from a results file.

Every swept key that a plot does not draw on an axis must become a panel
or a line, be fixed with select={key: value}, or be averaged with
mean=[key]; keys left over are filled into free panel and line slots in
key-table order, and if none is free the plot refuses and names the key
(PlotError). Titles say the values shown; legends the lines.
"""
import itertools
import warnings

import numpy as np

KINDS = ("dynamics", "heatmap", "vs", "pruning", "maps", "heads", "features", "attention")
# Keys that define the data distribution: the Bayes risk depends on these only.


# Keys that define the data distribution: the Bayes risk depends on these only.
DIST_KEYS = ("distribution", "b1", "b2", "beta", "K", "signed", "bmin", "bmax", "L")

# Per kind: how many swept keys become panels and lines, which keys go
# where first, which are averaged unless said otherwise, and which are never
# put on a panel or line automatically (seeds: average or select them).


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
    "attention": dict(panels=1, lines=2, prefer_panels=(), prefer_lines=("activation", "H"),
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
        stored = bool(da.notnull().any())
        if not stored:
            # nothing stored (SGD not run): NaN over the axes', panels' and
            # lines' keys, not every swept value dropped (empty dimensions)
            first = {k: 0 for k in self.res.swept if k in da.dims
                     and k not in self.axes + self.panels + self.lines}
            da = da.isel(first)
            if se is not None:
                se = se.isel({k: 0 for k in first if k in se.dims})
        for k in self.res.swept:
            if k in da.dims and stored:
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
