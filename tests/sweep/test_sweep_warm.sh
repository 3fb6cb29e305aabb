#!/usr/bin/env bash
# tests/sweep/test_sweep_warm.sh: warm starts must be on. On problems where a fit started from
# the neighbouring lambda's solution has far less to do than one started from zero, the sweep's
# iterations are compared with independent `softreg train --solver lbfgs --l2 L --validation N`
# fits of the same grid:
#  - the first fit (the largest lambda, from zero in both) takes the same iterations;
#  - the other fits take at most MAX_FRACTION (0.7) of the independent fits' iterations
#    together, and each says it started from a prediction (not from zero). Measured: 0.54
#    (probe) and 0.55 (MNIST subset) with the default --warm memory; 0.76 and 0.86 with the
#    previous solution alone (--warm solution: the predictor lost); 1.0 from zero. So a sweep
#    that silently starts every fit from zero, or loses its predictor, fails here;
#  - the choice is the independent fits' choice, and every validation accuracy agrees within
#    0.5 points (a few rows of these small validation sets).
# Data: a probe-shaped problem (scripts/make-probe: 4000 rows, 64 features, 200 classes) and,
# when data/mnist is there, its first 6000 training images (scripts/convert --limit 6000 to
# float32 .npy). Exit 77 without python3-numpy.
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg program}"
SOURCE_ROOT=${SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
"$PY" -c 'import numpy' 2>/dev/null || { echo "SKIP: no python3-numpy"; exit 77; }
MAX_FRACTION=0.7

tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-test-sweep-warm.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failures=0

check() { # NAME NVAL GRID TRAIN-FLAGS...
	local name=$1 nval=$2 grid=$3
	shift 3
	"$SOFTREG" sweep "$@" --validation "$nval" --l2 "$grid" --json --quiet --threads 2 >"$tmp/$name.json"
	"$PY" - "$tmp/$name.json" "$SOFTREG" "$nval" "$MAX_FRACTION" "$name" "$@" <<'PY' || failures=$((failures + 1))
import json, subprocess, sys
sw, exe, nval, frac, name, flags = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], float(sys.argv[4]), \
    sys.argv[5], sys.argv[6:]
rows = []
for f in sw["path"]:
    r = json.loads(subprocess.run([exe, "train", *flags, "--solver", "lbfgs", "--l2", repr(f["l2"]), "--validation",
                                   nval, "--eval-every", "0", "--json", "--quiet", "--threads", "2"],
                                  check=True, stdout=subprocess.PIPE).stdout)
    rows.append((f, r))
    print(f"  l2 {f['l2']:9.3g}: sweep {f['iterations']:4d} iterations {100 * f['validation_accuracy']:6.2f}%   "
          f"train {r['iterations']:4d} iterations {100 * r['val_accuracy']:6.2f}%")
bad = []
first_sweep, first_train = rows[0][0]["iterations"], rows[0][1]["iterations"]
if first_sweep != first_train:
    bad.append(f"the first fit (from zero in both) took {first_sweep} iterations, train {first_train}")
warm = sum(f["iterations"] for f, _ in rows[1:])
cold = sum(r["iterations"] for _, r in rows[1:])
if not warm <= frac * cold:
    bad.append(f"the warm-started fits took {warm} iterations, the independent fits {cold}: more than {frac} x")
starts = [f["start"] for f, _ in rows]
if starts[0] != "zero" or "zero" in starts[1:]:
    bad.append(f"starts {starts}: the first from zero, none of the others")
chosen = max(rows, key=lambda x: (x[1]["val_accuracy"], x[1]["l2"]))[1]["l2"]
if chosen != sw["chosen_l2"]:
    bad.append(f"chosen l2: sweep {sw['chosen_l2']:g}, independent fits {chosen:g}")
worst = max(abs(f["validation_accuracy"] - r["val_accuracy"]) for f, r in rows)
if worst > 0.005:
    bad.append(f"validation accuracies differ by {100 * worst:.2f} points")
for b in bad:
    print(f"FAIL {name}: {b}")
if not bad:
    print(f"ok   {name}: warm-started fits {warm} iterations, independent {cold} ({warm / cold:.2f} x, limit {frac}); "
          f"chosen l2 {chosen:g} both; validation accuracies within {100 * worst:.2f} points")
sys.exit(1 if bad else 0)
PY
}

echo "# a probe-shaped problem: 4000 rows (800 validate), 64 features, 200 classes"
"$PY" "$SOURCE_ROOT/scripts/make-probe" --n 4000 --test 500 --d 64 --k 200 --seed 5 --out "$tmp/p" >/dev/null
check probe 800 1e-5:1e-1:9 --train "$tmp/p/train-x.npy" --train-labels "$tmp/p/train-y.npy"

mnist=${SOFTREG_TEST_DATA:-$SOURCE_ROOT/data/mnist}
if [[ -e $mnist/train-images-idx3-ubyte.gz || -e $mnist/train-images-idx3-ubyte ]]; then
	echo "# the first 6000 MNIST training images (1000 validate), float32 .npy"
	"$PY" "$SOURCE_ROOT/scripts/convert" --data "$mnist" --to npy-f32 --limit 6000 --out "$tmp/m" >/dev/null
	check mnist 1000 1e-5:1e-1:9 --train "$tmp/m/train-x.npy" --train-labels "$tmp/m/train-y.npy"
else
	echo "skip the MNIST subset (no $mnist)"
fi

echo "$failures failure(s)"
((failures == 0))
