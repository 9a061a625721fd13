"""Issue 29 item 1: the basis-free measure of equal-strength features
(headspec.basis_free), against closed forms. No results file needed:
every m here is made by hand.

- A rotation of the spikes inside an equal-strength plane leaves each
  group's singular values, and so their learn times, unchanged (while the
  per-spike measure max_h |m_hk| does change).
- An m built as U diag(s) W^T with orthonormal U, W has singular values s.
- Grouping by equal strengths, learn times by threshold and by a fraction
  of the final value, padding heads ignored.
"""
import unittest

import numpy as np

from headspec import basis_free, derived


def rotation(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def trajectory(T=40, H=8, seed=0):
    """A made-up T x H x 3 m: spike 1 grows first, the equal pair (2, 3)
    later, each head along its own direction of the pair's plane."""
    rng = np.random.default_rng(seed)
    t = np.geomspace(0.5, 2000, T)
    grow1 = 1 / (1 + np.exp(-(np.log(t) - np.log(20)) * 4))
    grow2 = 1 / (1 + np.exp(-(np.log(t) - np.log(150)) * 4))
    grow3 = 1 / (1 + np.exp(-(np.log(t) - np.log(400)) * 4))
    dirs = rng.normal(size=(H, 3))
    m = np.empty((T, H, 3))
    m[:, :, 0] = 1.7 * grow1[:, None] * np.sign(dirs[:, 0])
    # the pair: heads' first direction (1, 0) early, second (0, 1) later,
    # in a basis rotated by 0.4 rad from the spikes'
    pair = np.stack([np.outer(grow2, dirs[:, 1]), np.outer(grow3, 0.5 * dirs[:, 2])], axis=2)
    m[:, :, 1:] = pair @ rotation(0.4).T
    return t, m


class Groups(unittest.TestCase):
    def test_equal_strengths_grouped(self):
        self.assertEqual(basis_free.equal_strength_groups([3, 1.5, 1.5]), [[0], [1, 2]])
        self.assertEqual(basis_free.equal_strength_groups([1.5, 3, 1.5, 2]), [[1], [3], [0, 2]])
        self.assertEqual(basis_free.equal_strength_groups([2, 2, 2]), [[0, 1, 2]])
        # within the tolerance one strength, outside it two
        self.assertEqual(basis_free.equal_strength_groups([1.5, 1.5 * (1 + 1e-12)]), [[0, 1]])
        self.assertEqual(basis_free.equal_strength_groups([1.5, 1.5001]), [[1], [0]])


class SingularValues(unittest.TestCase):
    def test_hand_made_m_gives_its_singular_values(self):
        rng = np.random.default_rng(1)
        H, s = 6, np.array([2.5, 0.7])
        U, _ = np.linalg.qr(rng.normal(size=(H, 2)))   # H x 2, orthonormal columns
        W = rotation(1.1)                              # 2 x 2 orthogonal
        block = U @ np.diag(s) @ W.T
        m = np.zeros((1, H, 3))
        m[0, :, 0] = 9.0                               # another group: must not enter
        m[0, :, 1:] = block
        np.testing.assert_allclose(basis_free.group_singular_values(m, [1, 2])[0], s, rtol=1e-12)
        # a group of one: the column's norm over heads
        self.assertAlmostEqual(basis_free.group_singular_values(m, [0])[0, 0], 9.0 * np.sqrt(H))

    def test_rank_one_pair(self):
        # every head on the same direction of the plane: one singular value
        v = np.array([0.6, 0.8])
        a = np.array([1.0, -2.0, 2.0])
        m = np.outer(a, v)[None]
        sv = basis_free.group_singular_values(m, [0, 1])[0]
        np.testing.assert_allclose(sv, [3.0, 0.0], atol=1e-12)

    def test_rotation_in_the_plane_leaves_the_measure_unchanged(self):
        t, m = trajectory()
        for theta in (0.3, np.pi / 4, 2.0):
            rot = m.copy()
            rot[:, :, 1:] = m[:, :, 1:] @ rotation(theta).T
            a = basis_free.group_singular_values(m, [1, 2])
            b = basis_free.group_singular_values(rot, [1, 2])
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
            for kw in ({"threshold": 0.5}, {"frac": 0.5}):
                np.testing.assert_array_equal(
                    basis_free.singular_value_learn_times(a, t, **kw),
                    basis_free.singular_value_learn_times(b, t, **kw))
            # the per-spike learn times, by contrast, move with the basis
            if theta == np.pi / 4:
                self.assertFalse(np.array_equal(derived.learn_times(m, t, threshold=0.5)[1:],
                                                derived.learn_times(rot, t, threshold=0.5)[1:]))

    def test_padding_heads_ignored(self):
        t, m = trajectory(H=4)
        padded = np.concatenate([m, np.full((len(t), 2, 3), np.nan)], axis=1)
        np.testing.assert_allclose(basis_free.group_singular_values(padded, [1, 2]),
                                   basis_free.group_singular_values(m, [1, 2]))


class LearnTimes(unittest.TestCase):
    def test_threshold_and_fraction(self):
        t = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
        sv = np.array([[0.0, 0.0], [0.3, 0.0], [0.8, 0.1], [1.0, 0.6], [1.0, 1.2]])
        np.testing.assert_array_equal(
            basis_free.singular_value_learn_times(sv, t, threshold=0.5), [4.0, 8.0])
        # half of the final values 1.0 and 1.2: first above 0.5 and 0.6
        np.testing.assert_array_equal(basis_free.singular_value_learn_times(sv, t), [4.0, 16.0])
        # never above: NaN
        out = basis_free.singular_value_learn_times(sv, t, threshold=[0.5, 5.0])
        self.assertEqual(out[0], 4.0)
        self.assertTrue(np.isnan(out[1]))

    def test_made_up_trajectory_learns_the_plane_in_two_steps(self):
        # the pair's two directions grow at t ~ 150 and ~ 400 (sigmoids in log t)
        t, m = trajectory()
        sv = basis_free.group_singular_values(m, [1, 2])
        t1, t2 = basis_free.singular_value_learn_times(sv, t)
        self.assertLess(t1, t2)
        self.assertTrue(100 < t1 < 250 and 250 < t2 < 700, (t1, t2))


if __name__ == "__main__":
    unittest.main()
