"""Deviations between SGD and the ODE in a results file (e.g. of
jobs/agreement.yaml): per point, the largest |Lpop_SGD - Lpop_ODE| over all
records and over t >= T_LATE, and the largest Q_perp gap late on (heads
matched by sorting on m_h2). usage: agreement.py RESULTS.h5 [T_LATE]"""
import sys

import numpy as np

import headspec_results as hr

path = sys.argv[1]
t_late = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
with hr.open_results(path) as f:
    g = hr.grid(f)
    print("%-9s %-9s %4s %8s %8s %8s %8s %8s" % ("dist", "act", "seed", "max|dL|", "late|dL|",
                                                "late|dQp|", "L_sgd", "R*"))
    for i in np.flatnonzero(g["status"] == 1):
        p = hr.point(f, i)
        late = p["sgd/t"] >= t_late
        dl = np.abs(p["sgd/lpop"] - p["ode/loss"])
        os_ = np.argsort(p["sgd/m"][:, :, -1], axis=1)
        oo = np.argsort(p["ode/m"][:, :, -1], axis=1)
        qs = np.take_along_axis(np.diagonal(p["sgd/Qperp"], axis1=1, axis2=2), os_, 1)
        qo = np.take_along_axis(np.diagonal(p["ode/Qperp"], axis1=1, axis2=2), oo, 1)
        print("%-9s %-9s %4d %8.4f %8.4f %8.4f %8.4f %8.4f" % (
            g["distribution"][i], g["activation"][i], g["seed"][i], dl.max(), dl[late].max(),
            np.abs(qs - qo)[late].max(), p["sgd/lpop"][-1], p["bayes_risk"]))
