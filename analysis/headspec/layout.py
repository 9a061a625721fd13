"""The plots' second step: where things go in a figure. Which swept key
is an axis, a panel or a line (Layout), the figure's grid of axes, and the
words on it: titles, line labels, legends; saving the figure.

Every swept key that a plot does not draw on an axis must become a panel
or a line, be fixed with select={key: value}, or be averaged with
mean=[key]; keys left over are filled into free panel and line slots in
key-table order, and if none is free the plot refuses and names the key
(PlotError). Titles say the values shown; legends the lines.

Imports query (the layout is probed on the points that ran), nothing
above it (draw, the kinds).
"""
# Figures without pyplot: no global state, no change of the backend of a
# notebook that imports this module; savefig picks the writer from the suffix.
from matplotlib.figure import Figure
import numpy as np

from .query import PlotError, Selection, at, combos, fmt, pick

NOT_CONVERGED = "not converged at t_max"

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


class Layout:
    """Which swept keys are axes, panels, lines, selected or averaged."""

    def __init__(self, res, kind, axes=(), panels=None, lines=None, select=None, mean=None):
        if kind not in SLOTS:
            raise PlotError("unknown plot kind %r (kinds: %s)" % (kind, ", ".join(SLOTS)))
        slots = SLOTS[kind]
        self.res, self.kind = res, kind
        self.select = dict(select or {})
        self.mean = list(mean or [])
        self.axes = [a for a in axes if a]
        # keys zipped with an axis key move with it: drawn on its diagonal
        # (the one point per axis value), not as panels or lines
        self.diagonal = [k for g in getattr(res, "zip_groups", []) if set(g) & set(self.axes)
                         for k in g if k not in self.axes]
        self.panels = list(panels or [])
        self.lines = list(lines or [])
        for k in self.diagonal:
            if k in self.panels + self.lines:
                raise PlotError("%s moves with %s (they are zipped in %s's job): it cannot be a "
                                "panel or a line when %s is the axis" % (
                                    k, self.axes[0], res.path, self.axes[0]))
        for k in list(self.select) + self.mean + self.axes + self.panels + self.lines:
            if k not in res.swept:
                raise PlotError("%s is not a swept key of %s (swept: %s)" % (
                    k, res.path, ", ".join(res.swept) or "none"))
        if len(self.panels) > slots["panels"] or len(self.lines) > max(slots["lines"], 0):
            raise PlotError("%s draws at most %d panel key(s) and %d line key(s)" % (
                kind, slots["panels"], slots["lines"]))
        # the done points decide the layout (seconds: finite wherever a point ran)
        probe = pick(res.array("seconds"), self.selection)
        taken = set(self.select) | set(self.mean) | set(self.axes) | set(self.panels) | set(
            self.lines) | set(self.diagonal)
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
            values = ", ".join(fmt(v) for v in probe.coords[k].values)
            raise PlotError(
                "%s plot of %s: the swept key %s (values %s) is not drawn (%s taken: %s); "
                "choose with --select %s=VALUE, --mean %s, or give it a panel/line "
                "(--panels/--lines) in place of another" % (
                    kind, res.path, k, values, "panels and lines" if slots["lines"] else "panels",
                    ", ".join(self.panels + self.lines) or "none", k, k))

    @property
    def selection(self):
        """What query needs to reduce an array as this layout draws it."""
        # averaging over a diagonal key keeps its one stored value per axis value
        return Selection(self.select, self.mean + [k for k in self.diagonal if k not in
                                                   self.select], self.axes + self.panels +
                         self.lines, self.res.swept)

    def lines_with_data(self, panel, *arrays):
        """The line combinations of a panel where any of the arrays has a
        finite value."""
        return [ln for ln in combos(arrays[0], self.lines, *arrays[1:])
                if any(np.isfinite(at(a, dict(panel, **ln)).values).any() for a in arrays)]

    def title(self, da, extra=""):
        """The values of the swept keys fixed in da, and what was averaged."""
        parts = []
        for k in self.res.swept:
            if k in self.panels or k in self.lines:
                continue  # said by the panel's own label or the legend
            if k in da.coords and da.coords[k].ndim == 0:
                parts.append("%s=%s" % (k, fmt(da.coords[k].item())))
        for k in self.mean:
            parts.append("mean over %s" % k)
        for k in self.diagonal:
            parts.append("%s = %s (zipped)" % (k, self.axes[0]))
        return ", ".join(p for p in [extra] + parts if p)


def label(combo):
    """A panel's or line's swept values: 'activation=softmax H=2'; a key
    the point does not read (its value n/a, e.g. beta of a discrete P_c)
    left out."""
    return " ".join("%s=%s" % (k, fmt(v)) for k, v in combo.items() if fmt(v) != "n/a")


# What a legend says for a quantity drawn without a line key (a reader's
# words, not the column's name)
QUANTITY_TEXT = {"ode_loss_fresh": "ODE, final loss out of sample",
                 "sgd_lpop_fresh": "SGD, final Lpop out of sample",
                 "ode_loss": "ODE, final loss on its own samples",
                 "sgd_test_loss": "SGD, final test loss", "sgd_lpop": "SGD, final Lpop",
                 "ode_cosine": "cosine of the heads (ODE)",
                 "sgd_cosine": "cosine of the heads (SGD)"}


def quantity_text(q):
    """The legend's words for quantity q (its name where none are set)."""
    return QUANTITY_TEXT.get(q, q)


def count_text(n):
    """How many values a mean counts (query.MeanSE.n): '3', or '2-3'
    where it varies; '' when nothing was averaged."""
    if n is None:
        return ""
    counts = n.values[n.values > 0]
    if not counts.size:
        return ""
    return "%d" % counts.max() if counts.min() == counts.max() else "%d-%d" % (
        counts.min(), counts.max())


def grid(n_rows, n_cols, w=4.2, h=3.4):
    """A figure of n_rows x n_cols axes, each w x h inches."""
    fig = Figure(figsize=(w * n_cols, h * n_rows))
    return fig, fig.subplots(n_rows, n_cols, squeeze=False)


def panel_grid(lay, da, scale=(4.2, 3.6)):
    """The figure and [(panel, axes)]: panels of up to two keys, columns
    by the first, rows by the second."""
    panels = combos(da, lay.panels)
    rows_key = lay.panels[1] if len(lay.panels) > 1 else None
    n_rows = da.sizes[rows_key] if rows_key in da.dims else 1
    n_cols = len(panels) // n_rows
    fig, axes = grid(n_rows, n_cols, *scale)
    cells = [(panel, axes[j % n_rows, j // n_rows] if rows_key else axes[0, j])
             for j, panel in enumerate(panels)]
    return fig, cells


def legend_unconverged(ax, style="k--"):
    """A legend entry saying what the not-converged mark is (style 'kx': an
    x, else a dashed line): an empty collection, so that the axes' lines
    stay the data's."""
    if style == "kx":
        ax.scatter([], [], marker="x", color="k", label=NOT_CONVERGED, gid="not_converged")
    else:
        from matplotlib.collections import LineCollection
        ax.add_collection(LineCollection([], colors="k", linestyles="--", label=NOT_CONVERGED,
                                         gid="not_converged"))


def save(fig, out):
    """Lay the figure out tight and write it (the suffix picks the format)."""
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    return fig
