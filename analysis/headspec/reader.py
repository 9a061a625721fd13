"""Open a headspec results file: the points table, labelled arrays, one point.

Reads format_version 2 (named dimensions, docs/RESULTS.md, "The file"): /grid
through xarray (engine h5netcdf), each result field as a lazy xarray
array (h5py, one dataset at a time); and the older files through
headspec.legacy:
format_version 1 (fixed-length strings, no dimension scales) and format 2
files of layout revision 1 (no /grid key_order, no per-point mean_c).
Refuses any other version, and a file whose /grid fails the checks of
headspec.checks. Points that are not done (pending, failed, or still being
written by a running job) read as NaN.

What the C side knows the reader takes from the file: the key table's
order (/grid attribute key_order), the swept keys in grid order
(swept_keys) and each point's mean feature E[c] (results/<group>/mean_c).
"""
import os

import h5netcdf
import h5py
import numpy as np
import pandas as pd
import xarray as xr

from . import checks, derived, integrity, replicas
from ._version import __version__
from .checks import FormatError, GridError  # noqa: F401 (headspec.reader.GridError)
from .integrity import DamagedError  # noqa: F401 (headspec.reader.DamagedError)

SUPPORTED_FORMATS = (1, 2)
LAYOUT_REVISION = 2  # /grid key_order and results mean_c: written since this revision
STATIC_CHECKSUMS = 4  # datasets written once carry a `checksum` since this revision
# /grid columns of the run record: covered by each point's checksum
RUN_RECORD = ("status", "message", "rank", "host", "started", "finished", "checksum")
# What h5py and h5netcdf raise on a file they cannot read
READ_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError, AttributeError,
               IndexError)

# /grid columns that are bookkeeping, not job keys.
BOOKKEEPING = ("point", "status", "message", "rank", "host", "started", "finished",
               "group", "row", "label", "checksum")
STATUS_NAMES = {0: "pending", 1: "done", 2: "failed"}
STATUS_ORDER = ["done", "pending", "failed"]
ATTRS = ("units", "long_name", "description")
# Datasets a results group holds that are dimension scales, not results.
COORDS = ("point", "time", "head", "head2", "spike", "spike2", "token", "map", "kept",
          "removal", "replica")
# The folders of a results group (replicas/: only where ode.replicas >= 2)
PARTS = ("", "sgd", "ode", "stability", "replicas")
# Heads h, spikes (features) k and tokens l count from 1, as in the paper
# (docs/RESULTS.md, "Counting"): the file's 0-based indices of these
# dimensions are relabelled 1..n, and the fields whose values name a head
# or a token (the pruned heads, the relevant token) read 1-based too.
FROM_ONE = ("head", "head2", "spike", "spike2", "token")
FROM_ONE_VALUES = ("prune_order", "maps_eps")
# The final values of these fields are columns of the points table.
FINALS = {"sgd_test_loss": "sgd/test_loss", "sgd_lpop": "sgd/lpop",
          "ode_loss": "ode/loss", "bayes_risk": "bayes_risk",
          "bayes_risk_se": "bayes_risk_se", "sgd_lpop_fresh": "sgd/lpop_fresh",
          "sgd_lpop_fresh_se": "sgd/lpop_fresh_se", "ode_loss_fresh": "ode/loss_fresh",
          "ode_loss_fresh_se": "ode/loss_fresh_se",
          # convergence (layout revision 3): NaN in older files
          "ode_converged": "ode/converged", "sgd_converged": "sgd/converged",
          "ode_loss_rate": "ode/loss_rate", "sgd_loss_rate": "sgd/loss_rate",
          "ode_speed": "ode/speed", "sgd_speed": "sgd/speed", "ode_t_stop": "ode/t_stop"}
# Raw values: the reader decodes what it reads itself (xarray's decoding
# would read every string column whole to look for dates).
DECODE = dict(decode_cf=False, cache=False)


def open_results(path, verify=True):
    """Open a results file; use as a context manager or call .close().
    A damaged file raises DamagedError (or GridError) naming the damage.
    verify=False skips the checks of headspec.checks and headspec.integrity
    (for looking into a damaged file: its points may then carry other
    points' data, and libhdf5 may crash on it)."""
    return Results(path, verify=verify)


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return value if isinstance(value, str) else str(value)


