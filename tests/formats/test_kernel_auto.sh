#!/usr/bin/env bash
# test_kernel_auto.sh: `--kernel auto` (the default) picks the sparse kernel
# for libsvm data and for dense data (CSV, .npy) with at most the rule's
# density of nonzeros, whose CSR it makes, at batches of at least the rule's
# rows, and blas for denser data, smaller batches or a model that centres
# (--standardize), as `train --json` reports in "kernel", for SGD and L-BFGS;
# an explicit --kernel is obeyed, and --kernel sparse on dense data gives the
# same model as on its libsvm twin, within float rounding. The rule is the
# one `softreg info --json` states for this process's OpenBLAS kernels
# (sparse_density, sparse_min_batch: 35% and 96 rows for AVX2 kernels, 20%
# and 256 for AVX-512 ones); this data's 10-15% is under both.
# The data: 400 rows, 20 features, 4 classes (labels 5, 10, 15, 20), written
# here with awk as libsvm and CSV, and as .npy when /usr/bin/python3 has
# numpy (that case is left out otherwise); the JSON is read by any python3.
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
if command -v python3 >/dev/null; then json_py=python3; else need_numpy; json_py=$py; fi

# a sparse problem: each row has 3 nonzeros; the class decides the first one
for split in train test; do
    awk -v seed="$([[ $split == train ]] && echo 1 || echo 2)" 'BEGIN {
        srand(seed)
        for (i = 0; i < 400; i++) {
            c = i % 4
            j1 = c * 5 + 1 + int(rand() * 5); j2 = 1 + int(rand() * 20); j3 = 1 + int(rand() * 20)
            if (j2 == j1) j2 = j1 % 20 + 1
            if (j3 == j1 || j3 == j2) j3 = 0
            line = (5 * c + 5)
            # indices in increasing order
            n = 0; a[n++] = j1; a[n++] = j2; if (j3) a[n++] = j3
            for (p = 0; p < n; p++) for (q = p + 1; q < n; q++) if (a[q] < a[p]) { t = a[p]; a[p] = a[q]; a[q] = t }
            for (p = 0; p < n; p++) line = line " " a[p] ":" sprintf("%.3f", 0.5 + rand())
            print line
        }
    }' >"$tmp/$split.svm"
    # the same rows, dense, as CSV
    awk 'BEGIN { printf "label"; for (j = 1; j <= 20; j++) printf ",f%d", j; print "" }
        { for (j = 1; j <= 20; j++) v[j] = 0
          for (p = 2; p <= NF; p++) { split($p, kv, ":"); v[kv[1]] = kv[2] }
          printf "%s", $1; for (j = 1; j <= 20; j++) printf ",%s", v[j]; print "" }' "$tmp/$split.svm" >"$tmp/$split.csv"
    # and shifted by 0.25: no zero left
    awk -F, 'NR == 1 { print; next }
        { printf "%s", $1; for (j = 2; j <= NF; j++) printf ",%s", $j + 0.25; print "" }' \
        "$tmp/$split.csv" >"$tmp/$split-dense.csv"
done

kernel_of() { # EXPECTED TRAIN-ARGS...
    local want=$1 got
    shift
    got=$("$SOFTREG" train "$@" --json --quiet | "$json_py" -c 'import json, sys; print(json.load(sys.stdin)["kernel"])')
    echo "train $* -> kernel $got"
    if [[ $got != "$want" ]]; then
        echo "FAIL: train $* ran the $got kernel, not $want" >&2
        fail=1
    fi
}
fail=0
read -r rule_density min_batch < <("$SOFTREG" info --json |
    "$json_py" -c 'import json, sys; i = json.load(sys.stdin); print(i["sparse_density"], i["sparse_min_batch"])')
echo "rule: at most $rule_density nonzero, batches of $min_batch rows or more"
if [[ $min_batch != 96 && $min_batch != 256 ]]; then
    echo "FAIL: softreg info states a minimum batch of $min_batch, neither rule's" >&2
    fail=1
