"""Plot a results file like the demo's (paper Fig. 1): per activation, the
population loss of the ODE (lines) and SGD (markers) against t, the heads'
overlaps m_hk below, the Bayes risk dotted. Now a wrapper over the headspec
package: `python3 -m headspec plot dynamics RESULTS.h5 -o OUT.png [options]`.
usage: plot_demo.py RESULTS.h5 OUT.png [--select KEY=VALUE] [--mean KEY] ..."""
import os
import sys

# From a checkout: the package beside this folder (analysis/headspec), first,
# as when these scripts sat next to it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from headspec.cli import main  # noqa: E402

if len(sys.argv) < 3:
    sys.exit(__doc__)
sys.exit(main(["plot", "dynamics", sys.argv[1], "-o", sys.argv[2]] + sys.argv[3:]))
