"""Pruning curves and attention maps of a results file (paper Figs. 6-7).
Left: Lpop of the final model against the number of heads kept, one curve
per (activation, H), from the ODE (or SGD if no ODE ran), with the Bayes
risk. Right: the attention weights A_hl of the largest model of each
activation on its first sampled sequence (token 0 is the relevant one for
ODE maps). usage: plot_pruning_maps.py RESULTS.h5 OUT.png"""
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
    fig, axes = plt.subplots(1, 1 + len(acts), figsize=(4.5 * (1 + len(acts)), 4))
    for act in acts:
        for i in hr.select(g, activation=act, status=1):
            p = hr.point(f, i)
            part = "ode" if np.all(np.isfinite(p["ode/prune_loss"])) else "sgd"
            loss = p[part + "/prune_loss"]
            axes[0].plot(np.arange(1, len(loss) + 1), loss, "o-",
                         label="%s H=%d (%s)" % (act, g["H"][i], part))
        axes[0].axhline(p["bayes_risk"], color="k", ls=":", label="Bayes risk")
    axes[0].set_xlabel("heads kept")
    axes[0].set_ylabel("population loss")
    axes[0].legend(fontsize=7)
    for c, act in enumerate(acts):
        rows = hr.select(g, activation=act, status=1)
        i = rows[np.argmax(g["H"][rows])]
        p = hr.point(f, i)
        part = "ode" if np.all(np.isfinite(p["ode/maps"])) else "sgd"
        im = axes[1 + c].imshow(p[part + "/maps"][0], aspect="auto", cmap="viridis")
        axes[1 + c].set_title("%s, H=%d: A_hl (%s)" % (act, g["H"][i], part))
        axes[1 + c].set_xlabel("token l")
        axes[1 + c].set_ylabel("head h")
        fig.colorbar(im, ax=axes[1 + c])
    fig.tight_layout()
    fig.savefig(out, dpi=80)
print("wrote", out)
