"""The former loader's functions, kept for old scripts; new code should use
the headspec package (docs/RESULTS.md):

    import headspec_results as hr
    with hr.open_results("results/demo.h5") as f:
        grid = hr.grid(f)                  # dict: column name -> numpy array
        p = hr.point(f, 3)                 # dict: dataset name -> array of point 3
        rows = hr.select(grid, activation="softmax", H=2)   # point indices
"""
import numpy as np

from headspec import open_results  # returns a headspec.Results

__all__ = ["open_results", "grid", "select", "point"]


def grid(r):
    """Every /grid column as a numpy array (strings decoded)."""
    return {k: np.asarray(v) for k, v in r.grid.items()}


def select(g, **where):
    """Indices of the points whose grid columns equal the given values."""
    keep = np.ones(len(g["status"]), bool)
    for key, value in where.items():
        keep &= g[key] == value
    return np.flatnonzero(keep)


def point(r, i):
    """All result arrays of point i, keyed by dataset path (e.g. 'sgd/m')."""
    return {k: v for k, v in r.point(i).items() if "/" in k or k in (
        "bayes_risk", "bayes_risk_se", "seconds")}
