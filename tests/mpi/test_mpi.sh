#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/mpi/test_mpi.sh: softreg train under mpirun (README: Scale-out over MPI).
# Pins down: mpirun -np 2 and -np 3 (oversubscribed) write the same model
# bytes as one process, for L-BFGS (with and without a validation split) and
# for SGD at batch 100 and 1000, from IDX, libsvm and CSV files, and softreg
# sweep (its path and model); --shard and
# --mpi-sum tree write the same bytes on a rerun; a
# missing file, or a failure on one rank only, ends the run promptly with one
# "softreg: rank R:" line; SIGTERM to mpirun leaves rank 0's checkpoint.
# MNIST (data/mnist, or meson's 'mnist' option) adds the same checks at full
# size. Skipped (77) when softreg is built without MPI or mpirun is missing.
set -u
S=${SOFTREG:?SOFTREG is the softreg program}
"$S" info --json | grep -q '"mpi": true' || { echo "softreg is built without MPI: skipped"; exit 77; }
command -v mpirun >/dev/null || { echo "no mpirun: skipped"; exit 77; }

# the container runs as root; one machine's shared memory; no pinning on 2 cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMP_NUM_THREADS=1
# an AddressSanitizer build: Open MPI's own allocations that it never frees
if ldd "$S" 2>/dev/null | grep -q libasan; then
	export LSAN_OPTIONS="suppressions=${SOURCE_ROOT:?}/tests/mpi/lsan.supp:print_suppressions=0"
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:fast_unwind_on_malloc=0"
fi
M=(mpirun --oversubscribe --bind-to none -q)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
# fails_once NAME PATTERN MPIRUN-ARGS...: the run exits 1 with one "softreg:"
# line, which matches PATTERN
fails_once() {
	local name=$1 pat=$2 rc lines
	shift 2
	timeout -k 5 60 "${M[@]}" "$@" 2>"$tmp/err" >/dev/null
	rc=$?
	lines=$(grep -c '^softreg:' "$tmp/err")
	if [[ $rc -eq 1 && $lines -eq 1 ]] && grep -q "$pat" "$tmp/err"; then
		ok "$name: $(grep '^softreg:' "$tmp/err")"
	else
		fail "$name: exit $rc, $lines softreg: lines"; cat "$tmp/err"
	fi
}

# 20000 training rows: three blocks of L-BFGS's 8192, so the processes share them
python3 - "$tmp/d" <<'PY' || exit 1
import os, sys
sys.path.insert(0, os.path.join(os.environ["SOURCE_ROOT"], "tests", "badinput"))
import gen
os.makedirs(sys.argv[1])
files = gen.dataset_files(20000, 3000, rows=8, cols=8, k=7)
for stem, data in files.items():
    with open(os.path.join(sys.argv[1], stem), "wb") as f:
        f.write(data)
# the same rows as libsvm text (labels 100 + 3c), for the processes' byte ranges
import gzip
def payload(b):
    return b[4 + 4 * b[3]:]
for prefix, name in (("train", "train.svm"), ("t10k", "test.svm")):
    px = payload(files[prefix + "-images-idx3-ubyte"])
    lab = payload(gzip.decompress(files[prefix + "-labels-idx1-ubyte.gz"]))
    with open(os.path.join(sys.argv[1], name), "w") as f:
        for i, y in enumerate(lab):
            row = px[64 * i:64 * (i + 1)]
            f.write("%d%s\n" % (100 + 3 * y, "".join(" %d:%.4g" % (j + 1, v / 255) for j, v in enumerate(row) if v > 20)))
with open(os.path.join(sys.argv[1], "train.svm")) as f:
    lines = f.readlines()
lines[-10] = "100 1:0.5 2:x\n"  # a bad value in the last process's share
with open(os.path.join(sys.argv[1], "bad.svm"), "w") as f:
    f.writelines(lines)
# and as CSV: a header, the label last, named (--label-column digit)
for prefix, name in (("train", "train.csv"), ("t10k", "test.csv")):
    px = payload(files[prefix + "-images-idx3-ubyte"])
    lab = payload(gzip.decompress(files[prefix + "-labels-idx1-ubyte.gz"]))
    with open(os.path.join(sys.argv[1], name), "w") as f:
        f.write(",".join("p%d" % j for j in range(64)) + ',"digit"\n')
        for i, y in enumerate(lab):
            f.write("".join("%.4g," % (v / 255) for v in px[64 * i:64 * (i + 1)]) + "%d\n" % (100 + 3 * y))
with open(os.path.join(sys.argv[1], "train.csv")) as f:
    lines = f.readlines()
lines[-10] = lines[-10].replace(",", ",,", 1)  # an empty field in the last process's share
with open(os.path.join(sys.argv[1], "bad.csv"), "w") as f:
    f.writelines(lines)
PY

