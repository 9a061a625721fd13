"""Read a results file of tests/jobs/tiny.yaml with h5py and check its
schema and values against the job and against numbers recomputed here.

usage: check_results.py RESULTS.h5 JOB.yaml [RANKS]
"""
import sys

import h5py
import numpy as np

path, job_path = sys.argv[1], sys.argv[2]
ranks = int(sys.argv[3]) if len(sys.argv) > 3 else 1
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(path, "r") as f:
    # provenance
    check(f.attrs["format_version"] == 2, "format_version")
    text = f["job_text"][()]
    text = text.decode() if isinstance(text, bytes) else text
    check(text == open(job_path).read(), "job_text")
    for a in ("software_version", "git_commit", "software_build", "created", "job_file", "units"):
        check(a in f.attrs, "attribute " + a)
    n = int(f.attrs["n_points"])
    check(n == 12, "12 points")
    g = f["grid"]
    check(all(g["status"][:] == 1), "all points done")
    check(all((g["rank"][:] >= 0) & (g["rank"][:] < ranks)), "ranks in range")
    check(all(g["started"][:] <= g["finished"][:]), "started before finished")
    # grid columns: last swept key (H) varies fastest
    act = [a.decode() for a in g["activation"][:]]
    dist = [a.decode() for a in g["distribution"][:]]
    check(dist == ["flipping"] * 6 + ["onehot"] * 6, "distribution column")
    check(act[:6] == ["softmax"] * 2 + ["softmax1"] * 2 + ["bsoftmax"] * 2, "activation column")
    check(list(g["H"][:]) == [1, 2] * 6, "H column")
    # a key a point does not read has no value there
    check(np.all(g["b1"][:6] == 1.0) and np.all(np.isnan(g["b1"][6:])), "b1 only on flipping")
    check(np.all(g["K"][:6] == -1) and np.all(g["K"][6:] == 3), "K only on onehot")
    swept = [k.decode() if isinstance(k, bytes) else k for k in g.attrs["swept_keys"]]
    check(swept == ["distribution", "activation", "H"], "swept_keys %s" % swept)
    label = [x.decode() for x in g["label"][:]]
    check(label[7] == "distribution=onehot activation=softmax H=2", "label %s" % label[7])
    d, eta = g["d"][0], g["eta"][0]
    t_min, t_max = g["t_min"][0], g["t_max"][0]
    check(all(g["d"][:] == d) and all(g["eta"][:] == 0.5), "d, eta columns")
    grid_t = np.concatenate([[0], np.geomspace(t_min, t_max, 4)])
    groups = sorted(f["results"])
    check(groups == ["H%d_K%d_L8_T5_maps3" % (h, k) for h in (1, 2) for k in (2, 3)],
          "groups %s" % groups)
    for i in range(n):
        grp = f["results"][g["group"][i].decode()]
        row = g["row"][i]
        check(grp["point"][row] == i, "point index of row")
        H, K, T = grp.attrs["H"], grp.attrs["K"], grp.attrs["T"]
        check(g["H"][i] == H, "H of group")
        m, Q, Qp = grp["sgd/m"][row], grp["sgd/Q"][row], grp["sgd/Qperp"][row]
        M = grp["sgd/M"][row]
        check(m.shape == (T, H, K) and Q.shape == (T, H, H), "shapes")
        # time grid: t = step eta / d, log spaced from t_min = 0.25 to 2
        t, step = grp["sgd/t"][row], grp["sgd/step"][row]
        check(np.allclose(t, step * eta / d), "t = step eta / d")
        check(np.allclose(t, grid_t, atol=eta / d), "log time grid")
        # orthonormal spikes: M = I exactly
        check(np.allclose(M, np.eye(K), atol=1e-12), "M = I")
        # Q_perp = Q - m M^-1 m^T, recomputed
        for j in range(T):
            ref = Q[j] - m[j] @ np.linalg.solve(M, m[j].T)
            check(np.allclose(Qp[j], ref, atol=1e-12), "Q_perp")
            check(np.allclose(Q[j], Q[j].T), "Q symmetric")
            check(np.linalg.eigvalsh(Qp[j]).min() > -1e-12, "Q_perp PSD")
        # initialisation: Q_hh ~ sigma0^2 (chi^2 with d dof), m ~ N(0, sigma0^2/d)
        check(np.all(np.abs(np.diag(Q[0]) - 0.25) < 5 * 0.25 * np.sqrt(2 / d)), "Q(0)")
        check(np.all(np.abs(m[0]) < 5 * 0.5 / np.sqrt(d)), "m(0)")
        b, lam = grp["sgd/b"][row], grp["sgd/lambda"][row]
        check(np.all(b[0] == 0) and lam[0] == 1, "b(0) = 0, lambda(0) = 1")
        if act[i] == "softmax":
            check(np.all(b == 0) and np.all(lam == 1), "softmax trains no b, lambda")
        if act[i] == "bsoftmax":
            check(np.all(lam == 1), "bsoftmax trains no lambda")
        loss = grp["sgd/test_loss"][row]
        check(np.all(np.isfinite(loss)) and np.all(loss > 0), "test loss finite")
        # at t = 0 the weights are nearly uniform: loss ~ (1-1/L)^2 + (L-1)/L^2 = 1 - 1/L
        check(abs(loss[0] - (1 - 1 / 8)) < 0.1, "initial loss %g" % loss[0])
        check(grp["seconds"][row] > 0, "seconds")
        # theory side: ODE on the same grid, starting from SGD's initial m, Q
        check(np.allclose(grp["ode/t"][row], grid_t), "ODE time grid")
        check(np.allclose(grp["ode/m"][row][0], m[0], atol=1e-9), "ODE starts at SGD's m")
        check(np.allclose(grp["ode/Q"][row][0], Q[0], atol=1e-9), "ODE starts at SGD's Q")
        oq, om, oqp = grp["ode/Q"][row], grp["ode/m"][row], grp["ode/Qperp"][row]
        for j in range(T):
            check(np.allclose(oq[j], om[j] @ om[j].T + oqp[j], atol=1e-10), "ODE Q = m m^T + Q_perp")
        for name in ("sgd/lpop", "ode/loss"):
            check(np.all(np.isfinite(grp[name][row])), name + " finite")
        check(abs(grp["sgd/lpop"][row][0] - grp["ode/loss"][row][0]) < 1e-9,
              "same start, same samples: equal Lpop at t = 0")
        check(0 < grp["bayes_risk"][row] < loss[-1] + 0.1, "Bayes risk below the losses")
        pl = grp["sgd/prune_loss"][row]
        check(np.allclose(pl[-1], grp["sgd/lpop"][row][-1]), "pruning starts at the final Lpop")
        check(sorted(grp["sgd/prune_order"][row]) == list(range(H)), "prune order is a permutation")
        maps = grp["sgd/maps"][row]
        check(maps.shape == (3, H, 8), "maps shape")
        tot = maps.sum(axis=(1, 2))
        if act[i] != "softmax1":
            check(np.allclose(tot, 1), "attention weights sum to 1")
        check(np.all((grp["sgd/maps_eps"][row] >= 0) & (grp["sgd/maps_eps"][row] < 8)), "maps eps")
    for name in ("sgd/m", "sgd/test_loss"):
        for attr in ("description", "units", "long_name"):
            check(attr in f["results/H1_K2_L8_T5_maps3"][name].attrs, attr + " of " + name)

for what in failures:
    print("FAIL", what)
print("check_results: %s (%d failures)" % ("ok" if not failures else "FAILED", len(failures)))
sys.exit(1 if failures else 0)
