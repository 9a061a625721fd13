"""What the package reads is what the run computed (issue 30): summaries
after ode.stop_when_converged are the state at ode/t_stop.

Files made by tests/python_package.sh (HEADSPEC_TEST_DIR):
  stop.h5  jobs/stop.yaml: ODE only, ode.stop_when_converged, 2 points that
           stop before t_max (their later records NaN)
Expected values come from the raw datasets read with plain h5py.
"""
import os
import unittest

import h5py
import numpy as np

import headspec

DIR = os.environ.get("HEADSPEC_TEST_DIR")


def setUpModule():
    if not DIR:
        raise unittest.SkipTest("run through tests/python_package.sh (HEADSPEC_TEST_DIR)")


def at_t_stop(f, i, field):
    """Point i's `field` (an ode/ dataset) at the record whose ode/t is
    its ode/t_stop, read with h5py."""
    g = f["results"][f["grid/group"][i].decode()]
    r = f["grid/row"][i]
    t, t_stop = g["ode/t"][r], g["ode/t_stop"][r]
    (at,) = np.flatnonzero(t == t_stop)
    return g[field][r][at]


class StoppedOde(unittest.TestCase):
    def test_summaries_are_the_state_at_t_stop(self):
        path = os.path.join(DIR, "stop.h5")
        with h5py.File(path, "r") as f, headspec.open_results(path) as res:
            p = res.points
            for i in range(res.n_points):
                g = f["results"][f["grid/group"][i].decode()]
                r = f["grid/row"][i]
                self.assertTrue(np.isnan(g["ode/loss"][r][-1]), "the ODE stopped early")
                self.assertLess(g["ode/t_stop"][r], f["grid/t_max"][i])
                loss = at_t_stop(f, i, "ode/loss")
                self.assertEqual(p["ode_loss"][i], loss)
                self.assertEqual(p["ode_gap"][i], loss - g["bayes_risk"][r])
                m = at_t_stop(f, i, "ode/m")  # H x K, H = 2
                cos = m[0] @ m[1] / np.linalg.norm(m[0]) / np.linalg.norm(m[1])
                self.assertAlmostEqual(p["ode_cosine"][i], cos, places=12)
                self.assertTrue(np.isfinite(p["ode_spec"][i]))
            numbers = headspec.derived.numbers(res)
            for i in range(res.n_points):
                m = at_t_stop(f, i, "ode/m")
                for k in range(m.shape[1]):
                    want = "%d+/%d-" % ((m[:, k] > 0).sum(), (m[:, k] < 0).sum())
                    self.assertEqual(numbers["ode_sign%d" % (k + 1)][i], want)
                    self.assertTrue(np.isfinite(numbers["ode_t%d" % (k + 1)][i]))
            final = res.array("ode/loss", stack=True)
            self.assertEqual(headspec.derived.at_final_record(final).values.tolist(),
                             p["ode_loss"].tolist())


if __name__ == "__main__":
    unittest.main()
