# SPDX-License-Identifier: MIT
"""common.py: what the python suite's tests share. Importing it skips the test
(exit 77, meson's "skipped") when numpy, scipy or scikit-learn is missing, and
puts src/python on sys.path when PYTHONPATH does not already hold it."""
import os
import subprocess
import sys
import unittest

# as softreg's CLI: OpenMP threads sleep at barriers (libgomp reads this when
# it loads, which numpy's OpenBLAS does before softreg is imported)
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("BUILD_ROOT") or os.path.join(ROOT, "build")

for _mod in ("numpy", "scipy", "sklearn"):
    try:
        __import__(_mod)
    except ImportError:
        print(f"SKIP: {_mod} is not installed (Debian: python3-numpy python3-scipy python3-sklearn)")
        sys.exit(77)

if os.path.join(ROOT, "src", "python") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "src", "python"))

import numpy as np  # noqa: E402


def softreg_exe():
    return os.environ.get("SOFTREG") or os.path.join(BUILD, "softreg")


def child_env():
    """The environment of a child python3 that imports softreg as this one does."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "src", "python") + (os.pathsep + env["PYTHONPATH"]
                                                                if env.get("PYTHONPATH") else "")
    return env


def run_child(code, timeout=300, **kw):
    """Run python code in a new /usr/bin/python3 (or this interpreter); its CompletedProcess."""
    return subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True, text=True,
                          timeout=timeout, **kw)


def blobs(n=300, d=5, k=3, seed=0, sep=3.0, dtype=np.float64):
    """Separable-ish Gaussian blobs: X (n, d), y in 0..k-1."""
    rng = np.random.default_rng(seed)
    centers = sep * rng.standard_normal((k, d))
    y = rng.integers(0, k, size=n)
    y[:k] = np.arange(k)
    X = centers[y] + rng.standard_normal((n, d))
    return X.astype(dtype), y


def main():
    unittest.main(verbosity=2)
