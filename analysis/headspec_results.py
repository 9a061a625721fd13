"""Read headspec results files (schema: README.md, "Results file").

    import headspec_results as hr
    with hr.open_results("results/demo.h5") as f:
        grid = hr.grid(f)                  # dict: column name -> numpy array
        p = hr.point(f, 3)                 # dict: dataset name -> array of point 3
        rows = hr.select(grid, activation="softmax", H=2)   # point indices

Only h5py and numpy are needed (Debian: python3-h5py python3-numpy).
"""
import h5py
import numpy as np


def open_results(path):
    return h5py.File(path, "r")


def grid(f):
    """Every /grid column as a numpy array (strings decoded)."""
    out = {}
    for name, ds in f["grid"].items():
        col = ds[:]
        if col.dtype.kind == "S":
            col = np.array([v.decode() for v in col])
        out[name] = col
    return out


def select(g, **where):
    """Indices of the points whose grid columns equal the given values."""
    keep = np.ones(len(g["status"]), bool)
    for key, value in where.items():
        keep &= g[key] == value
    return np.flatnonzero(keep)


def point(f, i):
    """All result arrays of point i, keyed by dataset path (e.g. 'sgd/m')."""
    group = f["grid/group"][i].decode()
    row = f["grid/row"][i]
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name != "point":
            out[name] = obj[row]

    f["results"][group].visititems(visit)
    return out
