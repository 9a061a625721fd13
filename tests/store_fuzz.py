#!/usr/bin/python3
"""store_fuzz.py HEADSPEC [N]: damaged results files are refused or read with
the damage found, never crashed on (ctest store_fuzz; in a scratch directory).

A real small results file (a finished job of 4 points) has one byte changed
at each of N positions (default 200): half in its metadata (object headers,
heaps, B-trees: everything that is not a dataset's raw data), half in the raw
data of its datasets, chosen by a fixed seed. For each damaged copy:
  - `headspec verify` (and, on every 3rd copy, `headspec info`) end with 0
    or 1, never a signal
    (exit >= 128) nor a sanitizer report;
  - 0 (accepted) only if everything a reader gets from the file, read whole
    with h5py in a child process (every dataset's values and every
    attribute), is what the undamaged file gives: damage is never read
    silently;
  - 1 (refused, or damaged points listed) with a message "headspec: ...";
  - on every 20th copy, `headspec run` of the job ends with 0, 1 or 2, and
    when it ends with 0 the file holds the undamaged file's results bit for
    bit (damaged points were computed again, never copied; the wall times
    aside).
Exit status 0 if every copy passes; prints each failure.
"""
import os
import random
import shutil
import subprocess
import sys

import h5py
import numpy as np

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def job(out):
    """tests/jobs/store_small.yaml writing to OUT."""
    with open(os.path.join(SOURCE, "tests", "jobs", "store_small.yaml")) as f:
        text = f.read()
    return text.replace("output: store_small.h5", "output: " + out)


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          errors="replace", timeout=120, **kw)


def sanitizer(text):
    return "AddressSanitizer" in text or "runtime error:" in text or "LeakSanitizer" in text


def dump(path):
    """Everything a reader gets: {object/attribute: bytes or text}."""
    out = {}
    with h5py.File(path, "r") as f:
        def attrs(name, obj):
            for k in obj.attrs:
                v = obj.attrs[k]
                if isinstance(v, np.ndarray) and v.dtype.kind == "O":
                    v = [f[r].name if isinstance(r, h5py.Reference) else
                         [f[x].name for x in r] if isinstance(r, np.ndarray) else r
                         for r in v.ravel()]
                elif isinstance(v, np.ndarray) and v.dtype.names:
                    v = [(f[x[0]].name, int(x[1])) for x in v]
                out["%s@%s" % (name, k)] = repr(v)

        def visit(name, obj):
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset):
                v = obj[()]
                out[name] = v.tobytes() if isinstance(v, np.ndarray) and v.dtype.kind != "O" \
                    else repr(v.tolist() if isinstance(v, np.ndarray) else v)
        attrs("/", f)
        f.visititems(visit)
    return out


def dump_in_child(path):
    """dump(path) in a forked child: (dump or None, how it ended)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        import pickle
        try:
            data = pickle.dumps(("ok", dump(path)))
        except Exception as e:  # an error is not a crash: h5py refused it
            data = pickle.dumps(("error", repr(e)[:200]))
        with os.fdopen(w, "wb") as fw:
            fw.write(data)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fr:
        data = fr.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not data:
        return None, "crashed (status %d)" % status
    import pickle
    kind, value = pickle.loads(data)
    return (value if kind == "ok" else None), kind if kind == "ok" else "error " + value


def raw_ranges(path):
    """The byte ranges of the datasets' raw data."""
    ranges = []
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                off = obj.id.get_offset()
                if off is not None and obj.id.get_storage_size():
                    ranges.append((off, off + obj.id.get_storage_size(), name))
        f.visititems(visit)
    return sorted(ranges)


def main():
    headspec = os.path.abspath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    import tempfile
    scratch = tempfile.TemporaryDirectory()
    os.chdir(scratch.name)
    with open("good.yaml", "w") as f:
        f.write(job("good.h5"))
    r = run([headspec, "run", "--quiet", "good.yaml"])
    if r.returncode != 0:
        print("FAIL: the undamaged job does not run: " + r.stderr)
        return 1
    good = open("good.h5", "rb").read()
    original = dump("good.h5")
    ranges = raw_ranges("good.h5")
    in_raw = bytearray(len(good))
    for a, b, _ in ranges:
        in_raw[a:b] = b"\1" * (b - a)
    raw = [i for i in range(len(good)) if in_raw[i]]
    meta = [i for i in range(len(good)) if not in_raw[i]]
    rng = random.Random(18)
    positions = sorted(rng.sample(meta, min(count // 2, len(meta))) +
                       rng.sample(raw, min(count - count // 2, len(raw))))
    fails, counts = [], {"refused": 0, "accepted": 0, "run": 0}
    for k, pos in enumerate(positions):
        bad = bytearray(good)
        bad[pos] ^= rng.choice([0x01, 0x10, 0x80, 0xFF, 0x5A])
        where = next((n for a, b, n in ranges if a <= pos < b), "metadata")
        name = "bad.h5"
        with open(name, "wb") as f:
            f.write(bad)
        what = "byte %d (%s)" % (pos, where)
        v = run([headspec, "verify", name])
        checked = [("verify", v)] + ([("info", run([headspec, "info", name]))] if k % 3 == 0 else [])
        for cmd, res in checked:
            if res.returncode not in (0, 1) or sanitizer(res.stderr):
                fails.append("%s: %s ended with %d: %s" % (what, cmd, res.returncode,
                                                          res.stderr[-300:]))
            elif res.returncode == 1 and not res.stderr.startswith("headspec: "):
                fails.append("%s: %s refused it without a message" % (what, cmd))
        if v.returncode == 0:
            counts["accepted"] += 1
            got, how = dump_in_child(name)
            if got is None:
                fails.append("%s: verify accepted it, but h5py %s" % (what, how))
            else:
                diff = [key for key in set(original) | set(got) if original.get(key) != got.get(key)]
                if diff:
                    fails.append("%s: verify accepted it, but it reads differently: %s"
                                 % (what, ", ".join(sorted(diff)[:5])))
        elif v.returncode == 1:
            counts["refused"] += 1
        if k % 20 == 0:
            counts["run"] += 1
            with open("bad.yaml", "w") as f:
                f.write(job(name))
            r = run([headspec, "run", "--quiet", "bad.yaml"])
            if r.returncode not in (0, 1, 2) or sanitizer(r.stderr):
                fails.append("%s: run ended with %d: %s" % (what, r.returncode, r.stderr[-300:]))
            elif r.returncode == 0:
                ok = True
                with h5py.File("good.h5", "r") as a, h5py.File(name, "r") as b:
                    for g in a["results"]:
                        def same(n, obj):  # all but the wall time of each point
                            nonlocal ok
                            if isinstance(obj, h5py.Dataset) and n != "seconds" and \
                                    obj[()].tobytes() != b["results"][g][n][()].tobytes():
                                ok = False
                        a["results"][g].visititems(same)
                if not ok:
                    fails.append("%s: run accepted it, but the results differ from the "
                                 "undamaged file's" % what)
        for old in [x for x in os.listdir(".") if x.startswith(name + ".")]:
            os.remove(old)
    for f in fails:
        print("FAIL: " + f)
    print("store_fuzz: %d damaged copies (%d in metadata, %d in raw data): %d refused or "
          "damage listed, %d accepted unchanged, %d runs; %d failures"
          % (len(positions), min(count // 2, len(meta)), min(count - count // 2, len(raw)),
             counts["refused"], counts["accepted"], counts["run"], len(fails)))
    os.chdir("/")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
