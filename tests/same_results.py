"""Whether two results files hold the same results, bit for bit: every
dataset under /results (but the wall times in `seconds`) and /grid/status.
Compares values, not HDF5 internals (attributes referencing dimension scales
hold file addresses). usage: same_results.py A.h5 B.h5"""
import sys

import h5py
import numpy as np


def datasets(f):
    names = []
    f["results"].visititems(lambda n, o: names.append("results/" + n)
                            if isinstance(o, h5py.Dataset) and o.attrs.get("CLASS") != b"DIMENSION_SCALE" and not n.endswith("seconds") else None)
    return sorted(names) + ["grid/status"]


with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    names = datasets(a)
    bad = [n for n in sorted(set(names) ^ set(datasets(b)))]
    for n in names:
        if n in b:
            x, y = a[n][()], b[n][()]
            same = x.shape == y.shape and x.dtype == y.dtype and \
                np.array_equal(x.view(np.uint8) if x.dtype.kind == "f" else x,
                               y.view(np.uint8) if y.dtype.kind == "f" else y)
            if not same:
                bad.append(n)
for n in bad:
    print("  differs:", n)
sys.exit(1 if bad else 0)
