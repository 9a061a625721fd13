#!/usr/bin/python3
"""python_fuzz.py HEADSPEC SOURCE_DIR [N]: the Python package on damaged
results files (ctest python_fuzz; issue 30): never a crash, never a hang,
never a wrong value, and every refusal one clear headspec error.

The file of tests/jobs/tiny.yaml (12 points, four results groups) is
damaged in copies: N random single-byte changes (default 60), zeroed 4 KiB
blocks (one in three of the file's blocks, and the block at 122880),
truncations (to 1/8 .. 7/8 of its size), and the issue's targeted cases (a
byte of /grid/label's heap object, of its heap header's length, the
job_text heap object's length byte, a done point's /grid/status set to 0,
one bit of a results group's time coordinate, a label's text changed). For
each copy a child process opens it with the package and reads everything a
user reads (the points table, every /grid column, every field array, the
fixed and swept keys, the job text), under a timeout. Outcomes:
  refused  the child raised a headspec error (FormatError) whose message
           names the damage and `headspec verify` (pass);
  correct  everything read equals the undamaged file's reading, value for
           value, bit for bit (pass);
  crash    the child died of a signal (fail);
  hang     it did not finish within the timeout (fail);
  wrong    it read without error but some value differs (fail);
  unclear  it raised anything else, or a message without the hint (fail).
Prints the table of cases x outcome; exit status 0 if nothing failed.
"""
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import h5py
import numpy as np

CHILD_TIMEOUT = 120  # seconds for one copy (the probe's own timeout is below)
PROBE_TIMEOUT = "30"

READ = r'''
import pickle, sys
import numpy as np
import headspec
path = sys.argv[1]
try:
    with headspec.open_results(path) as r:
        out = {"job_text": r.job_text, "swept": list(r.swept), "fixed": repr(r.fixed),
               "n_points": r.n_points}
        p = r.points
        for c in p.columns:
            out["points/" + c] = np.asarray(p[c].astype(object))
        g = r.grid
        for c in g.columns:
            out["grid/" + c] = np.asarray(g[c].astype(object))
        for name in r.fields():
            a = r.array(name, stack=True)
            out["field/" + name] = np.asarray(a.values)
            for d in a.dims:
                if d in a.coords:
                    out["coord/%s/%s" % (name, d)] = np.asarray(a.coords[d].values)
except headspec.FormatError as e:
    sys.stdout.write("REFUSED %s: %s" % (type(e).__name__, e))
    sys.exit(3)
except Exception as e:
    sys.stdout.write("UNCLEAR %s: %s" % (type(e).__name__, e))
    sys.exit(4)
sys.stdout.buffer.write(b"READ\n" + pickle.dumps(out))
'''


def read(path, analysis):
    """(outcome, detail or the values read) of one copy, in a child."""
    env = dict(os.environ, PYTHONPATH=analysis, HEADSPEC_PROBE_TIMEOUT=PROBE_TIMEOUT,
               OPENBLAS_NUM_THREADS="1", MPLCONFIGDIR=os.path.dirname(path))
    try:
        r = subprocess.run([sys.executable, "-c", READ, path], capture_output=True, env=env,
                           timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "hang", "no answer in %d s" % CHILD_TIMEOUT
    if r.returncode < 0:
        return "crash", "signal %d" % -r.returncode
    text = r.stdout.decode("utf-8", "replace")
    if r.returncode == 3:
        clear = "headspec verify" in text and ("damaged" in text or "checksum" in text)
        return ("refused" if clear else "unclear"), text
    if r.returncode == 0 and r.stdout.startswith(b"READ\n"):
        return "read", pickle.loads(r.stdout[5:])
    return "unclear", (text + r.stderr.decode("utf-8", "replace"))[-600:]


def same(a, b):
    """Whether two readings are equal, value for value (NaN equal to NaN)."""
    if a.keys() != b.keys():
        return "keys differ: %s" % sorted(set(a) ^ set(b))[:5]
    for k in a:
        x, y = a[k], b[k]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape:
                return "%s: shape %s, not %s" % (k, x.shape, y.shape)
            if x.dtype.kind in "fc" and y.dtype.kind in "fc":
                if not np.array_equal(x.view(np.uint8), y.view(np.uint8)):
                    return "%s differs" % k
                continue
            xs, ys = x.ravel().tolist(), y.ravel().tolist()
            for u, v in zip(xs, ys):
                if not _equal(u, v):
                    return "%s: %r, not %r" % (k, u, v)
        elif x != y:
            return "%s differs" % k
    return None


def _equal(u, v):
    """Equal values: the same text, or equal numbers (NaN equal to NaN; NA)."""
    if repr(u) == repr(v):
        return True
    try:
        return bool(u == v) or bool(u != u and v != v)
    except TypeError:  # pandas NA against a value
        return False


def heap_object(path, dataset, index):
    """(file offset, length) of the heap object holding element `index` of
    a variable-length string dataset: its heap ID, then its collection."""
    with h5py.File(path, "r") as f:
        at = f[dataset].id.get_offset()
    with open(path, "rb") as fh:
        fh.seek(at + 16 * index)
        hid = fh.read(16)
        addr, idx = int.from_bytes(hid[4:12], "little"), int.from_bytes(hid[12:16], "little")
        fh.seek(addr)
        head = fh.read(16)
        fh.seek(addr)
        col = fh.read(int.from_bytes(head[8:16], "little"))
    p = 16
    while p + 16 <= len(col):
        i, n = int.from_bytes(col[p:p + 2], "little"), int.from_bytes(col[p + 8:p + 16], "little")
        if i == idx:
            return addr + p, n
        if i == 0:
            break
        p += 16 + ((n + 7) & ~7)
    raise RuntimeError("no heap object %d for %s[%d]" % (idx, dataset, index))


def poke(path, offset, change):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([change(b) & 0xFF]))


