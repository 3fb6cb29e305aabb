# SPDX-License-Identifier: MIT
"""Errors: the library's one-line message, as ValueError (data, parameters),
OSError (files) or MemoryError; each also a softreg.LibraryError with .code."""
import os
import tempfile
import unittest

import common
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

import softreg
from softreg import SoftregClassifier


class Errors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.X, cls.y = common.blobs(n=200, d=4, k=3, seed=1)
        cls.tmp = tempfile.TemporaryDirectory()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_bad_parameters_checked_by_the_library(self):
        # softreg_check_params() says what is wrong
        for params, msg in (({"solver": "sgd", "lr": -1.0}, "lr must be a finite number > 0"),
                            ({"solver": "sgd", "momentum": 1.0}, r"momentum must be in \[0, 1\)"),
                            ({"l2": float("nan")}, "l2 must be a finite number >= 0"),
                            ({"tol": -1.0}, "tol must be a finite number >= 0"),
                            ({"solver": "sgd", "batch": 1 << 25}, "batch must be <= 16777216")):
            with self.subTest(**params):
                with self.assertRaisesRegex(ValueError, msg):
                    SoftregClassifier(**params).fit(self.X, self.y)

    def test_bad_parameters_checked_here(self):
        for params, msg in (({"solver": "newton"}, "solver must be 'lbfgs' or 'sgd'"),
                            ({"kernel": "fast"}, "kernel must be"),
                            ({"max_iter": 0}, "max_iter must be an integer"),
                            ({"solver": "sgd", "epochs": 2.5}, "epochs must be an integer"),
                            ({"seed": -1}, "seed must be an integer"),
                            ({"threads": -2}, "threads must be an integer")):
            with self.subTest(**params):
                with self.assertRaisesRegex(ValueError, msg):
                    SoftregClassifier(**params).fit(self.X, self.y)

    def test_kernel_that_does_not_take_the_data(self):
        with self.assertRaises(ValueError) as cm:
            SoftregClassifier(kernel="blas").fit(sp.csr_matrix(self.X), self.y)
        self.assertIn("the blas kernel does not take csr data", str(cm.exception))
        self.assertIsInstance(cm.exception, softreg.LibraryError)
        self.assertEqual(cm.exception.code, "param")
        # prediction falls back to the kernel that takes the data
        clf = SoftregClassifier(kernel="blas").fit(self.X, self.y)
        np.testing.assert_array_equal(clf.predict(sp.csr_matrix(self.X)), clf.predict(self.X))

    def test_divergence(self):
        with self.assertRaisesRegex(ValueError, "training diverged at epoch 1") as cm:
            SoftregClassifier(solver="sgd", lr=1e6, momentum=0.9).fit(self.X * 1e3, self.y)
        self.assertEqual(cm.exception.code, "diverged")

    def test_data_mismatch(self):
        clf = SoftregClassifier().fit(self.X, self.y)
        with self.assertRaisesRegex(ValueError, "X has 3 features, but SoftregClassifier is expecting 4"):
            clf.predict(self.X[:, :3])
        u8 = SoftregClassifier().fit(np.clip(self.X * 20 + 100, 0, 255).astype(np.uint8), self.y)
        with self.assertRaises(ValueError) as cm:
            u8.predict(self.X)
        self.assertIn("X: real-valued features, but the model was trained on uint8", str(cm.exception))
        self.assertEqual(cm.exception.code, "mismatch")
        # a centring model refuses sparse data (the library's check)
        std = SoftregClassifier(standardize=True).fit(self.X, self.y)
        with self.assertRaisesRegex(ValueError, "sparse data, but the model centres its features"):
            std.predict(sp.csr_matrix(self.X))

    def test_labels(self):
        with self.assertRaisesRegex(ValueError, "one class"):
            SoftregClassifier().fit(self.X, np.full(len(self.y), 7))
        with self.assertRaisesRegex(ValueError, "Unknown label type"):
            SoftregClassifier().fit(self.X, self.y + 0.5)
        with self.assertRaisesRegex(ValueError, "requires y"):
            SoftregClassifier().fit(self.X, None)
        with self.assertRaisesRegex(ValueError, "inconsistent numbers of samples"):
            SoftregClassifier().fit(self.X, self.y[:-1])

    def test_not_fitted(self):
        for method in ("predict", "predict_proba", "decision_function"):
            with self.assertRaises(NotFittedError):
                getattr(SoftregClassifier(), method)(self.X)
        with self.assertRaises(NotFittedError):
            SoftregClassifier().save(os.path.join(self.tmp.name, "never.srm"))

    def test_files(self):
        missing = os.path.join(self.tmp.name, "no-such.srm")
        with self.assertRaises(OSError) as cm:
            softreg.load(missing)
        self.assertIn(missing, str(cm.exception))
        self.assertEqual(cm.exception.code, "io")
        bad = os.path.join(self.tmp.name, "bad.srm")
        clf = SoftregClassifier().fit(self.X, self.y)
        clf.save(bad)
        with open(bad, "r+b") as f:  # one flipped byte: the CRC catches it
            f.seek(100)
            b = f.read(1)
            f.seek(100)
            f.write(bytes([b[0] ^ 1]))
        with self.assertRaises(ValueError) as cm:
            softreg.load(bad)
        self.assertIn(bad, str(cm.exception))
        self.assertEqual(cm.exception.code, "format")
        with self.assertRaises(OSError) as cm:  # a folder is refused as a target
            clf.save(self.tmp.name)
        self.assertIn(self.tmp.name, str(cm.exception))
        with self.assertRaises(OSError):
            clf.save(os.path.join(self.tmp.name, "no-such-dir", "m.srm"))


if __name__ == "__main__":
    common.main()