# same_bytes_files NAME ARGS...: one process (2 threads), then -np 2 and -np 3
same_bytes_files() {
	local name=$1
	shift
	"$S" train -q --threads 2 --out "$tmp/$name.1.srm" "$@" >/dev/null || { fail "$name: one process"; return; }
	for np in 2 3; do
		if ! timeout -k 10 300 "${M[@]}" -np $np "$S" train -q --threads 1 --out "$tmp/$name.$np.srm" "$@" >/dev/null; then
			fail "$name: -np $np failed"
		elif cmp -s "$tmp/$name.1.srm" "$tmp/$name.$np.srm"; then
			ok "$name: -np $np writes the same bytes as one process"
		else
			fail "$name: -np $np differs from one process"
		fi
	done
}

# same_bytes NAME DATA ARGS...: the same with --data DATA
same_bytes() {
	local name=$1 data=$2
	shift 2
	same_bytes_files "$name" --data "$data" "$@"
}

same_bytes lbfgs "$tmp/d" --solver lbfgs --l2 1e-3
same_bytes lbfgs-validation "$tmp/d" --solver lbfgs --l2 1e-3 --validation 1500 --standardize
same_bytes sgd-100 "$tmp/d" --batch 100 --epochs 2
same_bytes sgd-1000 "$tmp/d" --batch 1000 --epochs 3 --lr 0.5

# libsvm text: each process parses its share of the bytes, the rows move to
# whole blocks
same_bytes_files libsvm-lbfgs --train "$tmp/d/train.svm" --test "$tmp/d/test.svm" --solver lbfgs --validation 1000
same_bytes_files libsvm-sgd --train "$tmp/d/train.svm" --test "$tmp/d/test.svm" --batch 1000

# same_sweep NAME ARGS...: softreg sweep under mpirun -np 2 and 3 = one process:
# the model bytes and the path (the metrics but their seconds column)
same_sweep() {
	local name=$1
	shift
	"$S" sweep -q --threads 2 --out "$tmp/$name.1.srm" --metrics "$tmp/$name.1.csv" "$@" >/dev/null ||
		{ fail "$name: one process"; return; }
	for np in 2 3; do
		if ! timeout -k 10 300 "${M[@]}" -np $np "$S" sweep -q --threads 1 --out "$tmp/$name.$np.srm" \
			--metrics "$tmp/$name.$np.csv" "$@" >/dev/null; then
			fail "$name: -np $np failed"
		elif cmp -s "$tmp/$name.1.srm" "$tmp/$name.$np.srm" &&
			cmp -s <(cut -d, -f3 --complement "$tmp/$name.1.csv") <(cut -d, -f3 --complement "$tmp/$name.$np.csv"); then
			ok "$name: -np $np, the same path ($(($(wc -l <"$tmp/$name.1.csv") - 1)) fits) and model bytes as one process"
		else
			fail "$name: -np $np differs from one process"
		fi
	done
}
same_sweep sweep-idx --data "$tmp/d" --validation 1500 --l2 1e-4:1e-1:4 --standardize
same_sweep sweep-libsvm --train "$tmp/d/train.svm" --test "$tmp/d/test.svm" --validation 1000 --l2 1e-4:1e-1:4
# the fits are shared: the processes exchange their sums (rank 0 reports the bytes it sent)
timeout -k 10 300 "${M[@]}" -np 2 "$S" sweep --data "$tmp/d" --validation 1500 --l2 1e-3 --threads 1 --json -q >"$tmp/sw.json"
sent=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["sent_bytes"] if j["processes"] == 2 else -1)' "$tmp/sw.json")
# (at least one exact gradient sum: 72 bytes x 7 classes x 65 parameters)
[[ $sent -gt 32760 ]] && ok "sweep at -np 2: rank 0 sent $sent bytes of sums" || fail "sweep at -np 2: no sums exchanged ($sent)"
fails_once "sweep on a bad libsvm file" '^softreg: rank 0: .*bad.svm' \
	-np 2 "$S" sweep --train "$tmp/d/bad.svm" --validation 100 --l2 1e-3 -q

# --shard: the same bytes on a rerun at the same -np
for run in 1 2; do
	timeout -k 10 300 "${M[@]}" -np 2 "$S" train --data "$tmp/d" -q --threads 1 --shard --epochs 2 \
		--out "$tmp/shard.$run.srm" >/dev/null || fail "--shard run $run failed"
done
[[ -s $tmp/shard.1.srm ]] && cmp -s "$tmp/shard.1.srm" "$tmp/shard.2.srm" && ok "--shard: a rerun at -np 2 writes the same bytes" ||
	fail "--shard: two runs at -np 2 differ"

# --mpi-sum tree: the same bytes on a rerun at the same -np
for run in 1 2; do
	timeout -k 10 300 "${M[@]}" -np 3 "$S" train --data "$tmp/d" -q --threads 1 --solver lbfgs --mpi-sum tree \
		--out "$tmp/tree.$run.srm" >/dev/null || fail "--mpi-sum tree run $run failed"
done
[[ -s $tmp/tree.1.srm ]] && cmp -s "$tmp/tree.1.srm" "$tmp/tree.2.srm" && ok "--mpi-sum tree: a rerun at -np 3 writes the same bytes" ||
	fail "--mpi-sum tree: two runs at -np 3 differ"

