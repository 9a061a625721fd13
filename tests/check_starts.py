"""Check the ODE starts of tests/jobs/starts.yaml: from the Bayes point the
bsoftmax's Lpop equals the Bayes risk (MODEL.md section 7) and stays there
under gradient flow; the given start is the given m, Q, b (plus noise 0.01).
usage: check_starts.py RESULTS.h5"""
import sys

import h5py
import numpy as np

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with h5py.File(sys.argv[1], "r") as f:
    start = [s.decode() for s in f["grid/start"][:]]
    bayes, given = start.index("bayes"), start.index("given")
    g = f["results"][f["grid/group"][bayes].decode()]
    check(f["grid/group"][given] == f["grid/group"][bayes], "one results group")
    rb, rg = f["grid/row"][bayes], f["grid/row"][given]
    loss, risk, se = g["ode/loss"][rb], g["bayes_risk"][rb], g["bayes_risk_se"][rb]
    print("Bayes point: Lpop %.4f, R* %.4f +- %.4f, MODEL.md 0.4366 +- 0.0011" % (loss[0], risk, se))
    check(abs(loss[0] - risk) < 5 * np.hypot(se, 0.0025), "Lpop at the Bayes point = R*")
    check(abs(risk - 0.4366) < 5 * np.hypot(se, 0.0011), "R* against MODEL.md")
    check(np.ptp(loss) < 0.003, "gradient flow stays at the Bayes point (spread %.4f)" % np.ptp(loss))
    # start_noise (0.01) applies to both starts
    check(np.allclose(g["ode/m"][rb][0], [[1, 2], [1, -2]], atol=0.05), "Bayes point m = atoms")
    check(np.allclose(g["ode/b"][rb][0], np.log(0.5) - 2.5), "Bayes point b = log p - |c|^2/2")
    m0, Q0, b0 = g["ode/m"][rg][0], g["ode/Q"][rg][0], g["ode/b"][rg][0]
    check(np.allclose(m0, [[0.5, 0], [0.5, 0]], atol=0.05), "given m (+ noise)")
    check(np.allclose(Q0, [[0.5, 0.25], [0.25, 0.5]], atol=0.05), "given Q (+ noise)")
    check(np.allclose(b0, [0.1, -0.1]), "given b")
    check(np.all(np.isnan(g["sgd/test_loss"][rg])), "no SGD when training run is false")

for what in failures:
    print("FAIL", what)
print("check_starts: %s (%d failures)" % ("ok" if not failures else "FAILED", len(failures)))
sys.exit(1 if failures else 0)
