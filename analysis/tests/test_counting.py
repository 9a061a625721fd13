"""Issue 25 item 7: one way of counting for what a user reads (heads h,
spikes k and tokens l from 1, as in the paper: docs/RESULTS.md,
"Counting"), features never learned said so in `numbers`, and the escape
time (max_h |m_hk| reaching analysis.stability_threshold) for SGD as for
the ODE. On tests/python_package.sh's files (test_headspec's docstring):
expected values from the raw datasets read with h5py and from the C side's
own stability/measured_t.
"""
import math
import os
import tempfile
import unittest

import numpy as np

import headspec
from headspec import derived, kinds

from test_headspec import DIR, raw

THRESHOLD = 0.1  # analysis.stability_threshold's default: the test jobs keep it


def tiny():
    return os.path.join(DIR, "tiny.h5")


def escape_by_hand(t, m, thr):
    """The first record where max_h |m_hk| >= thr, log-linear from the one
    before: written out per spike, heads of one point only (no padding)."""
    out = []
    for k in range(m.shape[2]):
        size = [max(abs(x) for x in m[r, :, k]) for r in range(len(t))]
        hit = [r for r in range(len(t)) if size[r] >= thr]
        if not hit:
            out.append(math.nan)
            continue
        r = hit[0]
        if r == 0:
            out.append(t[0])
        elif size[r - 1] > 0 and size[r] > size[r - 1]:
            out.append(t[r - 1] + (t[r] - t[r - 1]) * math.log(thr / size[r - 1])
                       / math.log(size[r] / size[r - 1]))
        else:
            out.append(t[r])
    return out


@unittest.skipUnless(DIR, "run through tests/python_package.sh (HEADSPEC_TEST_DIR)")
class CountingFromOne(unittest.TestCase):
    def test_coordinates(self):
        with headspec.open_results(tiny()) as r:  # H up to 2, K up to 3, L = 8
            self.assertEqual(list(r.array("sgd/m").coords["head"].values), [1, 2])
            self.assertEqual(list(r.array("sgd/m").coords["spike"].values), [1, 2, 3])
            self.assertEqual(list(r.array("ode/Q").coords["head2"].values), [1, 2])
            self.assertEqual(list(r.array("sgd/M").coords["spike2"].values), [1, 2, 3])
            self.assertEqual(list(r.array("sgd/maps").coords["token"].values), list(range(1, 9)))
            self.assertEqual(list(r.array("mean_c").coords["spike"].values), [1, 2, 3])

    def test_fields_that_name_a_head_or_a_token(self):
        # the pruned heads and the relevant token, in the same count as the
        # coordinates: the file's 0-based value + 1
        with headspec.open_results(tiny()) as r:
            for name in ("sgd/prune_order", "ode/prune_order", "sgd/maps_eps"):
                da = r.array(name, stack=True)
                for i in (1, 7):
                    want = raw(r.path, i, name) + 1
                    np.testing.assert_array_equal(da.values[i], want)
                    np.testing.assert_array_equal(r.point(i)[name], want)
            heads = set(r.array("sgd/m").coords["head"].values)
            order = r.array("sgd/prune_order", stack=True).values
            self.assertTrue(set(order[np.isfinite(order)]) <= heads)

    def test_plot_labels_are_the_coordinates(self):
        out = tempfile.mkdtemp(dir=DIR)
        with headspec.open_results(tiny()) as r:
            fig = kinds.plot(r, "dynamics", os.path.join(out, "d.png"),
                             select={"distribution": "onehot", "H": "2"})
            (ax,) = [a for a in fig.axes if a.get_ylabel().startswith("m_hk")][:1]
            labels = {t.get_text() for t in ax.get_legend().get_texts()}
            self.assertEqual(labels, {"m_h1", "m_h2", "m_h3"})  # onehot: K = 3
            fig = kinds.plot(r, "maps", os.path.join(out, "m.png"),
                             select={"distribution": "flipping", "H": "2"})
            ax = fig.axes[0]
            self.assertEqual([t.get_text() for t in ax.get_yticklabels()], ["1", "2"])
            self.assertEqual(ax.get_xlim(), (0.5, 8.5))  # tokens 1..8


class NotLearned(unittest.TestCase):
    def test_learn_order_by_hand(self):
        have = [True] * 3
        self.assertEqual(derived.learn_order([2.0, 5.0, 1.0], [True] * 3, have), "3 1 2")
        self.assertEqual(derived.learn_order([2.0, np.nan, 1.0], [True, False, True], have),
                         "3 1; 2 not learned")
        self.assertEqual(derived.learn_order([np.nan] * 3, [False] * 3, have),
                         "1 2 3 not learned")
        # a padded spike (K = 2 in a file of K = 3) is neither
        self.assertEqual(derived.learn_order([1.0, np.nan, np.nan], [True, False, False],
                                             [True, True, False]), "1; 2 not learned")

    @unittest.skipUnless(DIR, "run through tests/python_package.sh")
    def test_numbers_say_not_learned(self):
        # tiny.h5 point 1 (flipping, H = 2): the ODE's m_h2 stays at the
        # noise of its start, below the escape threshold (a learn time of
        # t = 0 and a place in the order before this fix)
        with headspec.open_results(tiny()) as r:
            df = derived.numbers(r)
        m = raw(tiny(), 1, "ode/m")
        self.assertLess(np.abs(m[-1, :, 1]).max(), THRESHOLD)
        self.assertGreaterEqual(np.abs(m[-1, :, 0]).max(), THRESHOLD)
        self.assertTrue(np.isnan(df.ode_t2[1]))
        self.assertTrue(np.isfinite(df.ode_t1[1]))
        self.assertEqual(df.ode_order[1], "1; 2 not learned")


@unittest.skipUnless(DIR, "run through tests/python_package.sh (HEADSPEC_TEST_DIR)")
class EscapeTimes(unittest.TestCase):
    def test_ode_escape_is_the_c_sides_measured_escape(self):
        # stability.h5: the C side's stability/measured_t (src, its own
        # implementation), heads padded where H = 2
        path = os.path.join(DIR, "stability.h5")
        with headspec.open_results(path) as r:
            df = derived.numbers(r)
            self.assertEqual(r.n_points, 4)
            for i in range(r.n_points):
                c_side = raw(path, i, "stability/measured_t")
                self.assertTrue(np.isfinite(c_side).all())
                for k in range(2):
                    self.assertAlmostEqual(df["ode_esc%d" % (k + 1)][i], c_side[k], places=12)

    def test_sgd_escape_against_a_hand_loop(self):
        with headspec.open_results(tiny()) as r:
            df = derived.numbers(r)
            seen = 0
            for i in range(r.n_points):
                m, t = raw(tiny(), i, "sgd/m"), raw(tiny(), i, "sgd/t")
                want = escape_by_hand(t, m, THRESHOLD)
                for k, w in enumerate(want):
                    got = df["sgd_esc%d" % (k + 1)][i]
                    if math.isnan(w):
                        self.assertTrue(np.isnan(got))
                    else:
                        self.assertAlmostEqual(got, w, places=12)
                        seen += t[0] < w  # crossed between records
            self.assertGreater(seen, 0)

    def test_command_line_shows_them(self):
        from test_headspec import cli
        code, out, err = cli("numbers", tiny())
        self.assertEqual(code, 0, err)
        self.assertIn("sgd_esc1", out)
        self.assertIn("not learned", out)
        self.assertIn("spikes k = 1..K", out.splitlines()[0])


if __name__ == "__main__":
    unittest.main()
