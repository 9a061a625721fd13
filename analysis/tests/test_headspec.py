"""Tests of the headspec Python package on results files made by the headspec
binary from tiny jobs (tests/python_package.sh makes them and sets
HEADSPEC_TEST_DIR, HEADSPEC_BIN):

  tiny.h5       tests/jobs/tiny.yaml: distribution x activation x H, 12
                points in four results groups (two K, two H)
  grid.h5       b1 x b2 x activation x seed, 16 points, point 5 failed
  ambiguous.h5  b2 x activation x H x sigma0 x seed, 32 points
  stability.h5  jobs/stability.yaml: ODE only, analysis.stability, activation
                x H, 4 points in two results groups (H = 2 padded)

These are format 2. data/tiny_v1.h5 is tests/jobs/tiny.yaml's file as the
binary wrote it in format 1 (headspec 751ee1c), to test reading old files.
Expected values come from the job files and from the raw datasets read
with plain h5py, not through the package.
"""
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import redirect_stderr, redirect_stdout

import h5py
import numpy as np
import pandas as pd

import headspec
from headspec import cli as headspec_cli
from headspec import kinds, layout, query

DIR = os.environ.get("HEADSPEC_TEST_DIR")
BIN = os.environ.get("HEADSPEC_BIN")
ANALYSIS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SWEPT = {"tiny": ["distribution", "activation", "H"],
         "grid": ["b1", "b2", "activation", "seed"],
         "grid_partial": ["b1", "b2", "activation", "seed"],
         "ambiguous": ["b2", "activation", "H", "sigma0", "seed"]}
PENDING = [12, 13, 14, 15]  # grid_partial: points emulated as not yet stored
FAILED = 5                  # grid.yaml: testing: {fail_point: 5}


def setUpModule():
    if not DIR:
        raise unittest.SkipTest("run through tests/python_package.sh (HEADSPEC_TEST_DIR)")
    # A partly finished file, as a running or killed job leaves it: the file
    # is created whole with NaN rows and status 0, and points are stored one
    # by one. Emulated on a copy by undoing the last four points.
    part = os.path.join(DIR, "grid_partial.h5")
    shutil.copy(os.path.join(DIR, "grid.h5"), part)
    with h5py.File(part, "r+") as f:
        g = f["grid"]
        for i in PENDING:
            grp = f["results"][g["group"][i].decode()]
            row = g["row"][i]

            def undo(name, obj):
                if (isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f"
                        and obj.attrs.get("CLASS") != b"DIMENSION_SCALE"):
                    obj[row] = np.nan  # as the file is created
            grp.visititems(undo)
            g["status"][i] = 0
            if "checksum" in g:  # a pending point has none
                g["checksum"][i] = 0


def files(name):
    """(format, path) of each file of a job: format 2 as the binary writes
    it now; for tiny also format 1."""
    out = [(2, os.path.join(DIR, name + ".h5"))]
    if name == "tiny":
        out.insert(0, (1, os.path.join(ANALYSIS, "tests", "data", "tiny_v1.h5")))
    return out


def raw(path, i, field):
    """A point's dataset read with plain h5py (format 1 or 2)."""
    with h5py.File(path, "r") as f:
        g = f["grid"]
        group = g["group"][i]
        group = group.decode() if isinstance(group, bytes) else group
        return f["results"][group][field][g["row"][i]]


class PointsTable(unittest.TestCase):
    def test_rows_and_swept_columns(self):
        for name, keys in SWEPT.items():
            for version, path in files(name):
                with self.subTest(file=name, format=version), headspec.open_results(path) as r:
                    self.assertEqual(r.format_version, version)
                    self.assertEqual(r.swept, keys)
                    p = r.points
                    with h5py.File(path, "r") as f:
                        n = int(f.attrs["n_points"])
                    self.assertEqual(len(p), n)
                    self.assertEqual(list(p.columns[:len(keys)]), keys)
                    for k in keys:
                        self.assertNotIn(k, p.attrs["fixed"])

    def test_grid_order_and_values(self):
        # tiny.yaml: distribution, activation, H swept; the last varies fastest.
        for version, path in files("tiny"):
            with self.subTest(format=version), headspec.open_results(path) as r:
                p = r.points
                self.assertEqual(list(p.H), [1, 2] * 6)
                self.assertEqual(list(p.distribution), ["flipping"] * 6 + ["onehot"] * 6)
                self.assertEqual(list(p.activation[:6]),
                                 ["softmax"] * 2 + ["softmax1"] * 2 + ["bsoftmax"] * 2)
                self.assertEqual(r.fixed["d"], 64)
                self.assertEqual(r.fixed["record_grid"], "log")
                self.assertEqual(r.fixed["eta"], 0.5)

    def test_status_and_failure(self):
        for version, path in files("grid_partial"):
            with self.subTest(format=version), headspec.open_results(path) as r:
                p = r.points
                expect = ["done"] * 16
                expect[FAILED] = "failed"
                for i in PENDING:
                    expect[i] = "pending"
                self.assertEqual(list(p.status), expect)
                self.assertIn("fail_point", p.message[FAILED])
                self.assertEqual(p.message[0], "")
                for col in ("sgd_test_loss", "ode_loss", "bayes_risk", "ode_cosine", "ode_spec"):
                    done = p.status == "done"
                    self.assertTrue(np.isfinite(p[col][done]).all(), col)
                    self.assertTrue(np.isnan(p[col][~done]).all(), col)

    def test_summaries_against_raw_datasets(self):
        for name in ("tiny", "grid"):
            for version, path in files(name):
                with self.subTest(file=name, format=version), headspec.open_results(path) as r:
                    p = r.points
                    for i in np.flatnonzero(p.status == "done"):
                        loss = raw(path, i, "sgd/test_loss")[-1]
                        ode = raw(path, i, "ode/loss")[-1]
                        bayes = raw(path, i, "bayes_risk")
                        self.assertEqual(p.sgd_test_loss[i], loss)
                        self.assertEqual(p.ode_loss[i], ode)
                        self.assertEqual(p.ode_gap[i], ode - bayes)
                        m = raw(path, i, "ode/m")[-1]
                        H = m.shape[0]
                        if H == 2:  # cos of the two heads' m, by hand
                            c = (m[0] @ m[1]) / np.sqrt((m[0] @ m[0]) * (m[1] @ m[1]))
                            self.assertAlmostEqual(p.ode_cosine[i], c, places=12)
                        else:
                            self.assertTrue(np.isnan(p.ode_cosine[i]))
                        # MODEL.md: flipping's mu = (b1, 0), so the part of
                        # m_h orthogonal to mu is |m_h2|; signed onehot: mu = 0.
                        if p.get("distribution", pd.Series(["flipping"] * len(p)))[i] == "flipping":
                            spec = np.mean(np.abs(m[:, 1]))
                        else:
                            spec = np.mean(np.sqrt((m ** 2).sum(axis=1)))
                        self.assertAlmostEqual(p.ode_spec[i], spec, places=12)

    def test_cosine_and_specialisation_closed_forms(self):
        m = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
        # pairs: (0,1) 0, (0,2) -1, (1,2) 0
        self.assertAlmostEqual(headspec.derived.head_cosine(m), -1.0 / 3)
        mu = np.array([1.0, 1.0])  # unsigned onehot, beta = K = 2
        # |m_h - (<m_h,mu>/2) mu|: (1,0) -> 1/sqrt2; (0,2) -> sqrt2; (-3,0) -> 3/sqrt2
        self.assertAlmostEqual(headspec.derived.specialisation(m, mu),
                               (0.5 + 1 + 1.5) * np.sqrt(2) / 3)
        np.testing.assert_array_equal(
            headspec.derived.mean_feature("onehot", 2, beta=2.0, signed=0), [1.0, 1.0])
        from headspec import legacy
        self.assertAlmostEqual(legacy.discrete_mean(
            "model:\n  atoms: [[1, 0], [0, 2]]\n  probs: [0.25, 0.75]\n")[1], 1.5)


