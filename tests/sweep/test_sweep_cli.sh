#!/usr/bin/env bash
# tests/sweep/test_sweep_cli.sh: `softreg sweep` end to end on a small probe-shaped problem
# (scripts/make-probe: 3000 rows, 32 features, 50 classes, labels 1000 + 3c).
#
#  - usage errors (exit 2) and runtime errors (exit 1) are one line `softreg: ...`;
#    --help lists every option;
#  - `--warm none` fits are `softreg train --solver lbfgs --l2 L --validation N`, exactly: the same
#    iterations and validation accuracy for every lambda (the sweep validates the rows train
#    holds out, with the same solver);
#  - `--val FILE` with the last N rows in their own file gives the same path, the same choice
#    and the same model bytes as `--validation N` (the refit joins train and validation);
#  - the JSON, --metrics and --out agree (the chosen row, the refit's row count, eval's
#    accuracy of the saved model = the reported test accuracy); the same bytes at 1 and 2
#    threads;
#  - --search binary: the grid search itself when the grid has at most 16 values; on CLIP's
#    96 values, the coarse grid every 8th value and then neighbours down to one step;
#  - scripts/plot --sweep draws sweep.png (when matplotlib is there).
# Needs SOFTREG and SOURCE_ROOT (meson sets them); exit 77 without python3-numpy.
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg program}"
SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || { echo "SKIP: no python3-numpy"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-test-sweep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

"$PY" "$SOURCE_ROOT/scripts/make-probe" --n 3000 --test 1000 --d 32 --k 50 --seed 3 --out "$tmp/p" >/dev/null
data=(--train "$tmp/p/train-x.npy" --train-labels "$tmp/p/train-y.npy" --test "$tmp/p/test-x.npy"
      --test-labels "$tmp/p/test-y.npy")
nval=600
grid=1e-4:1e-1:7
# field NAME of the JSON object in FILE
field() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

echo "# errors: one line, exit 2 (usage) or 1 (runtime)"
expect() { # STATUS PATTERN ARGS...
	local want=$1 pat=$2 st=0
	shift 2
	"$SOFTREG" sweep "$@" >"$tmp/out" 2>"$tmp/err" || st=$?
	local lines
	lines=$(wc -l <"$tmp/err")
	if [[ $st == "$want" && $lines == 1 ]] && grep -q "^softreg: .*$pat" "$tmp/err" && [[ ! -s $tmp/out ]]; then
		ok "exit $want: $(cat "$tmp/err")"
	else
		fail "sweep $*: exit $st (want $want), $lines stderr lines (want 1 matching '$pat'):"
		sed 's/^/    | /' "$tmp/err"
	fi
}
expect 2 "validation split is needed" "${data[@]}"
expect 2 "exclude each other" "${data[@]}" --validation 10 --val "$tmp/p/test-x.npy"
expect 2 "needs --val" "${data[@]}" --validation 10 --val-labels "$tmp/p/test-y.npy"
expect 2 "--l2 must be numbers" "${data[@]}" --validation 10 --l2 1e-3,abc
expect 2 "--l2 must be numbers" "${data[@]}" --validation 10 --l2 1e-3,,1e-4
expect 2 "--l2 must be numbers" "${data[@]}" --validation 10 --l2 1e-3,-1
expect 2 "--l2 must be numbers" "${data[@]}" --validation 10 --l2 nan
expect 2 "FROM:TO:COUNT" "${data[@]}" --validation 10 --l2 0:1:3
expect 2 "FROM:TO:COUNT" "${data[@]}" --validation 10 --l2 1e-3:1e-1:0
expect 2 "FROM:TO:COUNT" "${data[@]}" --validation 10 --l2 1e-3:1e-1:2.5
expect 2 "FROM:TO:COUNT" "${data[@]}" --validation 10 --l2 1e-3:1e-1
expect 2 "must be one of" "${data[@]}" --validation 10 --search ternary
expect 2 "unknown option" "${data[@]}" --validation 10 --epochs 3
expect 2 "must be below the 3000 training rows" "${data[@]}" --validation 3000
expect 1 "nope.npy" --train "$tmp/nope.npy" --train-labels "$tmp/p/train-y.npy" --validation 10
expect 2 "validation needs labels" "${data[@]}" --val "$tmp/p/test-x.npy"
mkdir -p "$tmp/dir.srm"
expect 2 "--out" "${data[@]}" --validation 10 --out "$tmp/dir.srm"
st=0
"$SOFTREG" sweep --help >"$tmp/help" || st=$?
missing=""
for f in --data --train --train-labels --test --test-labels --format --validation --val --val-labels --l2 \
	--search --max-iter --tol --history --warm --standardize --kernel --threads --out --json --metrics --quiet; do
	grep -q -- "^  $f[ ,]" "$tmp/help" || missing+=" $f"
done
if [[ $st == 0 && -z $missing ]]; then ok "--help: exit 0, every option listed"; else fail "--help: exit $st, missing:$missing"; fi
"$SOFTREG" --help | grep -q '^  sweep ' && ok "softreg --help lists sweep" || fail "softreg --help does not list sweep"

echo "# --warm none fits = softreg train --solver lbfgs --validation N, lambda by lambda"
"$SOFTREG" sweep "${data[@]}" --validation $nval --l2 $grid --warm none --json --quiet --threads 2 >"$tmp/cold.json"
"$PY" - "$tmp/cold.json" "$SOFTREG" "$nval" "$tmp/p" <<'PY' || failures=$((failures + 1))
import json, subprocess, sys
cold, exe, nval, p = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
bad = 0
for f in cold["path"]:
    r = json.loads(subprocess.run([exe, "train", "--train", f"{p}/train-x.npy", "--train-labels", f"{p}/train-y.npy",
                                   "--solver", "lbfgs", "--l2", repr(f["l2"]), "--validation", nval, "--eval-every", "0",
                                   "--json", "--quiet", "--threads", "2"], check=True, stdout=subprocess.PIPE).stdout)
    same = r["iterations"] == f["iterations"] and r["val_accuracy"] == f["validation_accuracy"]
    print(f"{'ok  ' if same else 'FAIL'} l2 {f['l2']:g}: sweep --warm none {f['iterations']} iterations, "
          f"{100 * f['validation_accuracy']:.2f}%; train {r['iterations']} iterations, {100 * r['val_accuracy']:.2f}%")
    bad += not same
sys.exit(1 if bad else 0)
PY

echo "# the warm sweep: JSON, --metrics, --out"
"$SOFTREG" sweep "${data[@]}" --validation $nval --l2 $grid --json --quiet --threads 2 --out "$tmp/w2.srm" \
	--metrics "$tmp/w.csv" >"$tmp/warm.json"
"$SOFTREG" sweep "${data[@]}" --validation $nval --l2 $grid --quiet --threads 1 --out "$tmp/w1.srm" >"$tmp/plain.out"
cmp -s "$tmp/w1.srm" "$tmp/w2.srm" && ok "the same model bytes at 1 and 2 threads" || fail "1 and 2 threads give different models"
grep -q '^chosen l2 .*test accuracy' "$tmp/plain.out" && ok "plain output: $(cat "$tmp/plain.out")" ||
	fail "plain output: $(cat "$tmp/plain.out")"
"$SOFTREG" eval --model "$tmp/w2.srm" --test "$tmp/p/test-x.npy" --test-labels "$tmp/p/test-y.npy" --json >"$tmp/eval.json"
"$PY" - "$tmp/warm.json" "$tmp/w.csv" "$tmp/eval.json" "$nval" <<'PY' || failures=$((failures + 1))
import csv, json, sys
w, rows, ev, nval = json.load(open(sys.argv[1])), list(csv.DictReader(open(sys.argv[2]))), json.load(open(sys.argv[3])), int(sys.argv[4])
bad = []
l2s = [f["l2"] for f in w["path"]]
if l2s != sorted(l2s, reverse=True) or len(l2s) != 7:
    bad.append(f"path not the 7 values from the largest: {l2s}")
if abs(l2s[0] - 0.1) > 1e-15 or abs(l2s[-1] - 1e-4) > 1e-19 or abs(l2s[3] - 10 ** -2.5) > 1e-15:
    bad.append(f"grid values {l2s}")
best = max(w["path"], key=lambda f: (f["validation_accuracy"], f["l2"]))
if best["l2"] != w["chosen_l2"]:
    bad.append(f"chosen_l2 {w['chosen_l2']} is not the best validation accuracy's {best['l2']}")
if w["n_train"] != 3000 - nval or w["n_validation"] != nval or w["refit"]["n"] != 3000:
    bad.append(f"rows: n_train {w['n_train']}, n_validation {w['n_validation']}, refit {w['refit']['n']}")
if w["path_iterations"] != sum(f["iterations"] for f in w["path"]):
    bad.append("path_iterations is not the sum of the fits'")
if [c for c in rows[0]] != ["l2", "iterations", "seconds", "validation_accuracy", "validation_loss", "objective",
                            "grad_norm", "chosen"] or len(rows) != len(w["path"]):
    bad.append(f"metrics: header {list(rows[0])} and {len(rows)} rows")
chosen = [float(r["l2"]) for r in rows if r["chosen"] == "1"]
if chosen != [w["chosen_l2"]]:
    bad.append(f"metrics: chosen rows {chosen}, JSON {w['chosen_l2']}")
if [float(r["l2"]) for r in rows] != l2s or [int(r["iterations"]) for r in rows] != [f["iterations"] for f in w["path"]]:
    bad.append("metrics rows differ from the JSON path")
if abs(ev["accuracy"] - w["test_accuracy"]) > 1e-6:
    bad.append(f"eval of --out: {ev['accuracy']}, sweep's test_accuracy {w['test_accuracy']}")
if not all(f["grad_norm"] <= 1e-5 for f in w["path"]):
    bad.append("a fit stopped above --tol")
for b in bad:
    print("FAIL", b)
if not bad:
    print(f"ok   JSON, metrics and model agree: chosen l2 {w['chosen_l2']:g}, test {100 * w['test_accuracy']:.2f}%")
sys.exit(1 if bad else 0)
PY

echo "# --val FILE = --validation N on the same rows (the same path, choice and model bytes)"
"$PY" - "$tmp/p" "$nval" <<'PY'
import numpy as np, sys
p, nval = sys.argv[1], int(sys.argv[2])
X, y = np.load(f"{p}/train-x.npy"), np.load(f"{p}/train-y.npy")
np.save(f"{p}/a-x.npy", X[:-nval]); np.save(f"{p}/a-y.npy", y[:-nval])
np.save(f"{p}/v-x.npy", X[-nval:]); np.save(f"{p}/v-y.npy", y[-nval:])
PY
"$SOFTREG" sweep --train "$tmp/p/a-x.npy" --train-labels "$tmp/p/a-y.npy" --val "$tmp/p/v-x.npy" \
	--val-labels "$tmp/p/v-y.npy" --test "$tmp/p/test-x.npy" --test-labels "$tmp/p/test-y.npy" --l2 $grid \
	--json --quiet --threads 2 --out "$tmp/v.srm" >"$tmp/val.json"
"$PY" - "$tmp/warm.json" "$tmp/val.json" <<'PY' || failures=$((failures + 1))
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
key = lambda r: [(f["l2"], f["iterations"], f["validation_accuracy"], f["objective"]) for f in r["path"]]
same = key(a) == key(b) and a["chosen_l2"] == b["chosen_l2"] and a["refit"]["iterations"] == b["refit"]["iterations"] \
    and a["test_accuracy"] == b["test_accuracy"]
print(f"{'ok  ' if same else 'FAIL'} --val FILE and --validation N: the same path and choice")
sys.exit(0 if same else 1)
PY
cmp -s "$tmp/v.srm" "$tmp/w2.srm" && ok "--val FILE and --validation N: the same model bytes" ||
	fail "--val FILE and --validation N save different models"

echo "# the same with libsvm text (sparse rows: the refit joins CSR data)"
"$PY" - "$tmp/p" "$nval" <<'PY'
import numpy as np, sys
p, nval = sys.argv[1], int(sys.argv[2])
X, y = np.load(f"{p}/train-x.npy"), np.load(f"{p}/train-y.npy")
X[np.abs(X) < 0.5] = 0  # sparse: about 60% zeros
def write(path, X, y):
    with open(path, "w") as f:
        for row, label in zip(X, y):
            nz = np.flatnonzero(row)
            f.write(f"{label} " + " ".join(f"{j + 1}:{row[j]:.9g}" for j in nz) + "\n")
write(f"{p}/all.svm", X, y)
write(f"{p}/a.svm", X[:-nval], y[:-nval])
write(f"{p}/v.svm", X[-nval:], y[-nval:])
PY
"$SOFTREG" sweep --train "$tmp/p/all.svm" --validation $nval --l2 $grid --json --quiet --out "$tmp/s1.srm" >"$tmp/s1.json"
"$SOFTREG" sweep --train "$tmp/p/a.svm" --val "$tmp/p/v.svm" --l2 $grid --json --quiet --out "$tmp/s2.srm" >"$tmp/s2.json"
if cmp -s "$tmp/s1.srm" "$tmp/s2.srm" && [[ $(field "$tmp/s1.json" chosen_l2) == "$(field "$tmp/s2.json" chosen_l2)" ]] &&
	[[ $(field "$tmp/s1.json" kernel) == sparse ]]; then
	ok "libsvm: --val FILE and --validation N give the same model bytes (sparse kernel)"
else
	fail "libsvm: --val FILE and --validation N differ"
fi

echo "# dense uint8 rows, mostly zeros: the sparse kernel, as train chooses it (the refit joins compact CSR)"
"$PY" - "$tmp/p" "$nval" <<'PY'
import numpy as np, sys
p, nval = sys.argv[1], int(sys.argv[2])
X, y = np.load(f"{p}/train-x.npy"), np.load(f"{p}/train-y.npy")
# 88% zeros: sparse enough for either rule of --kernel auto (softreg info)
U = np.where(np.abs(X) < np.quantile(np.abs(X), 0.88), 0, np.clip(np.round(np.abs(X) * 60), 1, 255)).astype(np.uint8)
np.save(f"{p}/u-x.npy", U); np.save(f"{p}/u-y.npy", y)
np.save(f"{p}/ua-x.npy", U[:-nval]); np.save(f"{p}/ua-y.npy", y[:-nval])
np.save(f"{p}/uv-x.npy", U[-nval:]); np.save(f"{p}/uv-y.npy", y[-nval:])
PY
u=(--train "$tmp/p/u-x.npy" --train-labels "$tmp/p/u-y.npy" --validation $nval --l2 $grid --json --quiet)
"$SOFTREG" sweep "${u[@]}" --out "$tmp/u1.srm" >"$tmp/u1.json"
"$SOFTREG" sweep --train "$tmp/p/ua-x.npy" --train-labels "$tmp/p/ua-y.npy" --val "$tmp/p/uv-x.npy" \
	--val-labels "$tmp/p/uv-y.npy" --l2 $grid --json --quiet --out "$tmp/u2.srm" >"$tmp/u2.json"
"$SOFTREG" sweep "${u[@]}" --kernel blas --out "$tmp/ub.srm" >"$tmp/ub.json"
"$PY" - "$tmp/u1.json" "$tmp/u2.json" "$tmp/ub.json" <<'PY' || failures=$((failures + 1))
import json, sys
a, v, b = (json.load(open(f)) for f in sys.argv[1:])
bad = 0
def check(cond, what):
    global bad
    print(f"{'ok  ' if cond else 'FAIL'} {what}")
    bad += not cond
check(a["kernel"] == v["kernel"] == "sparse" and b["kernel"] == "blas",
      f"kernels: {a['kernel']}, --val FILE {v['kernel']}, --kernel blas {b['kernel']}")
check(a["chosen_l2"] == v["chosen_l2"] == b["chosen_l2"], f"chosen l2 {a['chosen_l2']}, {v['chosen_l2']}, {b['chosen_l2']}")
worst = max(abs(x["objective"] - y["objective"]) / abs(y["objective"]) for x, y in zip(a["path"], b["path"]))
check(worst < 1e-5, f"sparse and blas paths reach the same optimum: objective rel. diff {worst:.2g} < 1e-5")
r = abs(a["refit"]["objective"] - b["refit"]["objective"]) / b["refit"]["objective"]
check(r < 1e-5, f"refits: objective rel. diff {r:.2g} < 1e-5")
sys.exit(1 if bad else 0)
PY
cmp -s "$tmp/u1.srm" "$tmp/u2.srm" && ok "uint8 rows on the sparse kernel: --val FILE = --validation N, model bytes" ||
	fail "uint8 rows on the sparse kernel: --val FILE and --validation N save different models"

echo "# --search binary"
"$SOFTREG" sweep "${data[@]}" --validation $nval --l2 $grid --search binary --json --quiet >"$tmp/bin7.json"
"$SOFTREG" sweep "${data[@]}" --validation $nval --search binary --json --quiet --metrics "$tmp/b.csv" >"$tmp/bin96.json"
"$PY" - "$tmp/warm.json" "$tmp/bin7.json" "$tmp/bin96.json" <<'PY' || failures=$((failures + 1))
import json, math, sys
w, b7, b96 = (json.load(open(f)) for f in sys.argv[1:4])
bad = []
if [(f["l2"], f["iterations"]) for f in b7["path"]] != [(f["l2"], f["iterations"]) for f in w["path"]]:
    bad.append("binary on 7 values is not the grid search")
grid = [10 ** (6 - 12 * i / 95) for i in range(96)]  # largest first
idx = lambda l2: min(range(96), key=lambda i: abs(math.log10(grid[i]) - math.log10(l2)))
got = [idx(f["l2"]) for f in b96["path"]]
coarse = list(range(0, 96, 8)) + [95]
if got[:len(coarse)] != coarse:
    bad.append(f"coarse fits at grid indices {got[:len(coarse)]}, want {coarse}")
if not len(coarse) < len(got) <= len(coarse) + 6 or len(set(got)) != len(got):
    bad.append(f"{len(got)} fits: {got}")
c = idx(b96["chosen_l2"])
best = max(b96["path"], key=lambda f: (f["validation_accuracy"], f["l2"]))
if best["l2"] != b96["chosen_l2"]:
    bad.append("the chosen l2 is not the best fit's")
if not all(j in got for j in (c - 1, c + 1) if 0 <= j < 96):
    bad.append(f"the chosen index {c}: its neighbours were not fitted ({got})")
for x in bad:
    print("FAIL binary:", x)
if not bad:
    print(f"ok   binary search: {len(got)} fits of 96 (indices {got}), chosen l2 {b96['chosen_l2']:.3g} "
          f"({100 * b96['validation_accuracy']:.2f}%; grid of 7: {w['chosen_l2']:.3g}, "
          f"{100 * w['validation_accuracy']:.2f}%)")
sys.exit(1 if bad else 0)
PY

echo "# SIGINT: exit 130, one line, the finished fits' metrics, no model"
"$SOFTREG" sweep "${data[@]}" --validation $nval --tol 0 --threads 2 --out "$tmp/int.srm" --metrics "$tmp/int.csv" \
	>"$tmp/int.out" 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 100); do # until the first fit has finished (its row in the table), at most 10 s
	[[ $(grep -c '^ *[0-9]' "$tmp/int.err") -ge 1 ]] && break
	sleep 0.1
