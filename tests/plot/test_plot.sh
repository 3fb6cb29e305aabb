#!/usr/bin/env bash
# tests/plot/test_plot.sh: what `softreg train --metrics/--trace` writes on a real MNIST
# run, its plain per-epoch progress lines, and the figures scripts/plot draws from it.
#
# The oracle for dist_W in the middle of training: two runs with the same seed, threads and
# constant learning rate, one of 1 epoch and one of 2, do the same first epoch bit for bit;
# so the 2-epoch trace's dist_W at the last iteration of epoch 1 must be |W_1epoch - W_final|,
# computed here from `softreg export` of both models.
#
# Needs SOFTREG, SOFTREG_TEST_DATA, SOURCE_ROOT (meson sets them). Exit 77 (skip) without
# the MNIST files or without python3-numpy/python3-matplotlib.
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg program}"
: "${SOFTREG_TEST_DATA:?set SOFTREG_TEST_DATA to the MNIST folder}"
SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
check=("$PY" "$here/check.py")
plot=("$SOURCE_ROOT/scripts/plot")

skip() { echo "SKIP: $*"; exit 77; }
data=$SOFTREG_TEST_DATA
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
	[[ -e $data/$f || -e $data/$f.gz ]] || skip "no $data/${f}[.gz] (run scripts/fetch-mnist)"
done
"$PY" -c 'import numpy, matplotlib' 2>/dev/null || skip "no python3-numpy/python3-matplotlib for $PY (run scripts/setup)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-test-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
run_check() { "${check[@]}" "$@" || failures=$((failures + 1)); }

epochs=2 batch=128 # 128 does not divide 60000: the last batch of an epoch is short
common=(--data "$data" --batch "$batch" --schedule const --seed 7 --threads 2)

echo "# a $epochs-epoch run with --metrics, --trace, --out, and a 1-epoch twin"
"$SOFTREG" train "${common[@]}" --epochs "$epochs" --metrics "$tmp/m.csv" --trace "$tmp/t.csv" \
	--out "$tmp/final.srm" --json >"$tmp/train.json" 2>"$tmp/train.err"
"$SOFTREG" train "${common[@]}" --epochs 1 --out "$tmp/mid.srm" >/dev/null 2>"$tmp/mid.err"
n_train=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["n_train"])' "$tmp/train.json")
iterations=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["iterations"])' "$tmp/train.json")
per_epoch=$(((n_train + batch - 1) / batch))
if ((iterations == epochs * per_epoch)); then
	ok "train --json: $iterations iterations = $epochs x ceil($n_train/$batch)"
else
	fail "train --json: $iterations iterations, expected $epochs x ceil($n_train/$batch) = $((epochs * per_epoch))"
fi

echo "# (a) the metrics and trace files"
run_check metrics "$tmp/m.csv" "$epochs"
run_check trace "$tmp/t.csv" "$epochs" "$per_epoch"
for m in mid final; do
	"$SOFTREG" export --model "$tmp/$m.srm" --format npy --out "$tmp/$m.npy"
	"$SOFTREG" export --model "$tmp/$m.srm" --format json --out "$tmp/$m.json"
done
run_check oracle "$tmp/t.csv" "$per_epoch" "$tmp/mid.npy" "$tmp/final.npy" "$tmp/mid.json" "$tmp/final.json"

echo "# (c) progress on a non-terminal stderr: one plain line per epoch, none with --quiet"
check_lines() { # FILE EPOCHS
	local n want=$2 bad=0 i=0 line
	n=$(wc -l <"$1")
	while IFS= read -r line; do
		i=$((i + 1))
		[[ $line == "epoch $i/$want "* ]] || bad=1
	done <"$1"
	if ((n == want && bad == 0)) && ! grep -q $'[\r\033]' "$1"; then
		ok "$want-epoch run: $n stderr lines, 'epoch e/$want ...', no carriage return or escape"
	else
		fail "$want-epoch run: expected $want plain lines 'epoch e/$want ...' on stderr, got $n:"
		sed 's/^/    | /' "$1" | cat -v
	fi
}
check_lines "$tmp/train.err" "$epochs"
check_lines "$tmp/mid.err" 1
"$SOFTREG" train --data "$data" --epochs 2 --batch 10000 --quiet >/dev/null 2>"$tmp/quiet.err"
if [[ ! -s $tmp/quiet.err ]]; then
	ok "--quiet: nothing on stderr"
else
	fail "--quiet: stderr is not empty:"
	sed 's/^/    | /' "$tmp/quiet.err"
fi

echo "# (b) scripts/plot on that run"
"$SOFTREG" eval --model "$tmp/final.srm" --data "$data" --confusion "$tmp/c.csv" >/dev/null
figures=(accuracy loss distance weights confusion)
"${plot[@]}" --metrics "$tmp/m.csv" --trace "$tmp/t.csv" --model "$tmp/final.srm" --confusion "$tmp/c.csv" \
	--out "$tmp/fig" >"$tmp/plot.out"
expected=$(printf "$tmp/fig/%s.png\n" "${figures[@]}")
if [[ $(cat "$tmp/plot.out") == "$expected" ]]; then
	ok "scripts/plot lists the ${#figures[@]} files it wrote"
else
	fail "scripts/plot printed:"
	sed 's/^/    | /' "$tmp/plot.out"
fi
pngs=()
for f in "${figures[@]}"; do pngs+=("$tmp/fig/$f.png"); done
run_check png "${pngs[@]}"

echo "# (b) the confusion matrix from the model alone (softreg eval --json), with --data"
"${plot[@]}" --model "$tmp/final.srm" --data "$data" --out "$tmp/fig2" >/dev/null
run_check png "$tmp/fig2/weights.png" "$tmp/fig2/confusion.png"
if [[ -e $tmp/fig2/accuracy.png || -e $tmp/fig2/distance.png ]]; then
	fail "scripts/plot --model drew figures it had no input for"
else
	ok "scripts/plot --model draws only weights.png and confusion.png"
fi

echo "# (b) scripts/plot refuses bad input"
set +e
"${plot[@]}" --out "$tmp/none" >/dev/null 2>"$tmp/usage.err"
rc=$?
set -e
if ((rc == 2)); then ok "no input: exit 2 (usage)"; else fail "no input: exit $rc, expected 2"; fi
printf 'epoch,loss\n1,0.5\n' >"$tmp/bad.csv"
set +e
"${plot[@]}" --metrics "$tmp/bad.csv" --out "$tmp/bad" >/dev/null 2>"$tmp/bad.err"
rc=$?
set -e
if ((rc == 1)) && [[ $(wc -l <"$tmp/bad.err") -eq 1 ]] && grep -q '^plot: .*bad.csv: expected the header' "$tmp/bad.err"; then
	ok "a metrics file with the wrong header: exit 1, one line 'plot: FILE: expected the header ...'"
else
	fail "a metrics file with the wrong header: exit $rc, stderr:"
	sed 's/^/    | /' "$tmp/bad.err"
fi

# a trace thinned to fit its memory bound still ends at the final iteration, at distance 0
SOFTREG_TRACE_MB=1 "$SOFTREG" train --data "$data" --preset seed --quiet --trace "$tmp/s.csv" >/dev/null
if [[ $(tail -1 "$tmp/s.csv") == 120,20,*,0,0 ]]; then
	ok "a thinned trace ends at the final iteration"
else
	fail "a thinned trace ends with: $(tail -1 "$tmp/s.csv")"
fi

if ((failures)); then
	echo "FAILED: $failures group(s) of checks"
	exit 1
fi
echo "all checks passed"