class Arrays(unittest.TestCase):
    def test_dims_padding_and_values(self):
        for version, path in files("tiny"):
            with self.subTest(format=version), headspec.open_results(path) as r:
                a = r.array("sgd/m")
                self.assertEqual(a.dims, ("distribution", "activation", "H", "time", "head",
                                          "spike"))
                self.assertEqual(a.shape, (2, 3, 2, 5, 2, 3))
                np.testing.assert_allclose(a.time, [0, 0.25, 0.5, 1, 2])
                one = a.sel(distribution="flipping", activation="softmax1", H=1)
                # heads and spikes labelled from 1 (docs/RESULTS.md, "Counting")
                self.assertEqual(list(a.coords["head"].values), [1, 2])
                self.assertEqual(list(a.coords["spike"].values), [1, 2, 3])
                self.assertTrue(np.isnan(one.sel(head=2)).all())    # H = 1: padded head
                self.assertTrue(np.isnan(one.sel(spike=3)).all())   # flipping: K = 2
                np.testing.assert_array_equal(one.sel(head=1, spike=[1, 2]),
                                              raw(path, 2, "sgd/m")[:, 0, :])
                two = a.sel(distribution="onehot", activation="bsoftmax", H=2)
                np.testing.assert_array_equal(two, raw(path, 11, "sgd/m"))
                self.assertTrue(r.array("bayes_risk").attrs["description"])
                stacked = r.array("ode/loss", stack=True)
                self.assertEqual(stacked.dims, ("point", "time"))
                self.assertEqual(list(stacked.H.values), [1, 2] * 6)

    def test_not_done_is_nan(self):
        for version, path in files("grid_partial"):
            with self.subTest(format=version), headspec.open_results(path) as r:
                a = r.array("sgd/test_loss", stack=True)
                done = np.asarray(r.points.status == "done")
                self.assertTrue(np.isfinite(a.values[done]).all())
                self.assertTrue(np.isnan(a.values[~done]).all())
                g = r.array("ode/Q")
                self.assertEqual(g.dims, ("b1", "b2", "activation", "seed", "time", "head",
                                          "head2"))
                cell = g.sel(b1=1.0, b2=2.0, activation="bsoftmax", seed=2)  # point 15
                self.assertTrue(np.isnan(cell).all())

    def test_point(self):
        for version, path in files("tiny"):
            with self.subTest(format=version), headspec.open_results(path) as r:
                p = r.point(7)
                self.assertEqual((p["distribution"], p["activation"], p["H"]),
                                 ("onehot", "softmax", 2))
                self.assertEqual(p["sgd/m"].shape, (5, 2, 3))
                np.testing.assert_array_equal(p["ode/prune_loss"], raw(path, 7, "ode/prune_loss"))
                self.assertEqual(p["ode_cosine"], r.points.ode_cosine[7])
                with self.assertRaises(IndexError):
                    r.point(12)


class Formats(unittest.TestCase):
    def test_formats_read_alike(self):
        """The format-1 file (an older binary) has the same structure."""
        (_, p1), (_, p2) = files("tiny")
        with headspec.open_results(p1) as r1, headspec.open_results(p2) as r2:
            self.assertEqual(list(r1.points.columns), list(r2.points.columns))
            pd.testing.assert_frame_equal(r1.points[r1.swept], r2.points[r2.swept])
            for col in ("status", "bayes_risk", "ode_cosine", "sgd_spec"):
                self.assertEqual(list(r1.points[col].isna()), list(r2.points[col].isna()))
            # fields added since the format-1 file was written
            newer = {"sgd/lpop_fresh", "sgd/lpop_fresh_se", "ode/loss_fresh", "ode/loss_fresh_se"}
            # and since layout revision 3: convergence and attention statistics
            newer |= {"%s/%s" % (run, f) for run in ("sgd", "ode")
                      for f in ("loss_rate", "speed", "converged", "attn_total", "attn_relevant",
                                "attn_sink", "quiet_heads")} | {"ode/t_stop"}
            newer |= {f for f in r2.fields() if f.startswith("stability/")}
            newer |= {"sgd/passes", "sgd/train_set_loss"}
            newer |= {"ode/method"}  # the stepper each point ran (issue 25)
            # pruning on the fresh set (layout revision 7, issue 29)
            newer |= {"%s/prune_loss_fresh%s" % (run, se) for run in ("sgd", "ode")
                      for se in ("", "_se")}
            self.assertEqual(sorted(r1.fields()), sorted(set(r2.fields()) - newer))
            for field in r1.fields():
                a, b = r1.array(field), r2.array(field)
                self.assertEqual((a.dims, a.shape), (b.dims, b.shape), field)
                np.testing.assert_array_equal(np.isnan(a.values), np.isnan(b.values))
            np.testing.assert_allclose(r1.array("sgd/t").time, r2.array("sgd/t").time, rtol=1e-12)

    def test_refuses_other_versions(self):
        tmp = tempfile.mkdtemp(dir=DIR)
        bad = os.path.join(tmp, "v3.h5")
        shutil.copy(os.path.join(DIR, "tiny.h5"), bad)
        with h5py.File(bad, "r+") as f:
            f.attrs["format_version"] = np.int64(3)
        with self.assertRaises(headspec.FormatError) as e:
            headspec.open_results(bad)
        self.assertIn("format_version 3", str(e.exception))
        self.assertIn("reads format_version 1 and 2", str(e.exception))
        other = os.path.join(tmp, "other.h5")
        with h5py.File(other, "w") as f:
            f["x"] = 1
        with self.assertRaises(headspec.FormatError) as e:
            headspec.open_results(other)
        self.assertIn("not a headspec results file", str(e.exception))

    def test_file_being_written(self):
        """Open a file while `headspec run` writes it: pending points NaN."""
        if not BIN:
            self.skipTest("HEADSPEC_BIN not set")
        tmp = tempfile.mkdtemp(dir=DIR)
        with open(os.path.join(DIR, "grid.yaml")) as fh:
            job = fh.read()
        job = job.replace("output: grid.h5", "output: running.h5").replace(
            "d: 32", "d: 200").replace("t_max: 1", "t_max: 6").split("testing:")[0]
        with open(os.path.join(tmp, "running.yaml"), "w") as fh:
            fh.write(job)
        # held after its first point (a testing hook, docs/TESTS.md) until
        # read, so the file is read mid-run however fast the machine
        hold = os.path.join(tmp, "hold")
        open(hold, "w").close()
        proc = subprocess.Popen([BIN, "run", "--quiet", "running.yaml"], cwd=tmp,
                                stderr=subprocess.DEVNULL,
                                env=dict(os.environ, HEADSPEC_TESTING_HOLD=hold))
        path = os.path.join(tmp, "running.h5")
        try:
            for _ in range(6000):  # until the first point is stored
                time.sleep(0.01)
                try:
                    with h5py.File(path, "r", locking=False) as f:
                        if f["grid/status"][:].any():
                            break
                except (OSError, KeyError):
                    continue  # not created yet
            with headspec.open_results(path) as r:
                p = r.points
                a = r.array("sgd/test_loss", stack=True).values
            done = np.asarray(p.status == "done")
            self.assertEqual(len(p), 16)
            self.assertEqual(done.sum(), 1)
            self.assertTrue(np.isfinite(a[done]).all())
            self.assertTrue(np.isnan(a[~done]).all())
            print("\n    read while running: %d of 16 points done" % done.sum(), file=sys.stderr)
        finally:
            os.remove(hold)
            self.assertEqual(proc.wait(timeout=120), 0)