def decode_strings(raw, distinct=True):
    """An array of bytes or str (or fixed-length bytes, or a netCDF char
    array: one byte per cell, the last axis the characters) as a 1-D object
    array of str. distinct=True: few distinct values, each decoded once
    and shared (a job key); False: decode each (labels)."""
    raw = np.asarray(raw)
    if raw.ndim == 2:  # char array (point, n_char)
        raw = np.ascontiguousarray(raw)
        if raw.dtype.kind in "iu":
            raw = raw.astype(np.uint8)
        u8 = raw.view(np.uint8)
        if len(u8) and (u8 == u8[0]).all():  # one value for all (a host): decode once
            return _same(len(u8), text(u8[0].tobytes()).rstrip("\x00"))
        raw = raw.view("S%d" % raw.shape[1]).ravel()
    if raw.dtype.kind == "S":
        raw = raw.astype(object)
    if len(raw) and raw.dtype.kind == "O" and (raw == raw[0]).all():  # one value for all
        return _same(len(raw), text(raw[0]).rstrip("\x00"))
    if not distinct:
        return np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                         for v in raw], dtype=object)
    codes, uniq = pd.factorize(raw, use_na_sentinel=False)
    words = np.array([text(u).rstrip("\x00") for u in uniq] + [""], dtype=object)
    return words[codes] if len(uniq) else np.full(raw.shape, "", object)


def _same(n, word):
    """n times one str (one object: np.full would make n copies)."""
    out = np.empty(n, dtype=object)
    out.fill(word)
    return out


def _open_file(path):
    try:
        return h5netcdf.File(path, "r", phony_dims="sort")
    except OSError as e:
        if "signature" in str(e):
            raise FormatError("%s is not an HDF5 file" % path) from None
        # A running job holds a write lock: read without locking (the
        # points it has not stored yet read as NaN).
        if "lock" not in str(e):
            raise
        return h5netcdf.File(path, "r", phony_dims="sort", locking=False)


class CurrentLayout:
    """Format 2 from layout revision 2 on: everything read from the file."""
    key_order_stated = True

    def __init__(self, res):
        self.res = res
        self._ds = {}

    def key_order(self):
        return [text(s) for s in np.atleast_1d(self.res.h5["grid"].attrs["key_order"])]

    def swept(self):
        attrs = self.res.h5["grid"].attrs
        return [text(s) for s in np.atleast_1d(attrs["swept_keys"])] if "swept_keys" in attrs \
            else []

    def dataset(self, group, drop=()):
        """An xarray Dataset of an HDF5 group (lazy: variables read when used)."""
        if group not in self._ds:
            store = xr.backends.H5NetCDFStore(self.res.h5, group=group)
            self._ds[group] = xr.open_dataset(store, drop_variables=list(drop), **DECODE)
        return self._ds[group]

    def grid(self):
        return self.dataset("grid", drop=self.grid_strings())

    def grid_strings(self):
        """{name: h5netcdf variable} of the variable-length string columns
        of /grid, read through h5netcdf directly: xarray, opening a dataset,
        reads each such variable whole (looking for dates in it)."""
        if "strings" not in self._ds:
            g = self.res.h5["grid"]
            self._ds["strings"] = {name: v for name, v in g.variables.items()
                                   if v.ndim == 1 and v._h5ds.dtype.kind == "O"}
        return self._ds["strings"]

    def chars(self, name):
        """A /grid char array (point, n_char) whole, in the file's own
        string type: HDF5 converting each byte to numpy's takes 5x longer."""
        d = self.res.h5._h5file["grid"][name]  # the h5py dataset under h5netcdf's
        out = np.empty(d.shape, dtype="S1")
        if out.size:
            d.id.read(h5py.h5s.ALL, h5py.h5s.ALL, out, mtype=d.id.get_type())
        return out

    def _h5group(self, gname, part):
        """The h5py group results/<gname>[/part] (None if absent)."""
        key = ("h5", gname, part)
        if key not in self._ds:
            f = self.res.h5._h5file  # the h5py.File under h5netcdf's
            try:
                self._ds[key] = f["results"][gname][part] if part else f["results"][gname]
            except KeyError:
                self._ds[key] = None
        return self._ds[key]

    def names(self, gname, part):
        """The result datasets of a group (part: '', 'sgd', 'ode')."""
        key = ("names", gname, part)
        if key not in self._ds:
            g = self._h5group(gname, part)
            self._ds[key] = [] if g is None else [
                v for v in g if v not in COORDS and g.get(v, getclass=True) is h5py.Dataset]
        return self._ds[key]

    def field(self, gname, part, var):
        """One result dataset of a group as a lazy xarray DataArray named by
        its netCDF dimensions, with their coordinates. Read with h5py a
        variable at a time: h5netcdf resolves every variable of a group it
        opens, and that took 8x the old reader's time on small files."""
        key = ("field", gname, part, var)
        if key not in self._ds:
            if var not in self.names(gname, part):
                return None
            g = self._h5group(gname, part)
            d = g[var]
            dims = tuple(dim[0].name.rsplit("/", 1)[1] if len(dim) else "%s_dim_%d" % (var, i)
                         for i, dim in enumerate(d.dims))
            coords = {x: self.res.checked(g[x][()], g[x]) for x in dims[1:] if x in g}
            for i, x in enumerate(dims):  # a damaged dataspace: shape and scales disagree
                if x in coords and np.size(coords[x]) != d.shape[i]:
                    raise self.res._damaged("%s has %d entries along %s, its coordinate %d"
                                            % (d.name, d.shape[i], x, np.size(coords[x])))
            attrs = {a: text(v) for a, v in d.attrs.items() if a in ATTRS}
            self._ds[key] = (d, dims, coords, attrs)
        # a new lazy array each time: xarray loads an array in place, and a
        # kept one would keep every field ever read in memory
        d, dims, coords, attrs = self._ds[key]
        data = xr.core.indexing.LazilyIndexedArray(_H5Array(d))
        return xr.DataArray(xr.Variable(dims, data, attrs=attrs), coords=coords, name=var)

    def group_points(self, gname):
        v = self.res.h5["results"][gname].variables["point"]
        return np.asarray(self.res.checked(v[...], v._h5ds))

    def time(self, gname, size):
        v = self.res.h5["results"][gname].variables["time"]
        return np.asarray(self.res.checked(v[...], v._h5ds), dtype=float)


