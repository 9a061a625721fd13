"""Files of jobs with a `zip:` (keys that move together, docs/JOBS.md) open
in the package: the grid check expands a zip group as the C side does
(src/plan/plan.c: the group varies once, by its tuples, at its first key
in the key table). Files made by tests/python_package.sh from:

  zip_signal.h5  [[model.b1, model.b2]] (0.5, 0.5), (1, 1), (2, 2) x
                 activation: docs/JOBS.md's example
  zip_heads.h5   [[model.H, model.L]] (1, 4), (2, 4), (2, 8) x seed
  zip_tol.h5     activation x [[ode.rtol, ode.atol]]

The expected points are written out below as nested loops over the job
files' lists, not derived by the package.
"""
import os
import tempfile
import unittest

import h5py
import numpy as np

import headspec

from test_headspec import DIR, _set, cli, damaged, png_ok, raw

ACTS = ["softmax", "softmax1"]
EXPECTED = {  # per file: the swept columns, and every point's values in grid order
    "zip_signal": (["b1", "b2", "activation"],
                   [(b1, b2, a) for b1, b2 in zip([0.5, 1, 2], [0.5, 1, 2]) for a in ACTS]),
    "zip_heads": (["H", "L", "seed"],
                  [(h, l, s) for h, l in zip([1, 2, 2], [4, 4, 8]) for s in (1, 2)]),
    "zip_tol": (["activation", "rtol", "atol"],
                [(a, r, t) for a in ("softmax", "bsoftmax")
                 for r, t in zip([1e-4, 1e-6, 1e-8], [1e-8, 1e-8, 1e-10])]),
}


def path_of(name):
    return os.path.join(DIR, name + ".h5")


@unittest.skipUnless(DIR, "run through tests/python_package.sh (HEADSPEC_TEST_DIR)")
class ZippedFiles(unittest.TestCase):
    def test_points_are_the_zipped_grid(self):
        for name, (keys, points) in EXPECTED.items():
            with self.subTest(file=name), headspec.open_results(path_of(name)) as r:
                p = r.points
                self.assertEqual(r.swept, keys)
                self.assertEqual(len(p), len(points))
                self.assertEqual([tuple(row) for row in p[keys].itertuples(index=False)],
                                 points)
                self.assertTrue((p.status == "done").all())

    def test_arrays_hold_each_points_data(self):
        for name in EXPECTED:
            with self.subTest(file=name), headspec.open_results(path_of(name)) as r:
                ode = r.array("ode/loss", stack=True).values
                for i in range(r.n_points):
                    np.testing.assert_array_equal(ode[i], raw(r.path, i, "ode/loss"))
                # unstacked: a dimension per swept key, the zipped
                # combinations the grid lacks NaN
                da = r.array("ode_loss")
                self.assertEqual(list(da.dims), EXPECTED[name][0])
                self.assertEqual(int(np.isfinite(da.values).sum()), r.n_points)

    def test_plots(self):
        out = tempfile.mkdtemp(dir=DIR)
        for name, args in (("zip_signal", ["--select", "b1=1,b2=1"]),
                           ("zip_heads", ["--select", "H=2,L=8", "--mean", "seed"]),
                           ("zip_tol", ["--select", "rtol=1e-6,atol=1e-8"])):
            with self.subTest(file=name):
                png = os.path.join(out, name + ".png")
                code, so, se = cli("plot", "dynamics", path_of(name), "-o", png, *args)
                self.assertEqual(code, 0, se)
                self.assertTrue(png_ok(png))

    def test_vs_along_a_zipped_key(self):
        # x = b1 of the zip group (b1, b2): one line through the diagonal
        # (b1, b2) = (0.5, 0.5), (1, 1), (2, 2), not a panel per b2
        from headspec import kinds
        with headspec.open_results(path_of("zip_signal")) as r:
            self.assertEqual(r.zip_groups, [["b1", "b2"]])
            fig = kinds.plot(r, "vs", os.path.join(tempfile.mkdtemp(dir=DIR), "v.png"),
                             x="b1", q="ode_loss")
            self.assertEqual(len(fig.axes), 1)
            p = r.points
            drawn = [c for c in fig.axes[0].containers
                     if c.get_label().startswith("activation=")]  # errorbar containers
            self.assertEqual(len(drawn), 2)
            for bars in drawn:
                act, line = bars.get_label().split("=")[1], bars.lines[0]
                want = [float(p[(p.b1 == b) & (p.activation == act)].ode_loss.iloc[0])
                        for b in (0.5, 1, 2)]
                np.testing.assert_allclose(line.get_xdata(), [0.5, 1, 2])
                np.testing.assert_allclose(line.get_ydata(), want)
            self.assertIn("b2 = b1 (zipped)", fig.axes[0].get_title())
            for where in ("panels", "lines"):  # b2 moves with b1: refused, said why
                with self.assertRaisesRegex(kinds.PlotError, "b2 moves with b1"):
                    kinds.plot(r, "vs", os.path.join(DIR, "no.png"), x="b1", **{where: ["b2"]})
        with headspec.open_results(path_of("zip_heads")) as r:
            self.assertEqual(r.zip_groups, [["H", "L"]])
        with headspec.open_results(os.path.join(DIR, "tiny.h5")) as r:
            self.assertEqual(r.zip_groups, [])

    def refused(self, path, *words):
        with self.assertRaises(headspec.GridError) as e:
            headspec.open_results(path)
        for w in words:
            self.assertIn(w, str(e.exception))

    def test_a_tuple_the_job_does_not_give(self):
        # point 2 is (1, 1, softmax): b2 = 0.5 is a value of b2's list, but
        # (1, 0.5) is not a tuple of the group
        self.refused(damaged("zip_signal.h5", _set("grid/b2", 2, 0.5)),
                     "/grid/b1[2] = 1, /grid/b2[2] = 0.5", "(0.5, 0.5) (1, 1) (2, 2) only")
        # zip_heads: (1, 8) pairs two listed values, not a tuple
        self.refused(damaged("zip_heads.h5", _set("grid/L", 0, 8)), "/grid/L[0] = 8")

    def test_tuples_out_of_order(self):
        # the tuples of points 0-1 and 2-3 swapped: each a tuple of the job,
        # not in the job's order
        def swap(f):
            for k in ("b1", "b2"):
                col = f["grid"][k][()]
                col[[0, 1, 2, 3]] = col[[2, 3, 0, 1]]
                f["grid"][k][...] = col
        self.refused(damaged("zip_signal.h5", swap), "point 0", "(b1, b2)")
        # a repeated value of H is no shortcut: (2, 4) where (1, 4) belongs
        self.refused(damaged("zip_heads.h5", _set("grid/H", 1, 2)), "point 1")

    def test_zipped_keys_attribute_agrees(self):
        # the group the check reads from the job text is the one the C side
        # states in /grid@zipped_keys
        for name, group in (("zip_signal", "b1 b2"), ("zip_heads", "H L"),
                            ("zip_tol", "rtol atol")):
            with h5py.File(path_of(name), "r") as f:
                stated = [s.decode() if isinstance(s, bytes) else s
                          for s in f["grid"].attrs["zipped_keys"]]
            self.assertEqual(stated, [group])


if __name__ == "__main__":
    unittest.main()
