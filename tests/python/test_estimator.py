# SPDX-License-Identifier: MIT
"""SoftregClassifier as a scikit-learn estimator: check_estimator in full (both
solvers), and the behaviours the brief names: labels of any kind round-trip,
pickling, save/load, parameters mapping to LogisticRegression's objective."""
import os
import pickle
import tempfile
import unittest
import warnings
from unittest import SkipTest

import common
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import SkipTestWarning
from sklearn.utils.estimator_checks import check_estimator

import softreg
from softreg import SoftregClassifier


class CheckEstimator(unittest.TestCase):
    def run_checks(self, est):
        """Every check of check_estimator, one by one (as check_estimator runs
        them); returns (checks run, checks skipped with their reasons)."""
        ran, skipped = [], []
        for estimator, check in check_estimator(est, generate_only=True):
            name = getattr(check, "func", check).__name__
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SkipTestWarning)
                try:
                    check(estimator)
                except SkipTest as e:  # check_estimator turns these into SkipTestWarning too
                    skipped.append(f"{name}: {e}")
                    continue
            skipped += [f"{name}: {w.message}" for w in caught if issubclass(w.category, SkipTestWarning)]
            ran.append(name)
        print(f"\n{type(est).__name__}(solver={est.solver!r}): {len(ran)} checks passed, {len(skipped)} skipped")
        for s in skipped:
            print("  skipped:", s)
        return ran, skipped

    def test_check_estimator_lbfgs(self):
        ran, skipped = self.run_checks(SoftregClassifier())
        self.assertGreater(len(ran), 40)
        # nothing is skipped but what needs pandas, which Debian's python3-sklearn does not pull in
        self.assertTrue(all("pandas" in s for s in skipped), skipped)

    def test_check_estimator_sgd(self):
        ran, skipped = self.run_checks(SoftregClassifier(solver="sgd", epochs=20, lr=0.1))
        self.assertGreater(len(ran), 40)
        self.assertTrue(all("pandas" in s for s in skipped), skipped)

    def test_check_estimator_whole(self):
        check_estimator(SoftregClassifier())  # as users call it