class _H5Array(xr.backends.BackendArray):
    """An h5py dataset as xarray's lazily indexed backend array."""

    def __init__(self, dataset):
        self.dataset, self.shape, self.dtype = dataset, dataset.shape, dataset.dtype

    def __getitem__(self, key):
        return xr.core.indexing.explicit_indexing_adapter(
            key, self.shape, xr.core.indexing.IndexingSupport.OUTER_1VECTOR, self._read)

    def _read(self, key):
        return self.dataset[key]


def _layout_for(res):
    if res.format_version == 2 and res.layout_revision >= LAYOUT_REVISION:
        return CurrentLayout(res)
    from . import legacy
    return legacy.layout_for(res, CurrentLayout)


class Results:
    """A headspec results file. Attributes:

    format_version  1 or 2
    attrs           the root attributes (strings decoded)
    job_text        the job file's text
    key_order       every job-key column of /grid in the key table's order
    swept           the swept keys, in grid order
    keys            the job-key columns present, in key order
    fixed           {key: value} of the job keys that do not vary
    grid            every /grid column as a DataFrame (index: point)
    points          the points table (see `points`)
    """

    def __init__(self, path, verify=True):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError("no such file: %s" % self.path)
        self.verify = verify
        self._checksums_due = False  # set by checks.check_checksums on large files
        if verify:
            integrity.probe(self.path)  # a crash or a hang in libhdf5: in a child
        try:
            self.h5 = _open_file(self.path)
        except FormatError:
            raise
        except READ_ERRORS as e:
            raise self._damaged("cannot open it: %s" % _first_line(e)) from None
        self._cache, self._cols, self._points, self._grid = {}, {}, None, None
        self._layout, self._levels = None, {}
        try:
            self._read_root()
            self._layout = _layout_for(self)
            self._read_grid_index()
            self._status = np.asarray(self.column("status"), dtype=int)
            if verify:
                checks.run_checks(self)
            self._read_keys()
            self._levels = {k: (None, u, x) for k, (_, u, x) in self._levels.items()}
        except FormatError:
            self.close()
            raise
        except READ_ERRORS as e:
            self.close()
            if not verify:
                raise
            raise self._damaged("cannot read it: %s" % _first_line(e)) from None
        except Exception:
            self.close()
            raise

    def _damaged(self, what):
        return integrity.damaged(self.path, what)

    def checked(self, values, dataset, name=None):
        """values read from a dataset written once (a /grid column, a
        coordinate) after its checksum (layout revision 4 on; h5py or
        h5netcdf dataset for its attributes); returned as given."""
        if self.verify and self.format_version == 2 and \
                self.layout_revision >= STATIC_CHECKSUMS:
            integrity.check_static(self.path, name or dataset.name.lstrip("/"), values,
                                   dataset.attrs)
        return values

    def _data_checked(self):
        """Before any result is returned: the checksums of every point, if
        the file was too large to check them at open."""
        if self._checksums_due:
            checks.check_checksums(self, force=True)
            self._checksums_due = False

    # --- file and grid -------------------------------------------------
    def _read_root(self):
        f = self.h5
        if "format_version" not in f.attrs or "grid" not in f.groups:
            raise FormatError("%s is not a headspec results file (no format_version "
                              "attribute or /grid)" % self.path)
        version = int(np.asarray(f.attrs["format_version"]).ravel()[0])
        if version > max(SUPPORTED_FORMATS):
            writer = text(f.attrs.get("software_version", "")) or "?"
            raise FormatError(
                "%s has results format_version %d, written by headspec %s; this headspec "
                "Python package (%s) reads format_version %s: upgrade it to %s" % (
                    self.path, version, writer, __version__,
                    " and ".join(map(str, SUPPORTED_FORMATS)),
                    "a newer headspec" if writer in ("?", __version__)
                    else "headspec %s or newer" % writer))
        if version not in SUPPORTED_FORMATS:
            raise FormatError(
                "%s has results format_version %d; this headspec Python package reads "
                "format_version %s only (a newer file needs a newer package from the "
                "same headspec release as the binary)" % (
                    self.path, version, " and ".join(map(str, SUPPORTED_FORMATS))))
        self.format_version = version
        self.layout_revision = int(np.asarray(f.attrs.get("layout_revision", 1)).ravel()[0])
        self.attrs = {k: text(v) if isinstance(v, (bytes, str)) else v
                      for k, v in f.attrs.items()}
        if "job_text" in f.variables:
            self.job_text = text(f.variables["job_text"][()])
        else:
            self.job_text = text(f.attrs.get("job_text", b""))

    def _read_grid_index(self):
        ds = self._layout.grid()
        n = int(np.asarray(self.attrs.get("n_points", ds.sizes.get("point", 0))).ravel()[0])
        self.n_points = n
        # 1-D columns, and netCDF char arrays (point, NAME_char): message, host
        self.columns = sorted([name for name, v in ds.variables.items()
                               if name != "point" and v.ndim in (1, 2) and v.shape[0] == n
                               and v.dims[0] == "point"] + [
            name for name, v in self._layout.grid_strings().items() if v.shape[0] == n])
        self.groups = sorted(self.h5["results"].groups) if "results" in self.h5.groups else []
        self.key_order = self._layout.key_order()
        self.key_order_stated = self._layout.key_order_stated
        self._read_membership()

    def _read_membership(self):
        """Each point's results group and row, from the groups' own index
        of their points (results/<group>/point; format 1 without it: from
        /grid/group). checks.check_rows holds them against /grid/row."""
        n = self.n_points
        self._group_code = np.full(n, -1, dtype=np.int64)
        self._group_row = np.full(n, -1, dtype=np.int64)
        self._group_overlap = None
        for code, gname in enumerate(self.groups):
            points = self.group_points(gname)
            if points is None:
                points = np.flatnonzero(self.column("group") == gname)
            points = np.asarray(points, dtype=np.int64)
            inside = points[(points >= 0) & (points < n)]
            if self._group_overlap is None and (self._group_code[inside] >= 0).any():
                self._group_overlap = gname
            self._group_code[inside] = code
            self._group_row[inside] = np.flatnonzero((points >= 0) & (points < n))
        self._group_names = np.array(list(self.groups) + [""], dtype=object)

    def group_of(self, i):
        """The results group of point i ('' if none)."""
        return self._group_names[self._group_code[i]]

    def column(self, name, unread=False, keep=True):
        """A /grid column as numpy (strings as str). unread=True: also the
        mask of the points that do not read the key (NaN, the column's
        _FillValue, or ''). keep=False: read it, do not keep it."""
        col = self._cols.get(name)
        if col is None:
            if name not in self.columns:
                raise KeyError("no /grid column %r in %s" % (name, self.path))
            strings, var = self._layout.grid_strings(), None
            if name not in strings:
                var = self._layout.grid().variables[name]
            col = strings[name][...] if var is None else \
                self._layout.chars(name) if var.ndim == 2 else var.values
            if name not in RUN_RECORD:
                self.checked(col, self._grid_attrs_h5(name), "grid/" + name)
            if col.dtype.kind in "SOU" or col.ndim == 2:
                col = decode_strings(col, distinct=name != "label")
            if keep:
                self._cols[name] = col
        if not unread:
            return col
        if col.dtype.kind == "f":
            return col, np.isnan(col)
        if col.dtype.kind == "O":
            return col, col == ""
        fill = self._grid_attrs(name).get("_FillValue")
        if fill is None:
            return col, np.zeros(len(col), dtype=bool)
        return col, col == int(np.asarray(fill).ravel()[0])

    def _key_column(self, name):
        """A job-key column as the points table shows it: integer columns
        with unread points as nullable Int64 (NA)."""
        col, unread = self.column(name, unread=True)
        if col.dtype.kind in "iu" and unread.any():
            out = pd.array(col, dtype="Int64")
            out[unread] = pd.NA
            return out
        return col

    def group_points(self, gname):
        """The point index of each row of a results group, as the group
        stores it (None in format 1, which stores none)."""
        return self._layout.group_points(gname)

    def _points_of(self, gname):
        """The points of each row of a group: the group's own index, or
        (format 1) the /grid points in the group, in order."""
        points = self.group_points(gname)
        if points is None:
            points = np.flatnonzero(self._group_code == self.groups.index(gname))
        return np.asarray(points, dtype=np.int64)

    def _read_keys(self):
        order = {k: i for i, k in enumerate(self.key_order)}
        keys = [c for c in self.columns if c not in BOOKKEEPING]
        keys.sort(key=lambda k: (order.get(k, len(order)), k))
        self.keys = keys
        self.swept = [k for k in self._layout.swept() if k in self.columns]
        self.fixed = {}
        for k in keys:
            if k in self.swept:
                continue
            values = self._values(k)
            if len(values) == 1:
                self.fixed[k] = values[0].item() if hasattr(values[0], "item") else values[0]
            elif len(values) > 1:
                self.fixed[k] = [v.item() if hasattr(v, "item") else v for v in values]

    def _values(self, key):
        """The distinct values of a key among the points that read it, in
        order of appearance."""
        _, uniq, unread = self.distinct(key)
        return uniq[~unread]

    def distinct(self, name):
        """(inverse, uniq, unread) of a /grid column: its distinct values
        uniq in order of appearance, each point's index into them, and
        which of them mean 'not read' (NaN, the _FillValue, ''). Read once
        (not kept): the checks and `fixed` share it."""
        if name not in self._levels:
            col = self.column(name, keep=False)
            first = col[:1]
            if len(col) and ((col == first[0]).all() or (col.dtype.kind == "f"
                                                        and np.isnan(col).all())):
                inverse, uniq = np.broadcast_to(np.int8(0), (len(col),)), first.copy()
            else:
                inverse, uniq = pd.factorize(col, use_na_sentinel=False)
                uniq = np.asarray(uniq)
            if uniq.dtype.kind == "f":
                unread = np.isnan(uniq)
            elif uniq.dtype.kind == "O":
                unread = uniq == ""
            else:
                fill = self._grid_attrs(name).get("_FillValue")
                unread = np.zeros(len(uniq), dtype=bool) if fill is None else \
                    uniq == int(np.asarray(fill).ravel()[0])
            self._levels[name] = (inverse, uniq, np.asarray(unread, dtype=bool))
        return self._levels[name]

    @property
    def grid(self):
        """Every /grid column as a DataFrame (index: point); read when first used."""
        if self._grid is None:
            cols = {}
            for name in self.columns:
                cols[name] = self._key_column(name) if name not in BOOKKEEPING else \
                    self.column(name)
            self._grid = pd.DataFrame(cols, index=pd.RangeIndex(self.n_points, name="point"))
        return self._grid

    def _grid_attrs_h5(self, name):
        """The h5py dataset of a /grid column (its attributes, as stored)."""
        return self.h5._h5file["grid"][name]

    def _grid_attrs(self, name):
        strings = self._layout.grid_strings()
        return strings[name].attrs if name in strings else \
            self._layout.grid().variables[name].attrs

    @property
    def key_info(self):
        """{column: its units, long_name, description} of every /grid column."""
        return {name: {a: text(v) for a, v in self._grid_attrs(name).items() if a in ATTRS}
                for name in self.columns}

    def close(self):
        if self._layout is not None and hasattr(self._layout, "close"):
            self._layout.close()
        self.h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        done = int((self._status == 1).sum())
        return "<headspec results %s: format %d, %d points (%d done), swept %s>" % (
            self.path, self.format_version, self.n_points, done, ", ".join(self.swept) or "-")

    # --- result fields ---------------------------------------------------
    def _group_vars(self, gname):
        """(field name, lazy DataArray) of a group's results."""
        for part in PARTS:
            for var in self._layout.names(gname, part):
                yield (part + "/" + var if part else var), self._layout.field(gname, part, var)

    def _field_names(self, gname):
        for part in PARTS:
            for var in self._layout.names(gname, part):
                yield part + "/" + var if part else var

    def fields(self):
        """Names of every stored result dataset (e.g. 'sgd/m', 'bayes_risk')."""
        if "fields" not in self._cache:
            names = []
            for gname in self.groups:
                names += [n for n in self._field_names(gname) if n not in names]
            self._cache["fields"] = names
        return list(self._cache["fields"])

    def _field(self, gname, name):
        part, var = name.split("/", 1) if "/" in name else ("", name)
        return self._layout.field(gname, part, var)

    def _stacked(self, name, last=False):
        """A field over all points (dims: point, then its own), NaN where a
        point is not done or its group is smaller; last=True: at the last
        record only (read as such)."""
        key = (name, last)
        if key in self._cache:  # whole fields are kept (plots ask again); finals not
            return self._cache[key]
        self._data_checked()
        parts, dims, attrs, time = [], None, {}, None
        for gname in self.groups:
            da = self._field(gname, name)
            if da is None:
                continue
            d = tuple(da.dims[1:])
            if dims is None:
                dims, attrs = d, {a: text(v) for a, v in da.attrs.items() if a in ATTRS}
            elif d != dims:
                raise FormatError("%s has dimensions %s in one group and %s in another" %
                                  (name, dims, d))
            if "time" in d:
                size = da.sizes["time"]
                if time is None or size >= len(time):
                    time = self._layout.time(gname, size)
                # groups with other record counts line up by record index
                da = da.assign_coords(time=np.arange(size))
            points = self._points_of(gname)
            if last and "time" in d:
                da = self._final_records(gname, name, da, points)
            if da.dims[0] != "point":
                da = da.rename({da.dims[0]: "point"})
            da = da.assign_coords(point=points)
            parts.append(count_from_one(da.astype(float).load(), name))
        if not parts:
            raise KeyError("no result field %r in %s; fields: %s" % (
                name, self.path, ", ".join(self.fields())))
        da = parts[0] if len(parts) == 1 else xr.concat(parts, dim="point", join="outer",
                                                        fill_value=np.nan)
        da = da.reindex(point=np.arange(self.n_points), fill_value=np.nan)
        done = xr.DataArray(self._status == 1, dims=("point",))
        da = da.where(done)
        if time is not None and "time" in da.dims:
            da = da.assign_coords(time=time[:da.sizes["time"]]
                                  if len(time) >= da.sizes["time"] else np.arange(da.sizes["time"]))
        da = da.transpose("point", *[x for x in dims if x in da.dims])
        da.name, da.attrs = name, attrs
        if not last:
            self._cache[key] = da
        return da

    def _final_records(self, gname, name, da, points):
        """da (rows, time, ...) of a group at each point's final record: the
        last record, or for an ODE stopped at ode/t_stop
        (ode.stop_when_converged: its later records are NaN) the record at
        t_stop, its last computed one. Reads the last record, and whole
        rows only for done points whose last record is NaN and that have
        a t_stop."""
        final = da.isel(time=-1, drop=True).astype(float).load()
        if not name.startswith("ode/") or name == "ode/t_stop":
            return final
        values = np.array(final.values)
        empty = ~np.isfinite(values.reshape(len(values), -1)).any(axis=1)
        t_stop = self._field(gname, "ode/t_stop")
        if not empty.any() or t_stop is None:
            return final
        stopped = np.isfinite(np.asarray(t_stop.values, dtype=float))
        rows = np.flatnonzero(empty & stopped & (self._status[points] == 1))
        axis = da.get_axis_num("time")
        for lo in range(0, len(rows), 4096):  # bounded memory
            some = rows[lo:lo + 4096]
            whole = np.moveaxis(np.asarray(da.isel({da.dims[0]: some}).values, dtype=float),
                                axis, 1)
            computed = np.isfinite(whole.reshape(len(some), whole.shape[1], -1)).any(axis=2)
            at = whole.shape[1] - 1 - np.argmax(computed[:, ::-1], axis=1)
            values[some] = whole[np.arange(len(some)), at]
        return final.copy(data=values)

    def _swept_index(self):
        """The swept keys as a pandas MultiIndex over the points (levels in
        order of first appearance: the job's order), or None when they do
        not identify the points uniquely."""
        if "index" not in self._cache:
            levels, codes = [], []
            for k in self.swept:
                col = self._key_column(k)
                if str(getattr(col, "dtype", "")) == "Int64":
                    col = col.astype("float64")
                c, u = pd.factorize(np.asarray(col), use_na_sentinel=False)
                levels.append(np.asarray(u))
                codes.append(c)
            index = None
            if codes:
                index = pd.MultiIndex(levels=levels, codes=codes, names=self.swept,
                                      verify_integrity=False)
                if not index.is_unique:
                    index = None
            self._cache["index"] = index
        return self._cache["index"]

    def _unstack(self, da):
        """A (point, ...) array with one dimension per swept key instead."""
        if not self.swept:
            if self.n_points == 1:
                return da.isel(point=0, drop=True)
            raise ValueError("%s sweeps no key but has %d points; use stack=True" % (
                self.path, self.n_points))
        index = self._swept_index()
        if index is None:
            raise ValueError("the swept keys %s do not identify the points of %s uniquely; "
                             "use stack=True" % (self.swept, self.path))
        attrs = dict(da.attrs)
        da = da.drop_vars([c for c in da.coords if "point" in da[c].dims])
        if any(pd.isna(lv).any() for lv in index.levels):
            return self._unstack_by_codes(da, index, attrs)
        out = da.assign_coords(point=index).unstack("point")
        out = out.transpose(*self.swept, *[d for d in da.dims if d != "point"])
        out.attrs = attrs
        return out

    def _unstack_by_codes(self, da, index, attrs):
        # a swept key unread by some points (NaN, a level pandas will not
        # unstack): place the values by their codes
        shape = tuple(len(lv) for lv in index.levels) + da.shape[1:]
        out = np.full(shape, np.nan)
        out[tuple(index.codes)] = da.values
        coords = {k: np.asarray(lv) for k, lv in zip(self.swept, index.levels)}
        coords.update({d: da.coords[d].values for d in da.dims[1:] if d in da.coords})
        return xr.DataArray(out, dims=tuple(self.swept) + da.dims[1:], coords=coords,
                            name=da.name, attrs=attrs)

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
                col = self._key_column(k)
                da = da.assign_coords({k: ("point", np.asarray(
                    col.astype("float64") if str(getattr(col, "dtype", "")) == "Int64"
                    else col))})
            return da
        return self._unstack(da)

    # --- points ------------------------------------------------------------
    def _final(self, name):
        """Per point: the field at its last record (NaN where not done)."""
        if name not in self.fields():
            return None
        return self._stacked(name, last=True).values

    def _per_group_final_m(self, part):
        """{group: (points, final m rows x H x K, mean_c rows x K)} of done points."""
        out = {}
        self._data_checked()
        for gname in self.groups:
            m = self._field(gname, part + "/m")
            mu = self._field(gname, "mean_c")
            if m is None:
                continue
            points = self._points_of(gname)
            done = self._status[points] == 1
            mf = np.asarray(self._final_records(gname, part + "/m", m, points).values,
                            dtype=float)[done]
            mc = np.asarray(mu.values, dtype=float)[done] if mu is not None else None
            out[gname] = (points[done], mf, mc)
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

    def _messages(self):
        """/grid/message: '' but for the failed points (read for those only)."""
        out = _same(self.n_points, "")
        failed = np.flatnonzero(self._status == 2)
        if failed.size and "message" in self.columns:
            var = self._layout.grid()["message"]
            out[failed] = decode_strings(var.isel(point=failed).values)
        return out

    # the float columns of the points table, in order (after the run record)
    NUMBERS = ("seconds",) + tuple(FINALS) + ("sgd_gap", "ode_gap", "sgd_cosine", "sgd_spec",
                                              "ode_cosine", "ode_spec") + replicas.POINT_COLUMNS

    def _numbers(self):
        """The float columns of the points table as one (column, point)
        block: pandas takes it as it is (a dict of columns it would copy)."""
        block = np.full((len(self.NUMBERS), self.n_points), np.nan)
        row = {c: block[j] for j, c in enumerate(self.NUMBERS)}
        for col, field in (("seconds", "seconds"),) + tuple(FINALS.items()):
            v = self._final(field)
            if v is not None:
                row[col][:] = v
        np.subtract(row["sgd_test_loss"], row["bayes_risk"], out=row["sgd_gap"])
        np.subtract(row["ode_loss"], row["bayes_risk"], out=row["ode_gap"])
        for col, values in replicas.point_columns(self).items():  # mean ± se over replicas
            row[col][:] = values
        for part in ("sgd", "ode"):
            for points, m, mu in self._per_group_final_m(part).values():
                row[part + "_cosine"][points] = derived.head_cosines(m)
                if mu is not None:
                    row[part + "_spec"][points] = derived.specialisations(m, mu)
        return block

    def _make_points(self):
        n = self.n_points
        index = pd.RangeIndex(n, name="point")
        df = pd.DataFrame(self._numbers().T, columns=list(self.NUMBERS), index=index,
                          copy=False)
        front = [(k, self._key_column(k)) for k in self.swept]
        front.append(("status", pd.Categorical.from_codes(
            pd.Series(self._status).map({1: 0, 0: 1, 2: 2}).to_numpy(),
            categories=STATUS_ORDER)))
        front.append(("message", self._messages()))
        front += [(c, self.column(c)) for c in ("rank", "host") if c in self.columns]
        for j, (name, values) in enumerate(front):
            df.insert(j, name, values)
        df["label"] = self.column("label") if "label" in self.columns else self._labels()
        df.attrs["fixed"] = dict(self.fixed)
        df.attrs["swept"] = list(self.swept)
        df.attrs["path"] = self.path
        return df

    def _labels(self):
        cols = [self.column(k) for k in self.swept]
        return [" ".join("%s=%s" % (k, _fmt(c[i])) for k, c in zip(self.swept, cols))
                for i in range(self.n_points)]

    def point(self, i):
        """Everything about point i as a dict: its /grid columns (by name),
        every result dataset at its own shape ('sgd/m' is T x H x K), and
        the summaries of the points table. Result arrays are NaN unless
        the point is done."""
        i = int(i)
        if not 0 <= i < self.n_points:
            raise IndexError("point %d out of range 0..%d" % (i, self.n_points - 1))
        out = {}
        self._data_checked()
        for k in self.columns:
            col = self.column(k)
            v = col[i]
            if k not in BOOKKEEPING and k in self.keys:
                unread = self.column(k, unread=True)[1][i]
                v = pd.NA if unread and col.dtype.kind in "iu" else v
            out[k] = v.item() if hasattr(v, "item") else v
        gname, row = self.group_of(i), self._group_row[i]
        if gname in self.groups:
            for name, da in self._group_vars(gname):
                value = np.asarray(da.isel({da.dims[0]: row}).values, dtype=float)
                if name.rsplit("/", 1)[-1] in FROM_ONE_VALUES:
                    value = value + 1
                if self._status[i] != 1:
                    value = np.full_like(value, np.nan)
                out[name] = value[()] if value.ndim == 0 else value
        for col in self.points.columns:
            if col not in self.columns:
                out[col] = self.points[col].iloc[i]
        return out


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def count_from_one(da, name):
    """A field as the package shows it: heads, spikes and tokens labelled
    1..n (FROM_ONE), and a field naming heads or tokens 1-based."""
    da = da.assign_coords({d: np.arange(1, da.sizes[d] + 1) for d in FROM_ONE if d in da.dims})
    if name.rsplit("/", 1)[-1] in FROM_ONE_VALUES:
        da = da + 1
    return da


def _fmt(v):
    if isinstance(v, float):
        return "%g" % v
    return str(v)
