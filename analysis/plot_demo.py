"""Plot the demo job: test loss and the heads' spike overlaps m_h against t,
one column per activation. usage: plot_demo.py RESULTS.h5 OUT.png"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import headspec_results as hr  # noqa: E402

path, out = sys.argv[1], sys.argv[2]
with hr.open_results(path) as f:
    g = hr.grid(f)
    acts = list(dict.fromkeys(g["activation"]))
    fig, axes = plt.subplots(2, len(acts), figsize=(4 * len(acts), 6), sharex=True)
    for c, act in enumerate(acts):
        for i in hr.select(g, activation=act, status=1):
            p = hr.point(f, i)
            label = "H=%d seed=%d" % (g["H"][i], g["seed"][i])
            axes[0, c].plot(p["sgd/t"], p["sgd/test_loss"], label=label)
            if g["seed"][i] == g["seed"].min():
                for h in range(g["H"][i]):
                    axes[1, c].plot(p["sgd/t"], p["sgd/m"][:, h, 0], "C0", lw=1)
                    axes[1, c].plot(p["sgd/t"], p["sgd/m"][:, h, 1], "C1", lw=1)
        axes[0, c].set_title(act)
        axes[0, c].set_ylabel("test loss")
        axes[0, c].legend(fontsize=7)
        axes[1, c].set_ylabel("m_h1 (blue), m_h2 (orange)")
        axes[1, c].set_xlabel("t")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
print("wrote", out)
