"""The ODE's right-hand side (MODEL.md section 6, softmax, flipping(1, 2))
in vectorised NumPy, for comparison with bench_ode: Monte Carlo Lpop in the
reduced representation, its gradient, N and the noise term.

Also integrates, to t = 200, the fixed start of bench_ode (m_hk = 0.01 (h+1)
(-1)^k, V = 0.5 I, N_mc = 5000, L = 8, H = 2) with the same Runge-Kutta-
Fehlberg 4(5) scheme and tolerances as GSL's rkf45 (rtol 1e-6, atol 1e-8).

usage: numpy_ode.py [seconds] [t_end]
       numpy_ode.py rhs L H SECONDS     ms per right-hand side (N_mc = 20000),
                                         best of single calls (bench/race.py)
       numpy_ode.py integrate L H N T   SciPy's solve_ivp RK45 (rtol 1e-6,
                                         atol 1e-8) from the fixed start; without
                                         SciPy the RKF45 below
"""
import sys
import time

import numpy as np


def make_rhs(N=20000, L=16, H=8, K=2, b1=1.0, b2=2.0, eta_over_B=0.5, seed=1, blas=True):
    """blas: the products as 2-D matmuls (OpenBLAS); else einsum (NumPy's
    own loops, faster for skinny shapes)."""
    rng = np.random.default_rng(seed)
    W = K + H
    U = rng.standard_normal((N, L, W))
    C = np.stack([np.full(N, b1), b2 * rng.choice([-1.0, 1.0], N)], 1)

    def loss(R):
        a = U @ R.T
        a[:, 0, :] += C @ R[:, :K].T
        a -= a.max(axis=1, keepdims=True)
        p = np.exp(a)
        p /= p.sum(axis=1, keepdims=True)
        e = -p.mean(axis=2)
        e[:, 0] += 1
        return (e * e).sum(axis=1).mean()

    U2 = U.reshape(N * L, W)

    def rhs(R):
        a = (U2 @ R.T).reshape(N, L, H) if blas else np.einsum("nlw,hw->nlh", U, R)
        a[:, 0, :] += C @ R[:, :K].T
        a -= a.max(axis=1, keepdims=True)
        p = np.exp(a)
        p /= p.sum(axis=1, keepdims=True)
        alpha = p.mean(axis=2)
        e = -alpha
        e[:, 0] += 1
        rbar = (p * e[:, :, None]).sum(axis=1)
        g = -(2 / H) * p * (e[:, :, None] - rbar[:, None, :])   # (N, L, H)
        if blas:
            g2 = g.reshape(N * L, H)
            gR = g2.T @ U2 / N
            Nm = g2.T @ g2 / N
        else:
            gR = np.einsum("nlh,nlw->hw", g, U) / N
            Nm = np.einsum("nlh,nlk->hk", g, g) / N
        gR[:, :K] += g[:, 0, :].T @ C / N
        dR = -gR
        V = R[:, K:]
        dR[:, K:] += 0.5 * eta_over_B * np.linalg.solve(V, Nm).T
        return dR

    rhs.loss = loss
    return rhs, W


# Fehlberg's RK4(5) tableau, as in GSL's rkf45.
A = [[], [1 / 4], [3 / 32, 9 / 32], [1932 / 2197, -7200 / 2197, 7296 / 2197],
     [439 / 216, -8, 3680 / 513, -845 / 4104],
     [-8 / 27, 2, -3544 / 2565, 1859 / 4104, -11 / 40]]
B4 = [25 / 216, 0, 1408 / 2565, 2197 / 4104, -1 / 5, 0]
B5 = [16 / 135, 0, 6656 / 12825, 28561 / 56430, -9 / 50, 2 / 55]