def damaged(name, edit, restamp=True):
    """A copy of DIR/name with edit(h5py file) applied: a file damaged
    after the binary wrote it. restamp: its per-point checksums written
    anew after the edit (a consistent edit, so that the check under test
    is the one that fires), or, where the edit removed data the checksums
    cover, removed with layout_revision set back to 2 (a file of a
    headspec before checksums). The checksums of the datasets written
    once are restamped too."""
    path = os.path.join(tempfile.mkdtemp(dir=DIR), name)
    shutil.copy(os.path.join(DIR, name), path)
    with h5py.File(path, "r+") as f:
        edit(f)
        if restamp and "grid" in f and "checksum" in f["grid"]:
            _restamp(f)
    return path


def _restamp(f):
    def static(name, obj):
        if isinstance(obj, h5py.Dataset) and "checksum" in obj.attrs:
            obj.attrs["checksum"] = np.uint32(headspec.integrity.crc_of(obj[()]))
    f.visititems(static)
    g = f["grid"]
    status = g["status"][()]
    groups = {}
    for gname in f["results"]:
        if "point" in f["results"][gname]:
            groups[gname] = f["results"][gname]["point"][()]
    try:
        crc, missing = headspec.checks.point_checksums(f, status, groups)
    except IndexError:  # an edit of the rows themselves: the row check fires first
        return
    if missing:
        del g["checksum"]
        f.attrs["layout_revision"] = np.int64(min(2, int(f.attrs.get("layout_revision", 2))))
    else:
        g["checksum"][...] = crc


def _set(name, index, value):
    def edit(f):
        f[name][index] = value
    return edit


class GridChecks(unittest.TestCase):
    """The /grid checks of the C side (src/store/store_check.c): a file
    that fails one is refused, naming the dataset and the point."""

    def refused(self, path, *words):
        with self.assertRaises(headspec.GridError) as e:
            headspec.open_results(path)
        for w in words:
            self.assertIn(w, str(e.exception))
        code, so, se = cli("summary", path)  # the command line says it too
        self.assertEqual(code, 2)
        self.assertIn(words[0], se)
        return str(e.exception)

    def test_row_written_over(self):
        # grid.h5 has one results group: point 5 is its row 5
        path = damaged("grid.h5", _set("grid/row", 5, -1))
        self.refused(path, "/grid/row[5] is -1, should be 5")
        # without the checks the damaged file would read: point 5 takes no
        # row (or another's); the check is what stops it
        with headspec.open_results(path, verify=False) as r:
            self.assertEqual(r.n_points, 16)
        path = damaged("grid.h5", _set("grid/row", 5, 6))
        self.refused(path, "/grid/row[5] is 6, should be 5")

    def test_group_index_written_over(self):
        group = "results/H2_K2_L8_T3_maps2/point"
        self.refused(damaged("grid.h5", _set(group, 3, 4)),
                     "/results/H2_K2_L8_T3_maps2/point[4] is 4 after 4")
        self.refused(damaged("grid.h5", _set(group, 15, 99)), "point[15] is 99, not a point")

    def test_status_written_over(self):
        self.refused(damaged("grid.h5", _set("grid/status", 3, 7)),
                     "/grid/status[3] = 7 is not a status")

    def test_value_the_job_does_not_give(self):
        # grid.yaml: b2: [1.0, 2.0]; activation: [softmax, bsoftmax]; d: 32
        self.refused(damaged("grid.h5", _set("grid/b2", 6, 3.0)),
                     "/grid/b2[6] is 3, but the job stored in the file gives b2 only 1, 2")
        self.refused(damaged("grid.h5", _set("grid/activation", 2, "softmax1")),
                     "/grid/activation[2] is softmax1", "only softmax, bsoftmax")
        self.refused(damaged("grid.h5", _set("grid/d", 0, 33)), "/grid/d[0] is 33")
        # a key the job does not give holds its one default everywhere
        self.refused(damaged("grid.h5", _set("grid/L", 9, 4)),
                     "/grid/L takes the values 8, 4", "does not sweep L")

    def test_value_in_another_point(self):
        # a value of the job, but not the one the job's grid gives point 3
        # (b1 = 0.5 for points 0-7): the order of the points is checked
        self.refused(damaged("grid.h5", _set("grid/b1", 3, 1.0)),
                     "/grid/b1[3] is 1", "gives point 3 b1 = 0.5")
        # two points' keys swapped (2: softmax seed 1 <-> 3: bsoftmax seed 2)
        def swap(f):
            for k in ("activation", "seed"):
                col = f["grid"][k][()]
                col[[2, 3]] = col[[3, 2]]
                f["grid"][k][...] = col
        self.refused(damaged("grid.h5", swap), "point 2")
        # the same point twice
        def repeat(f):
            for k in ("b2", "activation", "seed"):
                col = f["grid"][k][()]
                col[1] = col[0]
                f["grid"][k][...] = col
        self.refused(damaged("grid.h5", repeat), "point 1")

    def test_reads_key_order_from_the_file(self):
        """The key order is the file's key_order attribute (no copy of the
        key table in the package): edited, the file reads in the edited
        order without the checks, and is refused with them (its points are
        no longer in that order's grid order)."""
        self.assertFalse(hasattr(headspec.reader, "KEY_ORDER"))
        with headspec.open_results(os.path.join(DIR, "tiny.h5")) as r:
            with h5py.File(r.path, "r") as f:
                stated = [k.decode() if isinstance(k, bytes) else k
                          for k in f["grid"].attrs["key_order"]]
            self.assertEqual(r.key_order, stated)
            self.assertEqual(r.keys, [k for k in stated if k in r.columns])

        def move_H_first(f):
            order = [k.decode() if isinstance(k, bytes) else k
                     for k in f["grid"].attrs["key_order"]]
            order.remove("H")
            f["grid"].attrs["key_order"] = np.array(["H"] + order, dtype=h5py.string_dtype())
        path = damaged("tiny.h5", move_H_first)
        with headspec.open_results(path, verify=False) as r:
            self.assertEqual(r.keys[0], "H")
        self.refused(path, "/grid/H[1] is 2")

    def test_reads_mean_c_from_the_file(self):
        """Specialisation measures m against the stored mean_c = E[c], not
        a formula per distribution: with mean_c set to (0, 1) for the
        flipping points (E[c] is (b1, 0)), ode_spec becomes mean |m_h1|."""
        def edit(f):
            for gname in f["results"]:
                grp = f["results"][gname]
                if grp.attrs["K"] == 2:  # tiny.yaml: the flipping points
                    mu = grp["mean_c"][()]
                    np.testing.assert_array_equal(mu, [[1.0, 0.0]] * len(mu))  # (b1, 0)
                    grp["mean_c"][...] = [[0.0, 1.0]] * len(mu)
        path = damaged("tiny.h5", edit)
        with headspec.open_results(path) as r:
            p = r.points
            for i in range(6):  # flipping
                m = raw(path, i, "ode/m")[-1]
                self.assertAlmostEqual(p.ode_spec[i], np.mean(np.abs(m[:, 0])), places=12)
            np.testing.assert_array_equal(r.array("mean_c", stack=True).values[0], [0, 1, np.nan])

    def test_older_layout_derives_what_it_lacks(self):
        """A format-2 file of layout revision 1 (no key_order, no mean_c)
        reads as the current one: the legacy reader derives both."""
        from headspec import legacy
        later = {"method", "stop_when_converged", "converged_loss_tol", "converged_speed_tol",
                 "attention_samples", "stability", "stability_threshold", "n_train", "alpha",
                 "batches", "control_variate", "replicas"}  # job keys added since revision 1

        def older(f):
            del f["grid"].attrs["key_order"]
            del f["grid"]["checksum"]  # revision 1 had none
            for k in later & set(f["grid"]):
                del f["grid"][k]
            f.attrs["layout_revision"] = np.int64(1)
            for gname in f["results"]:
                del f["results"][gname]["mean_c"]
        path = damaged("tiny.h5", older)
        with headspec.open_results(os.path.join(DIR, "tiny.h5")) as new, \
                headspec.open_results(path) as old:
            self.assertEqual(old.layout_revision, 1)
            self.assertEqual(old.keys, [k for k in new.keys if k not in later])
            self.assertTrue(set(old.keys) <= set(legacy.KEY_ORDER) | {"fail_point"})
            pd.testing.assert_frame_equal(old.points, new.points[old.points.columns])
            np.testing.assert_array_equal(old.array("mean_c").values, new.array("mean_c").values)
        # its rows and values are checked all the same
        self.refused(damaged("tiny.h5",
                             lambda f: (older(f), _set("grid/row", 4, 0)(f))),
                     "/grid/row[4] is 0")

    def test_damaged_data_refused_by_checksum(self):
        """One stored value changed after the binary wrote the file (the
        C side's CRC-32 per point, recomputed here independently) is
        refused, naming the point; the untouched file passes."""
        def flip(f):
            gname = sorted(f["results"])[0]
            ds = f["results"][gname]["sgd/m"]
            row = ds[1]
            row.flat[3] += 1e-9
            ds[1] = row
        msg = self.refused(damaged("tiny.h5", flip, restamp=False), "does not match its checksum")
        self.assertIn("point", msg)
        with headspec.open_results(os.path.join(DIR, "tiny.h5")) as r:
            self.assertGreaterEqual(r.layout_revision, 3)

    def test_every_test_file_passes(self):
        for name in ("tiny", "grid", "grid_partial", "ambiguous", "mixed"):
            for version, path in files(name):
                with self.subTest(file=name, format=version), headspec.open_results(path) as r:
                    self.assertEqual(len(r.points), r.n_points)

    def test_vectorised_measures_match_per_point(self):
        rng = np.random.default_rng(1)
        m = rng.normal(size=(7, 3, 4))
        mu = rng.normal(size=(7, 4))
        mu[2] = 0.0  # mu = 0: |m_h|
        mu[5, 1] = np.nan  # unknown: NaN
        cos = headspec.derived.head_cosines(m)
        spec = headspec.derived.specialisations(m, mu)
        for i in range(7):
            self.assertAlmostEqual(cos[i], headspec.derived.head_cosine(m[i]), places=12)
            if i == 5:
                self.assertTrue(np.isnan(spec[i]))
            else:
                self.assertAlmostEqual(spec[i], headspec.derived.specialisation(m[i], mu[i]),
                                       places=12)
        self.assertTrue(np.isnan(headspec.derived.head_cosines(m[:, :1])).all())  # H = 1



