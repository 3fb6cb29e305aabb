#!/usr/bin/env bash
# scripts/bench-compare passes identical files, flags a planted 20% slowdown
# (exit 1, naming the case), honours --threshold, and rejects bad input.
# The JSON comes from a short real run of softreg-bench.
set -euo pipefail
bench=${SOFTREG_BENCH:?set SOFTREG_BENCH}
compare=${BENCH_COMPARE:?set BENCH_COMPARE}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-bench-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bench" --batch 16,64 --threads 1 --filter 'gather,softmax/blas' --reps 3 --min-seconds 0.01 \
    --json "$tmp/base.json" >"$tmp/run.out"

# a copy with one case 20% slower, and one with every case 20% faster
"$python" - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
doc = json.load(open(f"{d}/base.json"))
slow, fast = json.loads(json.dumps(doc)), json.loads(json.dumps(doc))
slow["cases"][-1]["ns_min"] *= 1.2
for c in fast["cases"]:
    c["ns_min"] /= 1.2
json.dump(slow, open(f"{d}/slow.json", "w"))
json.dump(fast, open(f"{d}/fast.json", "w"))
open(f"{d}/slow.name", "w").write(slow["cases"][-1]["name"])
PY
slow_case=$(cat "$tmp/slow.name")

"$compare" "$tmp/base.json" "$tmp/base.json" >"$tmp/same.out" || fail "identical files: exit $?, expected 0"
grep -q ' 0 slower' "$tmp/same.out" || fail "identical files: summary does not say 0 slower"
echo "ok: identical files pass"

rc=0
"$compare" "$tmp/base.json" "$tmp/slow.json" >"$tmp/slow.out" 2>"$tmp/slow.err" || rc=$?
[[ $rc -eq 1 ]] || fail "20% slower: exit $rc, expected 1"
grep -q "^$slow_case .*SLOWER" "$tmp/slow.out" || fail "20% slower: $slow_case not flagged SLOWER"
grep -q ' 1 slower' "$tmp/slow.out" || fail "20% slower: summary does not say 1 slower"
echo "ok: a planted 20% slowdown is flagged (exit 1)"

"$compare" "$tmp/base.json" "$tmp/slow.json" --threshold 25 >/dev/null ||
    fail "20% slower with --threshold 25: exit $?, expected 0"
"$compare" "$tmp/base.json" "$tmp/fast.json" >"$tmp/fast.out" || fail "faster: exit $?, expected 0"
grep -q ' 0 slower' "$tmp/fast.out" || fail "faster: summary does not say 0 slower"
echo "ok: the threshold is honoured and a speed-up passes"

echo '{"cases": 3}' >"$tmp/junk.json"
echo 'not json' >"$tmp/text.json"
for args in "" "$tmp/base.json" "$tmp/base.json $tmp/missing.json" "$tmp/base.json $tmp/junk.json" \
            "$tmp/base.json $tmp/text.json" "--threshold -5 $tmp/base.json $tmp/base.json" "--bogus"; do
    rc=0
    # shellcheck disable=SC2086
    "$compare" $args >/dev/null 2>"$tmp/err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'$args': exit $rc, expected 2"
    grep -q '^bench-compare: ' "$tmp/err" || fail "'$args': no one-line error"
done
echo "ok: bad usage and unreadable files exit 2"
