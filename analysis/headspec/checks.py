"""The checks a results file passes before the package reads its data.

The same /grid checks as the C side's (src/store/store_check.c
check_column_values, check_rows; src/store/store_reuse.c read_status): a
file that fails one is refused with GridError naming the dataset, the
point and what was expected, rather than read with one point's data under
another point's name.

Each check is a function check(view) that raises GridError; `FILE_CHECKS`
lists them in the order they run, right after the file is opened and
before any result is read. A further verification (a checksum of the
datasets, say) is one more function in that list; `view` is the opened
Results (its `path`, `n_points`, `job_text`, `key_order`, `column(name)`,
`groups`, `group_points(group)`, `distinct(name)`, its h5py file `hdf5` are what
the checks use).

Over 400 lines as one module on purpose: the checks share the parsing of
the stored job (job_document, job_values) and the column codes they are
compared in; apart, each would be read away from what it relies on.
"""
import zlib

import numpy as np

from .errors import FormatError, GridError  # noqa: F401 (headspec.checks.FormatError)
from .integrity import being_written


STATUS_VALUES = (0, 1, 2)  # pending, done, failed (docs/RESULTS.md, "The file")


def check_status(view):
    """/grid/status holds a status (0, 1, 2) for every point."""
    status = view.column("status")
    bad = np.flatnonzero(~np.isin(status, STATUS_VALUES))
    if bad.size:
        i = int(bad[0])
        raise GridError("%s: /grid/status[%d] = %d is not a status (0 pending, 1 done, "
                        "2 failed)" % (view.path, i, status[i]))


def check_rows(view):
    """Each results group lists its points (results/<group>/point) in grid
    order, every point in exactly one group, and /grid/row[i] is point i's
    row there (the C side's check_rows: the row of the job's plan)."""
    n = view.n_points
    group_of = np.full(n, -1, dtype=np.int64)
    position = np.full(n, -1, dtype=np.int64)
    for code, gname in enumerate(view.groups):
        points = view.group_points(gname)
        if points is None:  # format 1 without it: the grid's own word
            points = np.flatnonzero(view.column("group") == gname)
        points = np.asarray(points, dtype=np.int64)
        where = "%s: /results/%s/point" % (view.path, gname)
        out = np.flatnonzero((points < 0) | (points >= n))
        if out.size:
            r = int(out[0])
            raise GridError("%s[%d] is %d, not a point of the grid (0..%d)" % (
                where, r, points[r], n - 1))
        back = np.flatnonzero(np.diff(points) <= 0)
        if back.size:
            r = int(back[0]) + 1
            raise GridError("%s[%d] is %d after %d: a group's rows are its points in grid "
                            "order" % (where, r, points[r], points[r - 1]))
        twice = np.flatnonzero(group_of[points] >= 0)
        if twice.size:
            i = int(points[twice[0]])
            raise GridError("%s: point %d is in results groups %s and %s" % (
                view.path, i, view.groups[group_of[i]], gname))
        group_of[points] = code
        position[points] = np.arange(len(points))
    alone = np.flatnonzero(group_of < 0)
    if alone.size:
        raise GridError("%s: point %d is in no results group" % (view.path, int(alone[0])))
    row = np.asarray(view.column("row"), dtype=np.int64)
    bad = np.flatnonzero(row != position)
    if bad.size:
        i = int(bad[0])
        raise GridError("%s: /grid/row[%d] is %d, should be %d (point %d is row %d of results "
                        "group %s)" % (view.path, i, row[i], position[i], i, position[i],
                                       view.groups[group_of[i]]))


def check_values(view):
    """Every job-key column holds the job's values (keys the job does not
    give: one value, the default) and, where the file states its key
    order, in the job's grid order (checks.grid_order)."""
    doc = job_document(view.job_text)
    job = job_values(doc, view.key_order)
    groups = zip_groups(doc, view.key_order, view.path)
    zipped = {key: g for g in groups for key in g}
    codes, order = {}, []
    for key in view.key_order:
        if key not in view.columns:
            continue
        if key not in zipped:
            codes[key] = column_codes(view, key, job.get(key))
            order.append(key)
        elif key == zipped[key][0]:  # a zip group varies at its first key
            name = "(%s)" % ", ".join(zipped[key])
            codes[name] = tuple_codes(view, zipped[key], job)
            order.append(name)
    if view.key_order_stated:
        grid_order(view, order, codes, job)


