#!/usr/bin/env bash
# test_mnist_formats.sh: MNIST converted by scripts/convert to float32 .npy,
# float16 .npy and libsvm text trains, with the same options as the IDX route
# (`softreg train --json --quiet`, SGD defaults), to the IDX route's test
# accuracy within 0.15 points; and `softreg predict` of each model on its own
# converted test file gives the labels the IDX model gives on the IDX test file:
#   float32 .npy: the same model, W and b bit for bit (convert writes
#     pixel * float32(1/255), the floats the IDX route computes), so every label;
#   float16 .npy, libsvm (%.6g): their values are rounded (float16: 11 bits;
#     %.6g: within 5e-7 relative), so the training path differs a little; at
#     most 0.15% of the 10000 rows (15) may get another label.
# Needs MNIST ($SOFTREG_TEST_DATA) and /usr/bin/python3 with numpy (skipped without).
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_numpy
need_mnist

for fmt in npy-f32 npy-f16 libsvm; do
    "$py" "$root/scripts/convert" --data "$data" --to "$fmt" --out "$tmp/$fmt" >/dev/null
done

train() { # NAME DATA-ARGS...
    local name=$1
    shift
    "$SOFTREG" train "$@" --json --quiet --out "$tmp/$name.srm" >"$tmp/$name.train.json"
}
# the dense routes on one kernel (auto picks sparse for MNIST's 19% nonzeros,
# whose folding of the 1/255 scale rounds apart from the float32 rows')
train idx --data "$data" --kernel blas
train npy-f32 --train "$tmp/npy-f32/train-x.npy" --train-labels "$tmp/npy-f32/train-y.npy" \
    --test "$tmp/npy-f32/test-x.npy" --test-labels "$tmp/npy-f32/test-y.npy" --kernel blas
train npy-f16 --train "$tmp/npy-f16/train-x.npy" --train-labels "$tmp/npy-f16/train-y.npy" \
    --test "$tmp/npy-f16/test-x.npy" --test-labels "$tmp/npy-f16/test-y.npy" --kernel blas
train libsvm --train "$tmp/libsvm/train.svm" --test "$tmp/libsvm/test.svm"

test_file() {
    case $1 in
    idx) for f in "$data"/t10k-images-idx3-ubyte "$data"/t10k-images-idx3-ubyte.gz; do
        if [[ -e $f ]]; then echo "$f"; break; fi
    done ;;
    libsvm) echo "$tmp/libsvm/test.svm" ;;
    *) echo "$tmp/$1/test-x.npy" ;;
    esac
}
for name in idx npy-f32 npy-f16 libsvm; do
    "$SOFTREG" predict --model "$tmp/$name.srm" --top 1 --json "$(test_file "$name")" >"$tmp/$name.predict.json"
    "$SOFTREG" export --model "$tmp/$name.srm" --format json >"$tmp/$name.export.json"
done

"$py" - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
ACC_POINTS = 0.15      # test accuracy within 0.15 points of the IDX route
MAX_DIFF_ROWS = 0.0015  # float16 and libsvm: at most 0.15% of the rows predicted otherwise

def load(name, what):
    with open(os.path.join(tmp, f"{name}.{what}.json")) as f:
        return json.load(f)

ref = load("idx", "train")
ref_labels = [p["label"] for p in load("idx", "predict")["predictions"]]
ref_model = load("idx", "export")
bad = []
print(f"IDX: test accuracy {100 * ref['test_accuracy']:.2f}%, kernel {ref['kernel']}")
for name, exact in (("npy-f32", True), ("npy-f16", False), ("libsvm", False)):
    r = load(name, "train")
    dacc = 100 * (r["test_accuracy"] - ref["test_accuracy"])
    labels = [p["label"] for p in load(name, "predict")["predictions"]]
    if len(labels) != len(ref_labels):
        bad.append(f"{name}: predict gave {len(labels)} rows, the IDX route {len(ref_labels)}")
        continue
    ndiff = sum(a != b for a, b in zip(labels, ref_labels))
    model = load(name, "export")
    same_model = model["W"] == ref_model["W"] and model["b"] == ref_model["b"]
    print(f"{name}: test accuracy {100 * r['test_accuracy']:.2f}% ({dacc:+.2f} points), kernel {r['kernel']}, "
          f"{ndiff} of {len(labels)} predicted labels differ from the IDX model's, "
          f"W and b {'identical' if same_model else 'differ'}")
    if not abs(dacc) <= ACC_POINTS + 1e-9:
        bad.append(f"{name}: test accuracy {dacc:+.2f} points from the IDX route's (bound {ACC_POINTS})")
    limit = 0 if exact else int(MAX_DIFF_ROWS * len(labels))
    if ndiff > limit:
        bad.append(f"{name}: {ndiff} predicted labels differ from the IDX route's (at most {limit})")
    if model["classes"] != ref_model["classes"]:
        bad.append(f"{name}: classes {model['classes']}, IDX route {ref_model['classes']}")
    if exact and not same_model:
        bad.append(f"{name}: W and b differ from the IDX route's (same floats, same training)")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
