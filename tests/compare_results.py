"""Compare two results files of the same job, dataset by dataset, bit for
bit (every dataset under /results but wall times and coordinates, and
/grid/status), with h5py: values, not HDF5 internals (attributes that
reference dimension scales hold file addresses).

usage: compare_results.py REF.h5 FILE.h5             all equal
       compare_results.py REF.h5 FILE.h5 --done-only  every point FILE marks
           done has, in every results dataset, exactly REF's values (a point
           is never marked done before its data is written)
"""
import sys

import h5py
import numpy as np

SKIP = ("seconds",)  # wall times differ from run to run


def datasets(f):
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and name.split("/")[-1] not in SKIP and \
                obj.attrs.get("CLASS") != b"DIMENSION_SCALE":  # coordinates: from the plan
            out[name] = obj
    f["results"].visititems(visit)
    return out


def rows_of_points(f, name):
    """Grid index of each row of results dataset `name` (from the `point`
    dataset of its group or a parent group)."""
    parts = name.split("/")
    for k in range(len(parts) - 1, 0, -1):
        grp = f["results"]["/".join(parts[:k])]
        if "point" in grp and isinstance(grp["point"], h5py.Dataset):
            return grp["point"][:]
    raise SystemExit("compare_results: no 'point' dataset above /results/" + name)


def equal(a, b):
    """Bit for bit (NaN equals NaN, -0.0 differs from 0.0)."""
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    return a.shape == b.shape and a.dtype == b.dtype and \
        np.array_equal(a.view(np.uint8), b.view(np.uint8))


def main():
    ref_path, path = sys.argv[1], sys.argv[2]
    done_only = "--done-only" in sys.argv[3:]
    bad = []
    with h5py.File(ref_path, "r") as ref, h5py.File(path, "r") as f:
        status = f["grid/status"][:]
        rd, fd = datasets(ref), datasets(f)
        if sorted(rd) != sorted(fd):
            bad.append("different datasets: %s" % sorted(set(rd) ^ set(fd)))
        if not done_only and not equal(ref["grid/status"][:], status):
            bad.append("/grid/status")
        done = np.flatnonzero(status == 1)
        for name in sorted(set(rd) & set(fd)):
            a, b = rd[name][()], fd[name][()]
            if not done_only:
                if not equal(a, b):
                    bad.append("/results/" + name)
                continue
            # rows of the points FILE says are done, in each file's own order
            pa, pb = rows_of_points(ref, name), rows_of_points(f, name)
            for i in done:
                ra, rb = np.flatnonzero(pa == i), np.flatnonzero(pb == i)
                if len(ra) != len(rb) or not all(equal(a[x], b[y]) for x, y in zip(ra, rb)):
                    bad.append("/results/%s of done point %d" % (name, i))
    for what in bad:
        print("  differs:", what)
    what = "%d done points" % len(done) if done_only else "all datasets"
    print("compare_results: %s: %s" % (what, "equal" if not bad else "DIFFERENT"))
    sys.exit(1 if bad else 0)


main()
