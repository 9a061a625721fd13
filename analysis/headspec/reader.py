"""Open a headspec results file: the points table, labelled arrays, one point.

Reads format_version 2 (named dimensions, docs/RESULTS.md, "The file")
through headspec.layout_current, and the older files through
headspec.legacy: format_version 1 (fixed-length strings, no dimension
scales) and format 2 files of layout revision 1 (no /grid key_order, no
per-point mean_c). Refuses any other version, and a file whose /grid
fails the checks of headspec.checks or whose data fail the checksums of
headspec.integrity. Points that are not done (pending, failed, or still
being written by a running job) read as NaN.

This module holds the opened file (headspec.opening opens it) and reads
its /grid (the columns, the keys, each point's group and row); the result
fields over all points are headspec.fields, the points table
headspec.points_table. What the C side
knows the reader takes from the file: the key table's order (/grid
attribute key_order), the swept keys in grid order (swept_keys) and each
point's mean feature E[c] (results/<group>/mean_c).
"""
import os

import numpy as np
import pandas as pd
import xarray as xr

from . import checks, integrity, legacy, opening, points_table
from .errors import FormatError, GridError  # noqa: F401 (headspec.reader.GridError)
from .fields import Fields, count_from_one  # noqa: F401 (headspec.reader.count_from_one)
from .integrity import DamagedError  # noqa: F401 (headspec.reader.DamagedError)
from .layout_current import CurrentLayout
from .schema import (ATTRS, BOOKKEEPING, FROM_ONE_VALUES, LAYOUT_REVISION,  # noqa: F401
                     READ_ERRORS, RUN_RECORD, STATIC_CHECKSUMS, STATUS_NAMES,
                     SUPPORTED_FORMATS)
from .strings import decode_strings, text  # noqa: F401 (headspec.reader.text)


def open_results(path, verify=True):
    """Open a results file; use as a context manager or call .close().
    A damaged file raises DamagedError (or GridError) naming the damage.
    verify=False skips the checks of headspec.checks and headspec.integrity
    (for looking into a damaged file: its points may then carry other
    points' data, and libhdf5 may crash on it)."""
    return Results(path, verify=verify)


