#!/usr/bin/env bash
# test_mnist_lbfgs.sh: on MNIST ($SOFTREG_TEST_DATA; skipped when absent),
# `softreg train --solver lbfgs --l2 1e-4` reaches scikit-learn's optimum:
# F <= F_sklearn (1 + 1e-6), where F_sklearn = 0.2592483179 is scikit-learn
# 1.2.1's lbfgs at C = 1/(1e-4 * 60000), tol 1e-8, F computed in float64 by
# scripts/compare-sklearn; |grad F| <= the default tol 1e-5; the test accuracy
# within 0.05 points of scikit-learn's 92.63%; and in at most 200 iterations
# (about 100 with the preconditioner, 360 without: a lost preconditioner fails
# here); and the same model, byte for byte, at 1, 2 and 3 threads (2 and 3:
# the 8 blocks of 8192 rows summed by threads in parallel, grad.c), and with
# --threads 2 under OMP_THREAD_LIMIT=1 (softreg keeps to the limit: OpenBLAS's
# threaded syrk in the preconditioner spun forever there). No timing is
# asserted: the machine may be shared.
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg binary}"
data=${SOFTREG_TEST_DATA:-data/mnist}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [[ ! -e $data/$f && ! -e $data/$f.gz ]]; then
        echo "skip: no MNIST in $data (scripts/fetch-mnist)"
        exit 77
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-test-mnist-lbfgs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$("$SOFTREG" train --data "$data" --solver lbfgs --l2 1e-4 --eval-every 0 --json --quiet --threads 2 --out "$tmp/t2.srm")
"$SOFTREG" train --data "$data" --solver lbfgs --l2 1e-4 --eval-every 0 --quiet --threads 1 --out "$tmp/t1.srm" >/dev/null
"$SOFTREG" train --data "$data" --solver lbfgs --l2 1e-4 --eval-every 0 --quiet --threads 3 --out "$tmp/t3.srm" >/dev/null
# 2 threads asked for, OpenMP allows 1 (this hung before softreg kept to the limit)
OMP_THREAD_LIMIT=1 "$SOFTREG" train --data "$data" --solver lbfgs --l2 1e-4 --eval-every 0 --quiet --threads 2 \
	--out "$tmp/tl.srm" >/dev/null
same=0
cmp -s "$tmp/t1.srm" "$tmp/t2.srm" && cmp -s "$tmp/t1.srm" "$tmp/t3.srm" && cmp -s "$tmp/t1.srm" "$tmp/tl.srm" && same=1
python3 - "$out" "$same" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
F_SK, ACC_SK = 0.2592483179, 0.9263
F, g, acc, it = r["objective"], r["grad_norm"], r["test_accuracy"], r["iterations"]
print(f"L-BFGS on MNIST, lambda 1e-4: {it} iterations, {r['train_seconds']:.2f} s, F {F:.10f} "
      f"(scikit-learn {F_SK}), |grad F| {g:.3g}, test accuracy {100 * acc:.2f}%")
bad = []
if not F <= F_SK * (1 + 1e-6):
    bad.append(f"F {F:.10f} above scikit-learn's {F_SK} + 1e-6 relative")
if not g <= 1e-5:
    bad.append(f"|grad F| {g:.3g} above tol 1e-5")
if not abs(acc - ACC_SK) <= 0.0005 + 1e-9:
    bad.append(f"test accuracy {100 * acc:.2f}% not within 0.05 points of {100 * ACC_SK:.2f}%")
if not it <= 200:
    bad.append(f"{it} iterations, more than 200")
if sys.argv[2] != "1":
    bad.append("the models trained at 1, 2 and 3 threads (and 2 under OMP_THREAD_LIMIT=1) differ")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
