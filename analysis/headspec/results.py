"""Open a headspec results file: the points table, labelled arrays, one point.

Reads format_version 2 (named dimensions, docs/RESULTS.md) and the
older format_version 1 (fixed-length strings, groups H{H}_K{K}_L{L}, no
dimension scales); refuses any other version. Points that are not done
(pending, failed, or still being written by a running job) read as NaN.
"""
import json
import os
import re

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from . import derived

SUPPORTED_FORMATS = (1, 2)

# /grid columns that are bookkeeping, not job keys.
BOOKKEEPING = ("point", "status", "message", "rank", "host", "started", "finished",
               "group", "row", "label")
STATUS_NAMES = {0: "pending", 1: "done", 2: "failed"}

# Key-table order of the job keys (docs/JOBS.md): the order of the
# swept dimensions when the file does not say it (format 1).
KEY_ORDER = ("distribution", "b1", "b2", "beta", "K", "signed", "bmin", "bmax",
             "activation", "H", "L", "sigma0", "seed", "orthonormal_spikes",
             "d", "eta", "B", "kappa", "test_samples", "t_max", "records",
             "record_grid", "t_min", "training_run", "ode_run", "noise_term",
             "samples", "antithetic", "rtol", "atol", "start", "start_noise",
             "bayes_samples", "maps", "prune")
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


class FormatError(ValueError):
    """The file is not a headspec results file of a supported format."""


def open_results(path):
    """Open a results file; use as a context manager or call .close()."""
    return Results(path)


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value if isinstance(value, str) else str(value)


def _strings(ds):
    """A string column as a numpy array of str (fixed, vlen or char arrays)."""
    raw = ds[()]
    if raw.ndim == 2:  # format 2 char (point, n_char): single bytes per cell
        raw = np.ascontiguousarray(raw)
        if raw.dtype.kind in "iu":
            raw = raw.astype(np.uint8)
        raw = raw.view("S%d" % raw.shape[1]).ravel()
    return np.array([_text(v).rstrip("\x00") for v in raw], dtype=object)


def _is_string(ds):
    return ds.dtype.kind in "SOU" or (ds.ndim == 2 and ds.dtype.itemsize == 1)


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