def cases(good, size, n_flips):
    """(kind, description, function damaging a copy) of every case."""
    rng = random.Random(30)
    out = []
    with h5py.File(good, "r") as f:
        status_at = f["grid/status"].id.get_offset()
        g = sorted(f["results"])[0]
        time_at = f["results"][g]["time"].id.get_offset()
    for _ in range(n_flips):
        at, bit = rng.randrange(size), rng.randrange(8)
        out.append(("byte flip", "bit %d of byte %d" % (bit, at),
                    lambda p, at=at, bit=bit: poke(p, at, lambda b: b ^ (1 << bit))))
    blocks = sorted(set(range(0, size, 3 * 4096)) | {122880})
    for at in (b for b in blocks if b < size):
        out.append(("zeroed 4 KiB", "at %d" % at, lambda p, at=at: _zero(p, at)))
    for k in range(1, 8):
        out.append(("truncated", "to %d/8" % k, lambda p, k=k: os.truncate(p, size * k // 8)))
    label, _ = heap_object(good, "grid/label", 1)
    text, _ = heap_object(good, "job_text", 0)
    out += [
        ("targeted", "a byte of /grid/label[1]'s heap object",
         lambda p: poke(p, label + 16 + 3, lambda b: b ^ 0x01)),
        ("targeted", "/grid/label[1]'s heap object length",
         lambda p: poke(p, label + 8, lambda b: b ^ 0x40)),
        ("targeted", "the job_text heap object's length byte",
         lambda p: poke(p, text + 8, lambda b: b ^ 0x10)),
        ("targeted", "4 KiB zeroed at 122880", lambda p: _zero(p, 122880)),
        ("targeted", "a done point's /grid/status 1 -> 0",
         lambda p: poke(p, status_at + 1, lambda b: 0)),
        ("targeted", "one bit of a results group's time coordinate",
         lambda p: poke(p, time_at + 8 + 5, lambda b: b ^ 0x01)),
        ("targeted", "a label's text: H=2 -> H=0",
         lambda p: poke(p, label + 16 + _index_of(good, label, b"H=2") + 2, lambda b: ord("0"))),
    ]
    return out


def _index_of(path, obj, word):
    with open(path, "rb") as fh:
        fh.seek(obj + 16)
        return fh.read(256).index(word)


def _zero(path, at):
    with open(path, "r+b") as fh:
        fh.seek(at)
        fh.write(b"\0" * 4096)


def main():
    headspec, src = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    n_flips = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    analysis = os.path.join(src, "analysis")
    work = tempfile.mkdtemp()
    try:
        os.chdir(work)
        shutil.copy(os.path.join(src, "tests", "jobs", "tiny.yaml"), "tiny.yaml")
        made = subprocess.run([headspec, "run", "--quiet", "tiny.yaml"], capture_output=True,
                              text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        if made.returncode != 0:
            print("FAIL: headspec run tiny.yaml: %s" % made.stderr)
            return 1
        good = os.path.join(work, "tiny.h5")
        outcome, reference = read(good, analysis)
        if outcome != "read":
            print("FAIL: the undamaged file does not read: %s" % reference)
            return 1
        todo = cases(good, os.path.getsize(good), n_flips)

        def one(k):
            kind, what, damage = todo[k]
            path = os.path.join(work, "copy%d.h5" % k)
            shutil.copy(good, path)
            damage(path)
            outcome, got = read(path, analysis)
            if outcome == "read":
                diff = same(got, reference)
                outcome, got = ("wrong", diff) if diff else ("correct", "")
            os.remove(path)
            return kind, what, outcome, got

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(one, range(len(todo))))
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)
    kinds = list(dict.fromkeys(r[0] for r in results))
    outcomes = ["refused", "correct", "crash", "hang", "wrong", "unclear"]
    print("%-14s" % "case" + "".join("%9s" % o for o in outcomes))
    for kind in kinds + ["all"]:
        rows = [r for r in results if kind in ("all", r[0])]
        print("%-14s" % kind + "".join("%9d" % sum(r[2] == o for r in rows) for o in outcomes))
    for kind, what, outcome, got in results:
        if kind == "targeted" or outcome not in ("refused", "correct"):
            print("%-8s %s, %s: %s" % (outcome.upper() if outcome not in ("refused", "correct")
                                       else outcome, kind, what, str(got)[:400]))
    bad = [r for r in results if r[2] not in ("refused", "correct")]
    print("python_fuzz: %d copies, %d failed" % (len(results), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