fi
at() { # BATCH: the kernel auto must pick for this sparse data at SGD batches of BATCH
    ((${1} >= min_batch)) && echo sparse || echo blas
}
svm=(--train "$tmp/train.svm" --test "$tmp/test.svm")
csv=(--train "$tmp/train.csv" --test "$tmp/test.csv")
kernel_of sparse "${svm[@]}"
kernel_of sparse "${svm[@]}" --kernel auto --solver lbfgs
kernel_of sparse "${svm[@]}" --format libsvm
kernel_of naive "${svm[@]}" --kernel naive
dense=(--train "$tmp/train-dense.csv" --test "$tmp/test-dense.csv")
kernel_of "$(at 100)" "${csv[@]}"
kernel_of sparse "${csv[@]}" --solver lbfgs
kernel_of blas "${csv[@]}" --batch 64
kernel_of "$(at 96)" "${csv[@]}" --batch 96
kernel_of blas "${csv[@]}" --batch $((min_batch - 1))
kernel_of sparse "${csv[@]}" --batch "$min_batch"
kernel_of blas "${csv[@]}" --standardize
kernel_of blas "${csv[@]}" --kernel blas
kernel_of blas "${dense[@]}"
kernel_of blas "${dense[@]}" --solver lbfgs
kernel_of sparse "${dense[@]}" --kernel sparse
# --kernel sparse cannot keep the zeros of a centring model: a usage error
if "$SOFTREG" train "${dense[@]}" --kernel sparse --standardize --quiet 2>"$tmp/err"; then
    echo "FAIL: --kernel sparse --standardize on dense data trained" >&2
    fail=1
elif ! grep -q "centres its features" "$tmp/err"; then
    echo "FAIL: --kernel sparse --standardize: $(cat "$tmp/err")" >&2
    fail=1
fi
# the CSR made from the CSV is the libsvm file's: the same model
"$SOFTREG" train "${csv[@]}" --kernel sparse --quiet --seed 3 --out "$tmp/csv.srm"
"$SOFTREG" train "${svm[@]}" --quiet --seed 3 --out "$tmp/svm.srm"
"$SOFTREG" export --model "$tmp/csv.srm" --format json >"$tmp/csv.json"
"$SOFTREG" export --model "$tmp/svm.srm" --format json >"$tmp/svm.json"
if ! "$json_py" - "$tmp/csv.json" "$tmp/svm.json" <<'PY'; then
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
wa = [w for row in a["W"] for w in row] + a["b"]
wb = [w for row in b["W"] for w in row] + b["b"]
worst = max(abs(x - y) for x, y in zip(wa, wb))
scale = max(abs(x) for x in wb)
print(f"CSV through its CSR vs libsvm: max |dW| {worst:.3g} (scale {scale:.3g})")
sys.exit(0 if len(wa) == len(wb) and worst <= 1e-5 * scale else 1)
PY
    echo "FAIL: the CSV's model differs from the libsvm file's" >&2
    fail=1
fi
if [[ -x $py ]] && "$py" -c 'import numpy' 2>/dev/null; then
    "$py" - "$tmp" <<'PY'
import sys, numpy as np
t = sys.argv[1]
for split in ("train", "test"):
    a = np.loadtxt(f"{t}/{split}.csv", delimiter=",", skiprows=1)
    np.save(f"{t}/{split}-x.npy", a[:, 1:].astype(np.float32))
    np.save(f"{t}/{split}-y.npy", a[:, 0].astype(np.int64))
PY
    kernel_of sparse --train "$tmp/train-x.npy" --batch "$min_batch" --train-labels "$tmp/train-y.npy" --test "$tmp/test-x.npy" \
        --test-labels "$tmp/test-y.npy"
else
    echo "no $py with numpy: the .npy case is left out"
fi
exit $fail