def png_ok(path):
    with open(path, "rb") as fh:
        head = fh.read(8)
    return head == b"\x89PNG\r\n\x1a\n" and os.path.getsize(path) > 2000


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = headspec_cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


class Plots(unittest.TestCase):
    # kind, file, extra arguments: each must draw
    DRAWN = [("dynamics", "tiny", []), ("pruning", "tiny", []),
             ("maps", "tiny", ["--select", "distribution=onehot"]),
             ("vs", "grid_partial", ["--x", "b2"]),
             ("heatmap", "grid_partial", ["--mean", "seed"])]
    # kind, extra arguments, the key it must name when refusing ambiguous.h5
    # kind, the key it must name when refusing ambiguous.h5, a choice that
    # resolves it
    REFUSED = [("dynamics", "sigma0", ["--select", "sigma0=0.5,seed=1"]),
               ("heatmap", "seed", ["--mean", "seed"]),
               ("vs", "sigma0", ["--select", "sigma0=0.3"]),
               ("pruning", "sigma0", ["--select", "sigma0=0.5", "--mean", "seed"]),
               ("maps", "b2", ["--select", "b2=2,seed=1,sigma0=0.5"])]

    def test_dynamics_of_sgd_and_bayes_only_points(self):
        # the ODE fields are NaN everywhere and the Bayes-only point has no
        # dynamics: the SGD point's loss is drawn as stored, with R*
        path = files("mixed")[-1][1]
        with headspec.open_results(path) as r:
            fig = kinds.plot(r, "dynamics", os.path.join(tempfile.mkdtemp(dir=DIR), "m.png"))
            trained = int(np.flatnonzero(r.points.training_run.to_numpy() == 1)[0])
        top = fig.axes[0]
        drawn = [ln.get_ydata() for ln in top.get_lines() if ln.get_marker() == "o"]
        self.assertEqual(len(drawn), 1)  # one SGD point; nothing for the Bayes-only one
        np.testing.assert_array_equal(drawn[0], raw(path, trained, "sgd/lpop"))

    def test_each_kind_draws(self):
        out = tempfile.mkdtemp(dir=DIR)
        # Drawing is slow (about 2 s a figure here): format 2 only; both
        # formats read the same (Formats.test_formats_read_alike).
        for kind, name, extra in self.DRAWN:
            for version, path in files(name)[-1:]:
                with self.subTest(kind=kind, format=version):
                    png = os.path.join(out, "%s_%d.png" % (kind, version))
                    code, so, se = cli("plot", kind, path, "-o", png, *extra)
                    self.assertEqual(code, 0, se)
                    self.assertTrue(png_ok(png))
        pdf = os.path.join(out, "d.pdf")
        self.assertEqual(cli("plot", "dynamics", files("tiny")[0][1], "-o", pdf)[0], 0)
        with open(pdf, "rb") as fh:
            self.assertEqual(fh.read(5), b"%PDF-")

    def test_refuses_ambiguous_and_names_the_key(self):
        out = tempfile.mkdtemp(dir=DIR)
        for kind, key, choice in self.REFUSED:
            for version, path in files("ambiguous"):
                with self.subTest(kind=kind, format=version):
                    png = os.path.join(out, kind + ".png")
                    code, so, se = cli("plot", kind, path, "-o", png)
                    self.assertEqual(code, 2)
                    self.assertIn("swept key %s" % key, se)
                    self.assertIn("--select %s=VALUE" % key, se)
                    self.assertFalse(os.path.exists(png))
                    if version == 1:
                        continue
                    # naming a value resolves it
                    code, so, se = cli("plot", kind, path, "-o", png, *choice)
                    self.assertEqual(code, 0, se)
                    self.assertTrue(png_ok(png))
                    os.remove(png)
        code, so, se = cli("plot", "vs", files("ambiguous")[0][1], "-o",
                           os.path.join(out, "x.png"), "--select", "b2=3")
        self.assertEqual(code, 2)
        self.assertIn("b2=3 is not a value of b2 (values: 1, 2)", se)

    def test_seed_mean_and_error_bars(self):
        """vs averages seeds: compare with a pandas group-by of the table."""
        with headspec.open_results(files("grid_partial")[0][1]) as r:
            lay = layout.Layout(r, "vs", axes=("b2",))
            self.assertEqual(lay.mean, ["seed"])
            self.assertEqual(lay.lines, ["activation"])
            self.assertEqual(lay.panels, ["b1"])
            da, se, n = query.mean_se(r.array("sgd_test_loss"), lay.selection)
            p = r.points
            g = p.groupby(["b1", "b2", "activation"]).sgd_test_loss
            for (b1, b2, act), mean in g.mean().items():
                got = float(da.sel(b1=b1, b2=b2, activation=act))
                if np.isnan(mean):  # both seeds not done
                    self.assertTrue(np.isnan(got))
                    continue
                self.assertAlmostEqual(got, mean, places=12)
                sem = float(se.sel(b1=b1, b2=b2, activation=act))
                n = g.count()[(b1, b2, act)]
                if n > 1:
                    self.assertAlmostEqual(sem, g.std()[(b1, b2, act)] / np.sqrt(n), places=12)
                else:  # one seed left (the other failed or pending): no error bar
                    self.assertTrue(np.isnan(sem))

    def test_bayes_line_per_distribution(self):
        """Lines that differ in b2 get one R* each, not the first one's."""
        import matplotlib.pyplot as plt
        with headspec.open_results(files("grid")[0][1]) as r:
            lay = layout.Layout(r, "dynamics", select={"b1": "1", "seed": "1"})
            self.assertEqual(lay.lines, ["b2"])
            bayes = query.pick(r.array("bayes_risk"), lay.selection)
            fig, ax = plt.subplots()
            panel = {"activation": "softmax"}
            lines = query.combos(bayes, ["b2"])
            levels = query.bayes_levels(bayes, panel, lay.lines, lines)
            self.assertEqual([j for _, j, _ in levels], [0, 1])  # each in its line's colour
            for _, _, value in levels:
                ax.axhline(value)
            drawn = sorted(line.get_ydata()[0] for line in ax.get_lines())
            p = r.points
            want = sorted(p[(p.b1 == 1) & (p.seed == 1) & (p.activation == "softmax")]
                          .bayes_risk)
            np.testing.assert_allclose(drawn, want)
            self.assertNotAlmostEqual(want[0], want[1], places=3)
            plt.close(fig)


