"""bench/race.py: headspec against its peers in one run, contenders taking
turns (round r starts with contender r mod n, so each sees every moment of
a load change as often as the others). Per race it prints each contender's
median, the median of the per-round ratios peer / headspec with their range
(min-max over the rounds), and headspec's fraction of its floor (measured
in the same call: bench_ode/bench_sgd). Kernels are timed in the thread's
CPU time and whole processes in their CPU time, so that on a shared machine
the time a contender waits for the core does not count against it.

  1. the ODE's right-hand side (N_mc = 20000) at L = 16, H = 8 and L = 8, H = 2:
     bench_ode rhs, numpy_ode.py rhs, torch_ode.py float64 and float32;
  2. the SGD step (full sampler): bench_sgd one, numpy_sgd.py one,
     torch_sgd.py float64 and float32; the reduced sampler's step against
     its compute floor (bench_sgd reduced);
  3. a whole integration through the CLI (given start, t = 100, N_mc = 20000,
     L = 8, H = 2; rkf45 and bdf) against NumPy + SciPy solve_ivp (whole
     processes, CPU time), with the right-hand sides each needed;
  4. softmax1 through the CLI with kappa 1, 10, 100 (t = 2000, N_mc = 10000,
     bdf; rkf45 once at each for scale, 60 s limit);
  5. gradient flow to t = 2000: right-hand sides per unit time by phase.

usage: race.py BUILD_DIR [ROUNDS] [SECONDS]   (bench/run.sh sets the threads)
The PyTorch peers are skipped, with their message, when torch is absent.
"""
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(argv, timeout=None):
    """(stdout, CPU seconds of the process), or (None, message) when skipped
    (exit 3) or timed out. CPU time, not wall time: on a shared machine the
    time a contender waits for the core does not count against it."""
    t0 = children_cpu()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %g s" % timeout
    wall = children_cpu() - t0
    if out.returncode == 3:
        return None, out.stdout.strip() or out.stderr.strip()
    if out.returncode != 0:
        sys.exit("race: %s failed (%d): %s" % (" ".join(argv), out.returncode, out.stderr))
    return out.stdout, wall


def number(text, key):
    m = re.search(r"\b%s ([-0-9.eE+]+)" % re.escape(key), text)
    return float(m.group(1)) if m else None


def race(title, contenders, rounds, key=None, invert=False, timeout=None):
    """contenders: [(name, argv)], the first headspec's. key: the number to
    read from the output (a time; invert: a rate); None: the process CPU time.
    Returns {name: [values]} in seconds or ms as printed."""
    print("== %s (%d rounds, turns alternate)" % (title, rounds), flush=True)
    vals = {n: [] for n, _ in contenders}
    fracs, skipped, texts = [], {}, {}
    for r in range(rounds):
        k = r % len(contenders)
        for name, argv in contenders[k:] + contenders[:k]:
            if name in skipped:
                continue
            text, wall = run(argv, timeout)
            if text is None:
                skipped[name] = wall
                continue
            v = wall if key is None else number(text, key)
            vals[name].append(1e3 / v if invert else v)
            texts[name] = text.strip()
            if number(text, "floor_frac") is not None and name == contenders[0][0]:
                fracs.append(number(text, "floor_frac"))
    ref = contenders[0][0]
    unit = "s" if key is None else "ms"
    for name, _ in contenders:
        if name in skipped:
            print("  %-22s skipped: %s" % (name, skipped[name]))
            continue
        med = statistics.median(vals[name])
        line = "  %-22s %10.3f %s" % (name, med, unit)
        if name != ref and len(vals[name]) == len(vals[ref]):
            ratios = [a / b for a, b in zip(vals[name], vals[ref])]
            line += "   %6.2fx %s's (range %.2f-%.2f)" % (
                statistics.median(ratios), ref, min(ratios), max(ratios))
        if name == ref and fracs:
            line += "   floor fraction %.2f (range %.2f-%.2f)" % (
                statistics.median(fracs), min(fracs), max(fracs))
        print(line, flush=True)
    return vals, texts


