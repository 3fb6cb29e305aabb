#!/usr/bin/env bash
# test_naive_lbfgs.sh: on a small linear probe (scripts/make-probe: n 3000,
# d 32, k 50, float32 .npy, labels 1000 + 3c), `softreg train --solver lbfgs`
# with the naive (per-sample reference) kernel reaches the optimum the blas
# kernel reaches: F within 1e-6 relative, F recomputed here in float64 from
# each model's exported W and b (the kernels' own figures are not trusted,
# they sum in different precisions), and each run's |grad F| at most the
# tolerance 1e-5. Also: the test accuracies within 0.2 points.
# Needs /usr/bin/python3 with numpy (skipped without).
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_numpy

"$py" "$root/scripts/make-probe" --n 3000 --test 1000 --d 32 --k 50 --seed 1 --out "$tmp/probe" >/dev/null
p=$tmp/probe
for kernel in naive blas; do
    "$SOFTREG" train --train "$p/train-x.npy" --train-labels "$p/train-y.npy" --test "$p/test-x.npy" \
        --test-labels "$p/test-y.npy" --solver lbfgs --kernel "$kernel" --eval-every 0 --json --quiet \
        --out "$tmp/$kernel.srm" >"$tmp/$kernel.train.json"
    "$SOFTREG" export --model "$tmp/$kernel.srm" --format json >"$tmp/$kernel.export.json"
done

"$py" - "$tmp" <<'PY'
import json, os, sys
import numpy as np
tmp = sys.argv[1]
F_REL, TOL, ACC_POINTS = 1e-6, 1e-5, 0.2
X = np.load(os.path.join(tmp, "probe", "train-x.npy")).astype(np.float64)
y = np.load(os.path.join(tmp, "probe", "train-y.npy"))
bad, F = [], {}
for kernel in ("naive", "blas"):
    with open(os.path.join(tmp, f"{kernel}.train.json")) as f:
        r = json.load(f)
    with open(os.path.join(tmp, f"{kernel}.export.json")) as f:
        m = json.load(f)
    if r["kernel"] != kernel:
        bad.append(f"--kernel {kernel} ran the {r['kernel']} kernel")
    classes = np.array(m["classes"])
    if not np.array_equal(classes, np.unique(y)):
        bad.append(f"{kernel}: classes {m['classes'][:3]}... are not the training labels")
        continue
    yi = np.searchsorted(classes, y)
    W, b, lam = np.array(m["W"], dtype=np.float64), np.array(m["b"], dtype=np.float64), r["l2"]
    Z = X @ W.T + b
    Z -= Z.max(axis=1, keepdims=True)
    F[kernel] = np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(yi)), yi]) + 0.5 * lam * np.sum(W * W)
    print(f"--kernel {kernel}: {r['iterations']} iterations, F {F[kernel]:.10f} (float64; its own {r['objective']:.10f}), "
          f"|grad F| {r['grad_norm']:.3g}, test accuracy {100 * r['test_accuracy']:.2f}%, {r['train_seconds']:.2f} s")
    if not r["grad_norm"] <= TOL:
        bad.append(f"{kernel}: |grad F| {r['grad_norm']:.3g} above the tolerance {TOL}")
    F[kernel + "_acc"] = r["test_accuracy"]
if "naive" in F and "blas" in F:
    rel = abs(F["naive"] - F["blas"]) / F["blas"]
    print(f"relative difference of F: {rel:.2e} (bound {F_REL})")
    if not rel <= F_REL:
        bad.append(f"F naive {F['naive']:.10f} and blas {F['blas']:.10f} differ by {rel:.2e} relative (bound {F_REL})")
    dacc = 100 * abs(F["naive_acc"] - F["blas_acc"])
    if not dacc <= ACC_POINTS + 1e-9:
        bad.append(f"test accuracies differ by {dacc:.2f} points (bound {ACC_POINTS})")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
