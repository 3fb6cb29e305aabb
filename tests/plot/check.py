#!/usr/bin/python3
"""Checks for tests/plot/test_plot.sh: each prints 'ok' or 'FAIL' per property, exits 1 on a failure.

  check.py metrics M.csv EPOCHS
  check.py trace T.csv EPOCHS PER_EPOCH
  check.py oracle T.csv PER_EPOCH MID.npy FINAL.npy MID.json FINAL.json
  check.py png FILE...
"""

import csv
import json
import math
import struct
import sys

import numpy as np

METRICS_HEADER = ["epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"]
TRACE_HEADER = ["iteration", "epoch", "batch_loss", "dist_W", "dist_b"]
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1
    return ok


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(x) for x in r] for r in rows[1:]], dtype=float).reshape(len(rows) - 1, -1)


def metrics(path, epochs):
    header, a = read(path)
    check(header == METRICS_HEADER, f"metrics header is {','.join(METRICS_HEADER)} (got {','.join(header)})")
    if not check(a.shape == (epochs, len(METRICS_HEADER)), f"metrics: one row of 7 values per epoch "
                 f"({epochs} epochs, got shape {a.shape})"):
        return
    check((a[:, 0] == np.arange(1, epochs + 1)).all(), "metrics: the epoch column counts 1..E")
    check(np.isfinite(a).all(), "metrics: every value is finite")
    check(((a[:, 2] > 0) & (a[:, 2] <= 1) & (a[:, 4] > 0) & (a[:, 4] <= 1)).all(),
          "metrics: accuracies are fractions in (0, 1]")
    check((a[:, 4] > 0.85).all(), f"metrics: test accuracy above 85% every epoch (got {a[:, 4]})")
    check(((a[:, 1] > 0) & (a[:, 3] > 0)).all(), "metrics: losses are positive")
    check((a[:, 6] >= 0).all(), "metrics: seconds are not negative")


def trace(path, epochs, per_epoch):
    header, a = read(path)
    check(header == TRACE_HEADER, f"trace header is {','.join(TRACE_HEADER)} (got {','.join(header)})")
    n = epochs * per_epoch
    if not check(a.shape == (n, len(TRACE_HEADER)), f"trace: one row per iteration ({epochs} x {per_epoch} = {n}, "
                 f"got shape {a.shape})"):
        return
    it = np.arange(1, n + 1)
    check((a[:, 0] == it).all(), "trace: the iteration column counts 1..N")
    check((a[:, 1] == (it - 1) // per_epoch + 1).all(), "trace: each iteration carries its epoch")
    check(np.isfinite(a).all() and (a[:, 2] > 0).all(), "trace: batch losses are finite and positive")
    check((a[:, 3:] >= 0).all(), "trace: distances are not negative")
    check(a[-1, 3] == 0 and a[-1, 4] == 0, f"trace: dist_W and dist_b are 0 at the last iteration "
          f"(got {a[-1, 3]}, {a[-1, 4]})")
    check((a[:-1, 3] > 0).all(), "trace: dist_W is positive before the last iteration")
    check(a[0, 3] > a[n // 2, 3] > a[-2, 3], "trace: dist_W shrinks from the first to the middle to the "
          "second-to-last iteration")


def oracle(path, per_epoch, mid_npy, final_npy, mid_json, final_json):
    _, a = read(path)
    Wm, Wf = np.load(mid_npy), np.load(final_npy)
    check(Wm.dtype == np.float32 and Wm.ndim == 3 and Wm.shape == Wf.shape,
          f"export npy: float32 (k, rows, cols) arrays (got {Wm.dtype} {Wm.shape})")
    with open(mid_json) as f:
        jm = json.load(f)
    with open(final_json) as f:
        jf = json.load(f)
    check(np.array_equal(np.array(jf["W"], dtype=np.float32).reshape(Wf.shape), Wf),
          "export: the npy and json W of the final model are the same numbers")
    bm, bf = np.array(jm["b"], dtype=np.float32), np.array(jf["b"], dtype=np.float32)
    row = a[per_epoch - 1]  # the last iteration of epoch 1 = the one-epoch run's model
    check(row[0] == per_epoch, f"trace: row {per_epoch} is iteration {per_epoch}")
    dw = float(np.linalg.norm(Wm.astype(np.float64) - Wf.astype(np.float64)))
    db = float(np.linalg.norm(bm.astype(np.float64) - bf.astype(np.float64)))
    check(dw > 1e-3, f"the one-epoch model differs from the final one (|W_mid - W_final| = {dw:.6g})")
    check(math.isclose(row[3], dw, rel_tol=1e-6, abs_tol=1e-9),
          f"trace: dist_W at iteration {per_epoch} = |W_mid - W_final| from the exported models "
          f"(trace {row[3]:.9g}, direct {dw:.9g})")
    check(math.isclose(row[4], db, rel_tol=1e-5, abs_tol=1e-9),
          f"trace: dist_b at iteration {per_epoch} = |b_mid - b_final| from the exported models "
          f"(trace {row[4]:.9g}, direct {db:.9g})")


def png(paths):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg

    for p in paths:
        try:
            with open(p, "rb") as f:
                head = f.read(33)
        except OSError as e:
            check(False, f"{p}: {e.strerror}")
            continue
        if not check(head[:8] == b"\x89PNG\r\n\x1a\n", f"{p}: starts with the PNG signature"):
            continue
        length, kind, w, h = struct.unpack(">I4sII", head[8:24])
        if not check(kind == b"IHDR" and length == 13 and w > 0 and h > 0,
                     f"{p}: an IHDR chunk of a non-empty image ({w}x{h})"):
            continue
        try:
            img = mpimg.imread(p)  # decodes every chunk: a truncated or corrupt file fails here
        except Exception as e:  # PIL raises OSError, SyntaxError, ValueError... for bad files
            check(False, f"{p}: decodes ({type(e).__name__}: {e})")
            continue
        check(img.shape[:2] == (h, w), f"{p}: decodes to {w}x{h} pixels")
        check(float(img[..., :3].std()) > 0.01, f"{p}: is not blank")
        check(200 <= w <= 2000 and 150 <= h <= 2000, f"{p}: a readable size ({w}x{h})")
        size = len(open(p, "rb").read())
        check(size < 150_000, f"{p}: small ({size} bytes)")


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "metrics":
        metrics(args[0], int(args[1]))
    elif cmd == "trace":
        trace(args[0], int(args[1]), int(args[2]))
    elif cmd == "oracle":
        oracle(args[0], int(args[1]), *args[2:6])
    elif cmd == "png":
        png(args)
    else:
        sys.exit(f"check.py: unknown check {cmd}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
