#!/usr/bin/env bash
# test_cli.sh: the softreg commands end to end on MNIST: train --json, eval,
# predict (PGM and IDX), show, export, info, --help, divergence.
set -euo pipefail
SOFTREG=${SOFTREG:?path of the softreg binary}
DATA=${SOFTREG_TEST_DATA:-data/mnist}
PY=/usr/bin/python3
if [[ ! -e $DATA/train-images-idx3-ubyte.gz && ! -e $DATA/train-images-idx3-ubyte ]]; then
	echo "no MNIST in $DATA: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# every command has --help, exit 0, on stdout
for c in train eval predict show info export; do
	check "$c --help" bash -c "'$SOFTREG' $c --help | grep -q '^usage: softreg $c'"
done
check "no command: usage, exit 2" bash -c "'$SOFTREG' >/dev/null 2>&1; [[ \$? == 2 ]]"

# train --json: the documented fields; one plain line per epoch on a non-terminal stderr
"$SOFTREG" train --data "$DATA" --epochs 2 --json --out "$tmp/m.srm" >"$tmp/train.json" 2>"$tmp/train.err"
check "train --json has every field" "$PY" - "$tmp/train.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
need = ["dataset", "n_train", "n_test", "d", "k", "epochs", "batch", "lr", "kernel", "threads", "seed",
        "load_seconds", "train_seconds", "test_accuracy", "test_loss", "history", "objective", "grad_norm"]
missing = [f for f in need if f not in j]
assert not missing, missing
assert j["n_train"] == 60000 and j["n_test"] == 10000 and j["d"] == 784 and j["k"] == 10, j
assert j["epochs"] == 2 and len(j["history"]) == 2, j["history"]
for h in j["history"]:
    assert set(["epoch", "train_loss", "test_loss", "test_accuracy", "seconds"]) <= set(h), h
assert 0.9 < j["test_accuracy"] <= 1 and j["history"][-1]["test_accuracy"] == j["test_accuracy"]
PY
check "stderr: one line per epoch" bash -c "[[ \$(wc -l <'$tmp/train.err') == 2 ]] && grep -q '^epoch 2/2 ' '$tmp/train.err'"
check "--quiet prints no progress" bash -c "'$SOFTREG' train --data '$DATA' --quiet >/dev/null 2>'$tmp/q.err' && [[ ! -s '$tmp/q.err' ]]"

# eval agrees with train, and its confusion matrix counts every test image by its label
"$SOFTREG" eval --model "$tmp/m.srm" --data "$DATA" --json --confusion "$tmp/conf.csv" >"$tmp/eval.json"
check "eval --json agrees with train" "$PY" - "$tmp/train.json" "$tmp/eval.json" "$tmp/conf.csv" <<'PY'
import json, sys, csv
t, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert abs(t["test_accuracy"] - e["accuracy"]) < 1e-6, (t["test_accuracy"], e["accuracy"])
assert abs(t["test_loss"] - e["log_loss"]) < 1e-4, (t["test_loss"], e["log_loss"])
c = e["confusion"]
assert len(c) == 10 and all(len(r) == 10 for r in c)
assert sum(map(sum, c)) == 10000 and abs(sum(c[i][i] for i in range(10)) / 10000 - e["accuracy"]) < 1e-9
# MNIST's test set has 980 zeros and 1135 ones (its published class counts)
assert sum(c[0]) == 980 and sum(c[1]) == 1135, (sum(c[0]), sum(c[1]))
rows = list(csv.reader(open(sys.argv[3])))
assert rows[0][0] == "truth" and [list(map(int, r[1:])) for r in rows[1:]] == c
assert len(e["precision"]) == 10 and len(e["recall"]) == 10
assert abs(e["recall"][0] - c[0][0] / 980) < 1e-6
PY
check "eval text output" bash -c "'$SOFTREG' eval --model '$tmp/m.srm' --data '$DATA' | grep -q '^accuracy '"

# show: training image 0 of MNIST is a 5; as PGM it predicts through the same model
check "show index 0 is a 5" bash -c "'$SOFTREG' show --data '$DATA' --index 0 --pgm '$tmp/five.pgm' | head -1 | grep -q 'label 5'"
check "show writes a 28x28 PGM" bash -c "head -c 13 '$tmp/five.pgm' | grep -q 'P5' && [[ \$(stat -c %s '$tmp/five.pgm') == \$((13 + 784)) ]]"
check "predict a PGM: label 5" bash -c "'$SOFTREG' predict --model '$tmp/m.srm' '$tmp/five.pgm' | grep -q ': 5 '"
"$SOFTREG" predict --model "$tmp/m.srm" --top 2 --json "$DATA/t10k-images-idx3-ubyte.gz" >"$tmp/pred.json"
check "predict an IDX file: every image, and the accuracy of eval" "$PY" - "$tmp/pred.json" "$tmp/eval.json" "$DATA" <<'PY'
import json, sys, gzip
p, e = json.load(open(sys.argv[1]))["predictions"], json.load(open(sys.argv[2]))
labels = gzip.open(sys.argv[3] + "/t10k-labels-idx1-ubyte.gz").read()[8:]
assert len(p) == 10000 and p[9999]["index"] == 9999
assert all(len(x["top"]) == 2 and x["top"][0]["class"] == x["label"] and x["top"][0]["p"] >= x["top"][1]["p"] for x in p)
acc = sum(x["label"] == labels[i] for i, x in enumerate(p)) / 10000
assert abs(acc - e["accuracy"]) <= 2e-4, (acc, e["accuracy"])  # ties aside, the same predictions
PY

