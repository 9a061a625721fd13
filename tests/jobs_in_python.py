#!/usr/bin/env python3
"""Every job under jobs/ and tests/jobs/ (but tests/jobs/bad), run tiny,
opens in Python: `open_results`, its points table, one result array (not
all NaN), `numbers` and one plot kind to a PNG.

A job is made tiny by rewriting its sizes (d, t_max, records, samples,
bayes_samples, ...) down and cutting a list of more than three values to
its first, middle and last, while keeping its structure: every swept key
stays swept with as many distinct values (a list's distinct values map to
distinct smaller ones, in order), zip groups keep their tuples (cut at the
same places, repeated values mapped alike), so the file has the job's
/grid, results groups and zip layout at a fraction of the cost.

usage: jobs_in_python.py HEADSPEC_BINARY SOURCE_DIR [JOB.yaml ...]
"""
import glob
import os
import re
import resource
import subprocess
import sys
import tempfile

import yaml

# The largest value a tiny job keeps, and the smallest the key takes. d
# stays above the largest tiny H + K (8 + 8), where the SGD start's Q_perp
# has full rank H and the ODE's noise term is defined (a swept d of ratio
# 16, jobs/beyond/finite_size_escape.yaml, mapped 250 to 3 before).
INT_CAPS = {"d": (48, 17), "records": (5, 2), "samples": (200, 10), "test_samples": (20, 1),
            "bayes_samples": (500, 0), "fresh_samples": (200, 0),
            "attention_samples": (50, 0), "maps": (2, 1), "n_train": (64, 0), "B": (8, 1),
            "L": (16, 1), "H": (8, 1), "K": (8, 1)}
# Keys whose defaults are large (docs/JOBS.md): given tiny where a job
# leaves them out.
TINY_DEFAULTS = {"training": {"records": "5", "test_samples": "20"},
                 "ode": {"samples": "200"},
                 "analysis": {"bayes_samples": "500", "fresh_samples": "200",
                              "attention_samples": "50"}}
T_MAX = 2.0  # the longest training time; t_min scales with t_max
NOT_SWEPT = {"atoms", "probs", "betas", "start_m", "start_Q", "start_b"}
LONGEST = 3  # values a list keeps


def jobs(src):
    found = sorted(glob.glob(os.path.join(src, "jobs", "**", "*.yaml"), recursive=True))
    found += sorted(p for p in glob.glob(os.path.join(src, "tests", "jobs", "**", "*.yaml"),
                                         recursive=True)
                    if os.sep + "bad" + os.sep not in p)
    return found


def _cut(values, keep):
    return [values[i] for i in keep]


