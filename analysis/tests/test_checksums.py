"""The package's fast checksums and string decoding against the plain
way: checks.point_checksums (a byte matrix per block, one zlib call per
point) against one zlib call per point and dataset, on tiny.h5, the
revision-3 file tests/data/rev3.h5, grid.h5 (a failed point) and a copy
with one value changed; integrity.crc_of (strings joined) and
strings.decode_strings (bytes joined) against each string on its own."""
import os
import shutil
import tempfile
import unittest
import zlib

import h5py
import numpy as np

from headspec import checks, integrity, strings

DIR = os.environ.get("HEADSPEC_TEST_DIR")
REV3 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "data",
                    "rev3.h5")


def checksums_by_row(f, status, groups):
    """The C side's CRC-32 of each point (docs/RESULTS.md, "Checksums"),
    one zlib call per point and dataset row."""
    names = checks._listed(f)
    crc = [0] * len(status)
    for gname, points in groups.items():
        group = f["results"][gname]
        for name in (x for x in names if not x.startswith("grid/") and x in group):
            data = group[name][()]
            for r, i in enumerate(points):
                if status[i] == 1:
                    crc[i] = zlib.crc32(data[r].tobytes(), crc[i])
    for name in (x for x in names if x.startswith("grid/")):
        data = f[name][()]
        for i in range(len(status)):
            if status[i] in (1, 2):
                crc[i] = zlib.crc32(data[i].tobytes(), crc[i])
    return np.array(crc, dtype=np.uint32)


def both(path):
    with h5py.File(path, "r") as f:
        status = f["grid/status"][()]
        groups = {g: f["results"][g]["point"][()] for g in f["results"]}
        fast, missing = checks.point_checksums(f, status, groups)
        return fast, checksums_by_row(f, status, groups), f["grid/checksum"][()], status, \
            missing


class TestChecksums(unittest.TestCase):
    def files(self):
        out = [REV3]
        if DIR:
            out += [os.path.join(DIR, "tiny.h5"), os.path.join(DIR, "grid.h5")]
        return out

    def test_points_as_by_row(self):
        for path in self.files():
            fast, slow, stored, status, missing = both(path)
            np.testing.assert_array_equal(fast, slow, err_msg=path)
            self.assertEqual(missing, [])
            done = np.isin(status, (1, 2))
            np.testing.assert_array_equal(fast[done], np.asarray(stored, np.uint32)[done])

    def test_a_changed_value(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "changed.h5")
            shutil.copy(REV3, path)
            with h5py.File(path, "r+") as f:
                group = f["results"][sorted(f["results"])[0]]
                point = int(group["point"][1])
                group["ode/loss"][1, -1] += 1e-12
            fast, slow, stored, _, _ = both(path)
            np.testing.assert_array_equal(fast, slow)
            self.assertEqual(list(np.flatnonzero(fast != np.asarray(stored, np.uint32))),
                             [point])

    def test_strings_joined(self):
        words = [b"a", b"\xff\xfeb", b"", b"\xe2\x82", "é".encode(), b"x y"]
        self.assertEqual(list(strings.decode_strings(np.array(words, object), distinct=False)),
                         [w.decode("utf-8", "replace") for w in words])
        for values in (np.array(words, object), np.array(["a", "é", ""], object),
                       np.array([], object), np.array(["ab", "c"])):
            by_one = 0
            for v in values:
                b = v if isinstance(v, bytes) else str(v).encode("utf-8", "surrogateescape")
                by_one = zlib.crc32(b + b"\0", by_one)
            self.assertEqual(integrity.crc_of(values), by_one)


if __name__ == "__main__":
    unittest.main()
