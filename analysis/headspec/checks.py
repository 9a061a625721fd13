"""The checks a results file passes before the package reads its data.

The same /grid checks as the C side's (src/store/store_layout.c
check_column_values, check_rows; src/store/store_reuse.c read_status): a
file that fails one is refused with GridError naming the dataset, the
point and what was expected, rather than read with one point's data under
another point's name.

Each check is a function check(view) that raises GridError; `FILE_CHECKS`
lists them in the order they run, right after the file is opened and
before any result is read. A further verification (a checksum of the
datasets, say) is one more function in that list; `view` is the opened
Results (its `path`, `n_points`, `job_text`, `key_order`, `column(name)`,
`groups`, `group_points(group)` and `h5` are what the checks use).
"""
import numpy as np
import pandas as pd


class FormatError(ValueError):
    """The file is not a headspec results file of a supported format."""


class GridError(FormatError):
    """The file's /grid contradicts itself or the job stored in the file."""


STATUS_VALUES = (0, 1, 2)  # pending, done, failed (README "Results file")


def check_status(view):
    """/grid/status holds a status (0, 1, 2) for every point."""
    status = view.column("status")
    bad = np.flatnonzero(~np.isin(status, STATUS_VALUES))
    if bad.size:
        i = int(bad[0])
        raise GridError("%s: /grid/status[%d] = %d is not a status (0 pending, 1 done, "
                        "2 failed)" % (view.path, i, status[i]))


def expected_rows(groups):
    """The row of each point in its results group: points in grid order,
    each group's rows numbered 0, 1, ... (the C side's hs_plan_row_of).
    groups: the group of each point (any hashable codes)."""
    codes, _ = pd.factorize(np.asarray(groups), use_na_sentinel=False)
    return pd.Series(codes).groupby(codes).cumcount().to_numpy(dtype=np.int64)


def check_rows(view):
    """Each point's /grid/row is its row in its group, the group exists,
    and the group's own point index at that row names the point back."""
    row = np.asarray(view.column("row"), dtype=np.int64)
    group = view.column("group")
    want = expected_rows(group)
    bad = np.flatnonzero(row != want)
    if bad.size:
        i = int(bad[0])
        raise GridError("%s: /grid/row[%d] is %d, should be %d (point %d is row %d of "
                        "results group %s)" % (view.path, i, row[i], want[i], i, want[i],
                                               group[i]))
    for gname in pd.unique(group):
        if gname not in view.groups:
            i = int(np.flatnonzero(group == gname)[0])
            raise GridError("%s: /grid/group[%d] is %r, which is not a group of /results "
                            "(groups: %s)" % (view.path, i, gname, ", ".join(view.groups)))
        mine = np.flatnonzero(group == gname)
        points = view.group_points(gname)
        if points is None:  # format 1: no per-group point index
            continue
        points = np.asarray(points, dtype=np.int64)
        if points.shape != mine.shape:
            raise GridError("%s: /results/%s has %d rows, but /grid puts %d points in it" % (
                view.path, gname, points.size, mine.size))
        wrong = np.flatnonzero(points != mine)
        if wrong.size:
            r = int(wrong[0])
            raise GridError("%s: /results/%s/point[%d] is %d, but /grid gives that row to "
                            "point %d" % (view.path, gname, r, points[r], mine[r]))


def check_values(view):
    """Every job-key column holds the job's values (keys the job does not
    give: one value, the default) and, where the file states its key
    order, in the job's grid order (checks.grid_order)."""
    job = job_values(view.job_text, view.key_order)
    codes = {}
    for key in view.key_order:
        if key not in view.columns:
            continue
        codes[key] = column_codes(view, key, job.get(key))
    if view.key_order_stated:
        grid_order(view, [k for k in view.key_order if k in codes], codes, job)


FILE_CHECKS = [check_status, check_rows, check_values]


def run_checks(view, checks=None):
    for check in FILE_CHECKS if checks is None else checks:
        check(view)


# --- the job's values -------------------------------------------------------

