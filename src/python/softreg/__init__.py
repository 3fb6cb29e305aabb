# SPDX-License-Identifier: MIT
"""softreg: softmax regression from Python, over libsoftreg (ctypes, no build step).

    from softreg import SoftregClassifier
    clf = SoftregClassifier(l2=1e-4).fit(X, y)      # L-BFGS to the optimum of F
    clf.predict(X_test); clf.predict_proba(X_test); clf.score(X_test, y_test)
    clf.save("model.srm")                           # `softreg eval --model model.srm` reads it
    clf = softreg.load("model.srm")                 # also models from `softreg train --out`

SoftregClassifier is a scikit-learn estimator (BaseEstimator, ClassifierMixin:
pipelines, grid search, clone and pickle work). It minimises the objective of
softreg's README, F(W, b) = mean cross-entropy + (l2/2)|W|^2 (bias not
regularised), which is scikit-learn's LogisticRegression objective with
C = 1/(l2 * n) for n training rows. float32, float16 and uint8 C-contiguous
arrays are read by the library in place, scipy.sparse CSR matrices without
densifying; see SoftregClassifier's docstring for what is copied and when.

The library: $SOFTREG_LIB when set; else build/libsoftreg.so.0 of the
repository when this package is imported from its source tree
(PYTHONPATH=src/python); else ctypes.util.find_library('softreg'); else
libsoftreg.so.0 on the loader's path. `softreg.lib_path` says which.
Importing sets OMP_WAIT_POLICY=passive unless it is set (OpenMP threads sleep
rather than spin at barriers; the CLI bounds the spin instead).

Errors of the library raise ValueError (bad data or parameters), OSError (a
file) or MemoryError, carrying the library's one-line message; each is also a
softreg.LibraryError with .code ("format", "param", "mismatch", ...).

Not here yet: softreg.sweep (choosing l2 on a validation split from
Python). The `softreg sweep` command does it; its engine (the warm-started
path, the search, the refit) lives in the command, and comes here once it
moves into the library.
"""
from ._lib import LibraryError, lib_path
from ._estimator import SoftregClassifier, load

__version__ = "0.2.0"
__all__ = ["SoftregClassifier", "load", "LibraryError", "lib_path", "blas_core", "threads"]


def blas_core():
    """The OpenBLAS core libsoftreg uses ("Haswell", "SkylakeX", ...)."""
    from ._lib import lib
    return (lib.softreg_blas_corename() or b"").decode()


def threads():
    """The thread count libsoftreg would use now in this thread."""
    from ._lib import lib
    return lib.softreg_get_threads()
