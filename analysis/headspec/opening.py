"""Opening a results file: its two handles (h5py for the datasets,
h5netcdf for /grid's netCDF dimensions), a running job's lock, and the
root attributes that say which format it is (refusing the others)."""
from collections import namedtuple

import h5netcdf
import h5py
import numpy as np

from ._version import __version__
from .errors import FormatError
from .schema import SUPPORTED_FORMATS
from .strings import text

Root = namedtuple("Root", "version layout_revision attrs job_text")


def open_files(path):
    """(h5py.File, h5netcdf.File) of one file, opened with the same locking
    (libhdf5 shares one open file between them and refuses two lockings)."""
    try:
        h5 = h5py.File(path, "r")
        locking = {}
    except OSError as e:
        if "signature" in str(e):
            raise FormatError("%s is not an HDF5 file" % path) from None
        # A running job holds a write lock: read without locking (the
        # points it has not stored yet read as NaN).
        if "lock" not in str(e):
            raise
        locking = dict(locking=False)
        h5 = h5py.File(path, "r", **locking)
    try:
        return h5, h5netcdf.File(path, "r", phony_dims="sort", **locking)
    except Exception:
        h5.close()
        raise


def read_root(f, path):
    """The root of an open h5netcdf.File as a Root; FormatError for a file
    that is not a results file or of a format this package does not read."""
    if "format_version" not in f.attrs or "grid" not in f.groups:
        raise FormatError("%s is not a headspec results file (no format_version "
                          "attribute or /grid)" % path)
    version = int(np.asarray(f.attrs["format_version"]).ravel()[0])
    if version > max(SUPPORTED_FORMATS):
        writer = text(f.attrs.get("software_version", "")) or "?"
        raise FormatError(
            "%s has results format_version %d, written by headspec %s; this headspec "
            "Python package (%s) reads format_version %s: upgrade it to %s" % (
                path, version, writer, __version__,
                " and ".join(map(str, SUPPORTED_FORMATS)),
                "a newer headspec" if writer in ("?", __version__)
                else "headspec %s or newer" % writer))
    if version not in SUPPORTED_FORMATS:
        raise FormatError(
            "%s has results format_version %d; this headspec Python package reads "
            "format_version %s only (a newer file needs a newer package from the "
            "same headspec release as the binary)" % (
                path, version, " and ".join(map(str, SUPPORTED_FORMATS))))
    revision = int(np.asarray(f.attrs.get("layout_revision", 1)).ravel()[0])
    attrs = {k: text(v) if isinstance(v, (bytes, str)) else v for k, v in f.attrs.items()}
    if "job_text" in f.variables:
        job_text = text(f.variables["job_text"][()])
    else:
        job_text = text(f.attrs.get("job_text", b""))
    return Root(version, revision, attrs, job_text)


def first_line(e):
    """An exception's message, its first line (or its type's name)."""
    message = str(e).strip()
    return message.splitlines()[0] if message else type(e).__name__