def _lines(ax, label_start=None):
    return [ln for ln in ax.get_lines()
            if label_start is None or str(ln.get_label()).startswith(label_start)]


class PaperPlots(unittest.TestCase):
    """The kinds added for the paper's figures: the drawn data against the
    raw datasets read with h5py."""

    def test_heads_plane_and_time(self):
        path = files("tiny")[-1][1]
        out = tempfile.mkdtemp(dir=DIR)
        with headspec.open_results(path) as r:
            fig = kinds.plot(r, "heads", os.path.join(out, "h.png"),
                             select={"distribution": "flipping"})
            axes = {ax.get_title().split(",")[0]: ax for ax in fig.axes}
            # activation x H: 3 x 2 panels; point 3 is flipping, softmax1, H = 2
            self.assertEqual(len(axes), 6)
            ax = axes["activation=softmax1 H=2"]
            for part in ("ode", "sgd"):
                m = raw(path, 3, part + "/m")  # T x H x K
                for h in range(2):
                    (ln,) = _lines(ax, "head %d (%s)" % (h + 1, part))
                    np.testing.assert_array_equal(ln.get_xdata(), m[:, h, 0])
                    np.testing.assert_array_equal(ln.get_ydata(), m[:, h, 1])
            # the H = 1 panel draws one head (the second is padding)
            self.assertEqual(len(_lines(axes["activation=softmax1 H=1"], "head 2")), 0)
            # start and end markers at the ODE's first and last m
            m = raw(path, 3, "ode/m")
            marks = [ln for ln in ax.get_lines() if ln.get_marker() in ("s", "*")]
            self.assertIn((m[0, 0, 0], m[0, 0, 1]),
                          [(ln.get_xdata()[0], ln.get_ydata()[0]) for ln in marks])
            self.assertIn((m[-1, 1, 0], m[-1, 1, 1]),
                          [(ln.get_xdata()[0], ln.get_ydata()[0]) for ln in marks])
            fig = kinds.plot(r, "heads", os.path.join(out, "t.png"), source="ode", vs_time=True,
                             select={"distribution": "flipping", "activation": "softmax"})
            ax = [a for a in fig.axes if a.get_title().startswith("H=2")][0]
            (ln,) = _lines(ax, "head 2 (ode) m_h1")
            m, t = raw(path, 1, "ode/m"), raw(path, 1, "sgd/t")
            np.testing.assert_allclose(ln.get_xdata(), [0, 0.25, 0.5, 1, 2])
            np.testing.assert_array_equal(ln.get_ydata(), m[:, 1, 0])
            self.assertFalse(_lines(ax, "head 1 (sgd)"))  # --source ode: no SGD
        code, so, se = cli("plot", "heads", path, "-o", os.path.join(out, "c.png"),
                           "--select", "distribution=flipping", "--vs-time")
        self.assertEqual(code, 0, se)
        self.assertTrue(png_ok(os.path.join(out, "c.png")))


    def test_features_rows_per_spike(self):
        path = files("tiny")[-1][1]
        out = tempfile.mkdtemp(dir=DIR)
        with headspec.open_results(path) as r:
            # onehot K = 3, softmax: panels over H (points 6: H = 1, 7: H = 2)
            fig = kinds.plot(r, "features", os.path.join(out, "f.png"), logx=True,
                             select={"distribution": "onehot", "activation": "softmax"})
            self.assertEqual(len(fig.axes), 3 * 2)  # a row per spike, a column per H
            drawn = {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid()}
            for point, col in ((6, 0), (7, 1)):
                for part in ("ode", "sgd"):
                    m = raw(path, point, part + "/m")
                    for h in range(m.shape[1]):
                        for k in range(3):
                            # gids name heads and spikes from 1
                            ln = drawn.pop("%s h%d k%d" % (part, h + 1, k + 1)) \
                                if col == 1 else None
                            if ln is None:
                                continue
                            # log x: t = 0 left out
                            np.testing.assert_allclose(ln.get_xdata(), [0.25, 0.5, 1, 2])
                            np.testing.assert_array_equal(ln.get_ydata(), m[1:, h, k])
            self.assertEqual(fig.axes[0].get_xscale(), "log")
            fig = kinds.plot(r, "features", os.path.join(out, "o.png"), overlay=True,
                             source="sgd", select={"distribution": "onehot", "H": "2"})
            self.assertEqual(len(fig.axes), 3)  # a panel per activation
            ax = fig.axes[2]  # bsoftmax: point 11
            m = raw(path, 11, "sgd/m")
            lines = {ln.get_gid(): ln for ln in ax.get_lines() if ln.get_gid()}
            self.assertEqual(len(lines), 2 * 3)
            np.testing.assert_array_equal(lines["sgd h2 k3"].get_ydata(), m[:, 1, 2])
            self.assertEqual(lines["sgd h2 k3"].get_color(), "C2")  # colour by spike


    @staticmethod
    def _with_fields(src, dst, values, drop=()):
        """A copy of src with per-point scalar fields {name: f(point)}
        set, and the fields in drop removed (as a file of an older headspec
        lacks them)."""
        shutil.copy(src, dst)
        with h5py.File(dst, "r+") as f:
            for gname in f["results"]:
                for name in drop:
                    if name in f["results"][gname]:
                        del f["results"][gname][name]
            g = f["grid"]
            groups = [x.decode() if isinstance(x, bytes) else x for x in g["group"][()]]
            for name, fn in values.items():
                for gname in set(groups):
                    rows = f["results"][gname]["bayes_risk"].shape[0]
                    data = np.full(rows, np.nan)
                    for i, gi in enumerate(groups):
                        if gi == gname and name in ("bayes_risk", "bayes_risk_se") + tuple(
                                values) and g["status"][i] == 1:
                            data[g["row"][i]] = fn(i)
                    grp = f["results"][gname]
                    if name in grp:
                        grp[name][...] = data
                    else:
                        grp[name] = data
            if "checksum" in g:
                _restamp(f)
        return dst

    def test_vs_fresh_loss_errors_and_bayes_band(self):
        tmp = tempfile.mkdtemp(dir=DIR)
        path = self._with_fields(os.path.join(DIR, "grid.h5"), os.path.join(tmp, "g.h5"), {
            "sgd/lpop_fresh": lambda i: 0.5 + 0.01 * i + 0.003 * i * i,
            "sgd/lpop_fresh_se": lambda i: 0.001 * (i + 1)},
            drop=("ode/loss_fresh", "ode/loss_fresh_se"))
        with headspec.open_results(path) as r:
            p = r.points
            self.assertEqual(p.sgd_lpop_fresh[3], 0.5 + 0.03 + 0.027)
            self.assertTrue(np.isnan(p.sgd_lpop_fresh[FAILED]))
            self.assertTrue(np.isnan(p.ode_loss_fresh).all())  # absent: NaN
            fig = kinds.plot(r, "vs", os.path.join(tmp, "v.png"), x="b2")
            self.assertEqual(fig.axes[0].get_ylabel(), "sgd_lpop_fresh")  # the default
            done = p[p.status == "done"]
            for ax, b1 in zip(fig.axes, (0.5, 1.0)):
                for cont, act in zip(ax.containers, ("softmax", "bsoftmax")):
                    data, caps, (bars,) = cont.lines
                    for b2, y, seg in zip((1.0, 2.0), data.get_ydata(), bars.get_segments()):
                        rows = done[(done.b1 == b1) & (done.b2 == b2) & (done.activation == act)]
                        v, se, n = rows.sgd_lpop_fresh, rows.sgd_lpop_fresh_se, len(rows)
                        self.assertAlmostEqual(y, v.mean(), places=12)
                        spread = v.std() ** 2 / n if n > 1 else 0.0
                        err = np.sqrt(spread + (se ** 2).sum() / n ** 2)
                        self.assertAlmostEqual(seg[1][1] - y, err, places=12)
                        self.assertAlmostEqual(y - seg[0][1], err, places=12)
                # R* against b2 (a distribution key): a curve, band +- mean SE
                (bl,) = [ln for ln in ax.get_lines() if ln.get_gid() == "bayes"]
                # seeds averaged first (as the losses), then the activations
                sub = done[done.b1 == b1].groupby(["b2", "activation"])
                want = sub.bayes_risk.mean().groupby("b2").mean()
                np.testing.assert_allclose(bl.get_xdata(), [1.0, 2.0])
                np.testing.assert_allclose(bl.get_ydata(), want.values, rtol=1e-12)
                (band,) = [c for c in ax.collections if c.get_gid() == "bayes_band"]
                verts = band.get_paths()[0].vertices
                se = sub.bayes_risk_se.mean().groupby("b2").mean()
                top = want.values + se.values
                self.assertAlmostEqual(verts[:, 1].max(), top.max(), places=12)
                self.assertAlmostEqual(verts[:, 1].min(), (want.values - se.values).min(),
                                       places=12)
            # --bayes: R* from another file, matched on the shared keys.
            # ambiguous.h5 fixes b1 = 1 and sweeps b2, activation, H, sigma0, seed.
            amb = os.path.join(DIR, "ambiguous.h5")
            with headspec.open_results(amb) as other:
                fig = kinds.plot(r, "vs", os.path.join(tmp, "b.png"), x="b2", bayes=other)
                op = other.points
                rows = op[(op.H == r.fixed["H"]) & (op.sigma0 == r.fixed["sigma0"])]
                want = rows.groupby(["b2", "activation"]).bayes_risk.mean().groupby("b2").mean()
            self.assertFalse([ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "bayes"])
            (bl,) = [ln for ln in fig.axes[1].get_lines() if ln.get_gid() == "bayes"]
            np.testing.assert_allclose(bl.get_ydata(), want.values, rtol=1e-12)
            self.assertIn("ambiguous.h5", bl.get_label())
        # a file of another distribution (both fix L, to other values) is refused
        other = os.path.join(tmp, "otherL.h5")
        shutil.copy(os.path.join(DIR, "ambiguous.h5"), other)
        with h5py.File(other, "r+") as f:
            f["grid/L"][...] = f["grid/L"][()] + 1
            _restamp(f)  # a consistent file, not a damaged one
        code, so, se = cli("plot", "vs", path, "-o", os.path.join(tmp, "x.png"), "--x", "b2",
                           "--bayes", other)
        self.assertEqual(code, 2)
        self.assertIn("its L=", se)


    def test_heatmap_cell_values_and_colour_bar(self):
        """Figs. 11-14: the heads' cosine over (b1, b2), a panel per
        activation, each cell's value written in it, a colour bar on [-1, 1]."""
        path = os.path.join(DIR, "grid.h5")
        with headspec.open_results(path) as r:
            fig = kinds.plot(r, "heatmap", os.path.join(tempfile.mkdtemp(dir=DIR), "h.png"),
                             mean=["seed"])
            p = r.points
            want = p[p.status == "done"].groupby(["activation", "b1", "b2"]).ode_cosine.mean()
            panels = [ax for ax in fig.axes if ax.get_title()]
            bars = [ax for ax in fig.axes if ax.get_ylabel() == "ode_cosine"]
            self.assertEqual(len(panels), 2)
            self.assertEqual(len(bars), 2)
            self.assertEqual(bars[0].get_ylim(), (-1.0, 1.0))
            for ax in panels:
                act = ax.get_title().split(",")[0].split("=")[1]
                texts = {(t.get_position()): t.get_text() for t in ax.texts
                         if t.get_gid() == "cell"}
                self.assertEqual(len(texts), 4)
                for (b1, b2), v in want[act].items():
                    pos = ([0.5, 1.0].index(b1), [1.0, 2.0].index(b2))  # (x = b1, y = b2)
                    self.assertEqual(texts[pos], "%.2f" % v)
            # the cosine by hand for one point (softmax, b1 = 1, b2 = 2, seed 1: point 12)
            m = raw(path, 12, "ode/m")[-1]
            self.assertAlmostEqual(p.ode_cosine[12],
                                   m[0] @ m[1] / np.linalg.norm(m[0]) / np.linalg.norm(m[1]))


