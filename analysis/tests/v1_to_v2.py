"""Test fixture: rewrite a format-1 results file (made by the headspec
binary) in format_version 2 exactly as LAYOUT-v2 describes it, so the
reader's format-2 path is tested on real numbers until the binary writes
format 2 itself. usage: v1_to_v2.py IN.h5 OUT.h5"""
import sys

import h5py
import numpy as np

# Which distributions read a key (others: every point reads it).
READ_BY = {"b1": ("flipping",), "b2": ("flipping",), "beta": ("onehot",),
           "signed": ("onehot",), "K": ("onehot", "gaussian"),
           "bmin": ("gaussian",), "bmax": ("gaussian",)}
RENAMED = {"training_run": "training_run", "ode_run": "ode_run"}
BOOK = ("status", "message", "rank", "host", "started", "finished", "group", "row")
STR = h5py.string_dtype("utf-8")


def _dec(a):
    return np.array([v.decode() for v in a], dtype=object)


def _char(ds_out_name, grid, values, width, point):
    raw = np.zeros((len(values), width), dtype="S1")
    for i, v in enumerate(values):
        b = v.encode()[:width]
        raw[i, :len(b)] = [bytes([c]) for c in b]
    ds = grid.create_dataset(ds_out_name, data=raw)
    dim = grid.create_dataset(ds_out_name + "_char", data=np.arange(width, dtype=np.int32))
    dim.make_scale(ds_out_name + "_char")
    ds.dims[0].attach_scale(point)
    ds.dims[1].attach_scale(dim)
    ds.attrs["_Encoding"] = "utf-8"
    return ds


def convert(src, dst, swept):
    with h5py.File(src, "r") as f, h5py.File(dst, "w") as o:
        n = int(f.attrs["n_points"])
        for a in ("software_version", "git_commit", "job_file", "created", "units"):
            v = f.attrs[a]
            o.attrs[a] = v.decode() if isinstance(v, bytes) else v
        o.attrs["format_version"] = np.int64(2)
        o.attrs["n_points"] = np.int64(n)
        text = f.attrs["job_text"]
        o.create_dataset("job_text", data=text.decode() if isinstance(text, bytes) else text,
                         dtype=STR)
        g, G = f["grid"], o.create_group("grid")
        point = G.create_dataset("point", data=np.arange(n, dtype=np.int64))
        point.make_scale("point")
        dist = _dec(g["distribution"][:])
        label = []
        for name, ds in g.items():
            desc = ds.attrs.get("description", b"").decode()
            if name in ("message", "host"):
                out = _char(name, G, _dec(ds[:]), 256 if name == "message" else 64, point)
            elif name in ("group",):
                continue  # rewritten below with the new group names
            elif name in BOOK:
                out = G.create_dataset(name, data=ds[:].astype(
                    {"status": np.int8, "rank": np.int32, "row": np.int64}.get(name, ds.dtype)))
            else:
                reads = np.isin(dist, READ_BY.get(name, dist))
                col = ds[:]
                if col.dtype.kind == "S":
                    vals = _dec(col)
                    vals[~reads] = ""
                    out = G.create_dataset(name, data=vals, dtype=STR)
                elif col.dtype.kind == "f":
                    col = col.astype(np.float64)
                    col[~reads] = np.nan
                    out = G.create_dataset(name, data=col)
                else:
                    col = col.astype(np.int32)
                    col[~reads] = -1
                    out = G.create_dataset(name, data=col, fillvalue=-1)
                    out.attrs["_FillValue"] = np.int32(-1)
                out.attrs["units"] = "1"
                out.attrs["long_name"] = desc
            if out.ndim == 1:
                out.dims[0].attach_scale(point)
        for i in range(n):
            label.append(" ".join("%s=%s" % (k, _str(G[k][i])) for k in swept))
        G.create_dataset("label", data=np.array(label, dtype=object), dtype=STR)
        G.attrs["swept_keys"] = np.array(swept, dtype=object).astype(STR)
        old_groups = _dec(g["group"][:])
        new_name = {}
        for old, grp in f["results"].items():
            a = {k: int(grp.attrs[k]) for k in ("H", "K", "L", "T")}
            a["maps"] = int(grp["sgd/maps"].shape[1])
            new_name[old] = "H{H}_K{K}_L{L}_T{T}_maps{maps}".format(**a)
            _group(grp, o.create_group("results/" + new_name[old]), a, f)
        new = np.array([new_name.get(x, x) for x in old_groups], dtype=object)
        G.create_dataset("group", data=new, dtype=STR).dims[0].attach_scale(point)
        G["label"].dims[0].attach_scale(point)


def _str(v):
    if isinstance(v, bytes):
        return v.decode()
    return "%g" % v if isinstance(v, float) else str(v)


DIMS = {"t": ("time",), "step": ("time",), "lambda": ("time",), "test_loss": ("time",),
        "train_loss": ("time",), "lpop": ("time",), "loss": ("time",),
        "m": ("time", "head", "spike"), "Q": ("time", "head", "head2"),
        "Qperp": ("time", "head", "head2"), "b": ("time", "head"),
        "M": ("spike", "spike2"), "prune_loss": ("kept",), "prune_order": ("removal",),
        "maps": ("map", "head", "token"), "maps_eps": ("map",),
        "bayes_risk": (), "bayes_risk_se": (), "seconds": ()}


def _group(src, dst, a, f):
    for k, v in a.items():
        dst.attrs[k] = np.int64(v)
    H, K, L, T, maps = a["H"], a["K"], a["L"], a["T"], a["maps"]
    g = f["grid"]
    tmax, rec = float(g["t_max"][0]), int(g["records"][0])
    if g["record_grid"][0] == b"log":
        time = np.concatenate([[0.0], np.geomspace(float(g["t_min"][0]), tmax, rec - 1)])
    else:
        time = np.linspace(0, tmax, rec)
    coords = {"point": src["point"][:].astype(np.int64), "time": time,
              "head": np.arange(H, dtype=np.int32), "head2": np.arange(H, dtype=np.int32),
              "spike": np.arange(K, dtype=np.int32), "spike2": np.arange(K, dtype=np.int32),
              "token": np.arange(L, dtype=np.int32), "map": np.arange(maps, dtype=np.int32),
              "kept": np.arange(1, H + 1, dtype=np.int32),
              "removal": np.arange(H, dtype=np.int32)}
    scales = {}
    for name, v in coords.items():
        scales[name] = dst.create_dataset(name, data=v)
        scales[name].make_scale(name)

    def copy(name, obj):
        if not isinstance(obj, h5py.Dataset) or name == "point":
            return
        out = dst.create_dataset(name, data=obj[()].astype(np.float64))
        base = name.rsplit("/", 1)[-1]
        for i, dim in enumerate(("point",) + DIMS[base]):
            out.dims[i].attach_scale(scales[dim])
        out.attrs["units"] = "1"
        out.attrs["long_name"] = base
        out.attrs["description"] = obj.attrs["description"].decode()
    src.visititems(copy)


if __name__ == "__main__":
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import headspec.results as hr
    with h5py.File(sys.argv[1], "r") as f:
        sw = hr._swept_from_job_text(f.attrs["job_text"].decode())
    convert(sys.argv[1], sys.argv[2], sw)
