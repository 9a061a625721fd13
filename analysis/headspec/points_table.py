"""The points table: one row per grid point, its swept keys, its run
record and its per-point summaries (final values, and the derived
columns of headspec.derived: the only reading module that imports them).
Uses the public attributes of the opened Results (`n_points`, `swept`,
`columns`, `column`, `key_column`, `status_codes`, `layout`, `fixed`,
`path`) and its headspec.fields.Fields."""
import numpy as np
import pandas as pd

from . import derived, replicas
from .schema import FINALS, STATUS_ORDER
from .strings import decode_strings, repeated

# the float columns of the points table, in order (after the run record)
NUMBERS = ("seconds",) + tuple(FINALS) + ("sgd_gap", "ode_gap", "sgd_cosine", "sgd_spec",
                                          "ode_cosine", "ode_spec") + replicas.POINT_COLUMNS


def describe(name):
    """What a points column means (derived.DESCRIPTIONS; else its name)."""
    return derived.DESCRIPTIONS.get(name, name)


def make(res, fields):
    """The points table of an opened file (a pandas DataFrame, index point)."""
    index = pd.RangeIndex(res.n_points, name="point")
    df = pd.DataFrame(numbers(res, fields).T, columns=list(NUMBERS), index=index, copy=False)
    front = [(k, res.key_column(k)) for k in res.swept]
    front.append(("status", pd.Categorical.from_codes(
        pd.Series(res.status_codes).map({1: 0, 0: 1, 2: 2}).to_numpy(),
        categories=STATUS_ORDER)))
    front.append(("message", messages(res)))
    front += [(c, res.column(c)) for c in ("rank", "host") if c in res.columns]
    for j, (name, values) in enumerate(front):
        df.insert(j, name, values)
    df["label"] = res.column("label") if "label" in res.columns else labels(res)
    df.attrs["fixed"] = dict(res.fixed)
    df.attrs["swept"] = list(res.swept)
    df.attrs["path"] = res.path
    return df


def numbers(res, fields):
    """The float columns of the points table as one (column, point)
    block: pandas takes it as it is (a dict of columns it would copy)."""
    block = np.full((len(NUMBERS), res.n_points), np.nan)
    row = {c: block[j] for j, c in enumerate(NUMBERS)}
    for col, field in (("seconds", "seconds"),) + tuple(FINALS.items()):
        v = fields.final(field)
        if v is not None:
            row[col][:] = v
    np.subtract(row["sgd_test_loss"], row["bayes_risk"], out=row["sgd_gap"])
    np.subtract(row["ode_loss"], row["bayes_risk"], out=row["ode_gap"])
    for col, values in replicas.point_columns(res).items():  # mean ± se over replicas
        row[col][:] = values
    for part in ("sgd", "ode"):
        for points, m, mu in fields.final_m_by_group(part).values():
            row[part + "_cosine"][points] = derived.head_cosines(m)
            if mu is not None:
                row[part + "_spec"][points] = derived.specialisations(m, mu)
    return block


def messages(res):
    """/grid/message: '' but for the failed points (read for those only)."""
    out = repeated(res.n_points, "")
    failed = np.flatnonzero(res.status_codes == 2)
    if failed.size and "message" in res.columns:
        var = res.layout.grid()["message"]
        out[failed] = decode_strings(var.isel(point=failed).values)
    return out


def labels(res):
    """A label per point from its swept keys (files without /grid/label)."""
    cols = [res.column(k) for k in res.swept]
    return [" ".join("%s=%s" % (k, _fmt(c[i])) for k, c in zip(res.swept, cols))
            for i in range(res.n_points)]


def _fmt(v):
    if isinstance(v, float):
        return "%g" % v
    return str(v)
