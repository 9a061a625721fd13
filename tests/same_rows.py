"""Whether every point of OLD.h5 that is done is in NEW.h5 (matched by its
/grid label and key columns) with the same result rows, bit for bit, and the
same run record (status, rank, host, start and finish times): copied, not
recomputed. usage: same_rows.py OLD.h5 NEW.h5"""
import sys

import h5py
import numpy as np

RUN = ("status", "rank", "host", "started", "finished", "message", "checksum")


def key_columns(g):
    skip = set(RUN) | {"point", "group", "row", "label", "message_char", "host_char"}
    return sorted(c for c in g if c not in skip)


def identity(g, cols, i):
    return tuple(g[c][i].tobytes() if hasattr(g[c][i], "tobytes") else g[c][i] for c in cols)


with h5py.File(sys.argv[1], "r") as old, h5py.File(sys.argv[2], "r") as new:
    go, gn = old["grid"], new["grid"]
    cols = key_columns(go)
    where = {identity(gn, cols, j): j for j in range(gn["point"].shape[0])}
    bad, copied = [], 0
    for i in range(go["point"].shape[0]):
        if go["status"][i] != 1:
            continue
        j = where.get(identity(go, cols, i))
        if j is None:
            bad.append("done point %d is not in the new file" % i)
            continue
        copied += 1
        for c in RUN:
            if not np.array_equal(np.atleast_1d(go[c][i]).view(np.uint8),
                                  np.atleast_1d(gn[c][j]).view(np.uint8)):
                bad.append("point %d: /grid/%s" % (i, c))
        ro, rn = old["results"][go["group"][i].decode()], new["results"][gn["group"][j].decode()]
        names = []
        ro.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and o.attrs.get("CLASS") != b"DIMENSION_SCALE" and
                      ("/" in n or n in ("bayes_risk", "bayes_risk_se", "seconds")) else None)
        for n in names:
            x, y = np.atleast_1d(ro[n][go["row"][i]]), np.atleast_1d(rn[n][gn["row"][j]])
            if x.shape != y.shape or not np.array_equal(x.view(np.uint8), y.view(np.uint8)):
                bad.append("point %d: %s" % (i, n))
for b in bad:
    print("  " + b)
print("same_rows: %d done points compared" % copied)
sys.exit(1 if bad or not copied else 0)
