"""Issue 29 item 5: no internal labels in the figures' legends. A key a
point does not read (its value n/a: beta of a discrete P_c) is left out of
a line's label; a quantity drawn without a line key is named in words,
not by its column (`ode_loss_fresh`). On tests/python_package.sh's
tiny.h5 and hand-made combinations."""
import os
import tempfile
import unittest

import numpy as np

import headspec
from headspec import kinds, layout

from test_headspec import DIR


class Legends(unittest.TestCase):
    def test_label_leaves_out_keys_not_read(self):
        self.assertEqual(layout.label({"distribution": "discrete", "beta": np.nan}),
                         "distribution=discrete")
        self.assertEqual(layout.label({"beta": 2.0, "H": 4}), "beta=2 H=4")
        self.assertEqual(layout.label({"beta": np.nan}), "")

    def test_vs_legend_names_the_quantity_in_words(self):
        r = headspec.open_results(os.path.join(DIR, "tiny.h5"))
        with tempfile.TemporaryDirectory() as tmp:
            fig = kinds.plot(r, "vs", os.path.join(tmp, "v.png"), x="H", q="ode_loss_fresh",
                             select={"distribution": "flipping", "activation": "softmax"})
        texts = [t.get_text() for ax in fig.axes if ax.get_legend()
                 for t in ax.get_legend().get_texts()]
        self.assertIn(layout.quantity_text("ode_loss_fresh"), texts)
        self.assertFalse([t for t in texts if "ode_loss_fresh" in t or "n/a" in t], texts)

    def test_features_legend_title_in_words(self):
        # the title said "ode -" / "sgd o": the parts' names and a line style
        r = headspec.open_results(os.path.join(DIR, "tiny.h5"))
        with tempfile.TemporaryDirectory() as tmp:
            fig = kinds.plot(r, "features", os.path.join(tmp, "f.png"),
                             select={"distribution": "flipping", "H": "2"})
        titles = [ax.get_legend().get_title().get_text() for ax in fig.axes if ax.get_legend()]
        self.assertTrue(titles)
        for t in titles:
            self.assertNotRegex(t, r"\b(ode|sgd) [-o]\b")
            self.assertIn("ODE: lines", t)


if __name__ == "__main__":
    unittest.main()
