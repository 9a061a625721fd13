"""The paper's figure kinds by name: plot(res, kind, out) draws one.

Each kind is a function of kinds_lines (dynamics, vs, pruning, attention),
kinds_maps (heatmap, maps) or kinds_heads (heads, features) that walks the
steps in order: query (what to draw: headspec.query), layout (where:
headspec.layout), drawing (headspec.draw), then layout.save.
"""
from .kinds_heads import features, heads
from .kinds_lines import attention, dynamics, pruning, vs
from .kinds_maps import heatmap, maps
from .query import PlotError

DRAW = {"dynamics": dynamics, "heatmap": heatmap, "vs": vs, "pruning": pruning, "maps": maps,
        "heads": heads, "features": features, "attention": attention}
KINDS = tuple(DRAW)


def plot(res, kind, out, **kw):
    """Draw one kind (dynamics, heatmap, vs, pruning, maps, heads, features, attention)
    into out (.png, .pdf); returns the matplotlib Figure. Options that are
    None are left to the kind's defaults."""
    if kind not in DRAW:
        raise PlotError("unknown plot kind %r (kinds: %s)" % (kind, ", ".join(KINDS)))
    return DRAW[kind](res, out, **{k: v for k, v in kw.items() if v is not None})
