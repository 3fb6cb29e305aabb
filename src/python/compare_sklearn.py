#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""SoftregClassifier against scikit-learn's LogisticRegression, from Python.

Usage: PYTHONPATH=src/python src/python/compare_sklearn.py [--l2 L] [--data mnist,probe]
           [--mnist DIR] [--repeat N] [--sk-repeat N] [--threads T] [--check]

Both minimise F(W, b) = (1/n) sum_i CE(softmax(W x_i + b), y_i) + (L/2)|W|^2
(bias not regularised) over the n training rows: SoftregClassifier(l2=L)
(L-BFGS, tol 1e-5 on |grad F|) and LogisticRegression(C=1/(L n), tol=1e-8,
max_iter=5000) (multinomial, lbfgs). The data, in memory as float32:

  mnist  the IDX files of --mnist (default data/mnist), read with numpy,
         pixel * float32(1/255): the floats softreg's IDX route computes
  probe  scripts/make-probe --n 20000 --test 5000 --d 256 --k 200 (labels
         1000 + 3c), written to a temporary folder and loaded with np.load

F is recomputed here for both, in float64 numpy, from each model's coef_ and
intercept_ over the training rows (the solvers' own figures are not used);
the accuracies are on the test rows. Seconds are fit() alone, the fastest of
--repeat runs for softreg (default 3) and --sk-repeat for scikit-learn
(default 1: it takes minutes).

Targets: F within 1e-6 relative of scikit-learn's (or lower); test accuracy
within 0.1 point; softreg >= 10x faster. Exit status 1 when one fails and
--check is given (else 0), 2 on bad usage.
"""
import os

# as softreg's CLI: OpenMP's threads sleep at barriers (libgomp reads this once,
# when numpy's OpenBLAS loads it, so before numpy is imported)
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import argparse  # noqa: E402
import gzip  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import sklearn  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import softreg  # noqa: E402
from softreg import SoftregClassifier  # noqa: E402

PROG = "compare_sklearn"


def die(msg, status=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(status)


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 8:
        die(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        die(f"{path}: {arr.size} bytes, the header says {dims}")
    return arr.reshape(dims[0], -1) if ndim > 1 else arr


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    die(f"{folder}: no {stem}[.gz] (scripts/fetch-mnist gets MNIST)")


def load_mnist(folder):
    def split(prefix):
        X = read_idx(find(folder, f"{prefix}-images-idx3-ubyte"))
        y = read_idx(find(folder, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
        return np.ascontiguousarray(X.astype(np.float32) * np.float32(1 / 255)), y
    return split("train") + split("t10k")


def load_probe(tmp):
    out = os.path.join(tmp, "probe")
    cmd = ["/usr/bin/python3", os.path.join(ROOT, "scripts", "make-probe"), "--n", "20000", "--test", "5000",
           "--d", "256", "--k", "200", "--out", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        die(f"scripts/make-probe failed: {r.stderr.strip()}")
    return tuple(np.load(os.path.join(out, f)) for f in ("train-x.npy", "train-y.npy", "test-x.npy", "test-y.npy"))


def objective(X64, y, classes, coef, intercept, l2):
    """F in float64 from a model's coef_ (k, d) and intercept_ (k) (sklearn's
    binary coef_ of one row is not used here: k > 2 in both problems)."""
    W = np.asarray(coef, dtype=np.float64)
    Z = X64 @ W.T + np.asarray(intercept, dtype=np.float64)
    Z -= Z.max(axis=1, keepdims=True)
    idx = np.searchsorted(classes, y)
    ce = np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), idx]
    return ce.mean() + 0.5 * l2 * np.sum(W * W)


def timed(make, X, y, repeat):
    best, model = None, None
    for _ in range(repeat):
        est = make()
        t0 = time.perf_counter()
        est.fit(X, y)
        dt = time.perf_counter() - t0
        if best is None or dt < best:
            best, model = dt, est
    return model, best


def machine():
    fields = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, _, val = line.partition(":")
            fields[key.strip()] = val.strip()
    except OSError:
        pass
    return (f"CPU: {fields.get('Model name', platform.processor() or '?')} (family {fields.get('CPU family', '?')}, "
            f"model {fields.get('Model', '?')}), {os.cpu_count()} cores; OPENBLAS_CORETYPE="
            f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; OpenBLAS core {softreg.blas_core()}; "
            f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; softreg threads {softreg.threads()}; "
            f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; libsoftreg {softreg.lib_path}")


def compare(name, data, l2, args):
    Xtr, ytr, Xte, yte = data
    n = len(ytr)
    C = 1.0 / (l2 * n)
    kw = {"multi_class": "multinomial"} if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 5) else {}
    ours, t_ours = timed(lambda: SoftregClassifier(l2=l2, threads=args.threads), Xtr, ytr, args.repeat)
    theirs, t_theirs = timed(lambda: LogisticRegression(C=C, tol=1e-8, max_iter=5000, **kw), Xtr, ytr, args.sk_repeat)
    X64 = Xtr.astype(np.float64)
    F_ours = objective(X64, ytr, ours.classes_, ours.coef_, ours.intercept_, l2)
    F_theirs = objective(X64, ytr, theirs.classes_, theirs.coef_, theirs.intercept_, l2)
    del X64
    acc_ours, acc_theirs = ours.score(Xte, yte), theirs.score(Xte, yte)
    rel = (F_ours - F_theirs) / F_theirs
    speed = t_theirs / t_ours
    print(f"\n{name}: n {n}, d {Xtr.shape[1]}, k {len(ours.classes_)}, test {len(yte)}; l2 {l2:g} "
          f"(scikit-learn C = 1/(l2 n) = {C:.6g})")
    print(f"  {'solver':<30} {'iterations':>10} {'fit s':>9} {'F (float64)':>16} {'test acc':>9}")
    print(f"  {'SoftregClassifier (L-BFGS)':<30} {ours.n_iter_:>10} {t_ours:>9.3f} {F_ours:>16.10f} "
          f"{100 * acc_ours:>8.2f}%")
    print(f"  {'LogisticRegression (lbfgs)':<30} {int(np.max(theirs.n_iter_)):>10} {t_theirs:>9.3f} "
          f"{F_theirs:>16.10f} {100 * acc_theirs:>8.2f}%")
    ok_F = rel <= 1e-6  # lower is fine too: scikit-learn stopped short of the optimum
    ok_acc = abs(acc_ours - acc_theirs) * 100 <= 0.1
    ok_speed = speed >= 10
    print(f"  F: softreg - sklearn = {rel:+.2e} relative ({'ok' if ok_F else 'FAIL'}: within 1e-6 or lower); "
          f"accuracy: {100 * (acc_ours - acc_theirs):+.2f} points ({'ok' if ok_acc else 'FAIL'}: within 0.1); "
          f"speed: {speed:.1f}x ({'ok' if ok_speed else 'FAIL'}: >= 10x)")
    return ok_F and ok_acc and ok_speed


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--l2", type=float, default=1e-4, help="lambda of F (default 1e-4)")
    ap.add_argument("--data", default="mnist,probe", help="mnist, probe or both (default mnist,probe)")
    ap.add_argument("--mnist", default=os.path.join(ROOT, "data", "mnist"), help="MNIST folder (default data/mnist)")
    ap.add_argument("--repeat", type=int, default=3, help="softreg fits, fastest shown (default 3)")
    ap.add_argument("--sk-repeat", type=int, default=1, help="scikit-learn fits, fastest shown (default 1)")
    ap.add_argument("--threads", type=int, default=None, help="softreg's threads (default: all cores)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()
    which = [w.strip() for w in args.data.split(",") if w.strip()]
    if not which or any(w not in ("mnist", "probe") for w in which) or args.l2 <= 0 or args.repeat < 1 \
            or args.sk_repeat < 1:
        ap.print_usage(sys.stderr)
        die("--data takes mnist and/or probe; --l2 > 0; --repeat, --sk-repeat >= 1", 2)
    print(machine())
    ok = True
    with tempfile.TemporaryDirectory(prefix="softreg-compare-") as tmp:
        for w in which:
            data = load_mnist(args.mnist) if w == "mnist" else load_probe(tmp)
            ok = compare(w, data, args.l2, args) and ok
    sys.exit(1 if args.check and not ok else 0)


if __name__ == "__main__":
    main()
