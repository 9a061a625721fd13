"""Strings as the file stores them (variable-length, fixed-length bytes,
netCDF char arrays) decoded to Python str, fast on large /grid columns."""
import numpy as np
import pandas as pd


def text(value):
    """One stored string (bytes, str or a 0-d array of either) as str."""
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
            return repeated(len(u8), text(u8[0].tobytes()).rstrip("\x00"))
        raw = raw.view("S%d" % raw.shape[1]).ravel()
    if raw.dtype.kind == "S":
        raw = raw.astype(object)
    if len(raw) and raw.dtype.kind == "O" and (raw == raw[0]).all():  # one value for all
        return repeated(len(raw), text(raw[0]).rstrip("\x00"))
    if not distinct:
        return _each(raw.tolist())
    codes, uniq = pd.factorize(raw, use_na_sentinel=False)
    words = np.array([text(u).rstrip("\x00") for u in uniq] + [""], dtype=object)
    return words[codes] if len(uniq) else np.full(raw.shape, "", object)


def _each(items):
    """Each of many strings decoded: bytes joined by NUL (never inside a
    stored string, and never part of an invalid sequence) decoded at once."""
    out = np.empty(len(items), dtype=object)
    if items and set(map(type, items)) == {bytes}:
        out[:] = b"\0".join(items).decode("utf-8", "replace").split("\0")
    else:
        out[:] = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                  for v in items]
    return out


def repeated(n, word):
    """n times one str (one object: np.full would make n copies)."""
    out = np.empty(n, dtype=object)
    out.fill(word)
    return out
