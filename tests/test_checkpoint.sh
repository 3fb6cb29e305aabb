#!/usr/bin/env bash
# test_checkpoint.sh: checkpoints and resume give the uninterrupted model, bit
# for bit; Ctrl-C writes a checkpoint and exits 130; a process killed (SIGKILL)
# while saving never leaves a file that fails to load.
set -euo pipefail
SOFTREG=${SOFTREG:?path of the softreg binary}
SAVE_LOOP=${SAVE_LOOP:?path of tests/save_loop}
DATA=${SOFTREG_TEST_DATA:-data/mnist}
if [[ ! -e $DATA/train-images-idx3-ubyte.gz && ! -e $DATA/train-images-idx3-ubyte ]]; then
	echo "no MNIST in $DATA: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
fails=0 checks=0
check() {
	local what=$1
	shift
	checks=$((checks + 1))
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
train() { "$SOFTREG" train --data "$DATA" --quiet "$@"; }

# 1. --epochs counts the total: 2 epochs, then --epochs 4 --resume trains epochs 3 and 4,
#    and gives the 4-epoch model (a constant rate, so the first 2 epochs are the same)
train --epochs 4 --schedule const --lr 0.1 --out "$tmp/full.srm" >/dev/null
train --epochs 2 --schedule const --lr 0.1 --checkpoint "$tmp/c2.srm" >/dev/null
"$SOFTREG" train --data "$DATA" --epochs 4 --schedule const --lr 0.1 --resume "$tmp/c2.srm" --out "$tmp/resumed.srm" \
	>/dev/null 2>"$tmp/resume.err"
check "resume trains epochs 3 and 4 only" bash -c "[[ \$(grep -c '^epoch' '$tmp/resume.err') == 2 ]] && grep -q '^epoch 3/4' '$tmp/resume.err'"
check "2 epochs + resume to 4 == 4 epochs, bitwise" cmp "$tmp/full.srm" "$tmp/resumed.srm"
check "a finished checkpoint asks for more epochs" bash -c "'$SOFTREG' train --data '$DATA' --epochs 2 --resume '$tmp/c2.srm' 2>'$tmp/done.err'; [[ \$? == 1 ]] && grep -q 'already trained 2 epochs' '$tmp/done.err'"

# 2. Ctrl-C mid-run (cosine schedule, many small batches): checkpoint, exit 130;
#    resuming gives the model of the run that was never interrupted
args=(--epochs 4 --batch 20 --seed 3)
train "${args[@]}" --out "$tmp/whole.srm" >/dev/null
# the signal is sent once epoch 1 has ended (its line is on stderr): mid-run
rm -f "$tmp/ck.srm"
"$SOFTREG" train --data "$DATA" "${args[@]}" --checkpoint "$tmp/ck.srm" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 6000); do
	grep -q '^epoch 1/' "$tmp/int.err" 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.01
done
kill -INT $pid 2>/dev/null || true
set +e
wait $pid
rc=$?
set -e
interrupted=0
[[ $rc == 130 ]] && interrupted=1
check "SIGINT: exit 130" test $interrupted = 1
check "SIGINT: says where the checkpoint is" grep -q "^softreg: interrupted .*; checkpoint written to $tmp/ck.srm\$" "$tmp/int.err"
train "${args[@]}" --resume "$tmp/ck.srm" --out "$tmp/after.srm" >/dev/null
check "interrupted + resumed == uninterrupted, bitwise" cmp "$tmp/whole.srm" "$tmp/after.srm"

# 3. SIGKILL while saving, many times: the file on disk always loads
bad=0
for i in $(seq 1 40); do
	"$SAVE_LOOP" "$tmp/loop.srm" >"$tmp/ready" &
	pid=$!
	while [[ ! -s $tmp/ready ]]; do sleep 0.001; done
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 $pid
	wait $pid 2>/dev/null || true
	: >"$tmp/ready"
	if ! "$SOFTREG" export --model "$tmp/loop.srm" --format json --out "$tmp/loop.json" 2>"$tmp/loop.err"; then
		bad=$((bad + 1))
		cat "$tmp/loop.err"
	fi
done
check "40 SIGKILLs during saves: the model always loads" test $bad = 0

echo "test_checkpoint: $checks checks, $fails failed"
((fails == 0))
