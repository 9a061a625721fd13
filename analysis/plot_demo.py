"""Plot a results file like the demo's: per activation, Lpop of SGD (solid)
and of the ODE (dashed) against t, and the heads' spike overlaps m_h1, m_h2
of the first seed (SGD solid, ODE dashed); the Bayes risk as a dotted line.
usage: plot_demo.py RESULTS.h5 OUT.png"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import headspec_results as hr  # noqa: E402

path, out = sys.argv[1], sys.argv[2]
with hr.open_results(path) as f:
    g = hr.grid(f)
    acts = list(dict.fromkeys(g["activation"]))
    fig, axes = plt.subplots(2, len(acts), figsize=(4.2 * len(acts), 6.5), sharex=True,
                             squeeze=False)
    for c, act in enumerate(acts):
        top, bottom = axes[0, c], axes[1, c]
        for n, i in enumerate(hr.select(g, activation=act, status=1)):
            p = hr.point(f, i)
            label = "H=%d seed=%d" % (g["H"][i], g["seed"][i])
            line, = top.plot(p["sgd/t"], p["sgd/lpop"], label=label)
            top.plot(p["ode/t"], p["ode/loss"], "--", color=line.get_color())
            if n == 0:
                top.axhline(p["bayes_risk"], color="k", ls=":", lw=1, label="Bayes risk")
            if g["seed"][i] == g["seed"].min() and g["H"][i] == g["H"].min():
                for h in range(g["H"][i]):
                    for k, color in ((0, "C0"), (1, "C3")):
                        bottom.plot(p["sgd/t"], p["sgd/m"][:, h, k], color=color, lw=1)
                        bottom.plot(p["ode/t"], p["ode/m"][:, h, k], "--", color=color, lw=1)
        top.set_title("%s (SGD solid, ODE dashed)" % act, fontsize=10)
        top.set_ylabel("population loss")
        top.legend(fontsize=7)
        bottom.set_ylabel("m_h1 (blue), m_h2 (red)")
        bottom.set_xlabel("t")
    fig.tight_layout()
    fig.savefig(out, dpi=80)
print("wrote", out)