def integrate(rhs, y, t_end, rtol=1e-6, atol=1e-8, h=1e-3):
    """Adaptive RKF45 with GSL's standard error control (a_y = 1, a_dydt = 0)."""
    t, calls = 0.0, 0
    while t < t_end:
        h = min(h, t_end - t)
        k = []
        for i in range(6):
            k.append(rhs(y + h * sum(a * kk for a, kk in zip(A[i], k))))
            calls += 1
        y4 = y + h * sum(b * kk for b, kk in zip(B4, k))
        y5 = y + h * sum(b * kk for b, kk in zip(B5, k))
        ratio = np.max(np.abs(y5 - y4) / (atol + rtol * np.abs(y5)))
        if ratio > 1.1:
            h *= max(0.9 * ratio ** (-1 / 4), 0.2)
            continue
        t, y = t + h, y5
        if ratio < 0.5:
            h *= min(0.9 * ratio ** (-1 / 5), 5.0)
    return y, calls


def fixed_start(H, W):
    R0 = np.zeros((H, W))
    for h in range(H):
        R0[h, :2] = [0.01 * (h + 1), -0.01 * (h + 1)]
        R0[h, 2 + h] = 0.5
    return R0


def best_ms(fn, budget):
    fn()
    best, t0 = float("inf"), time.thread_time()
    while time.thread_time() - t0 < budget:
        t1 = time.thread_time()
        fn()
        best = min(best, time.thread_time() - t1)
    return 1e3 * best


def main_rhs(L, H, budget):
    """The better of the two formulations (half the budget each)."""
    best = []
    for blas in (True, False):
        rhs, W = make_rhs(N=20000, L=L, H=H, blas=blas)
        R = np.random.default_rng(2).standard_normal((H, W))
        best.append((best_ms(lambda: rhs(R), budget / 2), "matmul" if blas else "einsum"))
    print("numpy rhs L=%d H=%d N=20000: ms %.3f (%s)" % ((L, H) + min(best)))


def main_integrate(L, H, N, t_end):
    rhs, W = make_rhs(N=N, L=L, H=H, blas=H > 4)  # the faster formulation (main_rhs)
    R0 = fixed_start(H, W)
    t0 = time.thread_time()
    try:
        from scipy.integrate import solve_ivp
        sol = solve_ivp(lambda t, y: rhs(y.reshape(H, W)).ravel(), (0, t_end), R0.ravel(),
                        method="RK45", rtol=1e-6, atol=1e-8)
        R, calls, how = sol.y[:, -1].reshape(H, W), sol.nfev, "scipy RK45"
    except ImportError:
        R, calls = integrate(rhs, R0, t_end)
        how = "numpy RKF45 (no scipy)"
    print("numpy integrate L=%d H=%d N=%d t=%g %s: s %.3f rhs %d Lpop %.6f"
          % (L, H, N, t_end, how, time.thread_time() - t0, calls, rhs.loss(R)))


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "rhs":
    main_rhs(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
elif __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "integrate":
    main_integrate(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
elif __name__ == "__main__":
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rhs, W = make_rhs()
    R = np.random.default_rng(2).standard_normal((8, W))
    n, t0 = 0, time.thread_time()
    while time.thread_time() - t0 < budget or n < 3:
        rhs(R)
        n += 1
    print("numpy rhs: N_mc=20000 L=16 H=8 K=2: %.2f ms per right-hand side (%d calls)"
          % (1e3 * (time.thread_time() - t0) / n, n))
    t_end = float(sys.argv[2]) if len(sys.argv) > 2 else 200.0
    rhs, W = make_rhs(N=5000, L=8, H=2)
    R0 = np.zeros((2, W))
    for h in range(2):
        R0[h, :2] = [0.01 * (h + 1), -0.01 * (h + 1)]
        R0[h, 2 + h] = 0.5
    t0 = time.thread_time()
    R, calls = integrate(rhs, R0, t_end)
    print("numpy integrate: N_mc=5000 L=8 H=2 to t=%g: %.2f s, %d right-hand sides, final Lpop %.4f"
          % (t_end, time.thread_time() - t0, calls, rhs.loss(R)))
