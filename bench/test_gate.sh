#!/usr/bin/env bash
# The correctness gate bites: softreg-bench checks every fast kernel on every
# source it takes (blas on uint8, float32 and float16 rows, sparse on CSR),
# exits 1 when an error is planted in their results (--plant-error), before
# timing anything; exits 0 when nothing is planted; and exits 2 with one line
# on bad flags.
set -euo pipefail
bench=${SOFTREG_BENCH:?set SOFTREG_BENCH to the softreg-bench program}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-bench-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# a gate row: batch, source, kernel, then the figures, the bits, ok/FAILED
row() { grep -Eq "^ +$1 +$2 +$3 .* $4\$" "$5"; }

# batches around the 64-row chunk edges; 1 thread against 2 and 3
# (oversubscribed): each kernel must give the same bits at each
rc=0
"$bench" --gate-only --batch 1,63,64,65,257 --threads 1,2,3 >"$tmp/ok.out" 2>"$tmp/ok.err" || rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/ok.out" "$tmp/ok.err" >&2; fail "clean gate exited $rc, expected 0"; }
grep -q '^gate: passed' "$tmp/ok.out" || fail "clean gate did not say 'gate: passed'"
for b in 1 63 64 65 257; do
    for pair in "u8 blas" "f32 blas" "f16 blas" "csr sparse"; do
        # shellcheck disable=SC2086 # source and kernel are two words on purpose
        row "$b" $pair ok "$tmp/ok.out" || fail "clean gate: no passing row for batch $b, $pair"
    done
done
echo "ok: the gate passes every kernel on every source it takes"

# --shape: float32 and float16 rows of a large model (k d >= 2^18: the blas
# kernel's 256-row chunks), around those chunk edges
rc=0
"$bench" --gate-only --shape 1000,1024,300 --batch 1,255,257,600 --threads 1,2 >"$tmp/shape.out" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$tmp/shape.out" >&2; fail "--shape gate exited $rc, expected 0"; }
for b in 1 255 257 600; do
    row "$b" f32 blas ok "$tmp/shape.out" || fail "--shape gate: no passing f32 row at batch $b"
    row "$b" f16 blas ok "$tmp/shape.out" || fail "--shape gate: no passing f16 row at batch $b"
done
if grep -Eq '^ +[0-9]+ +(u8|csr) ' "$tmp/shape.out"; then fail "--shape gate: a u8 or csr row"; fi
echo "ok: the gate passes on --shape data (float32, float16)"

rc=0
"$bench" --gate-only --batch 64 --threads 1 --plant-error >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
[[ $rc -eq 1 ]] || { cat "$tmp/bad.out" "$tmp/bad.err" >&2; fail "planted error: exit $rc, expected 1"; }
[[ $(grep -c 'FAILED$' "$tmp/bad.out") -eq 4 ]] || fail "planted error: expected 4 FAILED rows (each kernel and source)"
grep -q '^softreg-bench: correctness gate failed' "$tmp/bad.err" || fail "planted error: no one-line error"
echo "ok: a planted error fails the gate (exit 1) for every kernel and source"

rc=0
"$bench" --gate-only --batch 64 --threads 1 --source csr --plant-error >"$tmp/csr.out" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "planted error on CSR rows alone: exit $rc, expected 1"
row 64 csr sparse FAILED "$tmp/csr.out" || fail "planted error on CSR rows: no FAILED sparse row"
echo "ok: a planted error fails the gate of the sparse kernel alone"

# the timed path runs the gate first: nothing is timed after a failure
rc=0
"$bench" --batch 64 --threads 1 --filter softmax/blas --reps 1 --min-seconds 0 --plant-error \
    >"$tmp/timed.out" 2>"$tmp/timed.err" || rc=$?
[[ $rc -eq 1 ]] || fail "planted error with timing: exit $rc, expected 1"
if grep -q '^softmax/blas' "$tmp/timed.out"; then fail "a case was timed after the gate failed"; fi
echo "ok: no case is timed after the gate fails"

# Usage errors are one line: 'softreg-bench: ...' from the bench's own
# checks, and the option table's parser (src/cli/opts.c) too
bad_flags=("--batch 0" "--batch x" "--batch 1,,2" "--threads 0" "--reps 0" "--min-seconds nan"
           "--min-seconds -1" "--kernel foo" "--kernel blas,,naive" "--bogus" "extra" "--json" "--gate-only=1"
           "--filter no-such-case" "--source foo" "--source u8," "--shape 10,10" "--shape 10,10,20"
           "--shape 0,10,2" "--shape 100,10,1" "--shape 100,10,5 --source csr" "--shape 100,10,5 --source u8"
           "--shape 100,10,5 --synthetic" "--shape 100,10,5 --data x")
for flags in "${bad_flags[@]}"; do
    rc=0
    # shellcheck disable=SC2086 # the flags are words on purpose
    "$bench" $flags >"$tmp/use.out" 2>"$tmp/use.err" || rc=$?
    [[ $rc -eq 2 ]] || fail "'$flags': exit $rc, expected 2"
    [[ $(wc -l <"$tmp/use.err") -eq 1 ]] || fail "'$flags': expected one line on stderr"
    grep -Eq '^softreg-bench: ' "$tmp/use.err" || fail "'$flags': message not prefixed 'softreg-bench: '"
done
echo "ok: ${#bad_flags[@]} bad flag sets exit 2 with one line"
