# SPDX-License-Identifier: MIT
"""What X may be: CSR gives the dense result without densifying; float16,
uint8 and float32 are read in place, the rest converted; NaN and inf refused."""
import unittest

import common
import numpy as np
import scipy.sparse as sp

from softreg import SoftregClassifier
from softreg import _estimator


def sparse_problem(n=600, d=50, k=4, seed=0, density=0.2):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, d)) * 2
    X = sp.random(n, d, density=density, format="csr", random_state=seed, dtype=np.float64)
    y = np.argmax(X @ W.T + 0.5 * rng.standard_normal((n, k)), axis=1)
    return X, y


class Sparse(unittest.TestCase):
    def test_csr_equals_dense(self):
        X, y = sparse_problem()
        for est in (SoftregClassifier(tol=1e-7), SoftregClassifier(standardize=True, tol=1e-7),
                    SoftregClassifier(solver="sgd", epochs=5, lr=0.1)):
            with self.subTest(solver=est.solver, standardize=est.standardize):
                dense = SoftregClassifier(**est.get_params()).fit(X.toarray(), y)
                sparse = est.fit(X, y)
                # the same optimum (standardised sparse data is not centred, which moves the
                # means into the unregularised bias), reached to the solvers' tolerance
                scale = np.abs(dense.coef_).max()
                np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-3, atol=1e-3 * scale)
                np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-3, atol=1e-3 * scale)
                # predictions: on the sparse and on the dense rows, by both models
                p = dense.predict(X.toarray())
                agree = np.mean(sparse.predict(X) == p)
                self.assertGreaterEqual(agree, 0.995)
                np.testing.assert_array_equal(sparse.predict(X), sparse.predict(X.toarray()))
                np.testing.assert_allclose(sparse.predict_proba(X), sparse.predict_proba(X.toarray()), atol=1e-5)

    def test_csr_arrays_passed_as_they_are(self):
        X, y = sparse_problem()
        X32 = X.astype(np.float32)
        X32.indptr = X32.indptr.astype(np.int64)  # int64 indptr: viewed as uint64; int32 indices: as uint32
        data = _estimator._prepare_X(X32, "X", None)
        indptr, indices, values = data._arrays
        self.assertTrue(np.shares_memory(indptr, X32.indptr))
        self.assertTrue(np.shares_memory(indices, X32.indices))
        self.assertTrue(np.shares_memory(values, X32.data))
        self.assertEqual(data.ds.x.values[0], X32.data[0])

    def test_unsorted_and_duplicate_indices(self):
        X, y = sparse_problem(n=300, d=20)
        ref = SoftregClassifier().fit(X, y)
        # the same matrix with each row's entries reversed and one entry split in two
        rows, cols, vals = [], [], []
        for i in range(X.shape[0]):
            s, e = X.indptr[i], X.indptr[i + 1]
            for j, v in zip(X.indices[s:e][::-1], X.data[s:e][::-1]):
                if i == 0:
                    rows += [i, i]
                    cols += [j, j]
                    vals += [v / 2, v / 2]
                else:
                    rows.append(i)
                    cols.append(j)
                    vals.append(v)
        indptr = np.zeros(X.shape[0] + 1, dtype=np.int64)
        np.add.at(indptr, np.array(rows) + 1, 1)
        messy = sp.csr_matrix((np.array(vals), np.array(cols), np.cumsum(indptr)), shape=X.shape)
        self.assertFalse(messy.has_sorted_indices)
        got = SoftregClassifier().fit(messy, y)
        np.testing.assert_allclose(got.coef_, ref.coef_, rtol=1e-5, atol=1e-6)

    def test_other_sparse_formats(self):
        X, y = sparse_problem(n=200, d=15)
        ref = SoftregClassifier().fit(X, y).predict(X)
        for fmt in ("csc", "coo", "lil"):
            with self.subTest(fmt=fmt):
                np.testing.assert_array_equal(SoftregClassifier().fit(X.asformat(fmt), y).predict(X.asformat(fmt)),
                                              ref)


class Dense(unittest.TestCase):
    def test_in_place_or_converted(self):
        X, _ = common.blobs(n=50, d=4)
        for arr, in_place, kind in ((X.astype(np.float32), True, "float32"),
                                    (X.astype(np.float16), True, "float16"),
                                    (np.clip(X * 20 + 100, 0, 255).astype(np.uint8), True, "uint8"),
                                    (X, False, "float32"),
                                    (np.asfortranarray(X.astype(np.float32)), False, "float32"),
                                    (X.astype(np.float32)[:, ::2], False, "float32"),
                                    (np.asfortranarray(X.astype(np.uint8)), False, "uint8"),
                                    (X.astype(">f4"), False, "float32"),
                                    ((X > 0), False, "float32"),
                                    (X.astype(np.int64), False, "float32")):
            with self.subTest(dtype=str(arr.dtype), c=arr.flags.c_contiguous):
                data = _estimator._prepare_X(arr, "X", None)
                self.assertEqual(np.shares_memory(data.X, arr), in_place)
                self.assertEqual(data.X.dtype.name, kind)
                self.assertEqual(data.ds.x.data, data.X.ctypes.data)

    def test_dtypes_agree(self):
        # float16 / float32 / float64 versions of the same values give the same model
        X, y = common.blobs(n=300, d=6, k=3, seed=3)
        X16 = X.astype(np.float16)
        models = [SoftregClassifier().fit(X16.astype(t), y) for t in (np.float16, np.float32, np.float64)]
        for m in models[1:]:
            np.testing.assert_array_equal(m.coef_, models[0].coef_)

    def test_uint8_scaled_like_the_cli(self):
        X, y = common.blobs(n=300, d=6, k=3, seed=4)
        X8 = np.clip(X * 30 + 128, 0, 255).astype(np.uint8)
        a = SoftregClassifier().fit(X8, y)
        b = SoftregClassifier().fit(X8.astype(np.float32) * np.float32(1 / 255), y)
        self.assertEqual(a._model.m.input, 0)
        np.testing.assert_allclose(a.predict_proba(X8), b.predict_proba(X8.astype(np.float32) * np.float32(1 / 255)),
                                   atol=1e-5)
        # a uint8 model takes uint8 data only (the library says so)
        with self.assertRaisesRegex(ValueError, "uint8"):
            a.predict(X8.astype(np.float32))

    def test_nan_inf_refused(self):
        X, y = common.blobs(n=100, d=4, seed=5)
        for dtype in (np.float16, np.float32, np.float64):
            for bad in (np.nan, np.inf, -np.inf):
                with self.subTest(dtype=np.dtype(dtype).name, bad=bad):
                    Xb = X.astype(dtype)
                    Xb[37, 2] = bad
                    with self.assertRaisesRegex(ValueError, r"X contains NaN or inf \(row 37"):
                        SoftregClassifier().fit(Xb, y)
                    with self.assertRaisesRegex(ValueError, "NaN or inf"):
                        SoftregClassifier().fit(sp.csr_matrix(Xb), y)
        # float64 beyond float32's range becomes inf in the conversion: refused too
        Xb = X.copy()
        Xb[5, 0] = 1e300
        with self.assertRaisesRegex(ValueError, "row 5"):
            SoftregClassifier().fit(Xb, y)
        clf = SoftregClassifier().fit(X, y)
        Xb = X.astype(np.float32)
        Xb[3, 1] = np.nan
        with self.assertRaisesRegex(ValueError, "row 3"):
            clf.predict(Xb)


if __name__ == "__main__":
    common.main()