class ReportNumbers(unittest.TestCase):
    def test_learn_times_and_sign_split_by_hand(self):
        t = np.array([0.0, 1.0, 2.0, 4.0])
        m = np.full((4, 3, 3), np.nan)  # T x H x K; head 2 is padding
        # spike 1: max_h |m| = 0.1, 0.3, 0.9, 1.0 -> half of 1.0 first passed at t = 2
        m[:, 0, 0] = [0.1, 0.3, 0.9, 1.0]
        m[:, 1, 0] = [-0.05, -0.2, -0.4, -0.6]
        # spike 2: head 1 goes negative: |m| = 0.0, 0.7, 0.8, 0.8 -> 0.4 passed at t = 1
        m[:, 0, 1] = [0.0, 0.1, 0.2, 0.3]
        m[:, 1, 1] = [0.0, -0.7, -0.8, -0.8]
        # spike 3: padding (K = 2 here)
        got = headspec.derived.learn_times(m, t)
        np.testing.assert_array_equal(got[:2], [2.0, 1.0])
        self.assertTrue(np.isnan(got[2]))
        # a fixed threshold: spike 1 passes 0.25 at t = 1; spike 2 at t = 1
        np.testing.assert_array_equal(headspec.derived.learn_times(m, t, threshold=0.25)[:2],
                                      [1.0, 1.0])
        # per-spike thresholds; one never reached
        np.testing.assert_array_equal(
            headspec.derived.learn_times(m, t, threshold=[0.05, 5.0, 1.0])[:2], [0.0, np.nan])
        np.testing.assert_array_equal(headspec.derived.learn_times(m, t, frac=0.95)[:2],
                                      [4.0, 2.0])  # 0.95 and 0.76 thresholds
        self.assertEqual(headspec.derived.sign_split(m[-1], 0), (1, 1))
        self.assertEqual(headspec.derived.sign_split(m[-1], 1), (1, 1))
        self.assertEqual(headspec.derived.sign_split(np.array([[1.0], [2.0], [0.0], [-1.0]]), 0),
                         (2, 1))

    def test_numbers_against_raw(self):
        path = files("tiny")[-1][1]
        with headspec.open_results(path) as r:
            df = headspec.derived.numbers(r)
            self.assertEqual(len(df), 12)
            for i in (1, 7):  # flipping H = 2 (K = 2); onehot H = 2 (K = 3)
                for part in ("ode", "sgd"):
                    m, t = raw(path, i, part + "/m"), raw(path, i, "sgd/t")
                    K = m.shape[2]
                    peak = np.abs(m).max(axis=1)  # T x K
                    # learned: max_h |m_hk| at the end at or above the escape
                    # threshold (tiny.yaml: analysis.stability_threshold's 0.1)
                    learned = [peak[-1, k] >= 0.1 for k in range(K)]
                    for k in range(K):
                        first = t[np.argmax(peak[:, k] > 0.5 * peak[-1, k])]
                        got = df["%s_t%d" % (part, k + 1)][i]
                        if learned[k]:
                            self.assertAlmostEqual(got, first, places=12)
                        else:
                            self.assertTrue(np.isnan(got))
                        pos = int((m[-1, :, k] > 0).sum())
                        self.assertEqual(df["%s_sign%d" % (part, k + 1)][i],
                                         "%d+/%d-" % (pos, 2 - pos))
                    times = [df["%s_t%d" % (part, k + 1)][i] for k in range(K)]
                    order = sorted([k for k in range(K) if learned[k]], key=lambda k: (times[k], k))
                    never = [str(k + 1) for k in range(K) if not learned[k]]
                    want = " ".join(str(k + 1) for k in order)
                    if never:
                        want += ("; " if order else "") + " ".join(never) + " not learned"
                    self.assertEqual(df[part + "_order"][i], want)
                self.assertEqual(df.ode_loss[i], raw(path, i, "ode/loss")[-1])
                self.assertEqual(df.bayes_risk[i], raw(path, i, "bayes_risk"))
            self.assertTrue(np.isnan(df.ode_t3[1]))  # flipping has K = 2
            self.assertEqual(df.ode_sign3[1], "")
        code, out, err = cli("numbers", path, "--csv", "--source", "ode", "--frac", "0.9")
        self.assertEqual(code, 0, err)
        got = pd.read_csv(io.StringIO(out), index_col="point")
        self.assertNotIn("sgd_t1", got.columns)
        m, t = raw(path, 1, "ode/m"), raw(path, 1, "sgd/t")  # flipping: spike 1 learned
        peak = np.abs(m).max(axis=1)
        self.assertGreaterEqual(peak[-1, 0], 0.1)
        self.assertAlmostEqual(got.ode_t1[1], t[np.argmax(peak[:, 0] > 0.9 * peak[-1, 0])], 12)
        code, out, err = cli("numbers", path)
        self.assertEqual(code, 0, err)
        self.assertIn("ode_order", out)
        self.assertIn("ode_loss_fresh", out)
        older = PaperPlots._with_fields(path, os.path.join(tempfile.mkdtemp(dir=DIR), "o.h5"), {},
                                        drop=("ode/loss_fresh", "ode/loss_fresh_se",
                                              "sgd/lpop_fresh", "sgd/lpop_fresh_se"))
        code, out, err = cli("numbers", older)
        self.assertEqual(code, 0, err)
        self.assertNotIn("ode_loss_fresh", out)  # not stored: left out of the text table