def _keep(n):
    return sorted({0, n // 2, n - 1}) if n > LONGEST else list(range(n))


def _ints(values, cap, low):
    """Distinct values to distinct values <= about cap, in the same order
    (equal values to equal ones: a zipped list may repeat)."""
    nums = [int(float(v)) for v in values]
    if max(nums) <= cap:
        return values
    new, prev = {}, None
    for v in sorted(set(nums)):
        x = max(low, round(v * cap / max(nums)))
        x = x if prev is None else max(prev + 1, x)
        new[v], prev = x, x
    return [str(new[v]) for v in nums]


def shrink(doc):
    """The job doc (every scalar a string, yaml.BaseLoader) made tiny, in place."""
    for section, defaults in TINY_DEFAULTS.items():
        keys = doc.setdefault(section, {})
        for k, v in defaults.items():
            keys.setdefault(k, v)
    zips = [[e.split(".", 1)[1] for e in g] for g in doc.get("zip", [])]
    zipped = {k for g in zips for k in g}
    for section, keys in doc.items():
        if not isinstance(keys, dict):
            continue
        # a long list: its first, middle and last values (a zip group's
        # lists cut alike)
        for k, v in keys.items():
            if isinstance(v, list) and k not in NOT_SWEPT and k not in zipped:
                keys[k] = _cut(v, _keep(len(v)))
        for g in zips:
            lists = [k for k in g if k in keys]
            if lists:
                keep = _keep(len(keys[lists[0]]))
                for k in lists:
                    keys[k] = _cut(keys[k], keep)
        for k, (cap, low) in INT_CAPS.items():
            if k in keys and not (k == "K" and section != "model"):
                v = keys[k]
                keys[k] = _ints(v, cap, low) if isinstance(v, list) else _ints([v], cap, low)[0]
    training = doc.get("training", {})
    if "t_max" in training:
        t = training["t_max"]
        longest = max(float(x) for x in (t if isinstance(t, list) else [t]))
        scale = min(1.0, T_MAX / longest)
        if scale < 1:
            training["t_max"] = ["%.6g" % (float(x) * scale) for x in t] \
                if isinstance(t, list) else "%.6g" % (float(t) * scale)
            if training.get("record_grid") == "log":
                training["t_min"] = "%.6g" % (float(training.get("t_min", 0.1)) * scale)
    return doc


class _Plain(yaml.SafeDumper):
    """Dumps the strings of yaml.BaseLoader as they were written: plain
    where they read back the same, so numbers stay numbers for the C side."""

    def ignore_aliases(self, data):
        return True


def _str(dumper, s):
    plain = re.fullmatch(r"[A-Za-z0-9_.+\-]+", s) is not None
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=None if plain else '"')


_Plain.add_representer(str, _str)


def _dump(doc):
    out = yaml.dump(doc, Dumper=_Plain, default_flow_style=None, sort_keys=False, width=1000)
    return re.sub(r"'([A-Za-z0-9_.+\-]+)'", r"\1", out)  # the dumper's quotes of numbers


def tiny_job(path, src, work):
    with open(path) as fh:
        doc = yaml.load(fh, Loader=yaml.BaseLoader)
    name = os.path.relpath(path, src)[:-len(".yaml")].replace(os.sep, "_")
    doc["output"] = name + ".h5"
    shrink(doc)
    out = os.path.join(work, name + ".yaml")
    with open(out, "w") as fh:
        fh.write(_dump(doc))
    return name, out


def run(headspec, job, work):
    r = subprocess.run([headspec, "run", "--quiet", job], cwd=work, capture_output=True,
                       text=True)
    with open(job) as fh:
        failing = "fail_point" in fh.read()  # testing.fail_point: exit 1 on purpose
    if r.returncode != (1 if failing else 0):
        return "headspec run exited %d: %s" % (r.returncode, r.stderr.strip()[-600:])
    return None


def check_file(path, png):
    """open_results, points, one array, one plot: None if all is well, else
    what went wrong."""
    import numpy as np
    import pandas as pd

    import headspec
    from headspec import derived, kinds

    with headspec.open_results(path) as r:
        p = r.points
        if len(p) != r.n_points:
            return "points has %d rows, the file %d points" % (len(p), r.n_points)
        fields = r.fields()
        # the first of these the job computes (a point may run SGD, the ODE
        # or only the Bayes risk)
        for name in [f for f in ("ode/loss", "sgd/test_loss", "bayes_risk") if f in fields]:
            da = r.array(name)
            if np.isfinite(da.values).any():
                break
        else:
            return "ode/loss, sgd/test_loss and bayes_risk are all NaN or missing"
        table = derived.numbers(r)  # the report's numbers: one row per point
        if len(table) != r.n_points:
            return "numbers has %d rows, the file %d points" % (len(table), r.n_points)
        kind = "dynamics" if ("ode/m" in fields or "sgd/m" in fields) else "vs"
        select = {k: p[k].iloc[0] for k in r.swept}
        kw = {}
        if kind == "vs":
            x = r.swept[0] if r.swept else None
            if x is None:
                return None  # one Bayes-only point: no axis to draw against
            select.pop(x)
            kw = dict(x=x, q="bayes_risk")
        select = {k: v.item() if hasattr(v, "item") else v for k, v in select.items()
                  if not pd.isna(v)}  # a key point 0 does not read: any value
        kinds.plot(r, kind, png, select=select, **kw)
    with open(png, "rb") as fh:
        if fh.read(8) != b"\x89PNG\r\n\x1a\n":
            return "plot %s wrote no PNG" % kind
    return None


def main(argv):
    headspec_bin, src = os.path.realpath(argv[1]), os.path.realpath(argv[2])
    sys.path.insert(0, os.path.join(src, "analysis"))
    os.environ.setdefault("MPLCONFIGDIR", tempfile.mkdtemp())
    import matplotlib
    matplotlib.use("Agg")
    todo = [os.path.realpath(p) for p in argv[3:]] or jobs(src)
    fail, spent = 0, 0.0
    with tempfile.TemporaryDirectory() as work:
        for path in todo:
            name, job = tiny_job(path, src, work)
            what = run(headspec_bin, job, work)
            if what is None:
                try:
                    what = check_file(os.path.join(work, name + ".h5"),
                                      os.path.join(work, name + ".png"))
                except Exception as e:  # noqa: BLE001 (any failure is the report)
                    what = "%s: %s" % (type(e).__name__, e)
            if what:
                fail += 1
                print("FAIL %s: %s" % (os.path.relpath(path, src), what))
                with open(job) as fh:
                    print("  the tiny job:\n    " + fh.read().replace("\n", "\n    "))
            else:
                cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
                print("ok   %s (%.1f s CPU)" % (os.path.relpath(path, src),
                                              cpu.ru_utime + cpu.ru_stime - spent))
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            spent = cpu.ru_utime + cpu.ru_stime
    print("jobs_in_python: %d passed, %d failed" % (len(todo) - fail, fail))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
