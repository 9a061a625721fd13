"""The Python package's points table on a large results file.

usage: bench_points.py HEADSPEC_BINARY [--points N] [--work DIR] [--rounds R]
                       [--before ANALYSIS_DIR]

Builds a results file of N points (default 10^6)
with the binary: a Bayes-only job (no SGD, no ODE, 1 Bayes sample) over a
sigma0 x seed grid, so each point is tiny and the file is the /grid table
and small results rows (~1.4 GB, ~4 min to write; kept in --work and
reused when it is complete). Then, in a fresh process each, measures in
turns (floor, package, floor, package, ...):

  floor    the bytes .points needs read with plain h5py: every /grid job-key
           column (the checks read them), status, row, host, label, the
           groups' point index, the last record of each field the table
           summarises, the final m and mean_c;
  package  headspec.open_results(path).points (the /grid checks included),
           cold: the first in a new process; and warm: opened again in
           that process (the walk of headspec.integrity done once);
  before   (with --before DIR) the same with another version's package,
           DIR its analysis/ folder (e.g. `git archive COMMIT analysis`).

and prints per round the wall and CPU seconds and the peak RSS of each,
then the medians and the package's time as a multiple of the floor.
The load average is printed too: on a shared machine wall times follow it.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.join(HERE, "..", "analysis")

JOB = """# bench/bench_points.py: %(n)d Bayes-only points (sigma0 x seed)
output: points.h5
job_seed: 1
model:
  distribution: flipping
  b1: 1.0
  b2: 2.0
  activation: softmax
  H: 1
  L: 2
  sigma0: %(sigma0)s
  seed: %(seed)s
training:
  run: false
  records: 2
ode:
  run: false
analysis:
  bayes_samples: 1
  fresh_samples: 0
  maps: 1
  prune: false
"""

# Run in a child: one measurement, printed as "wall cpu peak_mb".
FLOOR = r"""
import resource, sys, time
import h5py, numpy as np
t0 = time.perf_counter()
with h5py.File(sys.argv[1], "r") as f:
    g = f["grid"]
    order = [k.decode() if isinstance(k, bytes) else k for k in g.attrs["key_order"]]
    for name in order + ["status", "row", "host", "label"]:
        if name in g:
            g[name][()]
    for gname in f["results"]:
        grp = f["results"][gname]
        grp["point"][()]
        grp["mean_c"][()]
        for name in ("seconds", "bayes_risk", "bayes_risk_se", "sgd/lpop_fresh",
                     "sgd/lpop_fresh_se", "ode/loss_fresh", "ode/loss_fresh_se"):
            grp[name][()]
        for name in ("sgd/test_loss", "sgd/lpop", "ode/loss", "sgd/m", "ode/m"):
            grp[name][:, -1]
t1 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_SELF)
print("%.3f %.3f %.0f" % (t1 - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024))
"""

PACKAGE = r"""
import resource, sys, time
sys.path.insert(0, sys.argv[2])
import headspec
t0 = time.perf_counter()
c0 = resource.getrusage(resource.RUSAGE_SELF)
with headspec.open_results(sys.argv[1]) as r:
    p = r.points
    assert len(p) == r.n_points and (p.status == "done").all(), "not the bench file"
t1 = time.perf_counter()
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = ru.ru_utime + ru.ru_stime - c0.ru_utime - c0.ru_stime
with headspec.open_results(sys.argv[1]) as r:  # warm: the same file again
    r.points
t2 = time.perf_counter()
print("%.3f %.3f %.0f %.3f" % (t1 - t0, cpu, ru.ru_maxrss / 1024, t2 - t1))
"""


def build(binary, n, work):
    """The results file of an n-point job in work (made once)."""
    a = max(k for k in range(1, int(n ** 0.5) + 1) if n % k == 0)  # sigma0 x seed
    b = n // a
    if a * 10 < b:
        sys.exit("bench_points: --points must be a product of two near-equal numbers "
                 "(e.g. 1000000 = 1000 x 1000, 100000 = 250 x 400)")
    job = JOB % dict(n=n, sigma0=[round(0.001 * (i + 1), 6) for i in range(a)],
                     seed=list(range(1, b + 1)))
    os.makedirs(work, exist_ok=True)
    path, out = os.path.join(work, "points.yaml"), os.path.join(work, "points.h5")
    same = os.path.exists(path) and open(path).read() == job
    if not same:  # another size: this directory's old file goes
        with open(path, "w") as fh:
            fh.write(job)
        if os.path.exists(out):
            os.remove(out)
    if same and os.path.exists(out):
        info = subprocess.run([binary, "info", out], capture_output=True, text=True)
        if "%d done" % n in info.stdout + info.stderr:
            return out
    print("writing %s (%d points) ..." % (out, n), flush=True)
    t = time.perf_counter()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    subprocess.run([os.path.abspath(binary), "run", "--quiet", "points.yaml"], cwd=work,
                   check=True, env=env)  # resumes a file a killed run left
    print("written in %.0f s, %.2f GB" % (time.perf_counter() - t, os.path.getsize(out) / 1e9))
    return out


def measure(code, path, analysis=ANALYSIS):
    res = subprocess.run([sys.executable, "-c", code, path, analysis], capture_output=True,
                         text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    if res.returncode:
        sys.exit("bench_points: measurement failed:\n" + res.stderr)
    return [float(x) for x in res.stdout.split()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--points", type=int, default=1000000)
    ap.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                   "headspec_bench_points"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--before", help="another version's analysis/ folder, raced in turns")
    args = ap.parse_args()
    path = build(args.binary, args.points, args.work)
    runs = [("floor", FLOOR, ANALYSIS), ("package", PACKAGE, ANALYSIS)]
    if args.before:
        runs.append(("before", PACKAGE, os.path.abspath(args.before)))
    rows = {name: [] for name, _, _ in runs}
    for r in range(args.rounds):  # in turns, so all see the same machine
        for name, code, analysis in runs:
            got = measure(code, path, analysis)
            rows[name].append(got)
            warm = "  warm %5.2f s" % got[3] if len(got) > 3 else ""
            print("round %d %-8s wall %6.2f s  cpu %6.2f s  peak RSS %5.0f MB%s  (load %.1f)" % (
                r + 1, name, got[0], got[1], got[2], warm, os.getloadavg()[0]), flush=True)

    def median(values):
        v = sorted(values)
        return v[len(v) // 2]
    f, p = rows["floor"], rows["package"]
    wall = median([pw[0] / fw[0] for pw, fw in zip(p, f)])
    cpu = median([pc[1] / fc[1] for pc, fc in zip(p, f)])
    print("%d points: .points (open, checks, table) median wall %.2f s, cpu %.2f s, peak RSS "
          "%.0f MB; floor (plain h5py reads) wall %.2f s, cpu %.2f s; package / floor: "
          "wall %.1fx, cpu %.1fx" % (
              args.points, median([x[0] for x in p]), median([x[1] for x in p]),
              median([x[2] for x in p]), median([x[0] for x in f]), median([x[1] for x in f]),
              wall, cpu))
    print("package warm (opened again in the process): median wall %.2f s" %
          median([x[3] for x in p]))
    if args.before:
        b = rows["before"]
        print("before: median wall %.2f s, cpu %.2f s, warm %.2f s, peak RSS %.0f MB" % (
            median([x[0] for x in b]), median([x[1] for x in b]), median([x[3] for x in b]),
            median([x[2] for x in b])))


if __name__ == "__main__":
    main()