class Convergence(unittest.TestCase):
    """Issue 19 item 4 / issue 20 item 2: the convergence flags in the
    points table and numbers, the not-converged marks, the attention kind
    and the stability predictions in numbers."""
    COLUMNS = {"ode_converged": "ode/converged", "sgd_converged": "sgd/converged",
               "ode_loss_rate": "ode/loss_rate", "sgd_loss_rate": "sgd/loss_rate",
               "ode_speed": "ode/speed", "sgd_speed": "sgd/speed", "ode_t_stop": "ode/t_stop"}

    def test_points_and_numbers_columns_against_raw(self):
        old, path = [p for _, p in files("tiny")]
        with headspec.open_results(path) as r:
            p, n = r.points, headspec.derived.numbers(r)
            for col, field in self.COLUMNS.items():
                for i in range(r.n_points):
                    want = float(raw(path, i, field))
                    np.testing.assert_equal(p[col][i], want, err_msg=col)
                    np.testing.assert_equal(n[col][i], want, err_msg=col)
        with headspec.open_results(old) as r:  # format 1 stores none: NaN
            for col in self.COLUMNS:
                self.assertTrue(r.points[col].isna().all(), col)
        code, out, err = cli("summary", path)
        self.assertEqual(code, 0, err)
        self.assertIn("ode_converged", out)

    @staticmethod
    def _one_unconverged(point):
        """tiny.h5 with every point converged but `point` (None: all)."""
        flag = (lambda i: 0.0 if i == point else 1.0)
        dst = os.path.join(tempfile.mkdtemp(dir=DIR), "conv.h5")
        return PaperPlots._with_fields(os.path.join(DIR, "tiny.h5"), dst,
                                       {"ode/converged": flag, "sgd/converged": flag})

    @staticmethod
    def _marks(fig):
        labels = [t.get_text() for ax in fig.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()]
        return labels.count(layout.NOT_CONVERGED), [
            ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "not_converged"
            and len(ln.get_xdata())]

    def test_plots_mark_unconverged_points(self):
        # point 1: flipping, softmax, H = 2; the others converged
        one, none = self._one_unconverged(1), self._one_unconverged(None)
        out = tempfile.mkdtemp(dir=DIR)
        for kind, kw in (("dynamics", {}), ("vs", dict(x="H")),
                         ("heatmap", dict(x="H", y="activation")), ("pruning", {}),
                         ("attention", {}),
                         ("maps", dict(select={"distribution": "flipping"})),
                         ("heads", dict(select={"distribution": "flipping"})),
                         ("features", dict(select={"distribution": "flipping", "H": "2"}))):
            with self.subTest(kind=kind):
                with headspec.open_results(none) as r:
                    fig = kinds.plot(r, kind, os.path.join(out, kind + "0.png"), **kw)
                self.assertEqual(self._marks(fig)[0], 0)
                with headspec.open_results(one) as r:
                    fig = kinds.plot(r, kind, os.path.join(out, kind + "1.png"), **kw)
                    labels, drawn = self._marks(fig)
                    self.assertEqual(labels, 1)  # one panel holds the point
                    if kind == "dynamics":  # its ODE line dashed, the others solid
                        dashed = [ln for ln in fig.axes[0].get_lines()
                                  if ln.get_linestyle() == "--" and len(ln.get_xdata())]
                        self.assertEqual(len(dashed), 1)
                        np.testing.assert_array_equal(dashed[0].get_ydata(),
                                                      raw(one, 1, "ode/loss"))
                    if kind == "vs":  # an x over the point: H = 2, its value
                        self.assertEqual(len(drawn), 1)
                        self.assertEqual(list(drawn[0].get_xdata()), [2])
                        q = r.points[query.default_quantity(r, "sgd_lpop_fresh", "ode_loss_fresh",
                                                      "sgd_test_loss", "ode_loss")][1]
                        self.assertAlmostEqual(drawn[0].get_ydata()[0], q, places=12)
                    if kind == "heatmap":  # an x in cell (H = 2, softmax) only (H = 1
                        # has no cosine: its column is dropped, H = 2 is column 0)
                        self.assertEqual(len(drawn), 1)
                        self.assertEqual(list(drawn[0].get_xdata()), [0.35])
                        self.assertEqual(list(drawn[0].get_ydata()), [0.35])

    def test_attention_draws_the_stored_statistics(self):
        path = os.path.join(DIR, "tiny.h5")
        png = os.path.join(tempfile.mkdtemp(dir=DIR), "a.png")
        code, out, err = cli("plot", "attention", path, "-o", png)
        self.assertEqual(code, 0, err)
        self.assertTrue(png_ok(png))
        with headspec.open_results(path) as r:
            fig = kinds.plot(r, "attention", png)
            labels = r.points.label
        top, bottom = fig.axes[0], fig.axes[2]  # distribution=flipping: points 0-5
        self.assertEqual(top.get_xscale(), "log")
        lines = [ln for ln in top.get_lines() if len(ln.get_xdata())]
        self.assertEqual(len(lines), 6)  # activation x H
        t = raw(path, 1, "ode/t")
        np.testing.assert_array_equal(lines[1].get_xdata(), t[t > 0])
        np.testing.assert_array_equal(lines[1].get_ydata(), raw(path, 1, "ode/quiet_heads")[t > 0])
        sinks = [ln for ln in bottom.get_lines() if len(ln.get_xdata())]
        self.assertEqual(len(sinks), 2)  # softmax1 only has a sink
        want = np.nanmean(raw(path, 3, "ode/attn_sink"), axis=1)  # softmax1, H = 2
        np.testing.assert_allclose(sinks[1].get_ydata(), want[t > 0], rtol=1e-14)
        self.assertIn("softmax1", labels[3])

    def test_numbers_stability_predictions(self):
        path = os.path.join(DIR, "stability.h5")
        with headspec.open_results(path) as r:
            df = headspec.derived.numbers(r)
        for i in range(4):  # H = 2 and 3: the H = 2 points' heads padded in the stacked m
            m, t = raw(path, i, "ode/m"), raw(path, i, "ode/t")
            peak = np.abs(m).max(axis=1)
            for k in range(2):
                self.assertEqual(df["stab_pred%d" % (k + 1)][i],
                                 raw(path, i, "stability/predicted_t")[k])
                self.assertEqual(df["stab_meas%d" % (k + 1)][i],
                                 raw(path, i, "stability/measured_t")[k])
                self.assertAlmostEqual(df["stab_half%d" % (k + 1)][i],
                                       t[np.argmax(peak[:, k] >= 0.5 * peak[-1, k])], places=12)
        code, out, err = cli("numbers", path)
        self.assertEqual(code, 0, err)
        self.assertIn("stab_pred1", out)
        self.assertIn("predicted", out.splitlines()[0] + out.splitlines()[1])
        code, out, err = cli("numbers", os.path.join(DIR, "tiny.h5"))
        self.assertNotIn("stab_pred", out)  # no stability datasets: no columns


