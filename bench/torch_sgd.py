"""numpy_sgd.py's online SGD step (softmax, flipping, MODEL.md sections 1-4)
in PyTorch on one thread, float64 or float32, for bench/race.py: torch's
generator for the tokens, matmul/einsum for the products. Exits with status
3 and a message when torch is absent.

usage: torch_sgd.py L H d B SECONDS float64|float32   (prints steps/s)
"""
import sys
import time

try:
    import torch
except ImportError:
    print("skip: python3-torch is not installed")
    sys.exit(3)


def make_step(d, B, L, H, dtype, K=2, eta=0.1, sigma0=0.5, b1=1.0, b2=2.0):
    g = torch.Generator().manual_seed(1)
    xi = torch.randn(K, d, generator=g, dtype=dtype)
    W = sigma0 * torch.randn(H, d, generator=g, dtype=dtype)
    sd = d ** 0.5
    rows = torch.arange(B)

    @torch.no_grad()
    def step():
        nonlocal W
        X = torch.randn(B, L, d, generator=g, dtype=dtype)
        eps = torch.randint(0, L, (B,), generator=g)
        sign = torch.randint(0, 2, (B,), generator=g).to(dtype) * 2 - 1
        c = torch.stack([torch.full((B,), b1, dtype=dtype), b2 * sign], 1)
        X[rows, eps] += (c @ xi) / sd
        a = X @ W.T / sd                                   # (B, L, H)
        p = torch.softmax(a, dim=1)
        alpha = p.mean(dim=2)                              # (B, L)
        e = -alpha
        e[rows, eps] += 1
        r = torch.einsum("bl,bld->bd", e, X)               # y - f(X)
        rho = torch.einsum("bld,bd->bl", X, r) / d         # G e
        rbar = (p * rho[:, :, None]).sum(dim=1)
        gg = -(2 / H) * p * (rho[:, :, None] - rbar[:, None, :])
        grad = gg.reshape(B * L, H).T @ X.reshape(B * L, d) / (sd * B)
        W = W - eta * grad
        return (r * r).sum() / d / B

    return step


if __name__ == "__main__":
    L, H, d, B = (int(x) for x in sys.argv[1:5])
    budget, name = float(sys.argv[5]), sys.argv[6]
    torch.set_num_threads(1)
    step = make_step(d, B, L, H, {"float64": torch.float64, "float32": torch.float32}[name])
    step()
    n, t0 = 0, time.thread_time()
    while time.thread_time() - t0 < budget:
        for _ in range(8):
            step()
        n += 8
    print("torch %s sgd L=%d H=%d d=%d B=%d: steps/s %.1f"
          % (name, L, H, d, B, n / (time.thread_time() - t0)))
