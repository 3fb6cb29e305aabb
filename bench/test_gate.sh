#!/usr/bin/env bash
# The correctness gate bites: softreg-bench exits 1 when an error is planted
# in the blas result (--plant-error), before timing anything; exits 0 when
# nothing is planted; and exits 2 with one line on bad flags.
set -euo pipefail
bench=${SOFTREG_BENCH:?set SOFTREG_BENCH to the softreg-bench program}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-bench-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# batches around the 64-row chunk edges; 1 thread against 2 and 3
# (oversubscribed): the blas kernel must give the same bits at each
rc=0
"$bench" --gate-only --batch 1,63,64,65,257 --threads 1,2,3 >"$tmp/ok.out" 2>"$tmp/ok.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/ok.out" "$tmp/ok.err" >&2; fail "clean gate exited $rc, expected 0"; }
grep -q '^gate: passed' "$tmp/ok.out" || fail "clean gate did not say 'gate: passed'"
echo "ok: the gate passes on a correct kernel"

rc=0
"$bench" --gate-only --batch 64 --threads 1 --plant-error >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$tmp/bad.out" "$tmp/bad.err" >&2; fail "planted error: exit $rc, expected 1"; }
grep -q 'FAILED' "$tmp/bad.out" || fail "planted error: no FAILED row"
grep -q '^softreg-bench: correctness gate failed' "$tmp/bad.err" || fail "planted error: no one-line error"
echo "ok: a planted error fails the gate (exit 1)"

# the timed path runs the gate first: nothing is timed after a failure
rc=0
"$bench" --batch 64 --threads 1 --filter softmax/blas --reps 1 --min-seconds 0 --plant-error \
    >"$tmp/timed.out" 2>"$tmp/timed.err" || rc=$?
[[ $rc -eq 1 ]] || fail "planted error with timing: exit $rc, expected 1"
if grep -q '^softmax/blas' "$tmp/timed.out"; then fail "a case was timed after the gate failed"; fi
echo "ok: no case is timed after the gate fails"

bad_flags=("--batch 0" "--batch x" "--batch 1,,2" "--threads 0" "--reps 0" "--min-seconds nan"
           "--min-seconds -1" "--kernel foo" "--bogus" "extra" "--json" "--gate-only=1"
           "--filter no-such-case")
for flags in "${bad_flags[@]}"; do
    rc=0
    # shellcheck disable=SC2086 # the flags are words on purpose
    "$bench" $flags >"$tmp/use.out" 2>"$tmp/use.err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'$flags': exit $rc, expected 2"
    [[ $(wc -l <"$tmp/use.err") -eq 1 ]] || fail "'$flags': expected one line on stderr"
    grep -q '^softreg-bench: ' "$tmp/use.err" || fail "'$flags': message not prefixed 'softreg-bench: '"
done
echo "ok: ${#bad_flags[@]} bad flag sets exit 2 with one line"
