# SPDX-License-Identifier: MIT
"""Zero copy, measured: a child python makes a ~300 MB feature array, then
fits and predicts; its peak RSS (ru_maxrss) must grow by far less than the
array for float32, float16, uint8 and CSR data, which the library reads in
place. The control, float64 data (converted once to float32), must grow by
about the float32 copy: so the measurement can see a copy when there is one."""
import json
import subprocess
import sys
import unittest

import common

MB = 1 << 20
SIZE = 300 * MB

CHILD = r"""
import json, resource, sys
import numpy as np
import scipy.sparse as sp
from softreg import SoftregClassifier

kind, size = sys.argv[1], int(sys.argv[2])
d, k = 256, 10
rng = np.random.default_rng(0)

def dense(dtype, itemsize):
    n = size // (d * itemsize)
    X = np.empty((n, d), dtype=dtype)
    for i in range(0, n, 4096):   # chunk by chunk: no temporary as large as X
        block = rng.standard_normal((min(4096, n - i), d), dtype=np.float32)
        X[i:i + 4096] = np.clip(block * 40 + 128, 0, 255) if dtype == np.uint8 else block
    return X

if kind == "csr":
    # 8 bytes a nonzero (float32 value, int32 index): size bytes of them, 32 a row
    n, per_row = size // (8 * 32), 32
    indices = np.empty(n * per_row, dtype=np.int32)
    step = d // per_row  # column j * step + a random offset: increasing within each row
    for i in range(0, n, 65536):
        m = min(65536, n - i)
        cols = np.arange(per_row) * step + rng.integers(0, step, size=(m, per_row))
        indices[i * per_row:(i + m) * per_row] = cols.ravel()
    values = np.ones(n * per_row, dtype=np.float32)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((values, indices, indptr), shape=(n, d))
    nbytes = values.nbytes + indices.nbytes + indptr.nbytes
else:
    dtype = {"float32": np.float32, "float16": np.float16, "uint8": np.uint8, "float64": np.float64}[kind]
    X = dense(dtype, np.dtype(dtype).itemsize)
    nbytes = X.nbytes
n = X.shape[0]
y = np.arange(n, dtype=np.int64) % k
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
clf = SoftregClassifier(solver="sgd", epochs=1, batch=1000).fit(X, y)
pred = clf.predict(X[:100000])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"kind": kind, "n": n, "nbytes": nbytes, "base": base, "peak": peak}))
"""


class ZeroCopy(unittest.TestCase):
    def measure(self, kind):
        r = subprocess.run([sys.executable, "-c", CHILD, kind, str(SIZE)], env=common.child_env(),
                           capture_output=True, text=True, timeout=280)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout.strip().splitlines()[-1])
        grew = m["peak"] - m["base"]
        print(f"\n{kind}: {m['nbytes'] / MB:.0f} MB of features, peak RSS grew by {grew / MB:.1f} MB during fit "
              f"+ predict")
        return m, grew

    def test_in_place(self):
        for kind in ("float32", "float16", "uint8", "csr"):
            with self.subTest(kind=kind):
                m, grew = self.measure(kind)
                self.assertGreater(m["nbytes"], 250 * MB)
                # far less than the data: workspace, labels (12 bytes a row), logits of predict
                self.assertLess(grew, 0.15 * m["nbytes"], f"{kind}: a copy of the features?")

    def test_control_float64_is_copied(self):
        m, grew = self.measure("float64")
        self.assertGreater(grew, 0.9 * m["nbytes"] / 2, "the float32 copy of float64 data was not seen")


if __name__ == "__main__":
    common.main()