# a missing file: exit 1 within seconds, one "softreg:" line naming the rank
t0=$(date +%s)
timeout -k 5 60 "${M[@]}" -np 2 "$S" train --train "$tmp/none" --test "$tmp/none" -q 2>"$tmp/err" >/dev/null
rc=$?
t=$(($(date +%s) - t0))
lines=$(grep -c '^softreg:' "$tmp/err")
if [[ $rc -ne 0 && $rc -ne 124 && $rc -ne 137 && $t -le 30 && $lines -eq 1 ]] && grep -q '^softreg: rank 0: .*none' "$tmp/err"; then
	ok "a missing file: exit $rc after ${t}s, one line: $(grep '^softreg:' "$tmp/err")"
else
	fail "a missing file: exit $rc after ${t}s, $lines softreg: lines"; cat "$tmp/err"
fi

# a failure on rank 1 alone (its byte limit is too small for the images)
fails_once "a failure on rank 1 only" '^softreg: rank 1: ' -np 1 "$S" train --data "$tmp/d" -q --threads 1 : \
	-np 1 env SOFTREG_MAX_BYTES=1000 "$S" train --data "$tmp/d" -q --threads 1

# a bad line in the last process's share of a libsvm file: that rank, the
# byte its share starts at, one line
fails_once "a bad libsvm line in rank 1's share" '^softreg: rank 1: .*bad.svm, from byte [0-9]*: line [0-9]*: ' \
	-np 2 "$S" train --train "$tmp/d/bad.svm" --solver lbfgs -q

# SIGTERM to mpirun: rank 0 writes the checkpoint, every process exits
timeout -k 10 120 "${M[@]}" -np 2 "$S" train --data "$tmp/d" -q --threads 1 --batch 10 --epochs 100000 \
	--checkpoint "$tmp/ck.srm" >"$tmp/out" 2>"$tmp/err" </dev/null &
pid=$!
waited=0
while [[ ! -s $tmp/ck.srm && $waited -lt 600 ]] && kill -0 $pid 2>/dev/null; do sleep 0.1; waited=$((waited + 1)); done
rm -f "$tmp/ck.srm"
# one SIGTERM to mpirun itself: 'timeout' would pass its signal on twice (to
# its child and to its process group), and a second signal within 5 s makes
# mpirun exit at once, leaving its processes behind (Open MPI 4.1)
mp=$(pgrep -P $pid | head -1)
kill -TERM "${mp:-$pid}"
t0=$(date +%s)
wait $pid
rc=$?
t=$(($(date +%s) - t0))
# mpirun has waited for its processes (or killed them): none may be left
if pgrep -f -- "--checkpoint $tmp/ck.srm" >/dev/null; then
	fail "SIGTERM: a softreg process outlived mpirun"; pkill -KILL -f -- "--checkpoint $tmp/ck.srm"
fi
if [[ $rc -ne 124 && $rc -ne 137 && $t -le 30 && -s $tmp/ck.srm ]]; then
	ok "SIGTERM: exit $rc after ${t}s, rank 0's checkpoint written"
else
	fail "SIGTERM: exit $rc after ${t}s (the first checkpoint after $waited tenths), checkpoint $([[ -s $tmp/ck.srm ]] && echo written || echo missing)"
	cat "$tmp/out" "$tmp/err"
fi

# CSV as libsvm: each process parses its share of the bytes (the header, on
# rank 0's share, is read by every process), the rows move to whole blocks;
# and a bad line in the last process's share
same_bytes_files csv-lbfgs --train "$tmp/d/train.csv" --test "$tmp/d/test.csv" --label-column digit --solver lbfgs \
	--validation 1000
same_bytes_files csv-sgd --train "$tmp/d/train.csv" --test "$tmp/d/test.csv" --label-column digit --batch 1000
fails_once "a bad CSV line in rank 1's share" \
	'^softreg: rank 1: .*bad.csv, from byte [0-9]*: line [0-9]*: field 2 is empty' \
	-np 2 "$S" train --train "$tmp/d/bad.csv" --label-column digit --solver lbfgs -q

# MNIST, when present: L-BFGS (20 iterations) and one SGD epoch
mnist=${SOFTREG_TEST_DATA:-}
if [[ -n $mnist && -e $mnist/train-labels-idx1-ubyte.gz || -e $mnist/train-labels-idx1-ubyte ]]; then
	same_bytes mnist-lbfgs "$mnist" --solver lbfgs --max-iter 20
	# the sparse kernel's row groups shared among the processes: 2 at batch
	# 100 (48 + 52 rows; at -np 3 one process has none), 4 at batch 512
	same_bytes mnist-sgd-100 "$mnist" --batch 100 --epochs 1
	same_bytes mnist-sgd-512 "$mnist" --batch 512 --epochs 1
	# the sweep on the sparse kernel (pixels: sparse enough), its validation split at the end
	same_sweep mnist-sweep --data "$mnist" --validation 10000 --l2 1e-3:1e-2:2 --max-iter 15
else
	echo "no MNIST at '$mnist': its cases skipped"
fi

if [[ $fails -ne 0 ]]; then
	echo "$fails failed"
	exit 1
fi
echo "all passed"
