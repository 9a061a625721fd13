"""Issue 29 item 4: pruning evaluated on the independent set
(`ode/prune_loss_fresh`, `sgd/prune_loss_fresh` and their SEs), read and
drawn by the package, on tests/python_package.sh's tiny.h5 (analysis.prune
and fresh_samples at their defaults). Expected values from the raw
datasets read with h5py: with every head kept the fresh pruning curve is
ode/loss_fresh (sgd/lpop_fresh) exactly, the same model on the same set;
the pruning plot draws one fresh curve per line of the fit-set curves.
"""
import os
import tempfile
import unittest

import numpy as np

import headspec
from headspec import kinds

from test_headspec import DIR, raw


def tiny():
    return os.path.join(DIR, "tiny.h5")


class PruneFresh(unittest.TestCase):
    def test_all_heads_kept_is_the_fresh_loss(self):
        r = headspec.open_results(tiny())
        self.assertIn("ode/prune_loss_fresh", r.fields())
        for i in range(r.n_points):
            H = int(r.points.H[i])
            for part, whole in (("ode", "ode/loss_fresh"), ("sgd", "sgd/lpop_fresh")):
                curve = raw(tiny(), i, part + "/prune_loss_fresh")
                se = raw(tiny(), i, part + "/prune_loss_fresh_se")
                self.assertEqual(curve[H - 1], raw(tiny(), i, whole)[()], (i, part))
                self.assertEqual(se[H - 1], raw(tiny(), i, whole + "_se")[()], (i, part))
                self.assertTrue(np.isfinite(curve[:H]).all() and (se[:H] > 0).all(), (i, part))
                # through the package: the same numbers on the kept axis
                got = r.point(i)[part + "/prune_loss_fresh"]
                np.testing.assert_array_equal(np.asarray(got)[:H], curve[:H])

    def test_pruning_plot_draws_the_fresh_curve(self):
        r = headspec.open_results(tiny())
        with tempfile.TemporaryDirectory() as tmp:
            fig = kinds.plot(r, "pruning", os.path.join(tmp, "p.png"))
            self.assertTrue(os.path.getsize(os.path.join(tmp, "p.png")) > 0)
        labels = [t.get_text() for ax in fig.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()]
        self.assertIn("out of sample (fresh set)", labels)
        bars = [c for ax in fig.axes for c in ax.containers if hasattr(c, "has_yerr")]
        self.assertTrue(bars, "no error bars of the fresh curve")

    def test_error_bars_over_the_averaged_runs(self):
        # --mean over H (tiny.h5 sweeps no seed): each curve's bars are the
        # mean's SE over the averaged points, by hand from the raw datasets
        r = headspec.open_results(tiny())
        with tempfile.TemporaryDirectory() as tmp:
            fig = kinds.plot(r, "pruning", os.path.join(tmp, "p.png"), mean=["H"],
                             select={"distribution": "flipping", "activation": "softmax"})
        ax = fig.axes[0]
        fit = [c for c in ax.containers if c.lines[0].get_marker() == "o"]
        self.assertEqual(len(fit), 1)
        rows = [i for i in range(r.n_points) if r.points.distribution[i] == "flipping"
                and r.points.activation[i] == "softmax"]
        one = np.array([raw(tiny(), i, "ode/prune_loss")[0] for i in rows])  # 1 head kept
        y = fit[0].lines[0].get_ydata()
        self.assertAlmostEqual(y[0], one.mean(), places=12)
        seg = fit[0].lines[2][0].get_segments()[0]  # the bar at 1 head kept
        self.assertAlmostEqual((seg[1][1] - seg[0][1]) / 2, one.std(ddof=1) / np.sqrt(len(one)),
                               places=12)


if __name__ == "__main__":
    unittest.main()
