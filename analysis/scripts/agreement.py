"""Deviations between SGD and the ODE in a results file (e.g. of
jobs/agreement.yaml): per done point (labelled by every swept key), the
largest |Lpop_SGD - Lpop_ODE| over all records and over t >= T_LATE, and the
largest Q_perp gap late on (heads matched by sorting on m_h2), with the
final SGD Lpop and the Bayes risk. usage: agreement.py RESULTS.h5 [T_LATE]"""
import os
import sys

import numpy as np

# From a checkout: the package beside this folder (analysis/headspec), first,
# as when these scripts sat next to it.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import headspec  # noqa: E402

if len(sys.argv) < 2:
    sys.exit(__doc__)
path = sys.argv[1]
t_late = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
with headspec.open_results(path) as r:
    pts = r.points
    keys = r.swept
    widths = [max(len(k), max((len(str(v)) for v in pts[k]), default=0)) for k in keys]
    head = " ".join("%-*s" % (w, k) for w, k in zip(widths, keys))
    print(head, "%8s %8s %9s %8s %8s" % ("max|dL|", "late|dL|", "late|dQp|", "L_sgd", "R*"))
    for i in np.flatnonzero(pts.status == "done"):
        p = r.point(i)
        late = p["sgd/t"] >= t_late
        dl = np.abs(p["sgd/lpop"] - p["ode/loss"])
        k = min(1, p["sgd/m"].shape[2] - 1)  # m_h2 (m_h1 if K = 1)
        os_ = np.argsort(p["sgd/m"][:, :, k], axis=1)
        oo = np.argsort(p["ode/m"][:, :, k], axis=1)
        qs = np.take_along_axis(np.diagonal(p["sgd/Qperp"], axis1=1, axis2=2), os_, 1)
        qo = np.take_along_axis(np.diagonal(p["ode/Qperp"], axis1=1, axis2=2), oo, 1)
        late_dl = dl[late].max() if late.any() else np.nan
        late_dq = np.abs(qs - qo)[late].max() if late.any() else np.nan
        row = " ".join("%-*s" % (w, pts[key][i]) for w, key in zip(widths, keys))
        print(row, "%8.4f %8.4f %9.4f %8.4f %8.4f" % (
            dl.max(), late_dl, late_dq, p["sgd/lpop"][-1], p["bayes_risk"]))
