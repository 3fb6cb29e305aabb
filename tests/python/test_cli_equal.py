# SPDX-License-Identifier: MIT
"""The same data and options give the same model file, byte for byte, from
`softreg train` ($SOFTREG) and from SoftregClassifier.fit + save."""
import os
import subprocess
import tempfile
import unittest

import common
import numpy as np

import softreg
from softreg import SoftregClassifier


def make(n, d, k, seed, dtype):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((k, d))
    y = rng.integers(0, k, size=n)
    X = centers[y] + rng.standard_normal((n, d))
    if dtype == np.uint8:
        X = np.clip(X * 40 + 128, 0, 255)
    return np.ascontiguousarray(X.astype(dtype)), (1000 + 3 * y).astype(np.int64)


class SameBytes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def compare(self, X, y, cli_flags, est):
        xp, yp = os.path.join(self.dir, "x.npy"), os.path.join(self.dir, "y.npy")
        a, b = os.path.join(self.dir, "a.srm"), os.path.join(self.dir, "b.srm")
        np.save(xp, X)
        np.save(yp, y)
        cmd = [common.softreg_exe(), "train", "--train", xp, "--train-labels", yp, "--quiet", "--out", a] + cli_flags
        r = subprocess.run(cmd, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        est.fit(X, y).save(b)
        with open(a, "rb") as fa, open(b, "rb") as fb:
            ba, bb = fa.read(), fb.read()
        self.assertEqual(len(ba), len(bb))
        if ba != bb:
            first = next(i for i in range(len(ba)) if ba[i] != bb[i])
            self.fail(f"{' '.join(cli_flags)}: the files differ first at byte {first} of {len(ba)}")
        # and the CLI's model predicts like the estimator
        np.testing.assert_array_equal(softreg.load(a).predict(X), est.predict(X))

    def test_lbfgs(self):
        X, y = make(3000, 40, 7, 1, np.float32)
        self.compare(X, y, ["--solver", "lbfgs"], SoftregClassifier(solver="lbfgs"))

    def test_lbfgs_options(self):
        X, y = make(2000, 30, 5, 2, np.float32)
        self.compare(X, y, ["--solver", "lbfgs", "--l2", "1e-3", "--max-iter", "50", "--tol", "1e-4",
                            "--standardize"],
                     SoftregClassifier(solver="lbfgs", l2=1e-3, max_iter=50, tol=1e-4, standardize=True))

    def test_sgd(self):
        X, y = make(3000, 40, 7, 3, np.float32)
        self.compare(X, y, ["--epochs", "3", "--batch", "64", "--lr", "0.1", "--momentum", "0.5", "--seed", "9"],
                     SoftregClassifier(solver="sgd", epochs=3, batch=64, lr=0.1, momentum=0.5, seed=9))

    def test_float16_and_uint8(self):
        for dtype in (np.float16, np.uint8):
            with self.subTest(dtype=np.dtype(dtype).name):
                X, y = make(2000, 30, 4, 4, dtype)
                self.compare(X, y, ["--solver", "lbfgs"], SoftregClassifier())


if __name__ == "__main__":
    common.main()
