"""The ODE's Monte Carlo replicas in the package (ode.replicas, issue 26) on
analysis/tests/jobs/replicas.yaml (points with R = 1 and R = 3, H = 2 and
3): the file opens and verifies; the points table's mean ± se against
numpy on the raw h5py datasets; numbers' per-replica escape times against
the C side's own (replicas/escape_t, computed independently from the same
records); points without replicas have no replicas/ data and NaN columns;
the dynamics plot draws bands exactly where there are replicas; `info`
shows the error bars. The head-symmetric prediction per replica
(replicas/predicted_t, analysis.stability): numbers' stab_pred<k>_rep and
_se against numpy on the raw dataset, replica 0 = stability/predicted_t,
`info` and `python3 -m headspec.stability` show it as mean ± se; a copy
without the field (a layout-revision-7 file) still opens, verifies and
reports, without those columns."""
import os
import shutil
import subprocess
import tempfile
import unittest

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")

import headspec  # noqa: E402
from headspec import derived, kinds  # noqa: E402
from test_headspec import _restamp  # noqa: E402

DIR = os.environ.get("HEADSPEC_TEST_DIR")
BIN = os.environ.get("HEADSPEC_BIN")


def setUpModule():
    if not DIR:
        raise unittest.SkipTest("run through tests/python_package.sh (HEADSPEC_TEST_DIR)")


