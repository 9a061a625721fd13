"""Files written before the C side stated what the reader needs.

Format 1 (fixed-length strings, groups H{H}_K{K}_L{L}, no dimension
scales, no swept_keys) and format 2 of layout revision 1 (no /grid
key_order attribute, no per-point mean_c). For these only, the package
derives what is missing: the key table's order as it stood then
(KEY_ORDER), the swept keys from the job text (format 1), the dimension
names of each dataset (format 1) and each distribution's mean feature
E[c] (mean_feature; MODEL.md section 1). Files of the current layout are
read from what they state (headspec.layout_current) and never come here;
headspec.reader picks the layout of a file.
"""
import json
import re

import h5py
import numpy as np
import xarray as xr

from .layout_current import CurrentLayout
from .schema import BOOKKEEPING

# Key-table order of the job keys when these files were written (docs/JOBS.md
# "Job files"); keys added since come after, by name.
KEY_ORDER = ("distribution", "b1", "b2", "beta", "K", "signed", "bmin", "bmax",
             "activation", "H", "L", "sigma0", "seed", "orthonormal_spikes",
             "training_run", "d", "eta", "B", "sampler", "kappa", "test_samples", "t_max",
             "records", "record_grid", "t_min", "ode_run", "noise_term",
             "samples", "antithetic", "rtol", "atol", "start", "start_noise",
             "start_lambda", "resample_dt", "bayes_samples", "fresh_samples", "maps",
             "prune", "fail_point")
# Keys given as lists that are values, not sweeps.
LIST_VALUED = ("atoms", "probs", "betas", "start_m", "start_Q", "start_b")

# Dimensions of the format-1 datasets, which carry no dimension scales.
V1_DIMS = {
    "t": ("time",), "step": ("time",), "lambda": ("time",), "test_loss": ("time",),
    "train_loss": ("time",), "lpop": ("time",), "loss": ("time",),
    "m": ("time", "head", "spike"), "Q": ("time", "head", "head2"),
    "Qperp": ("time", "head", "head2"), "b": ("time", "head"),
    "M": ("spike", "spike2"), "prune_loss": ("kept",), "prune_order": ("removal",),
    "maps": ("map", "head", "token"), "maps_eps": ("map",),
    "bayes_risk": (), "bayes_risk_se": (), "seconds": (),
}


def _key_order(res):
    order = {k: i for i, k in enumerate(KEY_ORDER)}
    keys = [c for c in res.columns if c not in BOOKKEEPING]
    return sorted(keys, key=lambda k: (order.get(k, len(order)), k))


def _with_mean_c(res, gname, ds, points):
    """A group's Dataset with mean_c (point x spike) derived, if it lacks it."""
    if ds is None or "mean_c" in ds.data_vars:
        return ds
    K = int(np.asarray(res.h5["results"][gname].attrs["K"]).ravel()[0])
    mus = mean_c_of(res, points, K)
    ds = ds.assign(mean_c=(("point", "spike"), mus))
    return ds if "spike" in ds.coords else ds.assign_coords(spike=np.arange(K))


def mean_c_of(res, points, K):
    """E[c] of the given points (len(points) x K), NaN where unknown."""
    def col(name, default):
        if name not in res.columns:
            return np.full(len(points), default, dtype=object)
        values, unread = res.column(name, unread=True)
        return np.where(unread[points], default, values[points].astype(object))
    dist = col("distribution", "")
    b1, beta, signed = col("b1", np.nan), col("beta", np.nan), col("signed", 0)
    disc = discrete_mean(res.job_text) if "discrete" in set(dist) else None
    out = np.full((len(points), K), np.nan)
    for r in range(len(points)):
        mu = mean_feature(dist[r], K, b1=float(b1[r]), beta=float(beta[r]),
                          signed=int(signed[r]), discrete=disc)
        if mu is not None and len(mu) == K:
            out[r] = mu
    return out


class Revision1Layout(CurrentLayout):
    """Format 2 before layout revision 2: key order and mean_c derived."""
    key_order_stated = False

    def key_order(self):
        return _key_order(self.res)

    def names(self, gname, part):
        names = super().names(gname, part)
        return names + ["mean_c"] if part == "" and "mean_c" not in names else names

    def field(self, gname, part, var):
        if part == "" and var == "mean_c" and "mean_c" not in super().names(gname, part):
            return _mean_c_array(self.res, gname)
        return super().field(gname, part, var)


def _mean_c_array(res, gname):
    points = res.points_of(gname)
    K = int(np.asarray(res.h5["results"][gname].attrs["K"]).ravel()[0])
    return xr.DataArray(mean_c_of(res, points, K), dims=("point", "spike"),
                        coords={"point": points, "spike": np.arange(K)}, name="mean_c")


