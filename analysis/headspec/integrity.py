"""A damaged results file is refused with one clear error, never crashed or
hung on, and nothing the package returns is unchecked (docs/RESULTS.md,
"How the Python package reads a file").

libhdf5 trusts a file's global heaps (variable-length strings, the
dimension scales' DIMENSION_LIST references): a damaged one can make it
read out of bounds (a segmentation fault) or loop for ever. The C side
reads them byte by byte (src/store/store_vlen.c); h5py cannot. So before
the package opens a file, `probe` walks every structure the package (h5py,
h5netcdf) will go through, in a child process under a timeout: a crash or
a hang there becomes DamagedError naming what was being read, and the
parent, reading the same structures afterwards, meets none. Chosen over
validating each heap object in Python: it covers whatever libhdf5 trusts
(heaps, references, B-trees), not only what a port of the C checks knows.

What the walk cannot see (a value changed in place) the checksums find:
each point's rows (/grid/checksum, checks.check_checksums) and, from
layout revision 4, every dataset written once (the /grid columns, labels,
coordinates: its attribute `checksum`, `check_static`), checked as each
array is read.
"""
import fcntl
import os
import signal
import struct
import subprocess
import sys
import zlib

import numpy as np

from .errors import FormatError

VERIFY_HINT = "`headspec verify %s` lists the damage; `headspec repair %s JOB` keeps every " \
              "point that verifies"


class DamagedError(FormatError):
    """The file is damaged: a structure or a value does not read as written."""


def damaged(path, what):
    """DamagedError: 'FILE: damaged: WHAT; `headspec verify FILE` ...'."""
    return DamagedError("%s: damaged: %s; %s" % (path, what, VERIFY_HINT % (path, path)))


# The walk, run by a child interpreter: it says what it reads before it
# reads it, so the parent can name the part that crashed or hung.
_WALK = r'''
import sys
import h5py
path = sys.argv[1]
def say(what):
    sys.stdout.write(what + "\n"); sys.stdout.flush()
def attrs(obj, where):
    for key in list(obj.attrs.keys()):
        say("%s attribute %s" % (where, key))
        value = obj.attrs[key]
        if key == "DIMENSION_LIST":
            for item in getattr(value, "flat", [value]):
                for ref in (item if hasattr(item, "__len__") else [item]):
                    if isinstance(ref, h5py.Reference):
                        f[ref]
        elif key == "REFERENCE_LIST":  # a deleted dataset's stays: refused cleanly
            for item in getattr(value, "flat", [value]):
                try:
                    f[item[0]]
                except (KeyError, ValueError):
                    pass
try:
    say("the file's superblock")
    f = h5py.File(path, "r", locking=False)
    attrs(f, "/")
    def visit(name, obj):
        where = "/" + name
        say(where)
        attrs(obj, where)
        if isinstance(obj, h5py.Dataset):
            for i, dim in enumerate(obj.dims):
                say("%s dimension %d" % (where, i))
                for k in range(len(dim)):
                    dim[k]
            if obj.dtype.kind == "O":
                say("%s strings" % where)
                obj[()]
    f.visititems(visit)
    say("ok")
except Exception as e:
    say("error: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__))
    sys.exit(1)
'''

_probed = {}  # (device, inode, size, mtime) of the files that passed


def probe_timeout(path):
    """Seconds the walk may take: HEADSPEC_PROBE_TIMEOUT, else 60 plus 60
    per GB (it reads the string columns whole)."""
    given = os.environ.get("HEADSPEC_PROBE_TIMEOUT")
    if given:
        return float(given)
    return 60.0 + 60.0 * os.path.getsize(path) / 1e9


def probe(path):
    """Walk the file's structures in a child process; DamagedError if the
    walk crashes, hangs or fails, naming the part it was reading."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key in _probed:
        return
    timeout = probe_timeout(path)
    env = dict(os.environ, HDF5_USE_FILE_LOCKING="FALSE")
    try:
        run = subprocess.run([sys.executable, "-c", _WALK, path], capture_output=True,
                             timeout=timeout, env=env, text=True, errors="replace")
        out, code = run.stdout, run.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else \
            (e.stdout or "")
        raise damaged(path, "reading %s did not finish in %g s (libhdf5 loops on damaged "
                      "metadata)" % (_last(out), timeout)) from None
    if code == 0 and out.rstrip().endswith("ok"):
        _probed[key] = True
        return
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "signal %d" % -code
        raise damaged(path, "reading %s crashed libhdf5 (%s)" % (_last(out), name))
    lines = out.rstrip().splitlines()
    why = lines[-1][len("error: "):] if lines and lines[-1].startswith("error: ") else \
        (run.stderr.strip().splitlines() or ["exit status %d" % code])[-1]
    raise damaged(path, "cannot read %s: %s" % (_last(out, skip_error=True), why))


def _last(out, skip_error=False):
    lines = [x for x in out.rstrip().splitlines()
             if not (skip_error and x.startswith("error: "))]
    return lines[-1] if lines else "the file"


def crc_of(values):
    """The CRC-32 the C side stores for a dataset written once
    (src/store/store_static.c): of its values as stored, little-endian;
    strings (str or bytes, variable length): each one's UTF-8 bytes and a
    NUL."""
    values = np.asarray(values)
    if values.dtype.kind in "OU":
        # one zlib call over the strings joined (NUL-terminated each: the
        # CRC of the concatenation is the chained CRC of the parts)
        items = values.ravel().tolist()
        if set(map(type, items)) == {bytes}:
            return zlib.crc32(b"\0".join(items) + b"\0") if items else 0
        return zlib.crc32(b"".join(
            (v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")) + b"\0"
            for v in items))
    if values.dtype.byteorder == ">":
        values = values.astype(values.dtype.newbyteorder("<"))
    return zlib.crc32(np.ascontiguousarray(values).tobytes())


def check_static(path, name, values, attrs):
    """values (as read, raw) of the dataset `name` against its attribute
    `checksum`; DamagedError naming it if they differ or it has none."""
    stored = attrs.get("checksum") if attrs is not None else None
    if stored is None:
        raise damaged(path, "/%s has no checksum attribute" % name)
    if crc_of(values) != int(np.asarray(stored).ravel()[0]):
        raise damaged(path, "/%s does not match its checksum" % name)


def being_written(path):
    """Whether a run holds the file's lock (FILE.lock of the file the path
    names, an fcntl lock): its points may be between checksum and status."""
    lock = os.path.realpath(path) + ".lock"
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        got = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        return struct.unpack("hhqqi", got)[0] != fcntl.F_UNLCK
    except OSError:
        return False
    finally:
        os.close(fd)
