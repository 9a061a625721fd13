"""R* of a Bayes-only results file over flipping(1, b2) and iso_gaussian(beta,
K = 2), L = 8: the flipping(1, 2) value against MODEL.md section 9 (0.4366 +-
0.0011), every value against an independent NumPy Monte Carlo of MODEL.md
section 7 (closed-form phi), and R* falling with the signal strength; the
training fields are empty (NaN)."""
import sys

import h5py
import numpy as np

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0] + "/analysis")
import headspec  # noqa: E402

L, N = 8, 200000


def bayes_risk(log_phi, draw_c, K, rng):
    """R* = E[(1 - P_1)^2 + sum_{l>=2} P_l^2] with u_1 ~ N(c, I), u_l ~ N(0, I)."""
    u = rng.standard_normal((N, L, K))
    u[:, 0] += draw_c(N)
    lp = log_phi(u)
    p = np.exp(lp - lp.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = (1 - p[:, 0]) ** 2 + (p[:, 1:] ** 2).sum(axis=1)
    return loss.mean(), loss.std() / np.sqrt(N)


def flipping(b2, rng):
    atoms = np.array([[1.0, b2], [1.0, -b2]])

    def log_phi(u):
        w = u @ atoms.T - 0.5 * (atoms ** 2).sum(axis=1)
        return np.logaddexp(w[..., 0], w[..., 1]) + np.log(0.5)
    return bayes_risk(log_phi, lambda n: atoms[rng.integers(0, 2, n)], 2, rng)


def iso_gaussian(beta, rng):
    b2 = beta ** 2

    def log_phi(u):
        return (-0.5 * np.log1p(b2) + b2 * u ** 2 / (2 * (1 + b2))).sum(axis=-1)
    return bayes_risk(log_phi, lambda n: beta * rng.standard_normal((n, 2)), 2, rng)


def main(path):
    rng = np.random.default_rng(7)
    fails = 0
    with headspec.open_results(path) as r:
        pts = r.points
        if not (pts.status == "done").all():
            print("not every point is done"); return 1
        with h5py.File(path) as f:
            for g in f["results"]:
                for name in ("ode/loss", "sgd/lpop"):
                    if name in f["results"][g] and np.isfinite(f["results"][g][name][()]).any():
                        print("%s/%s is not empty in a Bayes-only job" % (g, name)); fails += 1
        for dist, key, ref in (("flipping", "b2", flipping), ("iso_gaussian", "beta", iso_gaussian)):
            part = pts[pts.distribution == dist].sort_values(key)
            risks = part.bayes_risk.to_numpy()
            if not np.all(np.diff(risks) < 0):
                print("%s: R* does not fall with %s: %s" % (dist, key, risks)); fails += 1
            for _, row in part.iloc[::3].iterrows():
                want, se = ref(row[key], rng)
                tol = 4 * np.hypot(se, row.bayes_risk_se)
                if abs(row.bayes_risk - want) > tol:
                    print("%s %s=%g: R* %.4f, NumPy %.4f +- %.4f" % (dist, key, row[key],
                          row.bayes_risk, want, se)); fails += 1
        row = pts[(pts.distribution == "flipping") & (pts.b2 == 2.0)].iloc[0]
        if abs(row.bayes_risk - 0.4366) > 3 * np.hypot(0.0011, row.bayes_risk_se):
            print("flipping(1, 2): R* %.4f, MODEL.md 0.4366 +- 0.0011" % row.bayes_risk); fails += 1
    print("check_bayes_grid: %d failures" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