def _layout_for(res):
    """The reader of the file's layout (current, or one of headspec.legacy)."""
    if res.format_version == 2 and res.layout_revision >= LAYOUT_REVISION:
        return CurrentLayout(res)
    if res.format_version == 1:
        return legacy.Format1Layout(res)
    return legacy.Revision1Layout(res)


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

    For the package's own modules (headspec.fields, points_table, checks
    and the layouts): hdf5 and h5 (the file as h5py and h5netcdf open it),
    layout, status_codes (/grid/status), points_of(group), key_column(name),
    checked(values, dataset), ensure_checked().
    """

    def __init__(self, path, verify=True):
        self.path = str(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError("no such file: %s" % self.path)
        self.verify = verify
        self.checksums_due = False  # set by checks.check_checksums on large files
        if verify:
            integrity.probe(self.path)  # a crash or a hang in libhdf5: in a child
        try:
            self.hdf5, self.h5 = opening.open_files(self.path)
        except FormatError:
            raise
        except READ_ERRORS as e:
            raise self._damaged("cannot open it: %s" % opening.first_line(e)) from None
        self._cols, self._points, self._grid = {}, None, None
        self.layout, self._levels = None, {}
        self._fields = Fields(self)
        try:
            root = opening.read_root(self.h5, self.path)
            self.format_version, self.layout_revision = root.version, root.layout_revision
            self.attrs, self.job_text = root.attrs, root.job_text
            self.layout = _layout_for(self)
            self._read_grid_index()
            self.status_codes = np.asarray(self.column("status"), dtype=int)
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
            raise self._damaged("cannot read it: %s" % opening.first_line(e)) from None
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

    def ensure_checked(self):
        """Before any result is returned: the checksums of every point, if
        the file was too large to check them at open."""
        if self.checksums_due:
            checks.check_checksums(self, force=True)
            self.checksums_due = False

    # --- file and grid -------------------------------------------------
    def _read_grid_index(self):
        ds = self.layout.grid()
        n = int(np.asarray(self.attrs.get("n_points", ds.sizes.get("point", 0))).ravel()[0])
        self.n_points = n
        # 1-D columns, and netCDF char arrays (point, NAME_char): message, host
        self.columns = sorted([name for name, v in ds.variables.items()
                               if name != "point" and v.ndim in (1, 2) and v.shape[0] == n
                               and v.dims[0] == "point"] + [
            name for name, v in self.layout.grid_strings().items() if v.shape[0] == n])
        self.groups = sorted(self.h5["results"].groups) if "results" in self.h5.groups else []
        self.key_order = self.layout.key_order()
        self.key_order_stated = self.layout.key_order_stated
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
            strings, var = self.layout.grid_strings(), None
            if name not in strings:
                var = self.layout.grid().variables[name]
            col = strings[name][...] if var is None else \
                self.layout.chars(name) if var.ndim == 2 else var.values
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

    def key_column(self, name):
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
        return self.layout.group_points(gname)

    def points_of(self, gname):
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
        self.swept = [k for k in self.layout.swept() if k in self.columns]
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
                cols[name] = self.key_column(name) if name not in BOOKKEEPING else \
                    self.column(name)
            self._grid = pd.DataFrame(cols, index=pd.RangeIndex(self.n_points, name="point"))
        return self._grid

    def _grid_attrs_h5(self, name):
        """The h5py dataset of a /grid column (its attributes, as stored)."""
        return self.hdf5["grid"][name]

    def _grid_attrs(self, name):
        strings = self.layout.grid_strings()
        return strings[name].attrs if name in strings else \
            self.layout.grid().variables[name].attrs

    @property
    def zip_groups(self):
        """The job's zip groups as /grid columns (`[["b1", "b2"]]`), from
        /grid@zipped_keys; [] for a job without a zip or an older file."""
        stated = self.hdf5["grid"].attrs.get("zipped_keys", []) if "grid" in self.hdf5 else []
        return [text(g).split() for g in np.atleast_1d(stated)]

    @property
    def key_info(self):
        """{column: its units, long_name, description} of every /grid column."""
        return {name: {a: text(v) for a, v in self._grid_attrs(name).items() if a in ATTRS}
                for name in self.columns}

    def close(self):
        if self.layout is not None and hasattr(self.layout, "close"):
            self.layout.close()
        self.h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        done = int((self.status_codes == 1).sum())
        return "<headspec results %s: format %d, %d points (%d done), swept %s>" % (
            self.path, self.format_version, self.n_points, done, ", ".join(self.swept) or "-")

    # --- result fields and the points table -------------------------------
    def fields(self):
        """Names of every stored result dataset (e.g. 'sgd/m', 'bayes_risk')."""
        return self._fields.names()

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
            da = self._fields.stacked(name).copy()
        elif name in self.points.columns and self.points[name].dtype.kind == "f":
            da = xr.DataArray(self.points[name].to_numpy(dtype=float), dims=("point",),
                              coords={"point": np.arange(self.n_points)}, name=name,
                              attrs={"description": points_table.describe(name)})
        else:
            raise KeyError("no result field or numeric points column %r; fields: %s" % (
                name, ", ".join(self.fields())))
        return self._fields.stack_keys(da) if stack else self._fields.unstack(da)

    @property
    def points(self):
        """One row per grid point: the swept keys; status ('done',
        'pending', 'failed'), message, rank, host, seconds; and per-point
        summaries (derived.DESCRIPTIONS says what each is). The fixed job
        keys are in points.attrs['fixed']."""
        if self._points is None:
            self._points = points_table.make(self, self._fields)
        return self._points

    def point(self, i):
        """Everything about point i as a dict: its /grid columns (by name),
        every result dataset at its own shape ('sgd/m' is T x H x K), and
        the summaries of the points table. Result arrays are NaN unless
        the point is done."""
        i = int(i)
        if not 0 <= i < self.n_points:
            raise IndexError("point %d out of range 0..%d" % (i, self.n_points - 1))
        out = {}
        self.ensure_checked()
        for k in self.columns:
            col = self.column(k)
            v = col[i]
            if k not in BOOKKEEPING and k in self.keys:
                unread = self.column(k, unread=True)[1][i]
                v = pd.NA if unread and col.dtype.kind in "iu" else v
            out[k] = v.item() if hasattr(v, "item") else v
        gname, row = self.group_of(i), self._group_row[i]
        if gname in self.groups:
            for name in self._fields.of_group(gname):
                da = self._fields.lazy(gname, name)
                value = np.asarray(da.isel({da.dims[0]: row}).values, dtype=float)
                if name.rsplit("/", 1)[-1] in FROM_ONE_VALUES:
                    value = value + 1
                if self.status_codes[i] != 1:
                    value = np.full_like(value, np.nan)
                out[name] = value[()] if value.ndim == 0 else value
        for col in self.points.columns:
            if col not in self.columns:
                out[col] = self.points[col].iloc[i]
        return out
