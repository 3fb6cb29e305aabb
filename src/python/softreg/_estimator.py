# SPDX-License-Identifier: MIT
"""_estimator.py: SoftregClassifier, a scikit-learn estimator over libsoftreg."""
import ctypes
import inspect
import numbers
import os
import signal
import tempfile
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, check_is_fitted, column_or_1d

from . import _lib
from ._lib import lib

_P = ctypes.POINTER
_U32_MAX = (1 << 32) - 1
_U64_MAX = (1 << 64) - 1
_MAX_CLASSES = 65535       # SOFTREG_MAX_CLASSES
_MAX_FEATURES = (1 << 31) - 1  # SOFTREG_MAX_FEATURES
_IN_PLACE = (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.uint8))
_KIND = {np.dtype(np.float32): _lib.SOURCE_F32, np.dtype(np.float16): _lib.SOURCE_F16,
         np.dtype(np.uint8): _lib.SOURCE_U8}
_FINITE_CHUNK = 1 << 22    # elements per finiteness check (a 4 MB temporary)
_EVAL_ROWS, _EVAL_FLOATS = 4096, 4 << 20  # rows per logits call, as the library's evaluation

# scikit-learn renamed force_all_finite to ensure_all_finite in 1.6
_FINITE_KW = ("ensure_all_finite" if "ensure_all_finite" in inspect.signature(check_array).parameters
              else "force_all_finite")


class _Model:
    """Owns a struct softreg_model * (freed with the last reference)."""

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        ptr, self.ptr = getattr(self, "ptr", None), None
        if ptr and _lib is not None and lib is not None:
            lib.softreg_model_free(ptr)

    @property
    def m(self):
        return self.ptr.contents

    def array(self, field, shape, ctype, np_dtype, writeable=False):
        """A numpy view of one of the model's arrays; it keeps the model alive."""
        addr = ctypes.cast(getattr(self.m, field), ctypes.c_void_p).value
        return np.asarray(_Buffer(self, addr, shape, np.dtype(np_dtype).str, not writeable))

    def to_bytes(self):
        """The model's .srm bytes (softreg_model_save into a temporary folder)."""
        with tempfile.TemporaryDirectory(prefix="softreg-") as tmp:
            path = os.path.join(tmp, "model.srm")
            err = _lib.errbuf()
            _lib.check(lib.softreg_model_save(self.ptr, None, os.fsencode(path), err), err)
            with open(path, "rb") as f:
                return f.read()

    @classmethod
    def from_bytes(cls, buf, name="pickled model"):
        mp = _P(_lib.Model)()
        err = _lib.errbuf()
        _lib.check(lib.softreg_model_parse(buf, len(buf), name.encode(), ctypes.byref(mp), None, err), err)
        return cls(mp)

    @classmethod
    def load(cls, path):
        mp = _P(_lib.Model)()
        err = _lib.errbuf()
        _lib.check(lib.softreg_model_load(os.fsencode(path), ctypes.byref(mp), None, err), err)
        return cls(mp)


class _Buffer:
    """An object numpy can view (__array_interface__) that holds the model."""

    def __init__(self, owner, addr, shape, typestr, readonly):
        self._owner = owner
        self.__array_interface__ = {"data": (addr, readonly), "shape": tuple(shape), "typestr": typestr,
                                    "version": 3}


class _Data:
    """Features as the library sees them: a struct softreg_dataset over numpy
    buffers (kept alive here). Labels are added by _Data.labels()."""

    def __init__(self, X, kind, arrays):
        self.X, self.kind, self._arrays = X, kind, arrays
        self.n, self.d = X.shape
        ds = _lib.new(_lib.Dataset)
        ds.x.kind = kind
        ds.x.n = ds.n = self.n
        ds.x.d = ds.d = self.d
        ds.rows, ds.cols = 1, self.d
        if kind == _lib.SOURCE_CSR:
            indptr, indices, values = arrays
            ds.x.indptr = indptr.ctypes.data_as(_P(ctypes.c_uint64))
            ds.x.indices = indices.ctypes.data_as(_P(ctypes.c_uint32))
            ds.x.values = values.ctypes.data_as(_P(ctypes.c_float))
        else:
            ds.x.data = X.ctypes.data
        self.ds = ds

    def set_labels(self, labels):
        self._labels = labels
        self.ds.labels = labels.ctypes.data_as(_P(ctypes.c_int64))

    def free_y(self):
        """Free what softreg_dataset_map_labels() allocated (only y is the library's)."""
        if self.ds.y:
            self.ds.labels = None
            self.ds.x = _lib.Source()
            lib.softreg_dataset_free(ctypes.byref(self.ds))