# export: W as (k, rows, cols) float32, equal to the CSV export
"$SOFTREG" export --model "$tmp/m.srm" --format npy --out "$tmp/W.npy"
"$SOFTREG" export --model "$tmp/m.srm" --format csv --out "$tmp/W.csv"
check "export npy == csv" "$PY" - "$tmp/W.npy" "$tmp/W.csv" <<'PY'
import sys, numpy as np
W = np.load(sys.argv[1])
C = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1)
assert W.shape == (10, 28, 28) and W.dtype == np.float32, (W.shape, W.dtype)
assert np.allclose(W.reshape(10, -1), C[:, 2:], rtol=1e-6, atol=0) and np.any(W != 0)
PY

# the default thread count (SGD: 1 or all, chosen from each epoch's first batches) and the
# explicit ones give the same model bytes, on the sparse kernel (MNIST's default) and blas
for k in sparse blas; do
	for t in "" "--threads 1" "--threads 2" "--threads 3"; do
		# shellcheck disable=SC2086
		"$SOFTREG" train --data "$DATA" --epochs 1 --batch 256 --kernel $k $t --quiet --out "$tmp/t$k${t// /}.srm"
	done
	check "$k: default threads == --threads 1 == 2 == 3, bitwise" bash -c "cmp '$tmp/t$k.srm' '$tmp/t$k--threads1.srm' &&
		cmp '$tmp/t$k.srm' '$tmp/t$k--threads2.srm' && cmp '$tmp/t$k.srm' '$tmp/t$k--threads3.srm'"
done

# info names the BLAS, its core and the threads
check "info" bash -c "'$SOFTREG' info | grep -q '^blas core' && '$SOFTREG' info --json | '$PY' -c 'import json,sys; j=json.load(sys.stdin); assert j[\"blas_parallel\"]==\"openmp\" and j[\"threads\"]>=1'"

# a diverging rate: one line, exit 1, no model written
set +e
"$SOFTREG" train --data "$DATA" --preset seed --lr 1e6 --out "$tmp/bad.srm" >"$tmp/div.out" 2>"$tmp/div.err"
rc=$?
set -e
check "divergence: exit 1" test $rc = 1
check "divergence: the message" grep -q '^softreg: training diverged at epoch 1, batch [0-9]* (loss = .*); try a smaller --lr$' "$tmp/div.err"
check "divergence: no model written" test ! -e "$tmp/bad.srm"
# features of 1e30 overflow the logits at the second batch: the loss is NaN,
# reported as "nan" (printf's "-nan" for a NaN with its sign bit set was the
# old message)
awk 'BEGIN { srand(1); for (i = 0; i < 600; i++) { printf "%d", i % 3
    for (j = 1; j <= 20; j++) if (rand() < 0.2) printf " %d:1e30", j; printf "\n" } }' >"$tmp/huge.svm"
set +e
"$SOFTREG" train --train "$tmp/huge.svm" --epochs 2 --batch 64 --out "$tmp/huge.srm" 2>"$tmp/nan.err"
rc=$?
set -e
check "divergence to NaN: exit 1" test $rc = 1
check "divergence to NaN: the message" grep -q '^softreg: training diverged at epoch 1, batch [0-9]* (loss = nan); try a smaller --lr$' "$tmp/nan.err"
check "divergence to NaN: no model written" test ! -e "$tmp/huge.srm"

# the seed preset runs the tutorial's 20 epochs of batch 10000
"$SOFTREG" train --data "$DATA" --preset seed --json --quiet >"$tmp/seed.json"
check "preset seed: 20 epochs, batch 10000, lr 1e-5, accuracy near 90.5%" "$PY" -c "
import json; j = json.load(open('$tmp/seed.json'))
assert j['epochs'] == 20 and j['batch'] == 10000 and j['lr'] == 1e-5 and j['momentum'] == 0, j
assert 0.89 < j['test_accuracy'] < 0.92, j['test_accuracy']"

echo "test_cli: $checks checks, $fails failed"
((fails == 0))
