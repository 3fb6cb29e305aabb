#!/usr/bin/env bash
# test_simd_paths.sh: the sparse kernel's AVX-512 loops do, lane for lane, the
# AVX2 loops' operations in the same order, so the two must train the same
# model byte for byte: `softreg train --kernel sparse` as it runs and with
# SOFTREG_DISABLE_CPU_FEATURES=avx512 (the AVX2 loops) must write identical
# .srm files, for k = 5 (the AVX2 row on both), 12 (one 16-lane row), 40 and
# 70 classes (blocks split between threads: strips of 4, 2 and 1 blocks),
# on uint8 rows (the compact CSR) and libsvm (the float CSR), SGD at 1 and 2
# threads (libsvm also --standardize: per-feature scales) and L-BFGS. The AVX2 loops are themselves checked against the
# naive kernel (test_kernels, the bench's gate). Skipped (77) where the CPU
# has no AVX-512 (both runs would take the same loops) and without
# /usr/bin/python3 with numpy.
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_numpy
if [[ $("$SOFTREG" info) != *"sparse       avx512 loops"* ]]; then
    echo "skip: the sparse kernel does not run AVX-512 loops here ($("$SOFTREG" info | grep '^sparse'))"
    exit 77
fi
if [[ $(SOFTREG_DISABLE_CPU_FEATURES=avx512 "$SOFTREG" info) != *"sparse       avx2 loops"* ]]; then
    echo "FAIL: SOFTREG_DISABLE_CPU_FEATURES=avx512 does not give the AVX2 loops" >&2
    exit 1
fi

# rows of 240 uint8 features, ~15% nonzero; the class is the argmax of a
# random projection of the row (so the model has something to learn);
# also written as libsvm (float values: bytes / 7)
"$py" - "$tmp" <<'EOF'
import sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
for k in (5, 12, 40, 70):
    n, d = 900, 240
    X = (rng.random((n, d)) < 0.15) * rng.integers(1, 256, (n, d))
    X = X.astype(np.uint8)
    P = rng.standard_normal((d, k))
    y = np.argmax(X.astype(np.float64) @ P, axis=1).astype(np.uint8)
    np.save(f"{out}/x{k}.npy", X)
    np.save(f"{out}/y{k}.npy", y)
    with open(f"{out}/s{k}.svm", "w") as f:
        for row, label in zip(X, y):
            nz = np.nonzero(row)[0]
            f.write(str(label) + "".join(f" {j + 1}:{row[j] / 7:.6g}" for j in nz) + "\n")
EOF

fail=0
same() { # NAME TRAIN-ARGS...: the model with the AVX-512 loops and with the AVX2 ones
    local name=$1
    shift
    "$SOFTREG" train "$@" --kernel sparse --quiet --out "$tmp/$name-512.srm" >/dev/null
    SOFTREG_DISABLE_CPU_FEATURES=avx512 "$SOFTREG" train "$@" --kernel sparse --quiet \
        --out "$tmp/$name-avx2.srm" >/dev/null
    if cmp -s "$tmp/$name-512.srm" "$tmp/$name-avx2.srm"; then
        echo "ok: $name: the same model bytes"
    else
        echo "FAIL: $name: the AVX-512 and AVX2 loops trained different models ($*)" >&2
        fail=1
    fi
}
for k in 5 12 40 70; do
    u8=(--train "$tmp/x$k.npy" --train-labels "$tmp/y$k.npy")
    svm=(--train "$tmp/s$k.svm")
    same "u8-k$k-sgd-t1" "${u8[@]}" --batch 128 --epochs 2 --threads 1
    same "u8-k$k-sgd-t2" "${u8[@]}" --batch 128 --epochs 2 --threads 2
    same "svm-k$k-sgd-t2" "${svm[@]}" --batch 200 --epochs 2 --threads 2
    same "svm-k$k-lbfgs" "${svm[@]}" --solver lbfgs --max-iter 15
    same "svm-k$k-std" "${svm[@]}" --batch 200 --epochs 1 --standardize
done
[[ $fail == 0 ]] && echo "all models identical"
exit $fail