class Behaviour(unittest.TestCase):
    def test_labels_round_trip(self):
        X, y = common.blobs(n=240, d=4, k=3, seed=1)
        for labels in (np.array(["cat", "dog", "eel"]), np.array([-1, 1, 7]), np.array([2.0, 4.0, 8.0]),
                       np.array([10**12, -5, 3], dtype=np.int64), np.array([0, 1, 2], dtype=np.uint8),
                       np.array(["cat", "dog", "eel"], dtype=object)):
            with self.subTest(labels=labels.tolist()):
                yl = labels[y]
                clf = SoftregClassifier().fit(X, yl)
                self.assertEqual(clf.classes_.dtype, labels.dtype)
                np.testing.assert_array_equal(clf.classes_, np.unique(labels))
                pred = clf.predict(X)
                self.assertEqual(pred.dtype, labels.dtype)
                self.assertGreater(np.mean(pred == yl), 0.9)

    def test_binary_minus_one_plus_one(self):
        X, y = common.blobs(n=200, d=3, k=2, seed=2)
        yl = np.array([-1, 1])[y]
        clf = SoftregClassifier().fit(X, yl)
        np.testing.assert_array_equal(clf.classes_, [-1, 1])
        dec = clf.decision_function(X)
        self.assertEqual(dec.shape, (200,))
        np.testing.assert_array_equal(clf.predict(X), np.where(dec > 0, 1, -1))
        self.assertEqual(clf.coef_.shape, (2, 3))
        self.assertEqual(clf.predict_proba(X).shape, (200, 2))

    def test_integer_labels_in_the_model_table(self):
        # integer labels go into the .srm class table as they are (what the CLI prints)
        X, y = common.blobs(n=90, d=3, k=3, seed=3)
        clf = SoftregClassifier().fit(X, np.array([1000, 1003, 1006])[y])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.srm")
            clf.save(path)
            back = softreg.load(path)
        np.testing.assert_array_equal(back.classes_, [1000, 1003, 1006])
        np.testing.assert_array_equal(back.predict(X), clf.predict(X))

    def test_decision_is_linear_in_X(self):
        # coef_ and intercept_ are on the input's scale, whatever the preprocessing
        rng = np.random.default_rng(4)
        X, y = common.blobs(n=300, d=6, k=4, seed=4)
        Xu8 = rng.integers(0, 256, size=(300, 6), dtype=np.uint8)
        for est, data in ((SoftregClassifier(), X), (SoftregClassifier(standardize=True), X),
                          (SoftregClassifier(), Xu8), (SoftregClassifier(standardize=True), Xu8)):
            with self.subTest(standardize=est.standardize, dtype=str(data.dtype)):
                est.fit(data, y)
                want = data.astype(np.float64) @ est.coef_.T.astype(np.float64) + est.intercept_
                np.testing.assert_allclose(est.decision_function(data), want, rtol=1e-4, atol=1e-4)
                self.assertFalse(est.coef_.flags.writeable)

    def test_pickle_round_trip(self):
        X, y = common.blobs(n=200, d=5, k=4, seed=5)
        clf = SoftregClassifier(standardize=True).fit(X, np.array(["a", "b", "c", "d"])[y])
        back = pickle.loads(pickle.dumps(clf))
        self.assertIsNot(back._model, clf._model)
        np.testing.assert_array_equal(back.predict(X), clf.predict(X))
        np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
        np.testing.assert_array_equal(back.coef_, clf.coef_)
        self.assertEqual(back.get_params(), clf.get_params())
        self.assertEqual(back.n_iter_, clf.n_iter_)
        # an unfitted estimator pickles too
        self.assertEqual(pickle.loads(pickle.dumps(SoftregClassifier(l2=3.0))).l2, 3.0)

    def test_save_load_bytes_identical(self):
        X, y = common.blobs(n=200, d=5, k=3, seed=6)
        clf = SoftregClassifier().fit(X, y)
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, "a.srm"), os.path.join(tmp, "b.srm")
            clf.save(a)
            softreg.load(a).save(b)
            with open(a, "rb") as fa, open(b, "rb") as fb:
                self.assertEqual(fa.read(), fb.read())

    def test_refit_and_clone(self):
        X, y = common.blobs(n=200, d=5, k=3, seed=7)
        clf = SoftregClassifier().fit(X, y)
        coef = clf.coef_.copy()
        self.assertFalse(hasattr(clone(clf), "coef_"))
        clf.fit(X[:, :3], y)  # a different shape: the old views stay valid
        self.assertEqual(clf.coef_.shape, (3, 3))
        self.assertEqual(coef.shape, (3, 5))

    def test_objective_is_sklearns_with_c(self):
        # l2 = 1 / (C n): the same optimum as LogisticRegression(C) (multinomial)
        from sklearn.linear_model import LogisticRegression
        X, y = common.blobs(n=400, d=6, k=3, seed=8, sep=1.0)
        lam = 1e-2
        ours = SoftregClassifier(l2=lam, tol=1e-7).fit(X, y)
        theirs = LogisticRegression(C=1 / (lam * len(y)), tol=1e-10, max_iter=10000).fit(X, y)

        def F(coef, intercept):
            Z = X @ coef.T.astype(np.float64) + intercept
            Z -= Z.max(axis=1, keepdims=True)
            ce = np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]
            return ce.mean() + lam / 2 * np.sum(coef.astype(np.float64) ** 2)

        f_ours, f_theirs = F(ours.coef_, ours.intercept_), F(theirs.coef_, theirs.intercept_)
        self.assertLess(abs(f_ours - f_theirs) / f_theirs, 1e-6, (f_ours, f_theirs))
        self.assertAlmostEqual(ours.objective(X, y), f_ours, delta=1e-6 * f_ours)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))

    def test_threads_do_not_change_the_model(self):
        X, y = common.blobs(n=500, d=20, k=5, seed=9)
        a = SoftregClassifier(threads=1).fit(X, y)
        b = SoftregClassifier(threads=2).fit(X, y)
        np.testing.assert_array_equal(a.coef_, b.coef_)

    def test_sgd_defaults_are_the_cli(self):
        X, y = common.blobs(n=1000, d=8, k=3, seed=10)
        clf = SoftregClassifier(solver="sgd").fit(X, y)
        self.assertEqual(clf.n_iter_, 2)
        self.assertGreater(clf.score(X, y), 0.9)


if __name__ == "__main__":
    common.main()