class CommandLine(unittest.TestCase):
    def test_summary(self):
        path = files("grid_partial")[-1][1]
        code, out, err = cli("summary", path)
        self.assertEqual(code, 0, err)
        self.assertIn("16 points (11 done)", out)
        self.assertIn("point 5 failed: forced failure", out)
        code, out, err = cli("summary", path, "--csv")
        df = pd.read_csv(io.StringIO(out), index_col="point")
        self.assertEqual(len(df), 16)
        self.assertEqual(list(df.columns[:4]), SWEPT["grid"])

    def test_module_and_old_scripts(self):
        env = dict(os.environ, PYTHONPATH="")  # the scripts find the package themselves
        out = tempfile.mkdtemp(dir=DIR)
        tiny = files("tiny")[-1][1]
        runs = [[sys.executable, os.path.join(ANALYSIS, "scripts", "plot_demo.py"), tiny,
                 os.path.join(out, "demo.png")],
                [sys.executable, os.path.join(ANALYSIS, "scripts", "plot_pruning_maps.py"), tiny,
                 os.path.join(out, "pm.png"), "--select", "distribution=onehot"],
                [sys.executable, os.path.join(ANALYSIS, "scripts", "agreement.py"), tiny, "1"]]
        for cmd in runs:
            with self.subTest(script=os.path.basename(cmd[1])):
                res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
                self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(png_ok(os.path.join(out, "demo.png")))
        self.assertTrue(png_ok(os.path.join(out, "pm.png")))
        self.assertTrue(png_ok(os.path.join(out, "pm_maps.png")))
        res = subprocess.run([sys.executable, os.path.join(ANALYSIS, "scripts", "agreement.py"),
                              tiny, "1"], env=env, capture_output=True, text=True)
        # one row per done point, with every swept key
        lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1 + 12)
        self.assertIn("distribution", lines[0])
        self.assertIn("H", lines[0].split())

    def test_old_loader_api(self):
        import headspec_results as hr
        with hr.open_results(files("tiny")[1][1]) as f:
            g = hr.grid(f)
            rows = hr.select(g, activation="softmax", H=2)
            self.assertEqual(list(rows), [1, 7])
            p = hr.point(f, 7)
            self.assertEqual(p["sgd/m"].shape, (5, 2, 3))


if __name__ == "__main__":
    unittest.main()