class TestReplicas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.path = os.path.join(DIR, "replicas.h5")
        cls.res = headspec.open_results(cls.path)
        cls.h5 = h5py.File(cls.path, "r")

    @classmethod
    def tearDownClass(cls):
        cls.res.close()
        cls.h5.close()

    def raw(self, i, name):
        """Point i's row of results/<group>/<name>, read with h5py."""
        g = self.h5["results"][self.h5["grid/group"].asstr()[i]]
        return g[name][self.h5["grid/row"][i]] if name in g else None

    def with_replicas(self):
        R = self.h5["grid/replicas"][:]
        return np.flatnonzero(R > 1), np.flatnonzero(R == 1)

    def test_groups(self):
        """Groups without replicas keep the names and datasets they had
        before the key existed; the others have the replica axis."""
        many, one = self.with_replicas()
        self.assertTrue(len(many) and len(one))
        for i in one:
            gname = self.h5["grid/group"].asstr()[i]
            self.assertNotIn("replicas", gname)
            self.assertNotIn("replicas", self.h5["results"][gname])
            self.assertIsNone(self.raw(i, "replicas/loss"))
        for i in many:
            self.assertTrue(self.h5["grid/group"].asstr()[i].endswith("_replicas3"))
            np.testing.assert_array_equal(self.raw(i, "replicas/m")[0], self.raw(i, "ode/m"))
            np.testing.assert_array_equal(self.raw(i, "replicas/loss")[0],
                                          self.raw(i, "ode/loss"))

    def test_points_mean_se(self):
        p = self.res.points
        many, one = self.with_replicas()
        for i in many:
            final = self.raw(i, "replicas/loss")[:, -1]
            self.assertEqual(p["ode_replicas"][i], 3)
            self.assertAlmostEqual(p["ode_loss_rep"][i], final.mean(), places=14)
            self.assertAlmostEqual(p["ode_loss_rep_se"][i], final.std(ddof=1) / np.sqrt(3),
                                   places=14)
            fresh = self.raw(i, "replicas/loss_fresh")
            self.assertAlmostEqual(fresh[0], p["ode_loss_fresh"][i], places=14)
            self.assertAlmostEqual(p["ode_loss_fresh_rep"][i], fresh.mean(), places=14)
            self.assertIn(p["ode_n_converged"][i], (0.0, 1.0))
        for i in one:
            for c in ("ode_replicas", "ode_loss_rep", "ode_loss_rep_se", "ode_n_converged"):
                self.assertTrue(np.isnan(p[c][i]), c)

    def test_numbers_escapes(self):
        """numbers' escape times, per replica from replicas/m, averaged:
        the mean of the C side's replicas/escape_t (its own computation
        from the same records), and NaN where not every replica escapes."""
        n = derived.numbers(self.res)
        many, one = self.with_replicas()
        checked = 0
        for i in many:
            esc = self.raw(i, "replicas/escape_t")  # replica x spike
            for k in range(esc.shape[1]):
                col = n["ode_esc%d_rep" % (k + 1)][i]
                if np.isfinite(esc[:, k]).all():
                    self.assertAlmostEqual(col, esc[:, k].mean(), places=9)
                    self.assertAlmostEqual(n["ode_esc%d_rep_se" % (k + 1)][i],
                                           esc[:, k].std(ddof=1) / np.sqrt(3), places=9)
                    checked += 1
                else:
                    self.assertTrue(np.isnan(col))
            self.assertEqual(n["ode_loss_move"][i], self.raw(i, "replicas/loss_move"))
        self.assertGreater(checked, 0, "some feature escapes on every replica")
        for i in one:
            self.assertTrue(np.isnan(n["ode_esc1_rep"][i]))

    def test_dynamics_bands(self):
        """Bands where the ODE has replicas (loss and max_h |m_hk|), none
        where it has not."""
        for R, want in (("3", True), ("1", False)):
            out = os.path.join(DIR, "replicas_dynamics_R%s.png" % R)
            fig = kinds.dynamics(self.res, out, select={"replicas": R, "H": "2"})
            bands = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "replica_band"]
            self.assertEqual(len(bands) > 0, want, "R = %s" % R)
            self.assertTrue(os.path.getsize(out) > 0)

    def test_command_line(self):
        out = os.path.join(DIR, "replicas_cli.png")
        run = subprocess.run(["/usr/bin/python3", "-m", "headspec", "plot", "dynamics",
                              self.path, "--select", "replicas=3", "--select", "H=3", "-o", out],
                             capture_output=True, text=True,
                             env=dict(os.environ, MPLBACKEND="Agg"))
        self.assertEqual(run.returncode, 0, run.stderr)
        run = subprocess.run(["/usr/bin/python3", "-m", "headspec", "numbers", self.path],
                             capture_output=True, text=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("ode_esc1_rep", run.stdout)

    def test_numbers_predictions(self):
        """stab_pred<k>_rep ± _se: mean and sd / sqrt(R) of the C side's
        replicas/predicted_t, whose replica 0 is stability/predicted_t; NaN
        at points without replicas."""
        n = derived.numbers(self.res)
        many, one = self.with_replicas()
        checked = 0
        for i in many:
            pred = self.raw(i, "replicas/predicted_t")  # replica x spike
            np.testing.assert_array_equal(pred[0], self.raw(i, "stability/predicted_t"))
            for k in range(pred.shape[1]):
                col = n["stab_pred%d_rep" % (k + 1)][i]
                if np.isfinite(pred[:, k]).all():
                    self.assertAlmostEqual(col, pred[:, k].mean(), places=12)
                    self.assertAlmostEqual(n["stab_pred%d_rep_se" % (k + 1)][i],
                                           pred[:, k].std(ddof=1) / np.sqrt(3), places=12)
                    self.assertGreater(pred[:, k].std(), 0, "each replica predicts on its set")
                    checked += 1
                else:
                    self.assertTrue(np.isnan(col))
        self.assertGreater(checked, 0, "some feature is predicted to escape on every replica")
        for i in one:
            self.assertTrue(np.isnan(n["stab_pred1_rep"][i]))
            self.assertTrue(np.isfinite(n["stab_pred1"][i]))

    def stability_report(self, path):
        run = subprocess.run(["/usr/bin/python3", "-m", "headspec.stability", path],
                             capture_output=True, text=True,
                             env=dict(os.environ, MPLBACKEND="Agg"))
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.stdout

    def test_stability_report(self):
        """The report shows the prediction and the measured escape as
        mean ± se over the replicas, the mean that of replicas/predicted_t."""
        out = self.stability_report(self.path)
        self.assertIn("predicted t, replicas", out)
        many, _ = self.with_replicas()
        pred = self.raw(many[0], "replicas/predicted_t")[:, 0]
        self.assertIn("%.3g ± " % pred.mean(), out)

    def test_older_file_without_predictions(self):
        """A file from before replicas/predicted_t (layout revision 7: the
        field neither stored nor in the checksums, which are computed
        anew) opens, verifies and reports; numbers has the measured
        escapes' error bars and no stab_pred<k>_rep."""
        tmp = tempfile.mkdtemp(dir=DIR)
        old = os.path.join(tmp, "rev7.h5")
        shutil.copy(self.path, old)
        with h5py.File(old, "r+") as f:
            for g in f["results"].values():
                if "replicas" in g:
                    d = g["replicas/predicted_t"]
                    for dim in d.dims:  # as if never attached to its axes
                        for scale in list(dim.values()):
                            dim.detach_scale(scale)
                    del g["replicas/predicted_t"]
            listed = f["grid/checksum"].attrs["checksum_of"]
            listed = listed.decode() if isinstance(listed, bytes) else str(listed)
            f["grid/checksum"].attrs["checksum_of"] = " ".join(
                x for x in listed.split() if x != "replicas/predicted_t")
            f.attrs["layout_revision"] = np.int64(7)
            _restamp(f)
        with headspec.open_results(old) as r:
            self.assertNotIn("replicas/predicted_t", r.fields())
            n = derived.numbers(r)
            self.assertNotIn("stab_pred1_rep", n.columns)
            self.assertIn("stab_pred1", n.columns)
            self.assertTrue(np.isfinite(n["ode_esc1_rep"]).any())
        out = self.stability_report(old)
        self.assertIn("measured t, replicas", out)
        self.assertNotIn("predicted (head-symmetric)", out)
        if BIN:
            run = subprocess.run([BIN, "verify", old], capture_output=True, text=True)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            info = subprocess.run([BIN, "info", old], capture_output=True, text=True).stdout
            self.assertIn("escapes", info)
            self.assertNotIn("predicted (head-symmetric)", info)

    def test_info(self):
        if not BIN:
            self.skipTest("HEADSPEC_BIN not set")
        out = subprocess.run([BIN, "info", self.path], capture_output=True, text=True).stdout
        self.assertIn("final ODE loss", out)
        self.assertIn("±", out)
        self.assertRegex(out, r"predicted \(head-symmetric\) 1: [0-9.]+ ± ")
        self.assertIn("none for 2 done ODE points (ode.replicas = 1", out)
        self.assertRegex(out, r"convergence in N: \d of 2 points with replicas flagged")


if __name__ == "__main__":
    unittest.main()
