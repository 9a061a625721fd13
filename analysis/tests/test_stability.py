"""headspec.stability against closed forms: the escape of an exponential
m(t) = m0 e^{rt} is at log(threshold/m0)/r exactly (log-linear interpolation
is exact for it); the table's order and ratios on hand-made times."""
import math
import unittest

import numpy as np

from headspec import stability


class TestStability(unittest.TestCase):
    def test_escape_of_an_exponential(self):
        t = np.linspace(0, 20, 41)
        m = np.zeros((len(t), 2, 2))
        m[:, 0, 0] = 0.01 * np.exp(0.5 * t)     # head 0, spike 0
        m[:, 1, 0] = -0.005 * np.exp(0.5 * t)   # smaller: max_h |m| is head 0
        m[:, 1, 1] = 0.02 * np.exp(0.1 * t)     # spike 1 reaches 0.1 at 16.09
        got = stability.escape_times(t, m, 0.1)
        self.assertAlmostEqual(got[0], math.log(10) / 0.5, places=12)
        self.assertAlmostEqual(got[1], math.log(5) / 0.1, places=12)
        self.assertTrue(np.isnan(stability.escape_times(t, m, 1e9)).all())

    def test_padded_heads_and_an_early_stop(self):
        """A point of H = 2 in a file of H = 3 reads its third head as NaN,
        and an ODE stopped early (ode.stop_when_converged) its records after
        the stop: both are left out, as the C side's fmax leaves them (the
        numbers' stab_half columns were NaN for such points)."""
        t = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
        m = np.full((5, 3, 2), np.nan)  # time x head x spike; head 3 is padding
        m[:, 0, 0] = [0.01, 0.05, 0.2, 0.4, np.nan]   # stopped after t = 4
        m[:, 1, 0] = [0.0, -0.02, -0.1, -0.3, np.nan]
        m[:, 0, 1] = [0.02, 0.02, 0.03, 0.02, np.nan]
        m[:, 1, 1] = [0.01, 0.01, 0.01, 0.01, np.nan]
        # spike 1: 0.4 at the last record with data, half of it (0.2) at t = 2
        np.testing.assert_array_equal(stability.half_final_times(t, m), [2.0, 0.0])
        # the escape of spike 1 between t = 1 (0.05) and t = 2 (0.2)
        esc = stability.escape_times(t, m, 0.1)
        self.assertAlmostEqual(esc[0], 1 + math.log(0.1 / 0.05) / math.log(0.2 / 0.05), places=12)
        self.assertTrue(np.isnan(esc[1]))

    def test_table(self):
        predicted = [[5.0, 11.0, 20.0], [5.0, 30.0, 20.0]]
        measured = [[5.5, 12.0, 25.0], [5.5, 12.0, 25.0]]
        rows = stability.predicted_vs_measured(predicted, measured, labels=["a", "b"])
        self.assertEqual([r["order_right"] for r in rows], [True] * 3 + [False] * 3)
        self.assertAlmostEqual(rows[0]["ratio"], 5 / 5.5)
        self.assertTrue(rows[0]["first"] and not rows[1]["first"])
        s = stability.summary(rows)
        self.assertEqual((s["points"], s["order_right"], s["first_within"]), (2, 1, 2))
        # spikes counted from 1, as in numbers and the plots
        self.assertEqual([r["spike"] for r in rows[:3]], [1, 2, 3])
        self.assertIn("| a | 1 |", stability.markdown_table(rows))

    def test_ties_and_splits(self):
        # equal strengths escape together: within 2 % share a rank
        self.assertEqual(stability.order([3.0, 10.0, 10.1])[1], [0, 1, 1])
        self.assertEqual(stability.order([np.nan, 2.0])[1], [1, 0])
        self.assertTrue(stability.same_split([1, -1, 1], [-1, 1, -1]))
        self.assertFalse(stability.same_split([1, -1, 1], [1, 1, -1]))


if __name__ == "__main__":
    unittest.main()
