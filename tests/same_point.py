"""Whether point I of file A and the single point of file B hold the same
results, bit for bit (every result dataset but the wall time).
usage: same_point.py A.h5 I B.h5"""
import sys

import h5py
import numpy as np

a_path, i, b_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
    ga = a["results"][a["grid/group"][i].decode()]
    gb = b["results"][b["grid/group"][0].decode()]
    ra, rb = a["grid/row"][i], b["grid/row"][0]
    names = []
    gb.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and o.attrs.get("CLASS") != b"DIMENSION_SCALE" and
                  o.shape and o.shape[0] == gb["point"].shape[0] and n not in ("point", "seconds")
                  and "/" in n or n in ("bayes_risk", "bayes_risk_se") else None)
    bad = []
    for n in names:
        x, y = np.atleast_1d(ga[n][ra]), np.atleast_1d(gb[n][rb])
        if x.shape != y.shape or not np.array_equal(x.view(np.uint8), y.view(np.uint8)):
            bad.append(n)
    if a["grid/status"][i] != 1 or b["grid/status"][0] != 1:
        bad.append("status")
    if a["grid/group"][i] != b["grid/group"][0]:
        bad.append("group")
for n in bad:
    print("  point %d differs: %s" % (i, n))
sys.exit(1 if bad else 0)