def job_values(job_text, columns):
    """{column: [values as the job text writes them]} of the job keys that
    have a /grid column: a list for a swept key, one value otherwise. A
    key's column is its name, or section_name where the name alone is not
    a column (training.run -> training_run). Matrix-valued keys (atoms,
    start_m) have no column and are left out."""
    import yaml  # python3-yaml; only files that are checked need it
    try:
        # BaseLoader: every scalar a string, as the C side reads it (strtod)
        doc = yaml.load(job_text, Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as e:
        raise GridError("the job text stored in the file is not YAML: %s" % e) from None
    columns = set(columns)
    out = {}
    for section, keys in (doc.items() if isinstance(doc, dict) else ()):
        if not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            name = key if key in columns else "%s_%s" % (section, key)
            if name not in columns:
                continue
            values = value if isinstance(value, list) else [value]
            if all(isinstance(v, str) for v in values):
                out[name] = values
    return out


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
    """Per point: the index of its value of `key` among the job's values,
    -1 where the point does not read the key (NaN, the fill value, or '').
    Refuses a value the job does not give."""
    col, unread = view.column(key, unread=True)
    n = len(col)
    codes = np.full(n, -1, dtype=np.int32)
    read = ~unread
    if col.dtype.kind == "O":
        uniq_codes, uniq = pd.factorize(col, use_na_sentinel=False)
        if words is None:
            words = [u for u in pd.unique(col[read])]
        table = {w: j for j, w in enumerate(words)}
        mapped = np.array([table.get(u, -2) for u in uniq], dtype=np.int32)
        codes = mapped[uniq_codes]
        codes[unread & (codes == -2)] = -1
        want = [_show(w) for w in words]
    else:
        values = np.asarray(col, dtype=float)
        if words is None:
            job = np.unique(values[read])
        else:
            try:
                job = np.array([_number(w) for w in words], dtype=float)
            except ValueError:
                raise GridError("%s: the job gives %s = %s, not numbers as /grid/%s holds" % (
                    view.path, key, words, key)) from None
        order = np.argsort(job, kind="stable")
        pos = np.clip(np.searchsorted(job[order], values), 0, max(len(job) - 1, 0))
        found = job.size > 0
        hit = (job[order][pos] == values) if found else np.zeros(n, bool)
        codes = np.where(hit, order[pos] if found else -1, -2).astype(np.int32)
        codes[unread & ~hit] = -1
        want = [_show(v) for v in job]
    bad = np.flatnonzero(codes == -2)
    if bad.size:
        i = int(bad[0])
        raise GridError("%s: /grid/%s[%d] is %s, but the job stored in the file gives %s "
                        "only %s (damaged, or not this job's file)" % (
                            view.path, key, i, _show(col[i]), key, ", ".join(want)))
    if words is None and len(want) > 1:
        raise GridError("%s: /grid/%s takes the values %s, but the job stored in the file "
                        "does not sweep %s" % (view.path, key, ", ".join(want), key))
    return codes, want


def grid_order(view, keys, codes, job):
    """The points must be the job's grid in order: depth first over the
    keys in key order, the last varying fastest, a key a point does not
    read (code -1) not multiplying it. So each point follows the one
    before as a mixed-radix counter does: at the first key where the two
    differ the value is the next one, every later key of the earlier point
    at its last value (or unread) and of the later point at its first."""
    n = view.n_points
    if not keys or n == 0:
        return
    c = np.stack([codes[k][0] for k in keys], axis=1)             # n x keys
    last = np.array([len(codes[k][1]) - 1 for k in keys], dtype=np.int32)

    def refuse(i, k, expect):
        key = keys[k]
        raise GridError("%s: /grid/%s[%d] is %s, but the job stored in the file gives point "
                        "%d %s (damaged, or its points are in another order)" % (
                            view.path, key, i, _value(codes[key], c[i, k]), i, expect))

    def first_value(k):
        return "%s = %s (or does not read it)" % (keys[k], codes[keys[k]][1][0])

    bad0 = np.flatnonzero(c[0] > 0)
    if bad0.size:
        refuse(0, int(bad0[0]), first_value(int(bad0[0])))
    badn = np.flatnonzero((c[-1] >= 0) & (c[-1] != last))
    if badn.size:
        k = int(badn[0])
        refuse(n - 1, k, "%s = %s, its last value (or does not read it)" % (
            keys[k], codes[keys[k]][1][-1]))
    vary = [k for k in range(len(keys)) if (c[:, k] != c[0, k]).any()]
    if not vary or n < 2:
        if n > 1:
            raise GridError("%s: /grid repeats point 0 as point 1 (every job key the same)"
                            % view.path)
        return
    v = c[:, vary]
    a, b = v[:-1], v[1:]
    differ = a != b
    j = np.argmax(differ, axis=1)
    rows = np.arange(len(j))
    after = np.arange(len(vary))[None, :] > j[:, None]
    ok = differ[rows, j] & (a[rows, j] >= 0) & (b[rows, j] == a[rows, j] + 1)
    tail = ((a == last[vary]) | (a < 0)) & (b <= 0)
    ok &= (tail | ~after).all(axis=1)
    bad = np.flatnonzero(~ok)
    if not bad.size:
        return
    i = int(bad[0])
    prev, cur = c[i], c[i + 1]
    # name the first key where point i+1 is not the successor of point i
    steps = [k for k in range(len(keys)) if prev[k] >= 0 and prev[k] < last[k]]
    step = steps[-1] if steps else None
    for k in range(len(keys)):
        if step is not None and k < step and cur[k] != prev[k]:
            refuse(i + 1, k, "%s = %s (as point %d)" % (
                keys[k], _value(codes[keys[k]], prev[k]), i))
        if step is not None and k == step and cur[k] != prev[k] + 1:
            refuse(i + 1, k, "%s = %s (the value after point %d's)" % (
                keys[k], codes[keys[k]][1][prev[k] + 1], i))
        if (step is None or k > step) and cur[k] > 0:
            refuse(i + 1, k, first_value(k))
    refuse(i + 1, vary[int(j[i])], "another value (it repeats point %d)" % i)


def _value(coded, code):
    return "(not read)" if code < 0 else coded[1][code]