class Results:
    """A headspec results file. Attributes:

    format_version  1 or 2
    attrs           the root attributes (strings decoded)
    job_text        the job file's text
    swept           the swept keys, in key-table order
    fixed           {key: value} of the job keys that do not vary
    grid            every /grid column as a DataFrame (index: point)
    points          the points table (see `points`)
    """

    def __init__(self, path):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError("no such file: %s" % self.path)
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            if "signature" in str(e):
                raise FormatError("%s is not an HDF5 file" % self.path) from None
            # A running job holds a write lock: read without locking (the
            # points it has not stored yet read as NaN).
            if "lock" not in str(e):
                raise
            self._f = h5py.File(self.path, "r", locking=False)
        try:
            self._check_format()
            self._read_grid()
        except Exception:
            self._f.close()
            raise
        self._points = None
        self._cache = {}

    # --- file and grid -------------------------------------------------
    def _check_format(self):
        f = self._f
        if "format_version" not in f.attrs or "grid" not in f:
            raise FormatError("%s is not a headspec results file (no format_version "
                              "attribute or /grid)" % self.path)
        version = int(np.asarray(f.attrs["format_version"]).ravel()[0])
        if version not in SUPPORTED_FORMATS:
            raise FormatError(
                "%s has results format_version %d; this headspec Python package reads "
                "format_version %s only (a newer file needs a newer package from the "
                "same headspec release as the binary)" % (
                    self.path, version, " and ".join(map(str, SUPPORTED_FORMATS))))
        self.format_version = version
        self.attrs = {k: _text(v) if isinstance(v, (bytes, str)) else v
                      for k, v in f.attrs.items()}
        if version >= 2 and "job_text" in f:
            self.job_text = _text(f["job_text"][()])
        else:
            self.job_text = _text(f.attrs.get("job_text", b""))

    def _read_grid(self):
        g = self._f["grid"]
        cols, self.key_info = {}, {}
        n = int(np.asarray(self._f.attrs.get("n_points", len(g["status"]))).ravel()[0])
        for name, ds in g.items():
            # skip the coordinates and netCDF's char dimensions (message_char)
            if (name == "point" or not isinstance(ds, h5py.Dataset) or ds.ndim == 0
                    or ds.shape[0] != n or ds.attrs.get("CLASS") == b"DIMENSION_SCALE"):
                continue
            if _is_string(ds):
                col = _strings(ds)
            else:
                col = ds[()]
                fill = ds.attrs.get("_FillValue")
                if name not in BOOKKEEPING and col.dtype.kind in "iu" and fill is not None:
                    missing = col == int(np.asarray(fill).ravel()[0])
                    if missing.any():  # not read by some points: nullable
                        col = pd.array(col, dtype="Int64")
                        col[missing] = pd.NA
            cols[name] = col
            self.key_info[name] = {a: _text(v) for a, v in ds.attrs.items()
                                   if a in ("units", "long_name", "description")}
        self.grid = pd.DataFrame(cols, index=pd.RangeIndex(n, name="point"))
        self.n_points = n
        keys = [c for c in self.grid.columns if c not in BOOKKEEPING]
        order = {k: i for i, k in enumerate(KEY_ORDER)}
        keys.sort(key=lambda k: (order.get(k, len(order)), k))
        self.keys = keys
        if "swept_keys" in g.attrs:
            swept = [_text(s) for s in np.atleast_1d(g.attrs["swept_keys"])]
        else:
            listed = set(_swept_from_job_text(self.job_text))
            swept = [k for k in keys if k in listed and self.grid[k].nunique(dropna=False) > 1]
        self.swept = [k for k in swept if k in self.grid.columns]
        self.fixed = {}
        for k in keys:
            if k in self.swept:
                continue
            values = pd.unique(self.grid[k].dropna())
            values = [v for v in values if not (isinstance(v, str) and v == "")]
            if len(values) == 1:
                self.fixed[k] = values[0].item() if hasattr(values[0], "item") else values[0]
            elif len(values) > 1:
                self.fixed[k] = list(values)
        self._groups = list(self._f["results"]) if "results" in self._f else []
        self._status = np.asarray(self.grid["status"], dtype=int)
        self._group_of = np.asarray(self.grid["group"], dtype=object)
        self._row_of = np.asarray(self.grid["row"], dtype=np.int64)

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        done = int((self._status == 1).sum())
        return "<headspec results %s: format %d, %d points (%d done), swept %s>" % (
            self.path, self.format_version, self.n_points, done, ", ".join(self.swept) or "-")

    # --- result fields ---------------------------------------------------
    def fields(self):
        """Names of every stored result dataset (e.g. 'sgd/m', 'bayes_risk')."""
        if "fields" in self._cache:
            return list(self._cache["fields"])
        names = []
        for gname in self._groups:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and name not in names and not self._is_coord(obj):
                    names.append(name)
            self._f["results"][gname].visititems(visit)
        self._cache["fields"] = names
        return list(names)

    def _is_coord(self, ds):
        if self.format_version == 1:
            return ds.name.rsplit("/", 1)[1] == "point"
        return ds.attrs.get("CLASS") == b"DIMENSION_SCALE" or ds.name.rsplit("/", 1)[1] in (
            "point", "time", "head", "head2", "spike", "spike2", "token", "map", "kept", "removal")

    def _dims(self, ds):
        """Dimension names after the point (row) dimension."""
        base = ds.name.rsplit("/", 1)[1]
        if self.format_version >= 2:
            names = []
            for dim in ds.dims:
                if len(dim):
                    names.append(dim[0].name.rsplit("/", 1)[1])
                else:
                    names.append(dim.label or "dim_%d" % len(names))
            return tuple(names[1:])
        if base in V1_DIMS and len(V1_DIMS[base]) == ds.ndim - 1:
            return V1_DIMS[base]
        return tuple("%s_dim_%d" % (base, i) for i in range(1, ds.ndim))

    def _time_coord(self, gname, size):
        grp = self._f["results"][gname]
        if "time" in grp:
            return np.asarray(grp["time"][()], dtype=float)
        t_max, records = self.fixed.get("t_max"), self.fixed.get("records")
        if isinstance(t_max, (int, float)) and records == size:  # format 1: nominal grid
            if self.fixed.get("record_grid") == "log":
                return np.concatenate([[0.0], np.geomspace(self.fixed["t_min"], t_max, size - 1)])
            return np.linspace(0.0, t_max, size)
        return np.arange(size, dtype=float)

    def _read_rows(self, name):
        """{group: (point indices, data rows)} of a field, done points only."""
        out = {}
        for gname in self._groups:
            grp = self._f["results"][gname]
            if name not in grp:
                continue
            idx = np.flatnonzero((self._group_of == gname) & (self._status == 1))
            data = np.asarray(grp[name][()], dtype=float)
            out[gname] = (idx, data[self._row_of[idx]], grp[name])
        return out

    def _stacked(self, name):
        if name in self._cache:
            return self._cache[name]
        parts = self._read_rows(name)
        if not parts:
            raise KeyError("no result field %r in %s; fields: %s" % (
                name, self.path, ", ".join(self.fields())))
        dims, sizes, coords, attrs = None, None, {}, {}
        for gname, (idx, data, ds) in parts.items():
            d = self._dims(ds)
            shape = ds.shape[1:]
            if dims is None:
                dims, sizes = d, list(shape)
                attrs = {a: _text(v) for a, v in ds.attrs.items()
                         if a in ("units", "long_name", "description")}
            elif d != dims:
                raise FormatError("%s has dimensions %s in one group and %s in another" %
                                  (name, dims, d))
            sizes = [max(a, b) for a, b in zip(sizes, shape)]
            if "time" in d:
                coords["time"] = self._time_coord(gname, shape[d.index("time")])
        out = np.full((self.n_points,) + tuple(sizes), np.nan)
        for gname, (idx, data, ds) in parts.items():
            out[(idx,) + tuple(slice(0, s) for s in ds.shape[1:])] = data
        for dim, size in zip(dims, sizes):
            if dim == "time" and len(coords.get("time", ())) == size:
                continue
            coords[dim] = np.arange(1, size + 1) if dim == "kept" else np.arange(size)
        da = xr.DataArray(out, dims=("point",) + dims,
                          coords=dict(coords, point=np.arange(self.n_points)),
                          name=name, attrs=attrs)
        self._cache[name] = da
        return da

    def _swept_codes(self):
        """Per swept key: (values in order of appearance, code of each point),
        or None when the swept keys do not identify the points uniquely."""
        if "codes" not in self._cache:
            levels, codes = [], []
            for k in self.swept:
                col = self.grid[k]
                if str(col.dtype) == "Int64":
                    col = col.astype("float64")
                c, u = pd.factorize(np.asarray(col), use_na_sentinel=False)
                levels.append(np.asarray(u))
                codes.append(c)
            unique = len(set(zip(*codes))) == self.n_points if codes else self.n_points == 1
            self._cache["codes"] = (levels, codes) if unique else None
        return self._cache["codes"]

    def _grid_shape(self, da):
        """Reshape a (point, ...) array into one dimension per swept key."""
        found = self._swept_codes()
        if found is None:
            raise ValueError("the swept keys %s do not identify the points of %s uniquely; "
                             "use stack=True" % (self.swept, self.path))
        levels, codes = found
        shape = tuple(len(u) for u in levels) + da.shape[1:]
        out = np.full(shape, np.nan)
        out[tuple(codes)] = da.values
        coords = {k: u for k, u in zip(self.swept, levels)}
        coords.update({d: da.coords[d].values for d in da.dims[1:] if d in da.coords})
        return xr.DataArray(out, dims=tuple(self.swept) + da.dims[1:], coords=coords,
                            name=da.name, attrs=dict(da.attrs))

    def array(self, name, stack=False):
        """A stored quantity as an xarray.DataArray.

        name: a result field ('sgd/test_loss', 'ode/m', 'bayes_risk', ...)
        or a column of `points` ('ode_cosine', ...). Dimensions: one per
        swept key (values in job order; points the grid does not contain,
        and points not done, are NaN), then the field's own (time, head,
        spike, ...). Axes whose size differs between results groups (head
        where H differs) are padded with NaN. stack=True keeps a single
        'point' dimension with the swept keys as coordinates on it.
        """
        if name in self.fields():
            da = self._stacked(name).copy()
        elif name in self.points.columns and self.points[name].dtype.kind == "f":
            da = xr.DataArray(self.points[name].to_numpy(dtype=float), dims=("point",),
                              coords={"point": np.arange(self.n_points)}, name=name,
                              attrs={"description": derived.DESCRIPTIONS.get(name, name)})
        else:
            raise KeyError("no result field or numeric points column %r; fields: %s" % (
                name, ", ".join(self.fields())))
        if stack:
            for k in self.swept:
                col = self.grid[k]
                da = da.assign_coords({k: ("point", np.asarray(
                    col.astype("float64") if str(col.dtype) == "Int64" else col))})
            return da
        return self._grid_shape(da)

    # --- points ------------------------------------------------------------
    def _final(self, name):
        """Per point: the field at its last record (NaN where not done)."""
        try:
            da = self._stacked(name)
        except KeyError:
            return None
        return da.isel(time=-1).values if "time" in da.dims else da.values

    def _m_final(self, part):
        """Per point: the final m (its own H x K), or None."""
        out = [None] * self.n_points
        for gname, (idx, data, ds) in self._read_rows(part + "/m").items():
            for i, m in zip(idx, data[:, -1]):
                out[i] = m
        return out

    @property
    def points(self):
        """One row per grid point: the swept keys; status ('done',
        'pending', 'failed'), message, rank, host, seconds; and per-point
        summaries (derived.DESCRIPTIONS says what each is). The fixed job
        keys are in points.attrs['fixed']."""
        if self._points is None:
            self._points = self._make_points()
        return self._points

    def _make_points(self):
        g = self.grid
        df = pd.DataFrame(index=g.index)
        for k in self.swept:
            df[k] = g[k]
        df["status"] = pd.Categorical([STATUS_NAMES.get(s, str(s)) for s in self._status],
                                      categories=["done", "pending", "failed"])
        df["message"] = g["message"] if "message" in g else ""
        for c in ("rank", "host"):
            if c in g:
                df[c] = g[c]
        seconds = self._final("seconds")
        df["seconds"] = seconds if seconds is not None else np.nan
        nan = np.full(self.n_points, np.nan)
        finals = {"sgd_test_loss": "sgd/test_loss", "sgd_lpop": "sgd/lpop",
                  "ode_loss": "ode/loss", "bayes_risk": "bayes_risk",
                  "bayes_risk_se": "bayes_risk_se", "sgd_lpop_fresh": "sgd/lpop_fresh",
                  "sgd_lpop_fresh_se": "sgd/lpop_fresh_se", "ode_loss_fresh": "ode/loss_fresh",
                  "ode_loss_fresh_se": "ode/loss_fresh_se"}
        for col, field in finals.items():
            v = self._final(field)
            df[col] = v if v is not None else nan
        df["sgd_gap"] = df["sgd_test_loss"] - df["bayes_risk"]
        df["ode_gap"] = df["ode_loss"] - df["bayes_risk"]
        mus = self._mus()
        for part in ("sgd", "ode"):
            ms = self._m_final(part)
            df[part + "_cosine"] = [derived.head_cosine(m) if m is not None else np.nan
                                    for m in ms]
            df[part + "_spec"] = [derived.specialisation(m, mu)
                                  if m is not None and mu is not None else np.nan
                                  for m, mu in zip(ms, mus)]
        df["label"] = g["label"] if "label" in g else self._labels()
        df.attrs["fixed"] = dict(self.fixed)
        df.attrs["swept"] = list(self.swept)
        df.attrs["path"] = self.path
        return df

    def _labels(self):
        return [" ".join("%s=%s" % (k, _fmt(self.grid[k].iloc[i])) for k in self.swept)
                for i in range(self.n_points)]

    def _shape_K(self):
        """The true K of each point, from its results group's attributes."""
        out = np.zeros(self.n_points, dtype=int)
        for gname in self._groups:
            K = int(self._f["results"][gname].attrs["K"])
            out[self._group_of == gname] = K
        return out

    def _mus(self):
        """mu = E[c] of each point's distribution (MODEL.md section 1)."""
        g, Ks = self.grid, self._shape_K()
        disc = None
        mus = []
        for i in range(self.n_points):
            dist = g["distribution"].iloc[i] if "distribution" in g else ""

            def val(k, default=np.nan):
                v = g[k].iloc[i] if k in g else default
                return default if v is pd.NA else v
            if dist == "discrete" and disc is None:
                disc = discrete_mean(self.job_text)
                disc = disc if disc is not None else False
            mus.append(derived.mean_feature(dist, Ks[i], b1=val("b1"), beta=val("beta"),
                                            signed=val("signed", 0),
                                            discrete=disc if disc is not False else None))
        return mus

    def point(self, i):
        """Everything about point i as a dict: its /grid columns (by name),
        every result dataset at its own shape ('sgd/m' is T x H x K), and
        the summaries of the points table. Result arrays are NaN unless
        the point is done."""
        i = int(i)
        if not 0 <= i < self.n_points:
            raise IndexError("point %d out of range 0..%d" % (i, self.n_points - 1))
        out = {k: v.item() if hasattr(v, "item") else v for k, v in self.grid.iloc[i].items()}
        gname, row = self._group_of[i], self._row_of[i]
        if gname in self._groups:
            grp = self._f["results"][gname]

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not self._is_coord(obj):
                    value = np.asarray(obj[row], dtype=float)
                    if self._status[i] != 1:
                        value = np.full_like(value, np.nan)
                    out[name] = value[()] if value.ndim == 0 else value
            grp.visititems(visit)
        for col in self.points.columns:
            if col not in self.grid.columns:
                out[col] = self.points[col].iloc[i]
        return out


def _fmt(v):
    if isinstance(v, float):
        return "%g" % v
    return str(v)
