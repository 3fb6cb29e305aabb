#!/usr/bin/env bash
# test_solver_cli.sh: `softreg train --solver lbfgs` from the command line, on
# a tiny IDX data set this test writes: the JSON report (objective, grad_norm,
# iterations, val_accuracy), --tol/--max-iter/--history, and the round trip
# train --out -> eval of plain and standardised models (eval must apply the
# preprocessing the model stores and give the accuracy train reported).
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg binary}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-test-solver-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# 400 train and 200 test images of 6x6 pixels, 3 classes (a noisy template
# each); the first column is always 0 (a zero-variance feature).
python3 - "$tmp" <<'PY'
import gzip, random, struct, sys
d = sys.argv[1]
rng = random.Random(5)
tmpl = [[rng.randrange(256) for _ in range(36)] for _ in range(3)]
def write(stem, n):
    imgs, labels = bytearray(), bytearray()
    for _ in range(n):
        c = rng.randrange(3)
        labels.append(c)
        for j in range(36):
            v = 0 if j % 6 == 0 else min(255, max(0, tmpl[c][j] + rng.randrange(-300, 301)))
            imgs.append(v)
    with gzip.open(f"{d}/{stem}-images-idx3-ubyte.gz", "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 6, 6) + imgs)
    with open(f"{d}/{stem}-labels-idx1-ubyte", "wb") as f:  # raw, not gzip: both must work
        f.write(struct.pack(">II", 0x801, n) + labels)
write("train", 400)
write("t10k", 200)
PY

# field NAME of the JSON object in FILE
field() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"; }
# true when python3 says so about the numbers a, b (in that order)
holds() { python3 -c "import sys; a, b = map(float, sys.argv[2:4]); sys.exit(0 if ($1) else 1)" "$1" "$2" "$3"; }

for prep in "" "--standardize"; do
    name=${prep:-scale}
    "$SOFTREG" train --data "$tmp" --solver lbfgs --l2 1e-3 ${prep:+"$prep"} --json --quiet --out "$tmp/m.srm" >"$tmp/train.json" ||
        { fail "$name: train exited $?"; continue; }
    [[ $(field "$tmp/train.json" solver) == lbfgs ]] || fail "$name: solver is not lbfgs"
    it=$(field "$tmp/train.json" iterations)
    g=$(field "$tmp/train.json" grad_norm)
    F=$(field "$tmp/train.json" objective)
    acc=$(field "$tmp/train.json" test_accuracy)
    holds "a <= 1e-5" "$g" 0 || fail "$name: grad_norm $g above the default tol 1e-5"
    holds "0 < a < 1.0986123 and b < 1000" "$F" "$it" || fail "$name: objective $F (log 3 = 1.0986 at W = 0), $it iterations"
    holds "a > 0.6" "$acc" 0 || fail "$name: test accuracy $acc: nothing learnt"
    "$SOFTREG" eval --model "$tmp/m.srm" --data "$tmp" --json >"$tmp/eval.json" || { fail "$name: eval exited $?"; continue; }
    eacc=$(field "$tmp/eval.json" accuracy)
    holds "abs(a - b) < 1e-9" "$eacc" "$acc" || fail "$name: eval of the saved model says $eacc, train said $acc"
    echo "ok: $name: $it iterations, F $F, |grad F| $g, test accuracy $acc, eval of the saved model $eacc"
done

# --tol and --max-iter stop where asked; --history 1 still converges
"$SOFTREG" train --data "$tmp" --solver lbfgs --l2 1e-3 --tol 1e-2 --json --quiet >"$tmp/a.json"
holds "a <= 1e-2" "$(field "$tmp/a.json" grad_norm)" 0 || fail "--tol 1e-2: grad_norm $(field "$tmp/a.json" grad_norm)"
holds "a < b" "$(field "$tmp/a.json" iterations)" "$it" || fail "--tol 1e-2 took no fewer iterations than 1e-5"
"$SOFTREG" train --data "$tmp" --solver lbfgs --l2 1e-3 --max-iter 3 --json --quiet >"$tmp/b.json"
[[ $(field "$tmp/b.json" iterations) == 3 ]] || fail "--max-iter 3 ran $(field "$tmp/b.json" iterations) iterations"
"$SOFTREG" train --data "$tmp" --solver lbfgs --l2 1e-3 --history 1 --json --quiet >"$tmp/c.json"
holds "a <= 1e-5" "$(field "$tmp/c.json" grad_norm)" 0 || fail "--history 1 did not converge"

# --validation: the report and every iteration carry the validation accuracy
"$SOFTREG" train --data "$tmp" --solver lbfgs --l2 1e-3 --validation 100 --json --quiet >"$tmp/v.json"
python3 - "$tmp/v.json" <<'PY' || fail "--validation 100: no val_accuracy in the report or its history"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["n_train"] == 300 and r["validation"] == 100, r
assert 0 <= r["val_accuracy"] <= 1
assert r["history"] and all(0 <= h["val_accuracy"] <= 1 for h in r["history"])
PY

# the L-BFGS solver refuses what only SGD does (usage errors, status 2)
for bad in "--early-stop 2 --validation 50" "--checkpoint $tmp/x.ckpt"; do
    read -r -a flags <<<"$bad"
    set +e
    "$SOFTREG" train --data "$tmp" --solver lbfgs "${flags[@]}" --quiet >/dev/null 2>"$tmp/err"
    rc=$?
    set -e
    [[ $rc == 2 ]] || fail "--solver lbfgs $bad: exit $rc, expected 2"
done

if ((fails)); then
    echo "test_solver_cli: $fails check(s) failed" >&2
    exit 1
fi
echo "test_solver_cli: all checks passed"
