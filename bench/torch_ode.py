"""The ODE's right-hand side of numpy_ode.py (MODEL.md section 6, softmax,
flipping(1, 2): Monte Carlo Lpop in the reduced representation, its
gradient, N and the noise term) in PyTorch on one thread, float64 or
float32, for bench/race.py. Exits with status 3 and a message when torch is
absent.

usage: torch_ode.py L H SECONDS float64|float32
"""
import sys
import time

try:
    import torch
except ImportError:
    print("skip: python3-torch is not installed")
    sys.exit(3)
import numpy as np


def make_rhs(N, L, H, dtype, K=2, b1=1.0, b2=2.0, eta_over_B=0.5, seed=1, blas=True):
    """blas: the products as 2-D matmuls; else einsum."""
    rng = np.random.default_rng(seed)
    W = K + H
    U = torch.tensor(rng.standard_normal((N, L, W)), dtype=dtype)
    C = torch.tensor(np.stack([np.full(N, b1), b2 * rng.choice([-1.0, 1.0], N)], 1), dtype=dtype)

    U2 = U.reshape(N * L, W)

    @torch.no_grad()
    def rhs(R):
        a = (U2 @ R.T).reshape(N, L, H) if blas else torch.einsum("nlw,hw->nlh", U, R)
        a[:, 0, :] += C @ R[:, :K].T
        p = torch.softmax(a, dim=1)
        alpha = p.mean(dim=2)
        e = -alpha
        e[:, 0] += 1
        rbar = (p * e[:, :, None]).sum(dim=1)
        g = -(2 / H) * p * (e[:, :, None] - rbar[:, None, :])
        if blas:
            g2 = g.reshape(N * L, H)
            gR = g2.T @ U2 / N
            Nm = g2.T @ g2 / N
        else:
            gR = torch.einsum("nlh,nlw->hw", g, U) / N
            Nm = torch.einsum("nlh,nlk->hk", g, g) / N
        gR[:, :K] += g[:, 0, :].T @ C / N
        dR = -gR
        V = R[:, K:]
        dR[:, K:] += 0.5 * eta_over_B * torch.linalg.solve(V, Nm).T
        return dR

    return rhs, W


if __name__ == "__main__":
    L, H, budget, name = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(1)
    dtype = {"float64": torch.float64, "float32": torch.float32}[name]
    results = []  # the better of the two formulations, half the budget each
    for blas in (True, False):
        rhs, W = make_rhs(20000, L, H, dtype, blas=blas)
        R = torch.tensor(np.random.default_rng(2).standard_normal((H, W)), dtype=dtype)
        rhs(R)
        best, t0 = float("inf"), time.thread_time()
        while time.thread_time() - t0 < budget / 2:
            t1 = time.thread_time()
            rhs(R)
            best = min(best, time.thread_time() - t1)
        results.append((1e3 * best, "matmul" if blas else "einsum"))
    print("torch %s rhs L=%d H=%d N=20000: ms %.3f (%s)" % ((name, L, H) + min(results)))
