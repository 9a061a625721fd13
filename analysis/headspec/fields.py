"""Result fields over all points: stacked from the results groups (one per
shape) into one (point, ...) array, and unstacked into one dimension per
swept key. Uses the public attributes of the opened Results only
(`layout`, `groups`, `n_points`, `status_codes`, `points_of`,
`key_column`, `swept`, `path`, `ensure_checked`)."""
import numpy as np
import pandas as pd
import xarray as xr

from .errors import FormatError
from .schema import ATTRS, FROM_ONE, FROM_ONE_VALUES, PARTS
from .strings import text


def count_from_one(da, name):
    """A field as the package shows it: heads, spikes and tokens labelled
    1..n (FROM_ONE), and a field naming heads or tokens 1-based."""
    da = da.assign_coords({d: np.arange(1, da.sizes[d] + 1) for d in FROM_ONE if d in da.dims})
    if name.rsplit("/", 1)[-1] in FROM_ONE_VALUES:
        da = da + 1
    return da


class Fields:
    """The result fields of one opened file; whole fields are kept once
    read (plots ask again), final values are not."""

    def __init__(self, res):
        self.res = res
        self._cache = {}

    def of_group(self, gname):
        """The field names of a group ('sgd/m', 'bayes_risk', ...)."""
        for part in PARTS:
            for var in self.res.layout.names(gname, part):
                yield part + "/" + var if part else var

    def names(self):
        """Names of every stored result dataset, in group order."""
        if "names" not in self._cache:
            names = []
            for gname in self.res.groups:
                names += [n for n in self.of_group(gname) if n not in names]
            self._cache["names"] = names
        return list(self._cache["names"])

    def lazy(self, gname, name):
        """A group's field as a lazy DataArray (None if the group lacks it)."""
        part, var = name.split("/", 1) if "/" in name else ("", name)
        return self.res.layout.field(gname, part, var)

    def stacked(self, name, last=False):
        """A field over all points (dims: point, then its own), NaN where a
        point is not done or its group is smaller; last=True: at the last
        record only (read as such)."""
        key = (name, last)
        if key in self._cache:
            return self._cache[key]
        res = self.res
        res.ensure_checked()
        parts, dims, attrs, time = [], None, {}, None
        for gname in res.groups:
            da = self.lazy(gname, name)
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
                    time = res.layout.time(gname, size)
                # groups with other record counts line up by record index
                da = da.assign_coords(time=np.arange(size))
            points = res.points_of(gname)
            if last and "time" in d:
                da = self.final_records(gname, name, da, points)
            if da.dims[0] != "point":
                da = da.rename({da.dims[0]: "point"})
            da = da.assign_coords(point=points)
            parts.append(count_from_one(da.astype(float).load(), name))
        if not parts:
            raise KeyError("no result field %r in %s; fields: %s" % (
                name, res.path, ", ".join(self.names())))
        da = parts[0] if len(parts) == 1 else xr.concat(parts, dim="point", join="outer",
                                                        fill_value=np.nan)
        da = da.reindex(point=np.arange(res.n_points), fill_value=np.nan)
        done = xr.DataArray(res.status_codes == 1, dims=("point",))
        da = da.where(done)
        if time is not None and "time" in da.dims:
            da = da.assign_coords(time=time[:da.sizes["time"]]
                                  if len(time) >= da.sizes["time"] else np.arange(da.sizes["time"]))
        da = da.transpose("point", *[x for x in dims if x in da.dims])
        da.name, da.attrs = name, attrs
        if not last:
            self._cache[key] = da
        return da

    def final(self, name):
        """Per point: the field at its last record (NaN where not done);
        None if no group stores it."""
        if name not in self.names():
            return None
        return self.stacked(name, last=True).values

    def final_records(self, gname, name, da, points):
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
        t_stop = self.lazy(gname, "ode/t_stop")
        if not empty.any() or t_stop is None:
            return final
        stopped = np.isfinite(np.asarray(t_stop.values, dtype=float))
        rows = np.flatnonzero(empty & stopped & (self.res.status_codes[points] == 1))
        axis = da.get_axis_num("time")
        for lo in range(0, len(rows), 4096):  # bounded memory
            some = rows[lo:lo + 4096]
            whole = np.moveaxis(np.asarray(da.isel({da.dims[0]: some}).values, dtype=float),
                                axis, 1)
            computed = np.isfinite(whole.reshape(len(some), whole.shape[1], -1)).any(axis=2)
            at = whole.shape[1] - 1 - np.argmax(computed[:, ::-1], axis=1)
            values[some] = whole[np.arange(len(some)), at]
        return final.copy(data=values)

    def final_m_by_group(self, part):
        """{group: (points, final m rows x H x K, mean_c rows x K)} of done points."""
        res, out = self.res, {}
        res.ensure_checked()
        for gname in res.groups:
            m = self.lazy(gname, part + "/m")
            mu = self.lazy(gname, "mean_c")
            if m is None:
                continue
            points = res.points_of(gname)
            done = res.status_codes[points] == 1
            mf = np.asarray(self.final_records(gname, part + "/m", m, points).values,
                            dtype=float)[done]
            mc = np.asarray(mu.values, dtype=float)[done] if mu is not None else None
            out[gname] = (points[done], mf, mc)
        return out

    # --- one dimension per swept key ---------------------------------------
    def swept_index(self):
        """The swept keys as a pandas MultiIndex over the points (levels in
        order of first appearance: the job's order), or None when they do
        not identify the points uniquely."""
        if "index" not in self._cache:
            levels, codes = [], []
            for k in self.res.swept:
                col = self.res.key_column(k)
                if str(getattr(col, "dtype", "")) == "Int64":
                    col = col.astype("float64")
                c, u = pd.factorize(np.asarray(col), use_na_sentinel=False)
                levels.append(np.asarray(u))
                codes.append(c)
            index = None
            if codes:
                index = pd.MultiIndex(levels=levels, codes=codes, names=self.res.swept,
                                      verify_integrity=False)
                if not index.is_unique:
                    index = None
            self._cache["index"] = index
        return self._cache["index"]

    def unstack(self, da):
        """A (point, ...) array with one dimension per swept key instead."""
        res = self.res
        if not res.swept:
            if res.n_points == 1:
                return da.isel(point=0, drop=True)
            raise ValueError("%s sweeps no key but has %d points; use stack=True" % (
                res.path, res.n_points))
        index = self.swept_index()
        if index is None:
            raise ValueError("the swept keys %s do not identify the points of %s uniquely; "
                             "use stack=True" % (res.swept, res.path))
        attrs = dict(da.attrs)
        da = da.drop_vars([c for c in da.coords if "point" in da[c].dims])
        if any(pd.isna(lv).any() for lv in index.levels):
            return self._unstack_by_codes(da, index, attrs)
        out = da.assign_coords(point=index).unstack("point")
        out = out.transpose(*res.swept, *[d for d in da.dims if d != "point"])
        out.attrs = attrs
        return out

    def _unstack_by_codes(self, da, index, attrs):
        # a swept key unread by some points (NaN, a level pandas will not
        # unstack): place the values by their codes
        swept = self.res.swept
        shape = tuple(len(lv) for lv in index.levels) + da.shape[1:]
        out = np.full(shape, np.nan)
        out[tuple(index.codes)] = da.values
        coords = {k: np.asarray(lv) for k, lv in zip(swept, index.levels)}
        coords.update({d: da.coords[d].values for d in da.dims[1:] if d in da.coords})
        return xr.DataArray(out, dims=tuple(swept) + da.dims[1:], coords=coords,
                            name=da.name, attrs=attrs)

    def stack_keys(self, da):
        """A (point, ...) array with the swept keys as coordinates on point."""
        for k in self.res.swept:
            col = self.res.key_column(k)
            da = da.assign_coords({k: ("point", np.asarray(
                col.astype("float64") if str(getattr(col, "dtype", "")) == "Int64"
                else col))})
        return da
