"""The current file layout: format 2 from layout revision 2 on, where the
file states everything the reader needs (docs/RESULTS.md, "The file").

/grid is read through xarray (its netCDF dimensions, by h5netcdf); each
result field is a lazy xarray array over its h5py dataset, through
xarray's documented backend API (BackendArray, explicit_indexing_adapter,
LazilyIndexedArray: "How to add a new backend" in xarray's docs). The
layout uses only public attributes of the opened Results: `h5` (the
h5netcdf.File), `hdf5` (the h5py.File of the same file), `path` and
`checked`.
"""
import h5py
import numpy as np
import xarray as xr
from xarray.core import indexing  # the backend API's documented home

from . import integrity
from .schema import ATTRS, COORDS
from .strings import text

# Raw values: the reader decodes what it reads itself (xarray's decoding
# would read every string column whole to look for dates).
DECODE = dict(decode_cf=False, cache=False)


class H5Array(xr.backends.BackendArray):
    """An h5py dataset as xarray's lazily indexed backend array."""

    def __init__(self, dataset):
        self.dataset, self.shape, self.dtype = dataset, dataset.shape, dataset.dtype

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.OUTER_1VECTOR, self._read)

    def _read(self, key):
        return self.dataset[key]


def lazy_array(dataset, dims, coords, attrs, name):
    """A DataArray over an h5py dataset, read when its values are asked."""
    data = indexing.LazilyIndexedArray(H5Array(dataset))
    return xr.DataArray(xr.Variable(dims, data, attrs=attrs), coords=coords, name=name)


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
        """{name: h5py dataset} of the variable-length string columns of
        /grid, read with h5py directly: xarray, opening a dataset, reads
        each such variable whole (looking for dates in it)."""
        if "strings" not in self._ds:
            netcdf, h5 = self.res.h5["grid"], self.res.hdf5["grid"]
            self._ds["strings"] = {name: h5[name] for name, v in netcdf.variables.items()
                                   if v.ndim == 1 and h5[name].dtype.kind == "O"}
        return self._ds["strings"]

    def chars(self, name):
        """A /grid char array (point, n_char) whole, in the file's own
        string type: HDF5 converting each byte to numpy's takes 5x longer."""
        d = self.res.hdf5["grid"][name]
        out = np.empty(d.shape, dtype="S1")
        if out.size:
            d.id.read(h5py.h5s.ALL, h5py.h5s.ALL, out, mtype=d.id.get_type())
        return out

    def _h5group(self, gname, part):
        """The h5py group results/<gname>[/part] (None if absent)."""
        key = ("h5", gname, part)
        if key not in self._ds:
            f = self.res.hdf5
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
            self._ds[key] = self._describe(self._h5group(gname, part), var)
        # a new lazy array each time: xarray loads an array in place, and a
        # kept one would keep every field ever read in memory
        d, dims, coords, attrs = self._ds[key]
        return lazy_array(d, dims, coords, attrs, var)

    def _describe(self, g, var):
        """(dataset, dimension names, coordinates, attributes) of a field."""
        d = g[var]
        dims = tuple(dim[0].name.rsplit("/", 1)[1] if len(dim) else "%s_dim_%d" % (var, i)
                     for i, dim in enumerate(d.dims))
        coords = {x: self.res.checked(g[x][()], g[x]) for x in dims[1:] if x in g}
        for i, x in enumerate(dims):  # a damaged dataspace: shape and scales disagree
            if x in coords and np.size(coords[x]) != d.shape[i]:
                raise integrity.damaged(self.res.path, "%s has %d entries along %s, its "
                                        "coordinate %d" % (d.name, d.shape[i], x,
                                                           np.size(coords[x])))
        attrs = {a: text(v) for a, v in d.attrs.items() if a in ATTRS}
        return d, dims, coords, attrs

    def group_points(self, gname):
        d = self.res.hdf5["results"][gname]["point"]
        return np.asarray(self.res.checked(d[()], d))

    def time(self, gname, size):
        d = self.res.hdf5["results"][gname]["time"]
        return np.asarray(self.res.checked(d[()], d), dtype=float)