def _check_finite(values, what):
    """ValueError when float 'values' (1-D or 2-D) hold a NaN or an infinity; in
    chunks, so the temporary stays small whatever the size of the data."""
    if values.dtype.kind != "f" or values.size == 0:
        return
    flat2d = values.reshape(values.shape[0], -1) if values.ndim == 2 else values.reshape(-1, 1)
    rows = max(1, _FINITE_CHUNK // max(1, flat2d.shape[1]))
    for i0 in range(0, flat2d.shape[0], rows):
        ok = np.isfinite(flat2d[i0:i0 + rows])
        if not ok.all():
            bad = i0 + int(np.flatnonzero(~ok.all(axis=1))[0])
            where = f"row {bad}" if values.ndim == 2 else f"stored value {bad}"
            raise ValueError(f"{what} contains NaN or inf ({where}, counting from 0)")


def _prepare_X(X, name, estimator):
    """X as a _Data: float32, float16 and uint8 C-contiguous arrays in place,
    CSR without densifying; anything else converted once."""
    X = check_array(X, accept_sparse="csr", dtype="numeric", estimator=estimator, input_name="X",
                    **{_FINITE_KW: False})
    n, d = X.shape
    if d > _MAX_FEATURES:
        raise ValueError(f"{name} has {d} features; a model takes at most {_MAX_FEATURES}")
    if n > _U32_MAX:
        raise ValueError(f"{name} has {n} rows; the library takes at most {_U32_MAX}")
    if sp.issparse(X):
        if not X.has_canonical_format:  # the library wants strictly increasing columns within a row
            X = X.copy()
            X.sum_duplicates()
        indptr = X.indptr.view(np.uint64) if X.indptr.dtype == np.int64 else X.indptr.astype(np.uint64)
        indices = X.indices.view(np.uint32) if X.indices.dtype == np.int32 else X.indices.astype(np.uint32)
        with np.errstate(over="ignore"):
            values = X.data if X.data.dtype == np.float32 else X.data.astype(np.float32)
        indptr, indices, values = (np.ascontiguousarray(a) for a in (indptr, indices, values))
        _check_finite(values, name)
        return _Data(X, _lib.SOURCE_CSR, (indptr, indices, values))
    if X.dtype in _IN_PLACE:
        if not (X.flags.c_contiguous and X.flags.aligned):
            X = np.ascontiguousarray(X)  # the same dtype: uint8 keeps its meaning (pixels / 255)
    else:
        with np.errstate(over="ignore"):  # values beyond float32 become inf: refused just below
            X = np.ascontiguousarray(X, dtype=np.float32)
    _check_finite(X, name)
    return _Data(X, _KIND[X.dtype], ())


def _int_param(est, name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise ValueError(f"{type(est).__name__}: {name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _float_param(est, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{type(est).__name__}: {name} must be a number, got {value!r}")
    return float(value)


class _StopOnSigint:
    """While training: SIGINT sets a flag (instead of raising KeyboardInterrupt
    somewhere in a ctypes callback, where it would be lost) and the progress
    callback returns 1, so the library stops after the current batch or
    iteration. Only in the main thread, and only when SIGINT has Python's
    default handler; otherwise a KeyboardInterrupt caught in the callback
    does the same."""

    def __init__(self):
        self.hit = False
        self._old = None
        self.callback = _lib.ProgressFn(self._progress)  # referenced here while the library may call it

    def _handler(self, signum, frame):
        self.hit = True

    def _progress(self, info, user):
        try:
            return 1 if self.hit else 0
        except KeyboardInterrupt:  # pending signals run when Python code does
            self.hit = True
            return 1

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._old = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
            self._old = None
        return False


class SoftregClassifier(ClassifierMixin, BaseEstimator):
    """Softmax (multinomial logistic) regression trained by libsoftreg.

    Minimises the objective of softreg's README, over the n rows of X:

        F(W, b) = (1/n) sum_i CE(softmax(W x_i + b), y_i) + (l2/2) |W|^2

    (the bias is not regularised), the same F as scikit-learn's
    LogisticRegression(multi_class='multinomial') with ``C = 1 / (l2 * n)``:
    ``l2 = 1 / (C * n)``. L-BFGS finds its minimum; SGD approximates it.

    Parameters
    ----------
    solver : {'lbfgs', 'sgd'}, default='lbfgs'
        Full-batch L-BFGS (the exact optimum of F) or mini-batch SGD with
        momentum and a cosine learning-rate schedule (softreg train's default).
    l2 : float or None, default=None
        lambda of F; None means 1e-4 for lbfgs and 0 for sgd (as the CLI).
    max_iter : int or None, default=None
        L-BFGS: the most iterations (None: 1000). Ignored by sgd.
    tol : float, default=1e-5
        L-BFGS: stop when |grad F| <= tol. Ignored by sgd.
    epochs : int or None, default=None
        SGD: passes over the data (None: 2). Ignored by lbfgs.
    batch, lr, momentum : SGD's batch size (100), learning rate (0.3) and
        momentum (0.9). Ignored by lbfgs.
    standardize : bool, default=False
        Per-feature standardisation with the training rows' mean and standard
        deviation, kept in the model (sparse data: scaled, not centred).
    kernel : {'auto', 'blas', 'sparse', 'naive'}, default='auto'
        The library's kernel: auto is blas for dense X and sparse for CSR.
        Prediction falls back to auto when the kernel does not take the data.
    threads : int or None, default=None
        OpenMP and OpenBLAS threads of the calling thread, set with
        softreg_set_threads() at each fit and predict; None leaves them as
        they are (all cores by default); 0 means all cores.
    seed : int, default=1
        Seed of SGD's shuffles (and stored in the model).

    Data
    ----
    X is used without a copy when it is a C-contiguous, aligned numpy array of
    float32, float16 or uint8: the library reads the numpy buffer in place
    (float16 rows are widened chunk by chunk). uint8 features mean pixels:
    the model scales them by 1/255 (as ``softreg train`` does for uint8 data)
    and then takes only uint8 data. Every other array (float64, integers,
    bool, non-contiguous, big-endian) is converted once to a float32 copy.
    A ``scipy.sparse`` matrix is used as CSR without densifying: its indptr is
    viewed as uint64 when it is int64 (else converted), indices as uint32
    when int32, data used as is when float32 (else converted); unsorted or
    duplicate indices are summed into a canonical copy. NaN or infinite
    features raise ValueError (also values that overflow float32).

    Labels y may be of any integer dtype (converted once to int64: the model's
    class table then holds their values, as ``softreg train`` does), bool,
    strings or floats with integral values (mapped to 0..k-1 through
    np.unique; the model's table then holds 0..k-1). Continuous targets such
    as 1.5 are refused as scikit-learn's classifiers refuse them.

    The GIL is released while the library trains and predicts. Ctrl-C during
    fit stops training after the current batch (SGD) or iteration (L-BFGS)
    and raises KeyboardInterrupt, leaving the estimator as it was.

    Attributes
    ----------
    classes_ : ndarray (k,)
        The label values, in increasing order, of the dtype of y.
    coef_ : ndarray of float32 (k, d), read-only
        W on the input's scale, so that ``decision = X @ coef_.T + intercept_``
        (a view of the model's W when there is no preprocessing; for uint8 or
        standardised data, a copy of W folded with the preprocessing). Two
        classes give two rows (not scikit-learn's one).
    intercept_ : ndarray of float32 (k,), read-only
    n_features_in_ : int
    n_iter_ : int
        L-BFGS iterations or SGD epochs run.
    """

    def __init__(self, solver="lbfgs", l2=None, max_iter=None, tol=1e-5, epochs=None, batch=100, lr=0.3,
                 momentum=0.9, standardize=False, kernel="auto", threads=None, seed=1):
        self.solver = solver
        self.l2 = l2
        self.max_iter = max_iter
        self.tol = tol
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.momentum = momentum
        self.standardize = standardize
        self.kernel = kernel
        self.threads = threads
        self.seed = seed

    # ---- parameters ----

    def _kernel_ptr(self):
        if self.kernel in (None, "auto"):
            return None
        kern = lib.softreg_kernel_by_name(str(self.kernel).encode()) if isinstance(self.kernel, str) else None
        if not kern:
            raise ValueError(f"{type(self).__name__}: kernel must be 'auto', 'blas', 'sparse' or 'naive', "
                             f"got {self.kernel!r}")
        return kern

    def _set_threads(self):
        if self.threads is not None:
            lib.softreg_set_threads(_int_param(self, "threads", self.threads, 0, 1024))

    def _params(self):
        p = _lib.new(_lib.Params)
        lib.softreg_params_default(ctypes.byref(p))
        if self.solver == "lbfgs":
            p.solver = _lib.SOLVER_LBFGS
            p.epochs = 1000 if self.max_iter is None else _int_param(self, "max_iter", self.max_iter, 1, _U32_MAX)
            p.l2 = 1e-4 if self.l2 is None else _float_param(self, "l2", self.l2)
        elif self.solver == "sgd":
            p.solver = _lib.SOLVER_SGD
            p.epochs = 2 if self.epochs is None else _int_param(self, "epochs", self.epochs, 1, _U32_MAX)
            p.l2 = 0.0 if self.l2 is None else _float_param(self, "l2", self.l2)
            p.batch = _int_param(self, "batch", self.batch, 1, _U64_MAX)
            p.lr = _float_param(self, "lr", self.lr)
            p.momentum = _float_param(self, "momentum", self.momentum)
        else:
            raise ValueError(f"{type(self).__name__}: solver must be 'lbfgs' or 'sgd', got {self.solver!r}")
        p.tol = _float_param(self, "tol", self.tol)
        p.seed = _int_param(self, "seed", self.seed, 0, _U64_MAX)
        p.kernel = self._kernel_ptr()
        why = lib.softreg_check_params(ctypes.byref(p))
        if why:
            raise ValueError(f"{type(self).__name__}: {why.decode()}")
        return p

    # ---- fitting ----

    def _labels(self, y):
        """(classes_, int64 labels for the library, int64 class table)."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        if y.dtype.kind in "fc" or y.dtype == object:
            check_array(y, ensure_2d=False, dtype=None, input_name="y", **{_FINITE_KW: True})
        check_classification_targets(y)
        integers = y.dtype.kind in "iub" and not (y.dtype.kind == "u" and y.size and y.max() > np.iinfo(np.int64).max)
        if integers:
            classes = np.unique(y)
        else:
            classes, inverse = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got one class "
                             f"({classes[0]!r})" if len(classes) else f"{type(self).__name__}: y is empty")
        if len(classes) > _MAX_CLASSES:
            raise ValueError(f"{type(self).__name__}: {len(classes)} classes in y; a model takes at most "
                             f"{_MAX_CLASSES}")
        if integers:
            return classes, np.ascontiguousarray(y, dtype=np.int64), classes.astype(np.int64)
        return classes, np.ascontiguousarray(inverse.reshape(-1), dtype=np.int64), np.arange(len(classes),
                                                                                             dtype=np.int64)

    def fit(self, X, y):
        """Train on X (n, d) and labels y (n); returns self. See the class
        docstring for what X and y may be and when X is copied."""
        p = self._params()
        data = _prepare_X(X, "X", self)
        classes, labels, table = self._labels(y)
        check_consistent_length(data.X, labels)
        k, d = len(classes), data.d
        err = _lib.errbuf()
        mp = lib.softreg_model_alloc(k, 1, d)
        if not mp:
            raise MemoryError(f"out of memory for a model of {k} classes x {d} features "
                              f"({lib.softreg_model_bytes(k, d)} bytes)")
        model = _Model(mp)
        m = model.m
        ctypes.memmove(m.classes, table.ctypes.data, k * 8)
        data.set_labels(labels)
        try:
            _lib.check(lib.softreg_dataset_map_labels(ctypes.byref(data.ds), m.classes, k, b"y", err), err)
            lib.softreg_model_init_prep(mp, ctypes.byref(data.ds.x))
            if self.standardize:
                _lib.check(lib.softreg_model_standardize(mp, ctypes.byref(data.ds), err), err)
            self._set_threads()
            rep = _lib.new(_lib.Report)
            stop = _StopOnSigint()
            p.progress = stop.callback
            with stop:
                r = lib.softreg_train(mp, ctypes.byref(data.ds), None, ctypes.byref(p), None, ctypes.byref(rep), err)
            if stop.hit or r == _lib.ERR_INTERRUPTED:
                raise KeyboardInterrupt(err.value.decode("utf-8", "replace") or "softreg: training interrupted")
            _lib.check(r, err)
        finally:
            data.free_y()
        self._reset_feature_names(X)
        self._adopt(model, classes, int(rep.epochs_run))
        return self

    def _reset_feature_names(self, X):
        if hasattr(self, "_check_feature_names"):  # scikit-learn >= 1.0: feature_names_in_ from DataFrames
            self._check_feature_names(X, reset=True)

    def _adopt(self, model, classes, n_iter):
        """Make 'model' this estimator's fitted state."""
        m = model.m
        k, d = m.k, m.d
        self._model = model
        self.classes_ = classes
        self.n_features_in_ = int(d)
        self.n_iter_ = n_iter
        W = model.array("W", (k, d), ctypes.c_float, np.float32)
        b = model.array("b", (k,), ctypes.c_float, np.float32)
        if m.prep == _lib.PREP_STANDARDIZE:
            inv_std = model.array("inv_std", (d,), ctypes.c_float, np.float32).astype(np.float64)
            mean = model.array("mean", (d,), ctypes.c_float, np.float32).astype(np.float64)
            Weff = W.astype(np.float64) * inv_std
            coef, intercept = Weff.astype(np.float32), (b - Weff @ mean).astype(np.float32)
        elif m.scale != 1.0:
            coef, intercept = (W.astype(np.float64) * m.scale).astype(np.float32), b.copy()
        else:
            coef, intercept = W, b
        coef.flags.writeable = False
        intercept.flags.writeable = False
        self.coef_, self.intercept_ = coef, intercept

    # ---- prediction ----

    def _logits(self, X):
        """Z (n, k) float32 = the model's logits, through the library's kernel."""
        check_is_fitted(self)
        if hasattr(self, "_check_feature_names"):
            self._check_feature_names(X, reset=False)
        data = _prepare_X(X, "X", self)
        if data.d != self.n_features_in_:
            raise ValueError(f"X has {data.d} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input")
        model = self._model
        m, mp = model.m, model.ptr
        err = _lib.errbuf()
        _lib.check(lib.softreg_model_check_data(mp, ctypes.byref(data.ds), b"X", err), err)
        kern = self._kernel_ptr()
        if not kern or not lib.softreg_kernel_takes(kern, data.kind):
            kern = lib.softreg_kernel_auto(data.kind)
        self._set_threads()
        n, k, d = data.n, m.k, m.d
        Z = np.empty((n, k), dtype=np.float32)
        if n == 0:
            return Z
        rows = min(n, max(1, min(_EVAL_ROWS, _EVAL_FLOATS // k)))
        ws = lib.softreg_workspace_alloc(kern, rows, k, d)
        if not ws:
            raise MemoryError(f"out of memory for the {kern.contents.name.decode()} kernel's workspace")
        try:
            batch = _lib.Batch()
            batch.src = ctypes.pointer(data.ds.x)
            logits = kern.contents.logits
            base = Z.ctypes.data
            for i0 in range(0, n, rows):
                batch.first, batch.m = i0, min(rows, n - i0)
                logits(mp, ctypes.byref(batch), ctypes.cast(base + i0 * k * 4, _P(ctypes.c_float)), ws)
        finally:
            lib.softreg_workspace_free(ws)
        bad = ~np.isfinite(Z).all(axis=1)
        if bad.any():
            raise ValueError(f"X: row {int(np.flatnonzero(bad)[0])}: the model's logits are not finite "
                             "(its weights or preprocessing overflow on this input)")
        return Z

    def decision_function(self, X):
        """The logits W x + b, float64 (n, k); for two classes, z1 - z0 of shape (n,)."""
        Z = self._logits(X).astype(np.float64)
        return Z[:, 1] - Z[:, 0] if Z.shape[1] == 2 else Z

    def predict(self, X):
        """The class of the largest logit of each row, as a value of classes_."""
        Z = self._logits(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(Z, axis=1)]

    def predict_proba(self, X):
        """Class probabilities (n, k), float64: the softmax of the library's
        float32 logits computed in float64 (as softreg_predict() does before it
        rounds to float32), so that rows sum to 1 to float64 precision."""
        Z = self._logits(X).astype(np.float64)
        Z -= Z.max(axis=1, keepdims=True)
        np.exp(Z, out=Z)
        Z /= Z.sum(axis=1, keepdims=True)
        return Z

    def predict_log_proba(self, X):
        """log(predict_proba(X)), computed stably (log-softmax in float64)."""
        Z = self._logits(X).astype(np.float64)
        Z -= Z.max(axis=1, keepdims=True)
        Z -= np.log(np.exp(Z).sum(axis=1, keepdims=True))
        return Z

    def objective(self, X, y, l2=None):
        """F = mean CE + (l2/2)|W|^2 of the fitted model over (X, y), computed by
        the library (softreg_objective, float32 kernels, sums in double) with
        the model's preprocessing. l2 None: the value fit used."""
        check_is_fitted(self)
        data = _prepare_X(X, "X", self)
        y = column_or_1d(y)
        check_consistent_length(data.X, y)
        idx = np.minimum(np.searchsorted(self.classes_, y), len(self.classes_) - 1)
        if not np.array_equal(self.classes_[idx], y):
            raise ValueError("y holds labels that are not in classes_")
        model = self._model
        table = model.array("classes", (model.m.k,), ctypes.c_int64, np.int64)
        data.set_labels(np.ascontiguousarray(table[idx]))
        if l2 is None:
            l2 = self.l2 if self.l2 is not None else (1e-4 if self.solver == "lbfgs" else 0.0)
        err = _lib.errbuf()
        F = ctypes.c_double()
        try:
            _lib.check(lib.softreg_dataset_map_labels(ctypes.byref(data.ds), model.m.classes, model.m.k, b"y", err),
                       err)
            self._set_threads()
            _lib.check(lib.softreg_objective(model.ptr, ctypes.byref(data.ds), data.n, float(l2), self._kernel_ptr(),
                                             None, ctypes.byref(F), None, err), err)
        finally:
            data.free_y()
        return F.value

    # ---- files and pickling ----

    def save(self, path):
        """Write the fitted model to 'path' as a .srm file (atomically), which
        ``softreg eval`` and ``softreg predict`` read. The file's class table
        holds the label values for integer labels, 0..k-1 for the others."""
        check_is_fitted(self)
        err = _lib.errbuf()
        _lib.check(lib.softreg_model_save(self._model.ptr, None, os.fsencode(path), err), err)

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        model = state.pop("_model", None)
        state.pop("coef_", None)
        state.pop("intercept_", None)
        if model is not None:
            state["_srm"] = model.to_bytes()
        return state

    def __setstate__(self, state):
        state = dict(state)
        srm = state.pop("_srm", None)
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)
        if srm is not None:
            self._adopt(_Model.from_bytes(srm), self.classes_, self.n_iter_)

    def _more_tags(self):
        return {"X_types": ["2darray", "sparse"]}


def load(path):
    """A fitted SoftregClassifier from a .srm file (softreg_model_load): one
    written by SoftregClassifier.save() or by ``softreg train --out``.
    classes_ is the file's class table (int64); the parameters other than
    standardize and seed are the defaults, since a model file does not keep
    them."""
    model = _Model.load(path)
    m = model.m
    est = SoftregClassifier(standardize=m.prep == _lib.PREP_STANDARDIZE, seed=int(m.seed))
    classes = np.array(model.array("classes", (m.k,), ctypes.c_int64, np.int64))
    est._adopt(model, classes, int(m.epochs))
    return est
