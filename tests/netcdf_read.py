"""A results file opens in netCDF-4 and xarray natively: `ncdump -h` and
netCDF4.Dataset read every group and variable; xarray (engines h5netcdf and
netcdf4) gives named dimensions for /grid and each results group and its
subgroups; every variable has units and long_name; strings read as strings.
usage: netcdf_read.py RESULTS.h5 [FAILED_POINT]"""
import subprocess
import sys
import warnings

import h5py
import netCDF4
import numpy as np
import xarray as xr

path = sys.argv[1]
failed = int(sys.argv[2]) if len(sys.argv) > 2 else None
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


r = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True)
check(r.returncode == 0 and "group: grid" in r.stdout, "ncdump -h: %s" % r.stderr[:200])

with h5py.File(path, "r") as f:
    groups = ["results/" + g for g in f["results"]]
    n = int(f.attrs["n_points"])

# netCDF4: every variable of every group reads
d = netCDF4.Dataset(path)
count = 0
def walk(g):
    global count
    for sub in g.groups.values():
        walk(sub)
    for v in g.variables.values():
        v[...]
        count += 1
        if v.name not in g.dimensions and not v.name.endswith("_char"):
            check("units" in v.ncattrs() and "long_name" in v.ncattrs(),
                  "units and long_name of %s/%s" % (g.path, v.name))
walk(d)
check(count > 40, "netCDF4 read %d variables" % count)
act = d["grid"]["activation"][:]
check(act.dtype == object and isinstance(act[0], str), "netCDF4 reads strings as str")
d.close()

WANT = {"m": ("point", "time", "head", "spike"), "Q": ("point", "time", "head", "head2"),
        "M": ("point", "spike", "spike2"), "maps": ("point", "map", "head", "token"),
        "prune_loss": ("point", "kept"), "prune_order": ("point", "removal"),
        "test_loss": ("point", "time")}
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for engine in ("h5netcdf", "netcdf4"):
        g = xr.open_dataset(path, group="grid", engine=engine)
        check(set(g.sizes) == {"point"}, "%s: /grid dims %s" % (engine, dict(g.sizes)))
        check(g.sizes["point"] == n, "%s: point dimension" % engine)
        check(str(g["activation"].values[0]) in ("softmax", "softmax1", "bsoftmax"),
              "%s: activation strings" % engine)
        check(all(isinstance(x, str) for x in g["message"].values), "%s: message as str" % engine)
        if failed is not None:
            check("forced failure" in g["message"].values[failed], "%s: failure message" % engine)
        check(g["host"].values[0] != "", "%s: host" % engine)
        for grp in groups:
            top = xr.open_dataset(path, group=grp, engine=engine)
            check("point" in top.coords and "bayes_risk" in top, "%s: %s" % (engine, grp))
            check(np.all(np.isin(top["point"].values, np.arange(n))), "%s: point coordinate" % engine)
            for sub in ("sgd", "ode"):
                x = xr.open_dataset(path, group=grp + "/" + sub, engine=engine)
                for var, dims in WANT.items():
                    if var in x:
                        check(x[var].dims == dims, "%s: %s/%s/%s dims %s" % (engine, grp, sub, var, x[var].dims))
                check("time" in x.coords and np.array_equal(x["point"].values, top["point"].values),
                      "%s: time and point coordinates in %s/%s" % (engine, grp, sub))
                check(all("units" in x[v].attrs and "long_name" in x[v].attrs for v in x.data_vars),
                      "%s: units and long_name in %s/%s" % (engine, grp, sub))

for what in failures:
    print("FAIL", what)
print("netcdf_read: %s (%d failures)" % ("ok" if not failures else "FAILED", len(failures)))
sys.exit(1 if failures else 0)
