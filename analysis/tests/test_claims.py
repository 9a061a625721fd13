"""headspec.claims against closed forms: a line's slope and the textbook
standard error of a hand-made fit; the escape of c d^(-1/2) e^(mu t) has
slope 1/(2 mu) in ln d; cluster counts of hand-made heads; E|cos| of a
random direction at n = 2 (2/pi) and n = 3 (1/2, Archimedes) and by
quadrature at n = 4; power laws' log-rates; interpolation of straight
lines."""
import math
import unittest

import numpy as np

from headspec import claims, stability


class TestLogSlope(unittest.TestCase):
    def test_a_line_and_its_standard_error(self):
        d = np.array([250, 500, 1000, 2000, 4000])
        s, se, a, n = claims.log_slope(d, 3.0 + 2.5 * np.log(d))
        self.assertAlmostEqual(s, 2.5, places=12)
        self.assertAlmostEqual(a, 3.0, places=10)
        self.assertLess(se, 1e-10)
        self.assertEqual(n, 5)
        # x = ln d = 0, 1, 2, 3 and y = 0, 1, 1, 3: Sxy 4.5, Sxx 5, slope
        # 0.9, intercept 1.25 - 0.9 * 1.5 = -0.1, residuals 0.1, 0.2, -0.7,
        # 0.4 (SSR 0.7): se = sqrt(0.7 / 2 / 5)
        s, se, a, n = claims.log_slope(np.exp([0, 1, 2, 3]), [0, 1, 1, 3])
        self.assertAlmostEqual(s, 0.9, places=12)
        self.assertAlmostEqual(a, -0.1, places=12)
        self.assertAlmostEqual(se, math.sqrt(0.07), places=12)

    def test_nan_pairs_are_left_out(self):
        s, se, a, n = claims.log_slope([1, math.e, math.e ** 2, 10], [1, 2, 3, math.nan])
        self.assertEqual(n, 3)
        self.assertAlmostEqual(s, 1.0, places=12)

    def test_escape_of_a_seed_of_size_one_over_sqrt_d(self):
        """m(t) = 0.3 d^(-1/2) e^(mu t), timed by stability.escape_times at
        threshold 0.1 on records 0.05 apart: the fitted slope is
        1 / (2 mu) (log-linear interpolation is exact for an exponential)."""
        mu = 0.4
        t = np.arange(0, 60, 0.05)
        ds = np.array([250, 500, 1000, 2000, 4000, 8000])
        esc = []
        for d in ds:
            m = (0.3 / math.sqrt(d) * np.exp(mu * t))[:, None, None]
            esc.append(stability.escape_times(t, m, 0.1)[0])
        s, se, _, _ = claims.log_slope(ds, esc)
        self.assertAlmostEqual(s, claims.predicted_log_slope(mu), places=10)
        self.assertAlmostEqual(float(claims.predicted_log_slope(mu)), 1.25, places=14)


    def test_split_amplitude(self):
        self.assertAlmostEqual(claims.split_amplitude([0.3, -0.1]), 0.2, places=15)
        self.assertAlmostEqual(claims.split_amplitude([0.5, 0.5, 0.5]), 0.0, places=15)
        # (1, -1, 1, -1) a plus a common shift: a
        self.assertAlmostEqual(claims.split_amplitude(np.array([1, -1, 1, -1]) * 0.07 + 2),
                               0.07, places=14)

class TestHeads(unittest.TestCase):
    def test_cluster_counts(self):
        same = np.array([[1.0, 0.1], [1.0, 0.12]])
        split = np.array([[1.0, 0.8], [1.0, -0.8]])
        self.assertEqual(claims.head_clusters(same), 1)
        self.assertEqual(claims.head_clusters(split), 2)
        four = np.array([[1, 1], [1.1, 1], [1, -1], [0.9, -1.0]])
        self.assertEqual(claims.head_clusters(four), 2)
        # cos(0, 20 deg) = 0.940 > 0.9 and cos(20, 40) too, cos(0, 40) =
        # 0.766 not: single linkage makes the chain one cluster
        ang = np.radians([0, 20, 40])
        chain = np.stack([np.cos(ang), np.sin(ang)], axis=1)
        self.assertEqual(claims.head_clusters(chain), 1)
        self.assertEqual(claims.head_clusters(chain, cos_min=0.95), 3)
        self.assertEqual(claims.head_clusters(np.zeros((2, 2))), 2)

    def test_column_cosines(self):
        m = np.array([[1.0, 1.0, 2.0], [1.0, -1.0, 2.0], [-1.0, 1.0, -2.0], [-1.0, -1.0, -2.0]])
        got = claims.column_cosines(m, 1, [0, 2])
        np.testing.assert_allclose(got, [0.0, 0.0], atol=1e-15)
        self.assertAlmostEqual(claims.column_cosines(m, 2, [0])[0], 1.0, places=15)
        self.assertTrue(np.isnan(claims.column_cosines(np.zeros((2, 2)), 0, [1])[0]))

    def test_random_abs_cosine(self):
        self.assertAlmostEqual(claims.random_abs_cosine(2), 2 / math.pi, places=14)
        self.assertAlmostEqual(claims.random_abs_cosine(3), 0.5, places=14)
        # n = 4: the density of cos is (2/pi) sqrt(1 - c^2) on [-1, 1]
        c = np.linspace(0, 1, 200001)
        f = c * np.sqrt(1 - c ** 2) * 4 / math.pi
        self.assertAlmostEqual(claims.random_abs_cosine(4), np.trapz(f, c), places=6)