def job(path, activation, L, H, N, t_max, method, kappa=1.0):
    m = "[%s]" % ", ".join("[%g, %g]" % (0.01 * (h + 1), -0.01 * (h + 1)) for h in range(H))
    mm = [[0.01 * (h + 1) * 0.01 * (g + 1) * 2 for g in range(H)] for h in range(H)]
    Q = "[%s]" % ", ".join(
        "[%s]" % ", ".join("%.10g" % (mm[h][g] + (0.25 if h == g else 0)) for g in range(H))
        for h in range(H))
    with open(path, "w") as f:
        f.write("""output: %s.h5
job_seed: 1
model:
  distribution: flipping
  b1: 1.0
  b2: 2.0
  activation: %s
  H: %d
  L: %d
training:
  run: false
  d: 1000
  eta: 0.5
  B: 1
  kappa: %g
  t_max: %g
  records: 20
ode:
  samples: %d
  antithetic: false
  method: %s
  start: given
  start_m: %s
  start_Q: %s
analysis:
  bayes_samples: 0
  fresh_samples: 0
  maps: 1
""" % (os.path.splitext(path)[0], activation, H, L, kappa, t_max, N, method, m, Q))
    return path


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    secs = sys.argv[3] if len(sys.argv) > 3 else "1"
    bo, bs = os.path.join(build, "bench", "bench_ode"), os.path.join(build, "bench", "bench_sgd")
    cli = os.path.join(build, "headspec")
    for L, H in ((16, 8), (8, 2)):
        race("right-hand side, L=%d H=%d K=2, N_mc=20000, softmax, one core" % (L, H), [
            ("headspec", [bo, "rhs", str(L), str(H), secs]),
            ("numpy", [PY, os.path.join(HERE, "numpy_ode.py"), "rhs", str(L), str(H), secs]),
            ("torch float64", [PY, os.path.join(HERE, "torch_ode.py"), str(L), str(H), secs,
                               "float64"]),
            ("torch float32", [PY, os.path.join(HERE, "torch_ode.py"), str(L), str(H), secs,
                               "float32"]),
        ], rounds, key="ms")
    for L, H, d, B in ((16, 8, 1000, 16), (8, 2, 1000, 1)):
        a = [str(x) for x in (L, H, d, B)]
        race("SGD step, L=%d H=%d d=%d B=%d, softmax, sampler full" % (L, H, d, B), [
            ("headspec", [bs, "one"] + a + [secs]),
            ("numpy", [PY, os.path.join(HERE, "numpy_sgd.py"), "one"] + a + [secs]),
            ("torch float64", [PY, os.path.join(HERE, "torch_sgd.py")] + a + [secs, "float64"]),
            ("torch float32", [PY, os.path.join(HERE, "torch_sgd.py")] + a + [secs, "float32"]),
        ], rounds, key="steps/s", invert=True)
    print("== SGD step, sampler reduced (B = 1) against its compute floor", flush=True)
    for L, H, d in ((16, 8, 4000), (8, 2, 1000), (64, 2, 2000)):
        text, _ = run([bs, "reduced", str(L), str(H), str(d), secs])
        print("  " + text.strip())
    with tempfile.TemporaryDirectory() as tmp:
        jr = job(os.path.join(tmp, "rk.yaml"), "softmax", 8, 2, 20000, 100, "rkf45")
        jb = job(os.path.join(tmp, "bdf.yaml"), "softmax", 8, 2, 20000, 100, "bdf")
        race("whole integration through the CLI: softmax L=8 H=2, N_mc=20000, t=100, "
             "given start (process CPU time)", [
                 ("headspec rkf45", [cli, "run", "--fresh", "--quiet", jr]),
                 ("headspec bdf", [cli, "run", "--fresh", "--quiet", jb]),
                 ("numpy+scipy RK45", [PY, os.path.join(HERE, "numpy_ode.py"), "integrate",
                                       "8", "2", "20000", "100"]),
             ], max(3, rounds // 2))
        for method in ("rkf45", "bdf"):
            text, _ = run([bo, "integrate", "8", "2", "20000", "100", method])
            print("  " + text.strip())
        text, _ = run([PY, os.path.join(HERE, "numpy_ode.py"), "integrate", "8", "2", "20000",
                       "100"])
        print("  " + text.strip())
        ks = [("kappa %g bdf" % k, [cli, "run", "--fresh", "--quiet",
                                    job(os.path.join(tmp, "k%g.yaml" % k), "softmax1", 8, 2,
                                        10000, 2000, "bdf", k)]) for k in (1, 10, 100)]
        vals, _ = race("softmax1 through the CLI: L=8 H=2, N_mc=10000, t=2000, given start, "
                       "bdf (process CPU time; ratios to kappa 1)", ks, max(3, rounds // 2))
        # the integrator alone (no process start, sampling or file): its
        # right-hand sides and seconds, against which the CLI ratio is diluted
        for k in (1, 10, 100):
            text, _ = run([bo, "integrate", "8", "2", "10000", "2000", "bdf", "1", "softmax1",
                           str(k)])
            print("  " + text.strip())
        for k in (1, 10, 100):
            jk = job(os.path.join(tmp, "r%g.yaml" % k), "softmax1", 8, 2, 10000, 2000, "rkf45", k)
            text, wall = run([cli, "run", "--fresh", "--quiet", jk], timeout=60)
            print("  kappa %-4g rkf45 (once): %s" % (k, ("%.2f s" % wall) if text is not None
                                                     else wall))
    for method in ("rkf45", "bdf"):
        text, _ = run([bo, "late", method])
        print("  " + text.strip())


if __name__ == "__main__":
    main()