class Format1Layout:
    """Format 1: read with h5py into xarray Datasets, named as format 2."""
    key_order_stated = False

    def __init__(self, res):
        self.res = res
        self.f = res.hdf5  # h5py alone: no netCDF layout here
        self._ds = {}

    def key_order(self):
        return _key_order(self.res)

    def swept(self):
        res = self.res
        listed = set(_swept_from_job_text(res.job_text))
        keys = _key_order(res)
        return [k for k in keys if k in listed and len(set(res.column(k).tolist())) > 1]

    def grid(self):
        if "grid" not in self._ds:
            g = self.f["grid"]
            n = int(np.asarray(self.f.attrs["n_points"]).ravel()[0])
            data = {}
            for name, d in g.items():
                if isinstance(d, h5py.Dataset) and d.ndim == 1 and d.shape[0] == n \
                        and name != "point":
                    data[name] = xr.Variable(("point",), d[()], attrs=dict(d.attrs))
            self._ds["grid"] = xr.Dataset(data, coords={"point": np.arange(n)})
        return self._ds["grid"]

    def grid_strings(self):
        return {}

    def chars(self, name):
        return self.grid().variables[name].values

    def group_points(self, gname):
        g = self.f["results"][gname]
        return g["point"][()] if "point" in g else None

    def names(self, gname, part):
        ds = self.group(gname, part)
        return [] if ds is None else list(ds.data_vars)

    def field(self, gname, part, var):
        ds = self.group(gname, part)
        return ds[var] if ds is not None and var in ds.data_vars else None

    def group(self, gname, part):
        key = (gname, part)
        if key not in self._ds:
            grp = self.f["results"][gname]
            if part:
                grp = grp[part] if part in grp else None
            self._ds[key] = None if grp is None else self._dataset(gname, grp, part)
        return self._ds[key]

    def _dataset(self, gname, grp, part):
        data, sizes = {}, {}
        for name, d in grp.items():
            if not isinstance(d, h5py.Dataset) or name == "point":
                continue
            dims = V1_DIMS.get(name)
            if dims is None or len(dims) != d.ndim - 1:
                dims = tuple("%s_dim_%d" % (name, i) for i in range(1, d.ndim))
            data[name] = xr.Variable(("point",) + dims, d[()], attrs=dict(d.attrs))
            sizes.update(zip(dims, d.shape[1:]))
        coords = {dim: (np.arange(1, size + 1) if dim == "kept" else np.arange(size))
                  for dim, size in sizes.items() if dim != "time"}
        ds = xr.Dataset(data, coords=coords)
        if not part:
            ds = _with_mean_c(self.res, gname, ds, self.res.points_of(gname))
        return ds

    def time(self, gname, size):
        """Format 1 stores no time coordinate: the job's nominal record grid."""
        fixed = self.res.fixed
        t_max, records = fixed.get("t_max"), fixed.get("records")
        if isinstance(t_max, (int, float)) and records == size:
            if fixed.get("record_grid") == "log":
                return np.concatenate([[0.0], np.geomspace(fixed["t_min"], t_max, size - 1)])
            return np.linspace(0.0, t_max, size)
        return np.arange(size, dtype=float)


def _swept_from_job_text(text):
    """Format 1 has no swept_keys: the keys the job gives as a list of more
    than one value, as /grid column names (training.run -> training_run)."""
    swept, section, block_key, block_n = [], None, None, 0

    def column(key):
        return section + "_" + key if key == "run" and section else key

    def close_block():
        if block_key and block_n > 1 and block_key not in LIST_VALUED:
            swept.append(column(block_key))

    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith("- "):
            block_n += 1
            continue
        close_block()
        block_key, block_n = None, 0
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$", body)
        if not m:
            continue
        key, value = m.groups()
        if indent == 0 and value == "":
            section = key
            continue
        if value == "":
            block_key = key
        elif value.startswith("[") and key not in LIST_VALUED:
            items = [v for v in value.strip("[]").split(",") if v.strip()]
            if len(items) > 1:
                swept.append(column(key))
    close_block()
    return swept


def discrete_mean(job_text):
    """mu = sum_j p_j c_j of a `discrete` distribution, parsed from the job
    text when atoms and probs are written as flow lists ([[..], ..], [..]);
    None otherwise (then the specialisation of discrete points is NaN)."""
    found = {}
    for key in ("atoms", "probs"):
        m = re.search(r"^\s*%s\s*:\s*(\[.*\])\s*(#.*)?$" % key, job_text, re.M)
        if not m:
            return None
        try:
            found[key] = np.array(json.loads(m.group(1)), dtype=float)
        except ValueError:
            return None
    atoms, probs = found["atoms"], found["probs"]
    if atoms.ndim != 2 or probs.shape != (atoms.shape[0],):
        return None
    return probs @ atoms


def mean_feature(distribution, K, b1=np.nan, beta=np.nan, signed=0, discrete=None):
    """mu = E[c] (MODEL.md section 1): (b1, 0) for flipping, (beta/K) 1 for
    unsigned onehot, 0 for signed onehot and the gaussians, sum_j p_j c_j for
    discrete (given as `discrete`, else None: unknown)."""
    if distribution == "flipping":
        return np.array([b1, 0.0])
    if distribution == "onehot":
        return np.zeros(K) if signed == 1 else np.full(K, beta / K)
    if distribution in ("gaussian", "diag_gaussian", "iso_gaussian"):
        return np.zeros(K)
    if distribution == "discrete" and discrete is not None and len(discrete) == K:
        return np.asarray(discrete, dtype=float)
    return None
