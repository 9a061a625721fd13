"""Plot kinds drawn as images: heatmap (a final quantity over two swept
keys) and maps (attention weights A_hl)."""
import numpy as np

from . import draw
from .layout import Layout, label, legend_unconverged, panel_grid, save
from .query import (PlotError, at, default_quantity, final_quantity, flagged, fmt, numeric_swept,
                    pick, source_part, unconverged)


def heatmap(res, out, x=None, y=None, q=None, **kw):
    """A final quantity (default: the heads' cosine, ODE if run) over two
    swept keys, one panel per value of the others."""
    q = q or default_quantity(res, "ode_cosine", "sgd_cosine")
    if not x or not y:
        taken = ("seed", x, y) + tuple(kw.get("select") or ()) + tuple(kw.get("mean") or ())
        cands = numeric_swept(res, exclude=taken)
        x = x or (cands.pop(0) if cands else None)
        y = y or (cands.pop(0) if cands else None)
    if not x or not y:
        raise PlotError("heatmap needs two swept keys (--x, --y); %s sweeps %s" % (
            res.path, ", ".join(res.swept) or "none"))
    lay = Layout(res, "heatmap", axes=(x, y), **kw)
    da = pick(final_quantity(res, q), lay.selection)
    bad = unconverged(res, lay.selection)
    fig, panels = panel_grid(lay, da, (4.4, 3.6))
    finite = da.values[np.isfinite(da.values)]
    vmin, vmax = (finite.min(), finite.max()) if finite.size else (0, 1)
    cmap = "viridis"
    if q.endswith("cosine"):  # a cosine: the whole [-1, 1], 0 in the middle
        vmin, vmax, cmap = -1.0, 1.0, "coolwarm"
    for panel, ax in panels:
        cell = at(da, panel).transpose(y, x)
        im = draw.cells(ax, cell.values, cmap, vmin, vmax)
        flag = flagged(bad, panel, keep=(x, y))
        if flag is not False and flag.values.any():  # an x on each cell still moving
            flag = flag.reindex({x: cell.coords[x].values, y: cell.coords[y].values},
                                fill_value=False).transpose(y, x)
            iy, ix = np.nonzero(flag.values)
            # in the cell's corner, clear of its value
            draw.crosses(ax, ix + 0.35, iy + 0.35, ms=8, mew=1.5)
            legend_unconverged(ax, "kx")
            ax.legend(fontsize=7, loc="upper left")
        ax.set_xticks(range(cell.sizes[x]), [fmt(v) for v in cell.coords[x].values])
        ax.set_yticks(range(cell.sizes[y]), [fmt(v) for v in cell.coords[y].values])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(lay.title(cell, label(panel)), fontsize=9)
        fig.colorbar(im, ax=ax, label=q)
    return save(fig, out)


def maps(res, out, source=None, map_index=0, **kw):
    """Attention weights A_hl (head x token) of the final model on one
    sampled sequence, one panel per combination of swept values."""
    lay = Layout(res, "maps", **kw)
    part = source_part(res, source, "maps")
    da = pick(res.array(part + "/maps"), lay.selection)
    if map_index >= da.sizes["map"]:
        raise PlotError("--map %d: the file has %d maps per point" % (map_index, da.sizes["map"]))
    da = da.isel(map=map_index)
    bad = unconverged(res, lay.selection)
    fig, panels = panel_grid(lay, da, (4.0, 2.8))
    for panel, ax in panels:
        cell = at(da, panel).transpose("head", "token")
        keep = np.isfinite(cell.values).any(axis=1)
        if not keep.any():
            ax.set_axis_off()
            ax.set_title("%s: no data" % label(panel), fontsize=9)
            continue
        tokens = cell.coords["token"].values  # labelled from 1, as heads
        im = draw.weights(ax, cell.values[keep], tokens)
        heads = cell.coords["head"].values[keep]
        ax.set_yticks(range(len(heads)), [str(h) for h in heads])
        ax.set_xlabel("token l")
        ax.set_ylabel("head h")
        # two lines: the panel, then what else is fixed (long in one line)
        ax.set_title("%s A_hl (%s, map %d)\n%s" % (label(panel), part, map_index,
                                                   lay.title(cell)), fontsize=8)
        fig.colorbar(im, ax=ax)
        if flagged(bad, panel):
            legend_unconverged(ax)
            ax.legend(fontsize=6, loc="upper right", handlelength=0)
    return save(fig, out)