# Checksums read every stored byte: at open up to this many point-rows
# (points x datasets, about 4 s of zlib); a larger file's are checked before
# the first result is read (Results.ensure_checked), never skipped.
CHECKSUM_AT_OPEN = 4_000_000
# Rows of a dataset read at once while checksumming (bounded memory)
BLOCK_BYTES = 4 << 20


def _listed(f):
    names = f["grid/checksum"].attrs["checksum_of"]
    return (names.decode() if isinstance(names, bytes) else str(names)).split()


def point_checksums(f, status, groups):
    """The CRC-32 of every point as the C side defines it (docs/RESULTS.md,
    "Checksums"), from an h5py File: zlib.crc32 over the point's rows as
    stored, in the order /grid/checksum@checksum_of lists them (its results
    rows if done, then its /grid run record if done or failed); 0 for a
    pending point. groups: {group name: its points, row by row}. Returns
    (checksums, names listed but missing from the file).

    A block of rows of every listed dataset is laid side by side as one
    byte matrix (a point's bytes in checksum order, one row), so zlib runs
    once per point and block rather than once per point and dataset (10x
    faster at 10^5 points; analysis/tests/test_checksums.py holds it
    against that way)."""
    names = _listed(f)
    crc = [0] * len(status)
    missing = []
    for gname, points in groups.items():
        group = f["results"][gname]
        present = [group[x] for x in names if not x.startswith("grid/") and x in group]
        missing += ["results/%s/%s" % (gname, x) for x in names
                    if not x.startswith("grid/") and x not in group and stored_in(group, x)]
        _crc_rows(present, points, status[points] == 1, crc)
    grid = [f[x] for x in names if x.startswith("grid/")]
    n = len(status)
    _crc_rows(grid, np.arange(n), np.isin(status, (1, 2)), crc)
    return np.array(crc, dtype=np.uint32), missing



def stored_in(group, name):
    """Whether a results group stores field `name`: the replicas/ fields only
    in the groups of points with ode.replicas >= 2, which carry the
    attribute `replicas` (docs/RESULTS.md, "The file"); the C side sums
    none elsewhere."""
    return not name.startswith("replicas/") or "replicas" in group.attrs


