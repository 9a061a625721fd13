"""Pruning curves and attention maps of a results file (paper Figs. 6-7):
the loss against the heads kept into OUT.png, the attention maps A_hl into
OUT_maps.png. Now a wrapper over the headspec package:
`python3 -m headspec plot pruning|maps RESULTS.h5 -o OUT.png [options]`.
usage: plot_pruning_maps.py RESULTS.h5 OUT.png [--select KEY=VALUE] ..."""
import os
import sys

# From a checkout: the package beside this folder (analysis/headspec), first,
# as when these scripts sat next to it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from headspec.cli import main  # noqa: E402

if len(sys.argv) < 3:
    sys.exit(__doc__)
path, out, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
stem, ext = os.path.splitext(out)
code = main(["plot", "pruning", path, "-o", out] + extra)
sys.exit(code or main(["plot", "maps", path, "-o", stem + "_maps" + (ext or ".png")] + extra))
