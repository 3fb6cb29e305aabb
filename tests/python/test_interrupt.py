# SPDX-License-Identifier: MIT
"""Ctrl-C during fit: a child python fitting a long problem gets SIGINT, stops
at the next batch (SGD) or iteration (L-BFGS) and raises KeyboardInterrupt,
its estimator as it was. And the GIL is released while the library works."""
import signal
import subprocess
import sys
import threading
import time
import unittest

import common
import numpy as np

from softreg import SoftregClassifier

CHILD = r"""
import sys, time
import numpy as np
from softreg import SoftregClassifier
rng = np.random.default_rng(0)
X = rng.standard_normal((40000, 200), dtype=np.float32)
y = rng.integers(0, 50, size=40000)
clf = SoftregClassifier(solver=SOLVER, max_iter=2, epochs=1).fit(X[:2000], y[:2000])   # a first, quick fit
before = (clf.coef_.copy(), clf.intercept_.copy(), clf.n_iter_, clf.classes_.copy())
clf.set_params(max_iter=10**8, epochs=10**8, tol=0.0)                               # then one that never ends
print("fitting", flush=True)
t0 = time.monotonic()
try:
    clf.fit(X, y)
except KeyboardInterrupt as e:
    same = (np.array_equal(clf.coef_, before[0]) and np.array_equal(clf.intercept_, before[1])
            and clf.n_iter_ == before[2] and np.array_equal(clf.classes_, before[3]))
    print("interrupted", "unchanged" if same else "CHANGED", repr(str(e)), flush=True)
    # the default handler is back: a second Ctrl-C is a KeyboardInterrupt as usual
    import signal
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    sys.exit(0)
print("finished", flush=True)
sys.exit(1)
"""


class CtrlC(unittest.TestCase):
    def interrupt(self, solver):
        code = CHILD.replace("SOLVER", repr(solver))
        p = subprocess.Popen([sys.executable, "-c", code], env=common.child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), "fitting")
            time.sleep(1.5)  # well inside softreg_train
            self.assertIsNone(p.poll(), "the fit ended by itself")
            t0 = time.monotonic()
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            stopped = time.monotonic() - t0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, f"stdout: {out}\nstderr: {err}")
        self.assertTrue(out.startswith("interrupted unchanged"), out)
        self.assertNotIn("Exception ignored", err)
        self.assertLess(stopped, 5.0, "it did not stop at the next batch or iteration")
        return out

    def test_sgd(self):
        out = self.interrupt("sgd")
        self.assertIn("training stopped at epoch", out)

    def test_lbfgs(self):
        out = self.interrupt("lbfgs")
        self.assertIn("training stopped at iteration", out)


class Gil(unittest.TestCase):
    def test_released_while_training(self):
        rng = np.random.default_rng(1)
        X = rng.standard_normal((20000, 200), dtype=np.float32)
        y = rng.integers(0, 20, size=20000)
        count, stop = [0], [False]

        def spin():
            while not stop[0]:
                count[0] += 1

        t0 = time.monotonic()
        spin_alone = threading.Thread(target=spin)
        stop[0] = False
        spin_alone.start()
        time.sleep(0.3)
        stop[0] = True
        spin_alone.join()
        rate_alone = count[0] / (time.monotonic() - t0)

        count[0], stop[0] = 0, False
        th = threading.Thread(target=spin)
        clf = SoftregClassifier(max_iter=40, tol=0.0, threads=1)
        th.start()
        t0 = time.monotonic()
        clf.fit(X, y)
        elapsed = time.monotonic() - t0
        stop[0] = True
        th.join()
        rate = count[0] / elapsed
        # with the GIL held by fit, the spinning thread would hardly run at all
        self.assertGreater(rate, 0.3 * rate_alone, (rate, rate_alone, elapsed))


if __name__ == "__main__":
    common.main()