def _crc_rows(datasets, points, due, crc):
    """crc[points[r]] continued over row r of each dataset, in order, for
    the rows r where due[r]; a block of rows at a time."""
    if not datasets or not due.any():
        return
    if any(d.dtype.kind == "O" or d.shape[0] != len(points) for d in datasets):
        for d in datasets:  # strings, or a damaged shape: dataset by dataset
            for r0, data in _blocks(d):
                for r in np.flatnonzero(due[r0:r0 + len(data)]):
                    i = points[r0 + r]
                    crc[i] = zlib.crc32(data[r].tobytes(), crc[i])
        return
    row = sum(max(1, int(np.prod(d.shape[1:], dtype=np.int64)) * d.dtype.itemsize)
              for d in datasets)
    step = max(1, BLOCK_BYTES // row)
    for r0 in range(0, len(points), step):
        rows = np.flatnonzero(due[r0:r0 + step])
        if not rows.size:
            continue
        block = np.concatenate([_bytes(d[r0:r0 + step]) for d in datasets], axis=1)
        for r, i in zip(rows.tolist(), points[r0 + rows].tolist()):
            crc[i] = zlib.crc32(block[r], crc[i])


def _bytes(data):
    """Rows of a dataset block as a (rows, bytes per row) uint8 matrix."""
    data = np.ascontiguousarray(data)
    return data.view(np.uint8).reshape(len(data), -1) if data.size else \
        np.zeros((len(data), 0), np.uint8)


def _blocks(d):
    """(first row, rows) of an h5py dataset, a few MB at a time."""
    row = max(1, int(np.prod(d.shape[1:], dtype=np.int64)) * d.dtype.itemsize)
    step = max(1, BLOCK_BYTES // row)
    for r0 in range(0, d.shape[0], step):
        yield r0, d[r0:r0 + step]


def check_checksums(view, force=False):
    """Every done or failed point's rows against its CRC-32 in /grid/checksum
    (layout revision >= 3): a damaged point is named by index and label. A
    pending point with a checksum is damaged too (its status changed),
    unless a run is writing the file (it stores a point's checksum just
    before its status). A file of more than CHECKSUM_AT_OPEN point-rows is
    checked before its first result is read (force=True: now)."""
    if getattr(view, "layout_revision", 0) < 3:
        return  # no checksums before layout revision 3
    f = view.hdf5
    if "checksum" not in f["grid"]:
        raise GridError("%s: /grid/checksum is missing from a file of layout revision %d"
                        % (view.path, view.layout_revision))
    n = view.n_points
    if not force and n * len(_listed(f)) > CHECKSUM_AT_OPEN:
        view.checksums_due = True
        return
    status = np.asarray(view.column("status"))
    groups = {g: np.asarray(view.group_points(g), dtype=np.int64) for g in view.groups}
    crc, missing = point_checksums(f, status, groups)
    if missing:
        raise GridError("%s: %s is missing (damaged: the file's checksums cover it)"
                        % (view.path, missing[0]))
    stored = np.asarray(f["grid/checksum"][()], dtype=np.uint32)
    bad = (crc != stored) & ((status == 1) | (status == 2))
    pending = (status == 0) & (stored != 0)
    if pending.any():
        if not being_written(view.path):
            bad |= pending
    bad = np.flatnonzero(bad)
    if bad.size:
        i = int(bad[0])
        label = view.column("label")[i] if "label" in view.columns else ""
        raise GridError("%s: point %d (%s) does not match its checksum: its stored data are "
                        "damaged (%d point%s in all; `headspec verify %s` lists them, "
                        "`headspec run` computes them again)" % (
                            view.path, i, label, bad.size, "" if bad.size == 1 else "s",
                            view.path))


FILE_CHECKS = [check_status, check_rows, check_values, check_checksums]


def run_checks(view, checks=None):
    for check in FILE_CHECKS if checks is None else checks:
        try:
            check(view)
        except GridError as e:
            if "headspec verify" in str(e):
                raise
            raise GridError("%s; `headspec verify %s` checks the whole file" % (
                e, view.path)) from None


# --- the job's values -------------------------------------------------------

def job_document(job_text):
    """The job text stored in the file as YAML, every scalar a string."""
    import yaml  # python3-yaml; only files that are checked need it
    try:
        # BaseLoader: every scalar a string, as the C side reads it (strtod)
        doc = yaml.load(job_text, Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as e:
        raise GridError("the job text stored in the file is not YAML: %s" % e) from None
    return doc if isinstance(doc, dict) else {}


def _column_of(section, key, columns):
    """A job key's /grid column: its name, or section_name where the name
    alone is not a column (training.run -> training_run); None if neither."""
    name = key if key in columns else "%s_%s" % (section, key)
    return name if name in columns else None


def job_values(doc, columns):
    """{column: [values as the job text writes them]} of the job keys that
    have a /grid column: a list for a swept key, one value otherwise.
    Matrix-valued keys (atoms, start_m) have no column and are left out.
    doc: the job as job_document reads it."""
    columns = set(columns)
    out = {}
    for section, keys in doc.items():
        if not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            name = _column_of(section, key, columns)
            if name is None:
                continue
            values = value if isinstance(value, list) else [value]
            if all(isinstance(v, str) for v in values):
                out[name] = values
    return out


def zip_groups(doc, key_order, path):
    """The job's zip groups (`zip: [[model.b1, model.b2]]`), each as its
    /grid columns in key order: the C side (src/plan/plan.c expand_zipped)
    lets a group vary once, by its tuples, at its first key in the table."""
    groups = doc.get("zip", [])
    place = {k: i for i, k in enumerate(key_order)}
    out = []
    for group in groups if isinstance(groups, list) else ():
        names = []
        for entry in group if isinstance(group, list) else ():
            section, _, key = str(entry).partition(".")
            name = _column_of(section, key, place)
            if name is None:
                raise GridError("%s: the job stored in the file zips %s, which is not a /grid "
                                "column" % (path, entry))
            names.append(name)
        if len(names) > 1:
            out.append(sorted(names, key=place.get))
    return out


def tuple_codes(view, keys, job):
    """Per point: the index of its tuple among a zip group's tuples (the
    j-th values of the zipped keys' lists; a value may repeat in a list,
    a tuple may not), -1 where the point reads none of the keys. Refuses a
    combination the job does not give, and a point that reads some of the
    keys but not all. Returns (codes, the tuples as text)."""
    words = [job.get(k) for k in keys]
    if any(w is None or len(w) != len(words[0]) for w in words):
        raise GridError("%s: the job stored in the file zips %s but does not give them lists "
                        "of one length" % (view.path, ", ".join(keys)))
    tuples = list(zip(*words))
    want = ["(%s)" % ", ".join(t) for t in tuples]
    # per key: the tuples each distinct value of its column may belong to
    levels = []
    for key, w in zip(keys, words):
        inverse, uniq, unread = view.distinct(key)
        numeric = uniq.dtype.kind in "iuf"
        try:
            job_vals = [_number(x) for x in w] if numeric else list(w)
        except ValueError:
            raise GridError("%s: the job gives %s = %s, not numbers as /grid/%s holds" % (
                view.path, key, w, key)) from None
        fits = [None if x else frozenset(j for j, v in enumerate(job_vals)
                                         if v == (float(u) if numeric else u))
                for u, x in zip(uniq, unread)]
        levels.append((np.broadcast_to(inverse, (view.n_points,)), uniq, fits))
    combos, inverse = np.unique(np.stack([lv[0] for lv in levels], axis=1), axis=0,
                                return_inverse=True)
    code = np.empty(len(combos), dtype=np.int32)
    for c, combo in enumerate(combos):
        fits = [lv[2][u] for lv, u in zip(levels, combo)]
        if all(f is None for f in fits):
            code[c] = -1
            continue
        i = int(np.flatnonzero(inverse.ravel() == c)[0])
        shown = ", ".join("/grid/%s[%d] = %s" % (k, i, _show(lv[1][u]))
                          for k, lv, u in zip(keys, levels, combo))
        if any(f is None for f in fits):
            raise GridError("%s: point %d reads some of the zipped keys %s but not all (%s): "
                            "damaged, or not this job's file" % (view.path, i, ", ".join(keys),
                                                                 shown))
        both = frozenset.intersection(*fits)
        if not both:
            raise GridError("%s: %s, but the job stored in the file zips them as %s only "
                            "(damaged, or not this job's file)" % (view.path, shown,
                                                                   " ".join(want)))
        code[c] = min(both)
    return code[inverse.ravel()], want


def _number(word):
    if word == "true":
        return 1.0
    if word == "false":
        return 0.0
    return float(word)


def _show(v):
    if isinstance(v, (float, np.floating)):
        return "%.10g" % v
    return str(v)


def column_codes(view, key, words):
    """Per point: the index of its value of `key` among the job's values
    `words` (None: the job does not give the key), -1 where the point does
    not read the key (NaN, the fill value, or ''). Refuses a value the job
    does not give. Returns (codes, the job's values as text)."""
    inverse, uniq, unread = view.distinct(key)
    numeric = uniq.dtype.kind in "iuf"
    if words is None:  # not in the job: its one default, if read at all
        job = [u for u, x in zip(uniq, unread) if not x]
    elif numeric:
        try:
            job = [_number(w) for w in words]
        except ValueError:
            raise GridError("%s: the job gives %s = %s, not numbers as /grid/%s holds" % (
                view.path, key, words, key)) from None
    else:
        job = list(words)
    want = [_show(v) for v in job]
    index = {float(v) if numeric else v: j for j, v in enumerate(job)}
    mapped = np.empty(len(uniq), dtype=np.int32)
    for u, (value, x) in enumerate(zip(uniq, unread)):
        code = index.get(float(value) if numeric else value)
        if code is None and not x:
            i = int(np.flatnonzero(inverse == u)[0])
            raise GridError("%s: /grid/%s[%d] is %s, but the job stored in the file gives %s "
                            "only %s (damaged, or not this job's file)" % (
                                view.path, key, i, _show(value), key, ", ".join(want)))
        mapped[u] = -1 if code is None else code
    if words is None and len(want) > 1:
        raise GridError("%s: /grid/%s takes the values %s, but the job stored in the file "
                        "does not sweep %s" % (view.path, key, ", ".join(want), key))
    if len(uniq) == 1:  # one value everywhere: no array
        return np.broadcast_to(np.int32(mapped[0]), (view.n_points,)), want
    return mapped[inverse], want


def grid_order(view, keys, codes, job):
    """The points must be the job's grid in order: depth first over the
    keys in key order, the last varying fastest, a key a point does not
    read (code -1) not multiplying it. So each point follows the one
    before as a mixed-radix counter does: at the first key where the two
    differ the value is the next one, every later key of the earlier point
    at its last value (or unread) and of the later point at its first; the
    first point has every key at its first value, the last at its last."""
    n = view.n_points
    if not keys or n == 0:
        return
    last = {k: len(codes[k][1]) - 1 for k in keys}

    def refuse(i, key, code, expect):
        raise GridError("%s: /grid/%s[%d] is %s, but the job stored in the file gives point "
                        "%d %s (damaged, or its points are in another order)" % (
                            view.path, key, i, _value(codes[key], code), i, expect))

    def first_value(key):
        return "%s = %s (or does not read it)" % (key, codes[key][1][0])

    for key in keys:
        c = codes[key][0]
        if c[0] > 0:
            refuse(0, key, c[0], first_value(key))
        if c[-1] >= 0 and c[-1] != last[key]:
            refuse(n - 1, key, c[-1], "%s = %s, its last value (or does not read it)" % (
                key, codes[key][1][-1]))
    # keys with one code everywhere never differ: the ends said all
    vary = [k for k in keys if (codes[k][0] != codes[k][0][0]).any()]
    if n < 2:
        return
    if not vary:
        raise GridError("%s: /grid repeats point 0 as point 1 (every job key the same)"
                        % view.path)
    small = all(last[k] < 32000 for k in vary)
    v = np.stack([codes[k][0] for k in vary], axis=1).astype(np.int16 if small else np.int32)
    top = np.array([last[k] for k in vary])
    a, b = v[:-1], v[1:]
    differ = a != b
    j = np.argmax(differ, axis=1)
    rows = np.arange(len(j))
    after = np.arange(len(vary))[None, :] > j[:, None]
    ok = differ[rows, j] & (a[rows, j] >= 0) & (b[rows, j] == a[rows, j] + 1)
    ok &= (((a == top) | (a < 0)) & (b <= 0) | ~after).all(axis=1)
    bad = np.flatnonzero(~ok)
    if not bad.size:
        return
    i = int(bad[0])
    prev, cur = v[i], v[i + 1]
    # name the first key where point i+1 is not the successor of point i
    steps = [x for x in range(len(vary)) if 0 <= prev[x] < top[x]]
    step = steps[-1] if steps else None
    for x, key in enumerate(vary):
        if step is not None and x < step and cur[x] != prev[x]:
            refuse(i + 1, key, cur[x], "%s = %s (as point %d)" % (
                key, _value(codes[key], prev[x]), i))
        if step is not None and x == step and cur[x] != prev[x] + 1:
            refuse(i + 1, key, cur[x], "%s = %s (the value after point %d's)" % (
                key, codes[key][1][prev[x] + 1], i))
        if (step is None or x > step) and cur[x] > 0:
            refuse(i + 1, key, cur[x], first_value(key))
    x = int(j[i])
    refuse(i + 1, vary[x], cur[x], "another value (it repeats point %d)" % i)


def _value(coded, code):
    return "(not read)" if code < 0 else coded[1][code]
