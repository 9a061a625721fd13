"""The same online SGD step as headspec's (softmax, flipping, MODEL.md
sections 1-4) in plain vectorised NumPy: NumPy's default generator for the
tokens, matmul/einsum for the products. Prints steps/s per (d, B).

usage: numpy_sgd.py [seconds-per-measurement] [floor|samplers]
       numpy_sgd.py one L H d B SECONDS   one setting (bench/race.py)
  floor:    L = 16, H = 8, d in (200, 1000, 4000), B in (1, 16) (default)
  samplers: the four settings of bench_sgd's sampler table (L, H, d, B)
"""
import sys
import time

import numpy as np

L, H, K = 16, 8, 2


def make_step(d, B, eta=0.1, sigma0=0.5, b1=1.0, b2=2.0, L=L, H=H):
    rng = np.random.default_rng(1)
    xi = rng.standard_normal((K, d))
    W = sigma0 * rng.standard_normal((H, d))
    sd = np.sqrt(d)

    def step():
        nonlocal W
        X = rng.standard_normal((B, L, d))
        eps = rng.integers(0, L, B)
        c = np.stack([np.full(B, b1), b2 * rng.choice([-1.0, 1.0], B)], 1)
        X[np.arange(B), eps] += (c @ xi) / sd
        a = X @ W.T / sd                                   # (B, L, H)
        a -= a.max(axis=1, keepdims=True)
        p = np.exp(a)
        p /= p.sum(axis=1, keepdims=True)
        alpha = p.mean(axis=2)                             # (B, L)
        e = -alpha
        e[np.arange(B), eps] += 1
        r = np.einsum("bl,bld->bd", e, X)                  # y - f(X)
        rho = np.einsum("bld,bd->bl", X, r) / d            # G e
        rbar = np.einsum("blh,bl->bh", p, rho)
        g = -(2 / H) * p * (rho[:, :, None] - rbar[:, None, :])
        grad = np.einsum("blh,bld->hd", g, X) / (sd * B)
        W = W - eta * grad
        return (r * r).sum() / d / B

    return step


def rate(fn, budget):
    n, t0 = 0, time.thread_time()
    while True:
        for _ in range(8):
            fn()
        n += 8
        t = time.thread_time() - t0
        if t >= budget:
            return n / t


SETTINGS = [(8, 2, 1000, 1), (16, 8, 4000, 1), (16, 8, 1000, 16), (64, 2, 2000, 1)]

if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "one":
    l, h, d, B = (int(x) for x in sys.argv[2:6])
    print("numpy sgd L=%d H=%d d=%d B=%d: steps/s %.1f"
          % (l, h, d, B, rate(make_step(d, B, L=l, H=h), float(sys.argv[6]))))
    sys.exit(0)

if __name__ == "__main__":
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    what = sys.argv[2] if len(sys.argv) > 2 else "floor"
    if what == "samplers":
        print("%4s %3s %6s %4s %12s" % ("L", "H", "d", "B", "numpy steps/s"))
        for (l, h, d, B) in SETTINGS:
            print("%4d %3d %6d %4d %12.0f" % (l, h, d, B, rate(make_step(d, B, L=l, H=h), budget)),
                  flush=True)
        sys.exit(0)
    print("%6s %4s %12s" % ("d", "B", "numpy steps/s"))
    for d in (200, 1000, 4000):
        for B in (1, 16):
            print("%6d %4d %12.0f" % (d, B, rate(make_step(d, B), budget)), flush=True)
