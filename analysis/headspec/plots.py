"""The paper's figure kinds, drawn from a results file: the layout of a
figure (which swept key goes where) is headspec.layout; the kinds are
drawn by kinds_lines (dynamics, vs, pruning, attention), kinds_maps (heatmap, maps)
and kinds_heads (heads, features), with headspec.draw's shared helpers.
"""
from .draw import NOT_CONVERGED, _bayes_lines, _bayes_vs, _default_q, _grid, _save  # noqa: F401
from .kinds_heads import features, heads
from .kinds_lines import attention, dynamics, pruning, vs
from .kinds_maps import heatmap, maps
from .layout import (DIST_KEYS, KINDS, SLOTS, Layout, PlotError, _fmt, _label,  # noqa: F401
                     _match, _sel, _split, parse_select)


def plot(res, kind, out, **kw):
    """Draw one kind (dynamics, heatmap, vs, pruning, maps, heads, features, attention)
    into out (.png, .pdf); returns the matplotlib Figure."""
    fn = {"dynamics": dynamics, "heatmap": heatmap, "vs": vs, "pruning": pruning,
          "maps": maps, "heads": heads, "features": features,
          "attention": attention}.get(kind)
    if fn is None:
        raise PlotError("unknown plot kind %r (kinds: %s)" % (kind, ", ".join(KINDS)))
    return fn(res, out, **{k: v for k, v in kw.items() if v is not None})
