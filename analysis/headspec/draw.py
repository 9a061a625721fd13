"""The plots' third step: putting numbers on axes. Each helper takes a
matplotlib Axes and plain arrays (what query returned, already at one
panel and line) and draws one thing: a mean with its standard error as a
band or as error bars, a level, marks on points still moving, a map of
values. No results file and no layout here, so any figure (the kinds, a
notebook, the ODE replicas' spread) can use them.
"""
import numpy as np


def band(ax, x, mean, se, color="0.5", alpha=0.25, gid=None, **style):
    """Shade mean +- se against x where mean is finite (an unknown se:
    no width there); returns the PolyCollection."""
    x, mean, se = np.asarray(x), np.asarray(mean, dtype=float), np.asarray(se, dtype=float)
    ok = np.isfinite(mean)
    e = np.where(np.isfinite(se), se, 0)
    return ax.fill_between(x[ok], (mean - e)[ok], (mean + e)[ok], color=color, alpha=alpha, lw=0,
                           gid=gid, **style)


def bars(ax, x, mean, se, color=None, label=None):
    """Points joined by a line with error bars of +- se (None: none)."""
    return ax.errorbar(x, mean, yerr=se, fmt="o-", ms=4, capsize=3, color=color, label=label)


def level(ax, value, color, label):
    """A dotted horizontal line at value (e.g. the Bayes risk R*)."""
    ax.axhline(value, color=color, ls=":", lw=1.2, label=label)


def curve(ax, x, y, label, gid=None):
    """A dotted black curve through the finite points (a single point: a
    short dash, so that it shows)."""
    x, y = np.asarray(x), np.asarray(y, dtype=float)
    ok = np.isfinite(y)
    ax.plot(x[ok], y[ok], ":", color="k", label=label, gid=gid,
            marker="_" if ok.sum() == 1 else None, ms=14)


def crosses(ax, x, y, ms=9, **style):
    """Black x marks at (x, y): points still moving at their end."""
    ax.plot(x, y, "x", ms=ms, color="k", ls="none", gid="not_converged", **style)


def cells(ax, values, cmap, vmin, vmax):
    """values (rows y, columns x) as coloured cells, each with its value
    written in it (black or white, whichever reads); returns the image."""
    im = ax.imshow(values, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):
            continue
        r, g, b, _ = im.cmap(im.norm(v))
        ax.text(j, i, "%.2f" % v, ha="center", va="center", fontsize=7,
                color="k" if 0.3 * r + 0.6 * g + 0.1 * b > 0.5 else "w", gid="cell")
    return im


def weights(ax, values, tokens):
    """Attention weights (rows: heads, columns: tokens labelled tokens) as
    an image from 0 up; returns the image."""
    return ax.imshow(values, aspect="auto", cmap="viridis", vmin=0,
                     extent=(tokens[0] - 0.5, tokens[-1] + 0.5, len(values) - 0.5, -0.5))
