# SPDX-License-Identifier: MIT
"""OMP_THREAD_LIMIT below the cores, threads=None: fitting with L-BFGS (whose
preconditioner calls OpenBLAS's threaded syrk) finishes. OpenBLAS plans its
threads from omp_get_max_threads() and waits for each of them, so without the
library's load-time cap a team of one spun forever. Run in a child process:
OpenMP reads the variable once, at load."""
import subprocess
import sys
import unittest

import common  # skips without numpy, scipy and scikit-learn

CHILD = r"""
import numpy as np, softreg
r = np.random.default_rng(0)
X = r.random((20000, 784), dtype=np.float32)
y = r.integers(0, 10, 20000)
clf = softreg.SoftregClassifier(max_iter=3).fit(X, y)
print(clf.n_iter_)
"""


class ThreadLimit(unittest.TestCase):
    def test_lbfgs_under_a_thread_limit_of_one(self):
        env = common.child_env()
        env["OMP_THREAD_LIMIT"] = "1"
        env.pop("OMP_NUM_THREADS", None)
        try:
            p = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            self.fail("fit under OMP_THREAD_LIMIT=1 did not finish in 120 s (OpenBLAS waiting for a thread)")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "3")


if __name__ == "__main__":
    unittest.main()