class TestRecords(unittest.TestCase):
    def test_log_rate_of_power_laws(self):
        t = np.array([0.0, 1.0, 2.0, 5.0, 40.0])
        np.testing.assert_allclose(claims.log_rate(t, 3 * np.maximum(t, 1) ** -0.7)[1:], -0.7,
                                   rtol=1e-12)
        self.assertTrue(np.isnan(claims.log_rate(t, t + 1)[0]))
        np.testing.assert_allclose(claims.log_rate(t, np.full(5, 2.0))[1:], 0.0, atol=0)

    def test_at_time_and_crossing(self):
        t = np.array([0.0, 1.0, 3.0])
        x = np.stack([2 * t + 1, -t], axis=1)
        np.testing.assert_allclose(claims.at_time(t, x, 2.0), [5.0, -2.0], rtol=1e-15)
        np.testing.assert_allclose(claims.at_time(t, x, 1.0), [3.0, -1.0], rtol=1e-15)
        self.assertTrue(np.isnan(claims.at_time(t, x, 4.0)).all())
        a = np.array([0.5, 1, 2, 4])
        y = np.array([0.0, 0.0, 1.0, 1.0])
        self.assertAlmostEqual(claims.crossing(a, y), math.sqrt(2), places=14)
        self.assertEqual(claims.crossing(a, y, 0.0), 0.5)
        self.assertTrue(math.isnan(claims.crossing(a, y, 2.0)))


if __name__ == "__main__":
    unittest.main()


class TestLemmas(unittest.TestCase):
    def test_learned_angles(self):
        """Feature 0 escapes first along (1, 1, -1, -1); feature 1 is a
        fixed seed s along that same pattern plus g(t) = 1e-3 e^t along
        (1, -1, 1, -1), orthogonal to it: where max_h |m_h1| = s + g
        reaches v, |cos| = s / sqrt(s^2 + (v - s)^2) exactly (the seed's
        share of the column), and its growth is orthogonal (cos 0). Grown
        along feature 0's pattern instead, the growth has cos 1."""
        t = np.linspace(0, 12, 2401)
        s = 0.01
        a = np.array([1.0, 1, -1, -1])
        c = np.array([1.0, -1, 1, -1])
        m = np.zeros((len(t), 4, 3))
        m[:, :, 0] = 0.01 * np.exp(0.8 * t)[:, None] * a
        m[:, :, 1] = s * a + (1e-3 * np.exp(t))[:, None] * c
        got = claims.learned_angles(t, m, 0.1, at=(0.03, 0.1, 0.3))
        self.assertEqual([(g["k"], g["j"]) for g in got], [(1, 0)])  # spike 2 never escapes
        for v, cos in got[0]["at"].items():
            self.assertAlmostEqual(cos, s / math.hypot(s, v - s), delta=1e-4)
        self.assertLess(got[0]["growth"], 1e-12)
        m[:, :, 1] = s * c + (1e-3 * np.exp(t))[:, None] * a
        self.assertAlmostEqual(claims.learned_angles(t, m)[0]["growth"], 1.0, places=12)

    def test_plateau_state(self):
        """lambda = 0.7 t^-0.05 and b_h = -0.3 + 0.01 h t^0.2: at t1/2 the
        spread is 0.01 (H - 1) (t1/2)^0.2, lambda's log-rate -0.05."""
        t = np.linspace(0, 40, 4001)
        m = np.zeros((len(t), 3, 1))
        m[:, 0, 0] = 0.001 * np.exp(0.5 * t)  # reaches 0.1 at t1 = 2 ln 100
        t1 = 2 * math.log(100)
        b = -0.3 + 0.01 * np.arange(3)[None, :] * (t ** 0.2)[:, None]
        lam = 0.7 * np.maximum(t, 1e-9) ** -0.05
        got = claims.plateau_state(t, m, b, lam, 0.1)
        self.assertAlmostEqual(got["t1"], t1, delta=1e-4)
        self.assertAlmostEqual(got["spread"], 0.02 * (t1 / 2) ** 0.2, delta=1e-5)
        self.assertAlmostEqual(got["lam_rate"], -0.05, delta=1e-4)
        self.assertAlmostEqual(got["bmean"], -0.3 + 0.01 * (t1 / 2) ** 0.2, delta=1e-5)
        self.assertTrue(math.isnan(claims.plateau_state(t, 0 * m, b, lam)["t1"]))