done
kill -INT $pid
st=0
wait $pid || st=$?
last=$(tail -n 1 "$tmp/int.err")
rows=$(($(wc -l <"$tmp/int.csv" 2>/dev/null || echo 1) - 1))
if [[ $st == 130 && $last == "softreg: interrupted during a fit ("*" fits done), their metrics written; no model written" &&
	! -e $tmp/int.srm && $rows -ge 1 && ! -s $tmp/int.out ]]; then
	ok "SIGINT: exit 130, '$last', $rows metrics rows, no model"
else
	fail "SIGINT: exit $st, last line '$last', $rows metrics rows, model $([[ -e $tmp/int.srm ]] && echo written || echo absent)"
fi

echo "# scripts/plot --sweep"
if "$PY" -c 'import matplotlib' 2>/dev/null; then
	if "$PY" "$SOURCE_ROOT/scripts/plot" --sweep "$tmp/b.csv" --out "$tmp/fig" >"$tmp/plot.out" &&
		[[ $(head -c 8 "$tmp/fig/sweep.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; then
		ok "sweep.png ($(stat -c %s "$tmp/fig/sweep.png") bytes)"
	else
		fail "scripts/plot --sweep"
	fi
	printf 'l2,iterations\n1,2\n' >"$tmp/badsweep.csv"
	st=0
	"$PY" "$SOURCE_ROOT/scripts/plot" --sweep "$tmp/badsweep.csv" --out "$tmp/fig" 2>"$tmp/plot.err" || st=$?
	[[ $st == 1 ]] && grep -q "expected the header" "$tmp/plot.err" && ok "plot: a bad sweep CSV is exit 1" ||
		fail "plot: a bad sweep CSV gave exit $st: $(cat "$tmp/plot.err")"
else
	echo "skip scripts/plot (no python3-matplotlib)"
fi

echo "$failures failure(s)"
((failures == 0))
